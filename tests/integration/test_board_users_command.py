"""``cdi-monitor users``: add, list, set-role, set-password and remove, against PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from monitor.adapters import security
from monitor.adapters.sql.board_store import BoardStore
from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import upgrade

pytestmark = pytest.mark.integration


def users(database_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    env["CDI_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "monitor", "users", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_users_command_manages_the_boards_users(postgres_url: str) -> None:
    upgrade(postgres_url)

    added = users(
        postgres_url,
        "add",
        "sam",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="a good long password\n",
    )
    generated = users(postgres_url, "add", "kim", "--role", "admin", "--generate")
    again = users(
        postgres_url,
        "add",
        "sam",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="a good long password\n",
    )
    short = users(
        postgres_url, "add", "lee", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    forged = users(postgres_url, "add", "eve", "--role", "superuser", "--generate")
    promoted = users(postgres_url, "set-role", "sam", "supervisor")
    listed = users(postgres_url, "list")
    last_admin = users(postgres_url, "remove", "kim")
    other_admin = users(postgres_url, "add", "ada", "--role", "admin", "--generate")
    removed = users(postgres_url, "remove", "kim")
    missing = users(postgres_url, "remove", "nobody")

    assert added.returncode == 0, added.stderr
    assert generated.returncode == 0 and "password for kim: " in generated.stdout
    assert again.returncode == 1 and "already exists" in again.stderr
    assert short.returncode == 1 and "12 to 1024 characters" in short.stderr
    assert forged.returncode == 2 and "invalid choice: 'superuser'" in forged.stderr
    assert promoted.returncode == 0
    assert "sam" in listed.stdout and "supervisor" in listed.stdout
    assert last_admin.returncode == 1 and "the last admin cannot be removed" in last_admin.stderr
    assert other_admin.returncode == 0
    assert removed.returncode == 0 and missing.returncode == 1
    engine = make_engine(postgres_url)
    try:
        store = BoardStore(engine)
        assert [(u.username, u.role) for u in store.users()] == [
            ("ada", "admin"),
            ("sam", "supervisor"),
        ]
        _role, stored = store.password_hash("sam") or ("", None)
        assert stored is not None and stored.startswith("$argon2id$")
        assert security.verify_password(stored, "a good long password")
        events = [(a["event"], a["subject"]) for a in store.audit_trail()]
        assert ("role_set", "sam") in events and ("user_removed", "kim") in events
    finally:
        engine.dispose()


def test_the_users_command_refuses_an_unmigrated_database(postgres_url: str) -> None:
    result = users(postgres_url, "list")

    assert result.returncode == 2
    assert "cdi-monitor migrate" in result.stderr
