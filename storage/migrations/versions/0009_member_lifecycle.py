"""member lifecycle: removed and moved members, status and role changes, notices of no month

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:04:51

A member who leaves a cell keeps their row (inactive, with left_at) so that the cell's
past months stay as they were; a move makes a row in the new cell that points back
(moved_from_id). member_events is the audit of every change; a notification may now
belong to no month (the notice of such a change).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.String(length=64), nullable=True),
        sa.Column("new_value", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("by_member_id", sa.Integer(), nullable=True),
        sa.Column("other_member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_member_id"], ["members.id"], name=op.f("fk_member_events_by_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_events_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["other_member_id"],
            ["members.id"],
            name=op.f("fk_member_events_other_member_id_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_events")),
    )
    with op.batch_alter_table("member_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_events_member_kind_at", ["member_id", "kind", "at"], unique=False
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_text", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("left_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("left_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("moved_from_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_members_moved_from_id"), ["moved_from_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_members_moved_from_id_members"), "members", ["moved_from_id"], ["id"]
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("period_id", existing_type=sa.INTEGER(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE period_id IS NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("period_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_members_moved_from_id_members"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_members_moved_from_id"))
        batch_op.drop_column("moved_from_id")
        batch_op.drop_column("left_reason")
        batch_op.drop_column("left_at")
        batch_op.drop_column("pending_text")

    with op.batch_alter_table("member_events", schema=None) as batch_op:
        batch_op.drop_index("ix_member_events_member_kind_at")

    op.drop_table("member_events")
