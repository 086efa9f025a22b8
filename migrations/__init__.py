"""Alembic migrations; shipped as a package so that an installed diabot finds them (diabot.resources)."""
