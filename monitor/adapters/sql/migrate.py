"""Bring the ledger database to the schema this code expects, and check that it is there.

The Alembic environment is the installed ``migrations`` package; no ``alembic.ini``
is read. The writer never migrates on its own: it calls ``check_at_head`` and
refuses to start on a missing or older schema, naming the command that fixes it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_PASSWORD_KEYS = ("password", "passwd", "pwd")


class LedgerNotMigrated(Exception):
    """The ledger database's schema is missing or not at the head revision."""


def mask_url(url: str | URL) -> str:
    """The URL with any password (in the userinfo or the query string) shown as ``***``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparseable database URL>"
    hidden = {key: "***" for key in parsed.query if key.lower() in _PASSWORD_KEYS}
    return parsed.update_query_dict(hidden).render_as_string(hide_password=True)


def _script_location() -> str:
    """The installed ``migrations`` package's directory (the one holding ``env.py``).

    Searched on ``__path__`` rather than read from ``__file__``, so that it is also
    found when an editable install still maps the package as a namespace.
    """
    import migrations

    for entry in migrations.__path__:
        if (Path(entry) / "env.py").is_file():
            return entry
    raise RuntimeError(
        f"no Alembic env.py in the migrations package at {list(migrations.__path__)}"
    )


def _config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", _script_location())
    if database_url is not None:
        # ConfigParser interpolates "%": URL-encoded passwords must survive it.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Run every migration not yet applied; a database already at head is left as it is."""
    command.upgrade(_config(database_url), "head")


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migrations package has no revisions")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has no ledger schema."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_at_head(engine: Engine) -> None:
    current, expected = current_revision(engine), head_revision()
    if current != expected:
        where = mask_url(engine.url.render_as_string(hide_password=False))
        at = current or "none (no ledger schema)"
        raise LedgerNotMigrated(
            f"the ledger database at {where} is at revision {at}, expected {expected}: "
            "run `cdi-monitor migrate`"
        )
