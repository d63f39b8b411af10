"""framework owner: uploaded frameworks belong to a cell or committee

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:50:00

Framework codes and versions were global, so a secretary's upload with the shipped
framework's code and the next version number blocked that version for everyone.
Uploaded frameworks now carry their owner; shipped and CLI-imported ones have none.
Rows stored before cannot be told apart, except those that already took a version of the
shipped code that chibo has not shipped yet (only version 1 exists at this revision): they
go to the cell using them, under a code of their own, so the next shipped version fits.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NO_OWNER = sa.text("owner_org_id IS NULL")
_SHIPPED_CODE, _SHIPPED_VERSION = "four-good-cell", 1  # as shipped at this revision


def _foreign_keys_off() -> None:
    # SQLite recreates the table to change its constraints; with foreign keys on, dropping
    # the old table would cascade to every criterion and question of every framework.
    # The pragma only works outside a transaction, i.e. before this migration writes.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys=OFF")


def upgrade() -> None:
    _foreign_keys_off()
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_org_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_frameworks_owner_org_id_organizations"),
            "organizations",
            ["owner_org_id"],
            ["id"],
        )
        batch_op.drop_constraint("uq_frameworks_code_version", type_="unique")
        batch_op.create_unique_constraint(
            "uq_frameworks_owner_code_version", ["owner_org_id", "code", "version"]
        )
        batch_op.create_index(
            batch_op.f("ix_frameworks_owner_org_id"), ["owner_org_id"], unique=False
        )
    _give_early_uploads_their_owner()
    op.create_index(
        "uq_frameworks_shipped_code_version",
        "frameworks",
        ["code", "version"],
        unique=True,
        sqlite_where=_NO_OWNER,
        postgresql_where=_NO_OWNER,
    )


def _give_early_uploads_their_owner() -> None:
    bind = op.get_bind()
    taken = bind.execute(
        sa.text("SELECT id FROM frameworks WHERE code = :code AND version > :version"),
        {"code": _SHIPPED_CODE, "version": _SHIPPED_VERSION},
    ).scalars()
    for framework_id in list(taken):
        owner = bind.execute(
            sa.text("SELECT min(id) FROM organizations WHERE framework_id = :id"),
            {"id": framework_id},
        ).scalar()
        bind.execute(
            sa.text("UPDATE frameworks SET code = :code, owner_org_id = :owner WHERE id = :id"),
            {"code": f"{_SHIPPED_CODE}-upload-{framework_id}", "owner": owner, "id": framework_id},
        )


def downgrade() -> None:
    # Fails (and changes nothing) while two owners hold the same code and version.
    _foreign_keys_off()
    op.drop_index("uq_frameworks_shipped_code_version", table_name="frameworks")
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frameworks_owner_org_id"))
        batch_op.drop_constraint("uq_frameworks_owner_code_version", type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_frameworks_owner_org_id_organizations"), type_="foreignkey"
        )
        batch_op.drop_column("owner_org_id")
        batch_op.create_unique_constraint("uq_frameworks_code_version", ["code", "version"])
