"""``cdi-monitor users add|remove|list|set-role|set-password``: who may use the board.

Passwords are read from the terminal without echo, or from standard input
with ``--password-stdin``; with ``--generate`` one is made and printed once.
They are never taken as arguments (they would stay in the shell's history).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from monitor.adapters import security
from monitor.adapters.sql.board_store import BoardStore, NoSuchUser, UserExists
from monitor.adapters.sql.ledger import make_engine
from monitor.adapters.sql.migrate import check_at_head
from monitor.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=security.ROLES)
    _password_options(add)
    add.add_argument(
        "--sso-only",
        action="store_true",
        help="no password: the user signs in only through the trusted SSO header",
    )
    remove = sub.add_parser("remove", help="remove a user and end their sessions")
    remove.add_argument("username")
    sub.add_parser("list", help="list users and their roles")
    set_role = sub.add_parser("set-role", help="change a user's role")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=security.ROLES)
    set_password = sub.add_parser("set-password", help="set a password; ends the user's sessions")
    set_password.add_argument("username")
    _password_options(set_password)


def _password_options(parser: argparse.ArgumentParser) -> None:
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    how.add_argument("--generate", action="store_true", help="generate a password and print it")


def _password(args: argparse.Namespace) -> str:
    if args.generate:
        password = security.new_password()
        print(f"password for {args.username}: {password}")
        return password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            raise ValueError("the passwords differ")
    return security.check_password(password)


def run_users(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url.get_secret_value())
    try:
        check_at_head(engine)
        store = BoardStore(engine)
        actor = f"cli:{getpass.getuser()}"
        now = datetime.now(UTC)
        command = args.users_command
        if command == "list":
            for user in store.users():
                how = "password" if user.has_password else "sso only"
                print(
                    f"{user.username:<24} {user.role:<10} {how:<9} added {user.created_at:%Y-%m-%d}"
                )
            return 0
        if command == "add":
            security.check_username(args.username)
            hashed = None if args.sso_only else security.hash_password(_password(args))
            store.add_user(args.username, args.role, hashed, actor=actor, now=now)
            print(f"added {args.username} ({args.role})")
        elif command == "remove":
            store.remove_user(args.username, actor=actor, now=now)
            print(f"removed {args.username}")
        elif command == "set-role":
            store.set_role(args.username, args.role, actor=actor, now=now)
            print(f"{args.username} is now {args.role}")
        elif command == "set-password":
            store.set_password(
                args.username, security.hash_password(_password(args)), actor=actor, now=now
            )
            print(f"password set for {args.username}; their sessions are ended")
        return 0
    except (ValueError, UserExists, NoSuchUser) as exc:
        print(f"cdi-monitor users: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
