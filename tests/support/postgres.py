"""A brand-new PostgreSQL database per use, so tests never see each other's rows.

The server is the one at ``$CDI_TEST_POSTGRES_URL`` (an admin URL; default: the
local ``postgres`` database). When it cannot be reached, a throw-away container
is started if a Docker engine answers; otherwise the test is skipped — except
under ``CI=true``, where a missing database is a failure, never a skip.

(``testcontainers.postgres`` is a deprecated alias of ``testcontainers.community.postgres``
since testcontainers 4.15; the class is the same.)
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

ADMIN_URL_ENV = "CDI_TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
CONTAINER_IMAGE = "postgres:15-alpine"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Yield the URL of a new, empty database ``cdi_test_<hex>``; drop it afterwards."""
    admin_url = os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)
    if _reachable(admin_url):
        with _database_on(admin_url) as url:
            yield url
        return
    if _docker_available():
        from testcontainers.community.postgres import PostgresContainer

        with (
            PostgresContainer(CONTAINER_IMAGE, driver="psycopg2") as server,
            _database_on(server.get_connection_url()) as url,
        ):
            yield url
        return
    reason = (
        f"PostgreSQL at {make_url(admin_url)!s} is unreachable and no Docker engine is "
        f"available; set {ADMIN_URL_ENV} to an admin URL of a reachable server"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: integration tests must run, not skip)")
    pytest.skip(reason)


@contextmanager
def _database_on(admin_url: str) -> Iterator[str]:
    name = f"cdi_test_{secrets.token_hex(8)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def _reachable(admin_url: str) -> bool:
    engine = create_engine(admin_url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except DBAPIError:
        return False
    finally:
        engine.dispose()


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0
