"""The ledger's schema: one table per row dataclass, columns named after its fields.

Every timestamp is stored timezone-aware and read back in UTC, whatever the
database: SQLite keeps no zone, so ``UtcDateTime`` converts to UTC on the way
in and labels the value UTC on the way out. ``updated_at`` is the database
clock at the last write of the row. The migrations in ``migrations/versions``
must create exactly this metadata; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that is always UTC in Python; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"the ledger stores timezone-aware times only, got {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _updated_at() -> Column[datetime]:
    return Column("updated_at", UtcDateTime(), nullable=False, server_default=func.now())


metadata = MetaData()

incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", String(), primary_key=True),
    Column("status", String(), nullable=False),
    Column("force", String()),
    Column("division", String()),
    Column("channel", String()),
    Column("opening_category", String()),
    Column("category", String()),
    Column("grade", String()),
    Column("reported_at", UtcDateTime()),
    Column("deadline", UtcDateTime()),
    Column("crime_related", Boolean(), nullable=False),
    Column("crime_related_since", UtcDateTime()),
    Column("unflagged_at", UtcDateTime()),
    Column("first_crime_id", String()),
    Column("recorded_at", UtcDateTime()),
    Column("elapsed_seconds", Float()),
    Column("within_target", Boolean()),
    Column("recorded_before_report", Boolean(), nullable=False),
    Column("closed_at", UtcDateTime()),
    Column("closing_code", String()),
    Column("last_event_at", UtcDateTime()),
    # Who closed it (``cdi.incident.closed``'s optional ``closed_by_team``; migration 0003).
    Column("closed_by_team", String()),
    # The live state the row projects (JSON), joined with every later write.
    Column("state", Text()),
    _updated_at(),
    # The board: open incidents of a status, per division or force-wide, soonest deadline first.
    Index("ix_incidents_status_division_deadline", "status", "division", "deadline"),
    Index("ix_incidents_status_deadline", "status", "deadline"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(), primary_key=True),
    Column("incident_id", String(), nullable=False),
    Column("state", String(), nullable=False),
    Column("force", String(), nullable=False),
    Column("division", String()),
    Column("category", String(), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("due_soon_at", UtcDateTime()),
    Column("overdue_at", UtcDateTime()),
    Column("resolved_at", UtcDateTime()),
    Column("resolution", String()),
    Column("late", Boolean()),
    _updated_at(),
    Index("ix_alerts_state_division", "state", "division"),
    Index("ix_alerts_incident_id", "incident_id"),
)

crimes = Table(
    "crimes",
    metadata,
    Column("crime_id", String(), primary_key=True),
    Column("recorded_at", UtcDateTime()),
    Column("offence_code", String()),
    Column("offence_group", String()),
    Column("victim_ref", String()),
    Column("victim_consents_to_referral", Boolean()),
    Column("cancelled_at", UtcDateTime()),
    Column("cancellation_reason", String()),
    Column("unlinked", Boolean(), nullable=False),
    _updated_at(),
)

# A crime's incidents; ``position`` keeps the order of ``CrimeRow.incident_ids``.
crime_incidents = Table(
    "crime_incidents",
    metadata,
    Column("crime_id", String(), ForeignKey("crimes.crime_id"), primary_key=True),
    Column("incident_id", String(), primary_key=True),
    Column("position", Integer(), nullable=False),
    Index("ix_crime_incidents_incident_id", "incident_id"),
)

# --- The live board (migration 0002_board): its users, their sessions, and what they did. ---

# Who may sign in to the board. ``password_hash`` is an argon2id hash, or NULL
# for a user who signs in only through the trusted single-sign-on header.
board_users = Table(
    "board_users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(256)),
    Column("created_at", UtcDateTime(), nullable=False),
)

# A signed-in browser. Only the SHA-256 of the random session token is stored,
# so a copy of this table does not let anyone sign in.
board_sessions = Table(
    "board_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column(
        "username",
        String(64),
        ForeignKey("board_users.username", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index("ix_board_sessions_username", "username"),
)

# Every supervisor action on an incident, in the order it was taken: who, when, what.
board_actions = Table(
    "board_actions",
    metadata,
    Column("action_id", Integer(), primary_key=True, autoincrement=True),
    Column("incident_id", String(64), nullable=False),
    Column("alert_id", String(128)),
    Column("kind", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("assignee", String(64)),
    Column("note", Text()),
    Column("reason", Text()),
    Index("ix_board_actions_incident_id", "incident_id"),
)

# Sign-ins, refusals and user management: who, when, what, about whom.
board_audit = Table(
    "board_audit",
    metadata,
    Column("audit_id", Integer(), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("event", String(32), nullable=False),
    Column("subject", String(64)),
    Column("detail", Text()),
)

# --- The internal audit (migration 0003): samples, their strata and incidents, answers. ---

# One sample per period: how it was drawn (the seed and the sizing), when and by whom.
audit_samples = Table(
    "audit_samples",
    metadata,
    Column("sample_id", Integer(), primary_key=True, autoincrement=True),
    Column("period", String(64), nullable=False),
    Column("period_start", UtcDateTime(), nullable=False),
    Column("period_end", UtcDateTime(), nullable=False),
    Column("seed", Integer(), nullable=False),
    Column("sizing", String(64), nullable=False),
    Column("drawn_at", UtcDateTime(), nullable=False),
    Column("drawn_by", String(64), nullable=False),
    UniqueConstraint("period", name="uq_audit_samples_period"),
)

# Each stratum's population in the frame when the sample was drawn, and its sample size.
audit_strata = Table(
    "audit_strata",
    metadata,
    Column("sample_id", Integer(), ForeignKey("audit_samples.sample_id"), primary_key=True),
    Column("stratum", String(64), primary_key=True),
    Column("population", Integer(), nullable=False),
    Column("size", Integer(), nullable=False),
    Column("priority", Boolean(), nullable=False),
    Column("basis", Text(), nullable=False),
)

# The sampled incidents, in the order to audit them; one incident at most once a period.
audit_items = Table(
    "audit_items",
    metadata,
    Column("sample_id", Integer(), ForeignKey("audit_samples.sample_id"), primary_key=True),
    Column("incident_id", String(64), primary_key=True),
    Column("position", Integer(), nullable=False),
    Column("stratum", String(64), nullable=False),
    Column("route", String(16), nullable=False),
)

# Every answer ever given, never updated: the latest ``version`` of an incident's is the
# current one. A later version is an admin's change, with its reason.
audit_answers = Table(
    "audit_answers",
    metadata,
    Column("answer_id", Integer(), primary_key=True, autoincrement=True),
    Column("sample_id", Integer(), nullable=False),
    Column("incident_id", String(64), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("should_record", String(16), nullable=False),
    Column("offence_group", String(64)),
    Column("recorded_correctly", Boolean()),
    Column("note", Text()),
    Column("auditor", String(64), nullable=False),
    Column("answered_at", UtcDateTime(), nullable=False),
    Column("change_reason", Text()),
    ForeignKeyConstraint(
        ["sample_id", "incident_id"], ["audit_items.sample_id", "audit_items.incident_id"]
    ),
    UniqueConstraint("sample_id", "incident_id", "version", name="uq_audit_answers_version"),
)
