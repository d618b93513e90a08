"""The migrations bring an empty database to the schema in ``tables.py``, on both databases.

The writer refuses a database that is not at head, with a message that says
what to run and never shows a password.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import (
    LedgerNotMigrated,
    check_at_head,
    current_revision,
    head_revision,
    mask_url,
    upgrade,
)
from monitor.adapters.sql.tables import metadata
from tests.support.postgres import fresh_postgres_database

LEDGER_TABLES = {"incidents", "alerts", "crimes", "crime_incidents"}
BOARD_TABLES = {"board_users", "board_sessions", "board_actions", "board_audit"}
AUDIT_TABLES = {"audit_samples", "audit_strata", "audit_items", "audit_answers"}


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each kind."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(fixture)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_upgrading_an_empty_database_reaches_head(database_url: str, engine: Engine) -> None:
    upgrade(database_url)

    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) == {
        *LEDGER_TABLES,
        *BOARD_TABLES,
        *AUDIT_TABLES,
        "alembic_version",
    }
    check_at_head(engine)


def test_upgrading_twice_is_harmless(database_url: str, engine: Engine) -> None:
    upgrade(database_url)
    upgrade(database_url)

    assert current_revision(engine) == head_revision()


def test_the_migrated_schema_matches_the_tables_module(database_url: str, engine: Engine) -> None:
    upgrade(database_url)

    strict = {"compare_type": True, "compare_server_default": True}
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts=strict), metadata
        )

    assert differences == []


def test_an_empty_database_has_no_revision(engine: Engine) -> None:
    assert current_revision(engine) is None


def test_an_empty_database_is_refused_with_the_command_that_fixes_it(engine: Engine) -> None:
    with pytest.raises(LedgerNotMigrated) as refused:
        check_at_head(engine)

    message = str(refused.value)
    assert "`cdi-monitor migrate`" in message
    assert f"expected {head_revision()}" in message
    assert "is at revision none" in message


@pytest.mark.integration
def test_the_refusal_does_not_show_the_password_of_the_database_url(postgres_url: str) -> None:
    url = make_url(postgres_url)
    if url.password is None:  # a trusting server ignores it, but the URL still carries it
        url = url.set(password="secret")  # noqa: S106
    secret = str(url.password)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with pytest.raises(LedgerNotMigrated) as refused:
            check_at_head(engine)
    finally:
        engine.dispose()

    message = str(refused.value)
    assert secret not in message
    assert "***" in message
    assert url.database is not None and url.database in message


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:secret@host/db", "postgresql://u:***@host/db"),
        (
            "postgresql+psycopg2://u:s%40cret@host:5432/db",
            "postgresql+psycopg2://u:***@host:5432/db",
        ),
        ("postgresql://u@host/db", "postgresql://u@host/db"),
        ("sqlite:////var/lib/cdi/ledger.db", "sqlite:////var/lib/cdi/ledger.db"),
    ],
)
def test_mask_url_hides_any_password(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_url_hides_a_password_given_in_the_query_string() -> None:
    masked = mask_url("postgresql://u@host/db?password=secret&sslmode=require")

    assert "secret" not in masked
    assert "sslmode=require" in masked


def test_the_board_migration_goes_down_to_the_ledger_alone_and_up_again(
    database_url: str, engine: Engine
) -> None:
    from alembic import command

    from monitor.adapters.sql.migrate import _config

    upgrade(database_url)
    command.downgrade(_config(database_url), "0001_ledger")

    assert current_revision(engine) == "0001_ledger"
    assert set(inspect(engine).get_table_names()) == {*LEDGER_TABLES, "alembic_version"}

    upgrade(database_url)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= BOARD_TABLES


def test_the_audit_migration_goes_down_to_the_board_and_up_again(
    database_url: str, engine: Engine
) -> None:
    from alembic import command

    from monitor.adapters.sql.migrate import _config

    upgrade(database_url)
    command.downgrade(_config(database_url), "0002_board")

    assert current_revision(engine) == "0002_board"
    assert set(inspect(engine).get_table_names()) == {
        *LEDGER_TABLES,
        *BOARD_TABLES,
        "alembic_version",
    }
    assert "closed_by_team" not in {c["name"] for c in inspect(engine).get_columns("incidents")}

    upgrade(database_url)
    assert current_revision(engine) == "0003"
    assert set(inspect(engine).get_table_names()) >= AUDIT_TABLES
