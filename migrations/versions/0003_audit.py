"""The internal audit: samples, strata, sampled incidents and answers; who closed an incident.

Revision ID: 0003
Revises: 0002_board
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002_board"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("closed_by_team", sa.String(), nullable=True))
    op.create_table(
        "audit_samples",
        sa.Column("sample_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(64), nullable=False),
        _time("period_start"),
        _time("period_end"),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("sizing", sa.String(64), nullable=False),
        _time("drawn_at"),
        sa.Column("drawn_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sample_id"),
        sa.UniqueConstraint("period", name="uq_audit_samples_period"),
    )
    op.create_table(
        "audit_strata",
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(64), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["sample_id"], ["audit_samples.sample_id"]),
        sa.PrimaryKeyConstraint("sample_id", "stratum"),
    )
    op.create_table(
        "audit_items",
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(64), nullable=False),
        sa.Column("route", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["sample_id"], ["audit_samples.sample_id"]),
        sa.PrimaryKeyConstraint("sample_id", "incident_id"),
    )
    op.create_table(
        "audit_answers",
        sa.Column("answer_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("should_record", sa.String(16), nullable=False),
        sa.Column("offence_group", sa.String(64), nullable=True),
        sa.Column("recorded_correctly", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("auditor", sa.String(64), nullable=False),
        _time("answered_at"),
        sa.Column("change_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sample_id", "incident_id"], ["audit_items.sample_id", "audit_items.incident_id"]
        ),
        sa.PrimaryKeyConstraint("answer_id"),
        sa.UniqueConstraint("sample_id", "incident_id", "version", name="uq_audit_answers_version"),
    )


def downgrade() -> None:
    op.drop_table("audit_answers")
    op.drop_table("audit_items")
    op.drop_table("audit_strata")
    op.drop_table("audit_samples")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("closed_by_team")
