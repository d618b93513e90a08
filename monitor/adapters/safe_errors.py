"""Errors told without the input that caused them: for log lines, dead letters and /health.

Victims' details may leave the monitor only on the referral topic, and an
error message is the easiest way for them to slip out: pydantic's text of a
validation error quotes the input (``input_value=...``), an exception may
carry the value it choked on, and a database error can quote the row it
could not write. So:

- validation errors are told by location and rule (``data.victim_ref:
  String should match pattern ...``), built with ``include_input=False``;
- other exceptions are told by their class and, in logs, where they were
  raised (file, line, function), never by their text;
- database errors are told by class and SQLSTATE; in logs, a connection
  failure also by its first line (libpq's text about the connection).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from pydantic import ValidationError

_SHOWN = 3
_MAX_ERRORS = 20
# SQLSTATE classes whose text is about the connection or the server, never a row:
# connection exception, invalid authorization, insufficient resources, operator
# intervention, system error, invalid catalog name.
_CONNECTION_STATES = ("08", "28", "53", "57", "58", "3D")


class SafeToShow:
    """An exception whose text was built to be shown: it quotes no input."""


def validation_errors(exc: ValidationError, *, skip: int = 0) -> list[tuple[str, str]]:
    """(location, rule broken) of each error, at most 20; ``skip`` drops leading location parts.

    pydantic's ``msg`` names the rule ("Field required", "String should have at
    most 64 characters"); the input it saw is left out.
    """
    found = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        location = ".".join(str(part) for part in error["loc"][skip:]) or "(value)"
        found.append((location, str(error["msg"]).removeprefix("Value error, ")))
    return found[:_MAX_ERRORS]


def summarize(errors: list[tuple[str, str]], total: int | None = None) -> str:
    """The first few errors in one line, and how many more there were."""
    total = len(errors) if total is None else total
    shown = "; ".join(f"{location}: {message}" for location, message in errors[:_SHOWN])
    more = f" (and {total - _SHOWN} more)" if total > _SHOWN else ""
    return f"{shown}{more}"


def validation_summary(exc: ValidationError) -> str:
    return summarize(validation_errors(exc), exc.error_count())


def describe(exc: BaseException) -> str:
    """One line for a log or a dead letter that quotes no input."""
    if isinstance(exc, SafeToShow):
        return str(exc)
    if isinstance(exc, ValidationError):
        return f"ValidationError: {validation_summary(exc)}"
    return type(exc).__name__


def log_failure(log: logging.Logger, message: str, *args: Any, exc: BaseException) -> None:
    """Log an unexpected failure: the class and where it was raised, without its text."""
    frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    log.error(f"{message}: %s\n%s", *args, describe(exc), frames.rstrip())


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    return code if isinstance(code, str) else None


def database_error(exc: BaseException) -> str:
    """The class of a database error (and its SQLSTATE), for ``/health``: never its text."""
    name = type(exc).__name__
    orig = getattr(exc, "orig", None)
    if orig is not None and type(orig).__name__ != name:
        name = f"{name} ({type(orig).__module__}.{type(orig).__name__})"
    code = _sqlstate(exc)
    return f"{name}, SQLSTATE {code}" if code else name


def database_error_for_log(exc: BaseException) -> str:
    """As ``database_error``; for a failure to connect, also the first line of its text.

    Without a SQLSTATE the driver failed on the client side (no server reached);
    with one in a connection class, the server refused the session. Either way
    the text is about the connection (host, port, user), not about a row.
    """
    described = database_error(exc)
    code = _sqlstate(exc)
    name = type(exc).__name__
    about_connection = (code is None and name in {"OperationalError", "InterfaceError"}) or (
        code is not None and code.startswith(_CONNECTION_STATES)
    )
    if not about_connection:
        return described
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{described}: {text[0][:300]}" if text else described
