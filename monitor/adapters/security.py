"""Roles, password hashes, session and CSRF tokens (sign-in throttling: ``throttle.py``).

- Passwords are kept only as argon2id hashes (``argon2-cffi``'s defaults,
  which follow RFC 9106's second recommended option).
- A session is a random 256-bit token in an HttpOnly, SameSite=Strict cookie;
  the database keeps only its SHA-256, so a leaked table signs nobody in.
- The CSRF token is an HMAC of the session token: a page reads it from
  ``/api/me`` and sends it as ``X-CSRF-Token`` on every state-changing
  request; another site can neither read it nor forge it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from typing import Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

Role = Literal["viewer", "supervisor", "auditor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
# What each role may do. Auditors check recording decisions, so they stand outside the
# operational chain: they read the board and audit, but do not act on incidents.
_GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"viewer"}),
    "supervisor": frozenset({"viewer", "supervisor"}),
    "auditor": frozenset({"viewer", "auditor"}),
    "admin": frozenset({"viewer", "supervisor", "auditor", "admin"}),
}

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # hashing is deliberately slow: refuse absurd inputs

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so both cases take as long."""
    return _hasher.hash(secrets.token_urlsafe(16))


def may(role: str, needed: Role) -> bool:
    """Whether ``role`` may do what ``needed`` may: every role reads, supervisors act on
    incidents, auditors audit, admins do all of it and manage users."""
    return needed in _GRANTS.get(role, frozenset())


def check_username(name: str) -> str:
    if not USERNAME.match(name):
        raise ValueError(
            "a username is 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter "
            "or digit"
        )
    return name


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


def check_password(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise ValueError(f"a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing user or hash costs the same time."""
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"cdi-board-csrf", hashlib.sha256).hexdigest()


def csrf_valid(session_token: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token(session_token), presented)


def new_password() -> str:
    """A generated password for a demo or a first admin: 20 URL-safe characters."""
    return secrets.token_urlsafe(15)
