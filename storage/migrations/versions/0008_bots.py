"""bots: extra bots per channel, each serving part of the organisation tree

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:01:21

A chat account remembers the bot it writes to (none: the channel's default bot).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=256), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("link", sa.String(length=200), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_bots_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bots")),
        sa.UniqueConstraint("channel", "token", name="uq_bots_channel_token"),
    )
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bots_org_id"), ["org_id"], unique=False)

    with op.batch_alter_table("chat_identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_chat_identities_bot_id_bots"),
            "bots",
            ["bot_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_identities", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_chat_identities_bot_id_bots"), type_="foreignkey")
        batch_op.drop_column("bot_id")

    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bots_org_id"))

    op.drop_table("bots")
