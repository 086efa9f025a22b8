"""Storage tests run against SQLite and against a real PostgreSQL that the
setup installs (Debian package) and starts on 127.0.0.1."""

import uuid

import pytest

from devtools.ports import free_port


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    from devtools.postgres import PostgresServer, ensure_postgres_installed

    ensure_postgres_installed()
    server = PostgresServer(tmp_path_factory.mktemp("pg"), port=free_port())
    server.start()
    yield server
    server.stop()


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
