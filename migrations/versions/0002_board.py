"""The live board: users, sessions, supervisors' actions and the audit trail.

Revision ID: 0002_board
Revises: 0001_ledger
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_board"
down_revision: str | None = "0001_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "board_users",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "board_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        sa.ForeignKeyConstraint(["username"], ["board_users.username"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_board_sessions_username", "board_sessions", ["username"])
    op.create_table(
        "board_actions",
        sa.Column("action_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(128), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        _time("at"),
        sa.Column("assignee", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("action_id"),
    )
    op.create_index("ix_board_actions_incident_id", "board_actions", ["incident_id"])
    op.create_table(
        "board_audit",
        sa.Column("audit_id", sa.Integer(), autoincrement=True, nullable=False),
        _time("at"),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("audit_id"),
    )


def downgrade() -> None:
    op.drop_table("board_audit")
    op.drop_index("ix_board_actions_incident_id", table_name="board_actions")
    op.drop_table("board_actions")
    op.drop_index("ix_board_sessions_username", table_name="board_sessions")
    op.drop_table("board_sessions")
    op.drop_table("board_users")
