"""Storage tests run against SQLite and against a real PostgreSQL that the
setup installs (Debian package) and starts on 127.0.0.1."""

import uuid

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    server = request.getfixturevalue("postgres")
    name = "t_" + uuid.uuid4().hex[:10]
    url = server.create_database(name)
    yield url
    server.drop_database(name)
