"""meeting documents: what a secretary sends before the meeting, and who read it

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 20:05:40

Also two framework fields: a criterion's `min_hours` (the documents_lead_hours metric's
threshold) and a question's `suggest` (an answer chibo suggests from its records).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("file_id", sa.String(length=200), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("mime_type", sa.String(length=100), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("file_link", sa.Text(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["periods.id"],
            name=op.f("fk_meeting_documents_period_id_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["members.id"], name=op.f("fk_meeting_documents_sent_by_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_documents")),
    )
    with op.batch_alter_table("meeting_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_documents_period_id"), ["period_id"], unique=False
        )

    op.create_table(
        "document_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("read_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["meeting_documents.id"],
            name=op.f("fk_document_reads_document_id_meeting_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_document_reads_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_reads")),
        sa.UniqueConstraint("document_id", "member_id", name="uq_document_reads_document_member"),
    )
    with op.batch_alter_table("document_reads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_reads_member_id"), ["member_id"], unique=False
        )

    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_hours", sa.Float(), nullable=True))

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suggest", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("suggest")

    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.drop_column("min_hours")

    with op.batch_alter_table("document_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_reads_member_id"))

    op.drop_table("document_reads")
    with op.batch_alter_table("meeting_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_documents_period_id"))

    op.drop_table("meeting_documents")
