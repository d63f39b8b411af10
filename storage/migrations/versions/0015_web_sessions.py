"""web sessions: one-time sign-in links and browser sessions of the web view

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 20:09:36

A member's `/web` link is stored as a hash and works once; a browser session holds its
own hashed token, a CSRF token and an expiry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_web_sessions_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_web_sessions_member_id"), ["member_id"], unique=False)

    op.create_table(
        "web_sign_ins",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_web_sign_ins_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sign_ins")),
    )
    with op.batch_alter_table("web_sign_ins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_web_sign_ins_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_web_sign_ins_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_sign_ins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sign_ins_member_id"))
        batch_op.drop_index(batch_op.f("ix_web_sign_ins_created_at"))

    op.drop_table("web_sign_ins")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_member_id"))
        batch_op.drop_index(batch_op.f("ix_web_sessions_expires_at"))

    op.drop_table("web_sessions")
