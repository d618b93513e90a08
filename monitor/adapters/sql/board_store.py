"""The board's tables in the ledger database, and the ledger rows an incident's history needs.

Synchronous SQLAlchemy (PostgreSQL in production, SQLite for the demo); the web
edge calls it in a thread. Victims' details are never selected: the history
reads crime references, offence codes and times only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from monitor.adapters.security import Role, check_role, check_username, token_hash
from monitor.adapters.sql.references import crimes_naming
from monitor.adapters.sql.tables import (
    alerts,
    board_actions,
    board_audit,
    board_sessions,
    board_users,
    incidents,
)
from monitor.application.board.handling import Action


class UserExists(ValueError):
    pass


class LastAdmin(ValueError):
    """The change would leave the board without an admin: nobody could manage users."""


class NoSuchUser(LookupError):
    pass


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    created_at: datetime
    has_password: bool = True


class BoardStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- users ---

    def add_user(
        self, username: str, role: str, password_hash: str | None, *, actor: str, now: datetime
    ) -> User:
        check_username(username)
        check_role(role)
        try:
            with self.engine.begin() as c:
                c.execute(
                    insert(board_users).values(
                        username=username, role=role, password_hash=password_hash, created_at=now
                    )
                )
                self._audit(c, now, actor, "user_added", username, {"role": role})
        except IntegrityError:
            raise UserExists(f"user {username!r} already exists") from None
        return User(username, check_role(role), now, password_hash is not None)

    def remove_user(self, username: str, *, actor: str, now: datetime) -> None:
        with self.engine.begin() as c:
            _keep_an_admin(c, username)
            # Sessions first: SQLite does not enforce the cascade unless asked to.
            c.execute(delete(board_sessions).where(board_sessions.c.username == username))
            gone = c.execute(delete(board_users).where(board_users.c.username == username))
            if gone.rowcount == 0:
                raise NoSuchUser(f"no user {username!r}")
            self._audit(c, now, actor, "user_removed", username, None)

    def set_role(self, username: str, role: str, *, actor: str, now: datetime) -> None:
        check_role(role)
        with self.engine.begin() as c:
            if role != "admin":
                _keep_an_admin(c, username)
            changed = c.execute(
                update(board_users).where(board_users.c.username == username).values(role=role)
            )
            if changed.rowcount == 0:
                raise NoSuchUser(f"no user {username!r}")
            self._audit(c, now, actor, "role_set", username, {"role": role})

    def set_password(self, username: str, password_hash: str, *, actor: str, now: datetime) -> None:
        with self.engine.begin() as c:
            changed = c.execute(
                update(board_users)
                .where(board_users.c.username == username)
                .values(password_hash=password_hash)
            )
            if changed.rowcount == 0:
                raise NoSuchUser(f"no user {username!r}")
            c.execute(delete(board_sessions).where(board_sessions.c.username == username))
            self._audit(c, now, actor, "password_set", username, None)

    def users(self) -> list[User]:
        with self.engine.connect() as c:
            rows = c.execute(select(board_users).order_by(board_users.c.username)).all()
        return [
            User(r.username, check_role(r.role), r.created_at, r.password_hash is not None)
            for r in rows
        ]

    def password_hash(self, username: str) -> tuple[Role, str | None] | None:
        """The user's role and stored hash, or None when there is no such user."""
        with self.engine.connect() as c:
            r = c.execute(
                select(board_users.c.role, board_users.c.password_hash).where(
                    board_users.c.username == username
                )
            ).first()
        return None if r is None else (check_role(r.role), r.password_hash)

    # --- sessions ---

    def start_session(
        self, username: str, token: str, *, now: datetime, lifetime: timedelta
    ) -> None:
        with self.engine.begin() as c:
            c.execute(
                insert(board_sessions).values(
                    token_hash=token_hash(token),
                    username=username,
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
            c.execute(delete(board_sessions).where(board_sessions.c.expires_at <= now))
            self._audit(c, now, username, "signed_in", username, None)

    def session_user(self, token: str, *, now: datetime) -> tuple[str, Role] | None:
        """The user and role behind a live session token, or None."""
        with self.engine.connect() as c:
            r = c.execute(
                select(board_users.c.username, board_users.c.role)
                .join(board_sessions, board_sessions.c.username == board_users.c.username)
                .where(board_sessions.c.token_hash == token_hash(token))
                .where(board_sessions.c.expires_at > now)
            ).first()
        return None if r is None else (r.username, check_role(r.role))

    def live_sessions(self, token_hashes: set[str], *, now: datetime) -> set[str]:
        """Of these session token hashes, the ones of sessions that have not ended or expired."""
        if not token_hashes:
            return set()
        with self.engine.connect() as c:
            rows = c.execute(
                select(board_sessions.c.token_hash)
                .where(board_sessions.c.token_hash.in_(sorted(token_hashes)))
                .where(board_sessions.c.expires_at > now)
            ).all()
        return {r.token_hash for r in rows}

    def end_session(self, token: str, *, now: datetime) -> None:
        with self.engine.begin() as c:
            c.execute(
                delete(board_sessions).where(board_sessions.c.token_hash == token_hash(token))
            )

    # --- actions and audit ---

    def record_action(self, action: Action) -> Action:
        with self.engine.begin() as c:
            result = c.execute(
                insert(board_actions).values(
                    incident_id=action.incident_id,
                    alert_id=action.alert_id,
                    kind=action.kind,
                    actor=action.actor,
                    at=action.at,
                    assignee=action.assignee,
                    note=action.note,
                    reason=action.reason,
                )
            )
            action_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        return Action(**{**action.__dict__, "action_id": action_id})

    def actions_after(self, action_id: int, limit: int = 1000) -> list[Action]:
        """Stored actions with a larger id, oldest first (how every board instance learns them)."""
        with self.engine.connect() as c:
            rows = c.execute(
                select(board_actions)
                .where(board_actions.c.action_id > action_id)
                .order_by(board_actions.c.action_id)
                .limit(limit)
            ).all()
        return [_action(r) for r in rows]

    def actions_for(self, incident_id: str) -> list[Action]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(board_actions)
                .where(board_actions.c.incident_id == incident_id)
                .order_by(board_actions.c.action_id)
            ).all()
        return [_action(r) for r in rows]

    def audit(
        self, actor: str, event: str, subject: str | None, detail: Any, now: datetime
    ) -> None:
        with self.engine.begin() as c:
            self._audit(c, now, actor, event, subject, detail)

    def audit_trail(self, limit: int = 200) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(board_audit).order_by(board_audit.c.audit_id.desc()).limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]

    @staticmethod
    def _audit(
        c: Any, now: datetime, actor: str, event: str, subject: str | None, detail: Any
    ) -> None:
        c.execute(
            insert(board_audit).values(
                at=now,
                actor=actor[:64],
                event=event,
                subject=None if subject is None else subject[:64],
                detail=None if detail is None else json.dumps(detail),
            )
        )

    # --- the ledger, for an incident's history ---

    def ledger_history(self, incident_id: str) -> dict[str, Any] | None:
        """The ledger's incident, alert and crime rows for one incident (None if unknown)."""
        with self.engine.connect() as c:
            incident = c.execute(
                select(
                    incidents.c.incident_id,
                    incidents.c.status,
                    incidents.c.force,
                    incidents.c.division,
                    incidents.c.channel,
                    incidents.c.opening_category,
                    incidents.c.category,
                    incidents.c.grade,
                    incidents.c.reported_at,
                    incidents.c.deadline,
                    incidents.c.crime_related_since,
                    incidents.c.first_crime_id,
                    incidents.c.recorded_at,
                    incidents.c.elapsed_seconds,
                    incidents.c.within_target,
                    incidents.c.closed_at,
                    incidents.c.closing_code,
                ).where(incidents.c.incident_id == incident_id)
            ).first()
            alert_rows = c.execute(
                select(
                    alerts.c.alert_id,
                    alerts.c.state,
                    alerts.c.deadline,
                    alerts.c.due_soon_at,
                    alerts.c.overdue_at,
                    alerts.c.resolved_at,
                    alerts.c.resolution,
                    alerts.c.late,
                ).where(alerts.c.incident_id == incident_id)
            ).all()
            crime_rows = crimes_naming(c, incident_id)
        if incident is None and not alert_rows and not crime_rows:
            return None
        return {
            "incident": None if incident is None else dict(incident._mapping),
            "alerts": [dict(r._mapping) for r in alert_rows],
            "crimes": crime_rows,
        }


def _keep_an_admin(c: Connection, username: str) -> None:
    """Refuse to remove or demote ``username`` when they are the only admin.

    The admins' rows are locked (``FOR UPDATE`` on PostgreSQL; SQLite runs one
    writer at a time), so two admins demoting each other at once cannot both pass.
    """
    admins = set(
        c.execute(
            select(board_users.c.username).where(board_users.c.role == "admin").with_for_update()
        ).scalars()
    )
    if admins == {username}:
        raise LastAdmin(
            "the last admin cannot be removed or demoted: make another user admin first"
        )


def _action(r: Any) -> Action:
    return Action(
        incident_id=r.incident_id,
        kind=r.kind,
        actor=r.actor,
        at=r.at,
        alert_id=r.alert_id,
        assignee=r.assignee,
        note=r.note,
        reason=r.reason,
        action_id=r.action_id,
    )
