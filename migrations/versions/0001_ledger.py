"""The ledger: incidents, alerts, crimes and the incidents each crime is linked to.

Revision ID: 0001_ledger
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_ledger"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(), nullable=nullable)


def _updated_at() -> sa.Column:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "incidents",
        _text("incident_id", nullable=False),
        _text("status", nullable=False),
        _text("force"),
        _text("division"),
        _text("channel"),
        _text("opening_category"),
        _text("category"),
        _text("grade"),
        _time("reported_at"),
        _time("deadline"),
        sa.Column("crime_related", sa.Boolean(), nullable=False),
        _time("crime_related_since"),
        _time("unflagged_at"),
        _text("first_crime_id"),
        _time("recorded_at"),
        sa.Column("elapsed_seconds", sa.Float(), nullable=True),
        sa.Column("within_target", sa.Boolean(), nullable=True),
        sa.Column("recorded_before_report", sa.Boolean(), nullable=False),
        _time("closed_at"),
        _text("closing_code"),
        _time("last_event_at"),
        sa.Column("state", sa.Text(), nullable=True),
        _updated_at(),
        sa.PrimaryKeyConstraint("incident_id"),
    )
    op.create_index(
        "ix_incidents_status_division_deadline", "incidents", ["status", "division", "deadline"]
    )
    op.create_index("ix_incidents_status_deadline", "incidents", ["status", "deadline"])

    op.create_table(
        "alerts",
        _text("alert_id", nullable=False),
        _text("incident_id", nullable=False),
        _text("state", nullable=False),
        _text("force", nullable=False),
        _text("division"),
        _text("category", nullable=False),
        _time("deadline", nullable=False),
        _time("due_soon_at"),
        _time("overdue_at"),
        _time("resolved_at"),
        _text("resolution"),
        sa.Column("late", sa.Boolean(), nullable=True),
        _updated_at(),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index("ix_alerts_state_division", "alerts", ["state", "division"])
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id"])

    op.create_table(
        "crimes",
        _text("crime_id", nullable=False),
        _time("recorded_at"),
        _text("offence_code"),
        _text("offence_group"),
        _text("victim_ref"),
        sa.Column("victim_consents_to_referral", sa.Boolean(), nullable=True),
        _time("cancelled_at"),
        _text("cancellation_reason"),
        sa.Column("unlinked", sa.Boolean(), nullable=False),
        _updated_at(),
        sa.PrimaryKeyConstraint("crime_id"),
    )

    op.create_table(
        "crime_incidents",
        _text("crime_id", nullable=False),
        _text("incident_id", nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["crime_id"], ["crimes.crime_id"]),
        sa.PrimaryKeyConstraint("crime_id", "incident_id"),
    )
    op.create_index("ix_crime_incidents_incident_id", "crime_incidents", ["incident_id"])


def downgrade() -> None:
    op.drop_table("crime_incidents")
    op.drop_table("crimes")
    op.drop_table("alerts")
    op.drop_table("incidents")
