"""The only package that imports nio."""

from .client import MatrixClient

__all__ = ["MatrixClient"]
