"""resolutions and their tasks: what a cell decided, who carries each task out, reports

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 20:16:44

Also two framework fields: a criterion's `full_at` (the share that earns full points, for
the share metrics tasks_on_time and consultation_answer_rate)
and a question's `suggest_levels` (the answer suggested for a share of tasks done on time).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resolutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("file_id", sa.String(length=200), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("mime_type", sa.String(length=100), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("file_link", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["members.id"], name=op.f("fk_resolutions_created_by_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["periods.id"],
            name=op.f("fk_resolutions_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolutions")),
        sa.UniqueConstraint("period_id", name=op.f("uq_resolutions_period_id")),
    )
    op.create_table(
        "resolution_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resolution_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("everyone", sa.Boolean(), nullable=False),
        sa.Column("due_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["members.id"],
            name=op.f("fk_resolution_tasks_created_by_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["resolution_id"],
            ["resolutions.id"],
            name=op.f("fk_resolution_tasks_resolution_id_resolutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolution_tasks")),
        sa.UniqueConstraint("resolution_id", "position", name="uq_resolution_tasks_position"),
    )
    with op.batch_alter_table("resolution_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resolution_tasks_resolution_id"), ["resolution_id"], unique=False
        )

    op.create_table(
        "task_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("reported_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_task_assignments_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["resolution_tasks.id"],
            name=op.f("fk_task_assignments_task_id_resolution_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_assignments")),
        sa.UniqueConstraint("task_id", "member_id", name="uq_task_assignments_task_member"),
    )
    with op.batch_alter_table("task_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_task_assignments_member_id"), ["member_id"], unique=False
        )

    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.add_column(sa.Column("full_at", sa.Float(), nullable=True))

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggest_levels", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("suggest_levels")

    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.drop_column("full_at")

    with op.batch_alter_table("task_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_assignments_member_id"))

    op.drop_table("task_assignments")
    with op.batch_alter_table("resolution_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resolution_tasks_resolution_id"))

    op.drop_table("resolution_tasks")
    op.drop_table("resolutions")
