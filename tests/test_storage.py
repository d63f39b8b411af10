"""Storage on SQLite and PostgreSQL: migrations, constraints, UTC times, frameworks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from bot.rules.framework import default_framework_path, load_framework
from bot.services.setup import adopt_shipped_framework, create_cell, ensure_default_framework
from storage import files as file_store
from storage import frameworks as framework_store
from storage import invites as invite_store
from storage import members as member_store
from storage import orgs, schema
from storage.db import Database
from storage.models import (
    Framework,
    Invite,
    Member,
    Organization,
    OrgKind,
    Question,
    QuestionOption,
    Role,
    SharedFile,
)


async def make_cell(db: Database) -> int:
    async with db.session() as session:
        committee = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        cell = await create_cell(
            session, "Chi bộ khu Biểu Nghi", committee, timezone="Asia/Ho_Chi_Minh", locale="vi"
        )
        return cell.id


async def test_cells_on_an_older_shipped_framework_move_to_the_new_one(db: Database) -> None:
    shipped = load_framework(default_framework_path())
    async with db.session() as session:
        old, _ = await framework_store.store(session, shipped.model_copy(update={"version": 1}))
        committee = await orgs.create(session, "Đảng bộ phường Đông Mai", OrgKind.COMMITTEE)
        cells = [
            await create_cell(session, name, committee, timezone="Asia/Ho_Chi_Minh", locale="vi")
            for name in ("Chi bộ 1", "Chi bộ 2")
        ]
        own_spec = shipped.model_copy(update={"code": "rieng-chi-bo-2", "version": 1})
        own, _ = await framework_store.store(session, own_spec, owner_id=cells[1].id)
        cells[0].framework_id, cells[1].framework_id = old.id, own.id
        committee.framework_id = old.id
    async with db.session() as session:
        current = await ensure_default_framework(session)
        assert await adopt_shipped_framework(session, current) == 2  # the cell, its committee
        assert await adopt_shipped_framework(session, current) == 0  # once
    async with db.session() as session:
        on = {o.name: o.framework_id for o in await session.scalars(select(Organization))}
    assert on == {"Đảng bộ phường Đông Mai": current.id, "Chi bộ 1": current.id, "Chi bộ 2": own.id}


async def test_migrated_schema_is_current(db: Database) -> None:
    assert await schema.current_revision(db) == schema.head_revision()
    await schema.ensure_current(db)


async def test_outdated_schema_is_refused(database_url: str) -> None:
    await asyncio.to_thread(schema.downgrade, database_url, "base")
    db = Database(database_url)
    try:
        with pytest.raises(schema.SchemaOutdated, match="chibo migrate"):
            await schema.ensure_current(db)
    finally:
        await db.dispose()


async def test_a_schema_from_a_newer_chibo_says_so(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(schema.SchemaOutdated, match="newer than this chibo") as refused:
        await schema.ensure_current(db)
    assert "chibo migrate" not in str(refused.value)  # migrating would not help


async def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_db: Database) -> None:
    async with sqlite_db.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(Member(org_id=999_999, full_name="Không có chi bộ"))
            await session.flush()


async def test_times_round_trip_as_aware_utc(db: Database) -> None:
    cell_id = await make_cell(db)
    local = datetime(2026, 12, 5, 19, 30, tzinfo=UTC) + timedelta(hours=7)
    async with db.session() as session:
        session.add(Invite(code_hash="x" * 64, org_id=cell_id, role=Role.MEMBER, expires_at=local))
    async with db.session() as session:
        stored = await session.scalar(select(Invite.expires_at))
    assert stored == local
    assert stored is not None and stored.utcoffset() == timedelta(0)


async def test_default_framework_is_stored_once_with_all_questions(db: Database) -> None:
    spec = load_framework(default_framework_path())
    async with db.session() as session:
        first = await ensure_default_framework(session)
        again = await ensure_default_framework(session)
        assert first.id == again.id
        questions = await session.scalar(
            select(func.count(Question.id)).where(Question.framework_id == first.id)
        )
        options = await session.scalar(select(func.count(QuestionOption.id)))
    expected_questions = sum(len(c.questions) for g in spec.groups for c in g.criteria)
    expected_options = sum(
        len(q.options or []) for g in spec.groups for c in g.criteria for q in c.questions
    )
    assert questions == expected_questions
    assert options == expected_options


async def test_changed_framework_needs_a_new_version(db: Database) -> None:
    spec = load_framework(default_framework_path())
    changed = spec.model_copy(update={"title": {**spec.title, "vi": "Bộ tiêu chí sửa đổi"}})
    async with db.session() as session:
        await framework_store.store(session, spec)
        with pytest.raises(framework_store.FrameworkVersionExists, match="new version"):
            await framework_store.store(session, changed)
        bumped, created = await framework_store.store(
            session, changed.model_copy(update={"version": spec.version + 1})
        )
    assert created and bumped.version == spec.version + 1


async def test_one_chat_identity_per_channel_account(db: Database) -> None:
    cell_id = await make_cell(db)
    async with db.session() as session:
        first = Member(org_id=cell_id, full_name="Trần Thị Bình")
        second = Member(org_id=cell_id, full_name="Lê Văn Cường")
        session.add_all([first, second])
        await session.flush()
        await member_store.link_identity(session, first, "telegram", "1001")
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await member_store.link_identity(session, second, "telegram", "1001")


async def test_concurrent_redemptions_take_one_use(db: Database) -> None:
    cell_id = await make_cell(db)
    async with db.session() as session:
        invite = Invite(
            code_hash="y" * 64,
            org_id=cell_id,
            role=Role.MEMBER,
            expires_at=datetime.now(UTC) + timedelta(days=1),
            max_uses=1,
        )
        session.add(invite)
    results = []

    async def redeem() -> None:
        async with db.session() as session:
            results.append(await invite_store.take_use(session, invite.id))

    await asyncio.gather(*(redeem() for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    async with db.session() as session:
        assert await session.scalar(select(Invite.uses)) == 1


async def test_frameworks_uploaded_by_cells_never_block_a_shipped_version(db: Database) -> None:
    cell_id = await make_cell(db)
    shipped = load_framework(default_framework_path())
    own = shipped.model_copy(update={"code": "ninh-binh", "title": {"vi": "Bộ của tỉnh"}})
    next_shipped = shipped.model_copy(
        update={"version": shipped.version + 1, "title": {"vi": "Bản mới"}}
    )
    async with db.session() as session:
        other_cell = await create_cell(
            session, "Chi bộ khác", None, timezone="Asia/Ho_Chi_Minh", locale="vi"
        )
        for spec in (shipped, next_shipped):  # the shipped code is reserved, any version
            with pytest.raises(framework_store.FrameworkCodeReserved):
                await framework_store.store(session, spec, cell_id)
        mine, created = await framework_store.store(session, own, cell_id)
        assert created and mine.owner_org_id == cell_id
        changed = own.model_copy(update={"title": {"vi": "Khác"}})
        theirs, created = await framework_store.store(session, changed, other_cell.id)
        assert created and theirs.id != mine.id  # same code and version, other owner
        with pytest.raises(framework_store.FrameworkVersionExists):
            await framework_store.store(session, changed, cell_id)
        again, created = await framework_store.store(session, own, cell_id)
        assert again.id == mine.id and not created
        # the next release stores its version, whatever the cells uploaded
        stored, created = await framework_store.store(session, next_shipped)
        assert created and stored.owner_org_id is None
        assert (await framework_store.latest(session, shipped.code)) == stored
        assert await framework_store.find(session, "ninh-binh", own.version) is None


async def test_a_global_code_and_version_is_stored_once(db: Database) -> None:
    async with db.session() as session:
        framework = await ensure_default_framework(session)
        row = row_of(framework)
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(Framework(**{**row, "source_sha256": "other"}))
            await session.flush()


def row_of(framework: Framework) -> dict[str, object]:
    return {
        c: getattr(framework, c) for c in ("code", "version", "title", "scoring", "source_sha256")
    }


async def test_migration_0006_keeps_frameworks_and_their_questions(database_url: str) -> None:
    await asyncio.to_thread(schema.downgrade, database_url, "0005")
    db = Database(database_url)
    tables = ("frameworks", "criterion_groups", "criteria", "questions", "question_options")
    try:
        async with db.engine.begin() as connection:
            for version in (1, 2):  # shipped v1, and a cell's upload that took v2
                await connection.execute(
                    text(
                        "INSERT INTO frameworks (code, version, title, scoring, source_sha256,"
                        " created_at) VALUES ('four-good-cell', :v, '{}', '{}', 'x', :now)"
                    ),
                    {"v": version, "now": datetime(2026, 1, 1, tzinfo=UTC)},
                )
            framework_id, upload_id = (
                await connection.execute(text("SELECT id FROM frameworks ORDER BY version"))
            ).scalars()
            await connection.execute(
                text(
                    "INSERT INTO criterion_groups (framework_id, key, position, weight, title)"
                    " VALUES (:f, 'g1', 0, 100, '{}')"
                ),
                {"f": framework_id},
            )
            await connection.execute(
                text(
                    "INSERT INTO organizations (kind, name, timezone, locale, framework_id,"
                    " created_at) VALUES ('cell', 'Chi bộ', 'Asia/Ho_Chi_Minh', 'vi', :f, :now)"
                ),
                {"f": upload_id, "now": datetime(2026, 1, 1, tzinfo=UTC)},
            )
            cell_id = (await connection.execute(text("SELECT id FROM organizations"))).scalar()

        async def counts() -> list[int]:
            async with db.engine.connect() as connection:
                return [
                    int((await connection.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one())
                    for t in tables
                ]

        before = await counts()
        await asyncio.to_thread(schema.upgrade, database_url)
        assert await counts() == before == [2, 1, 0, 0, 0]
        async with db.session() as session:
            kept = await session.get(Framework, framework_id)
            assert kept is not None and kept.owner_org_id is None
            upload = await session.get(Framework, upload_id)
            assert upload is not None and upload.owner_org_id == cell_id
            assert upload.code == f"four-good-cell-upload-{upload_id}"
            # the next shipped version (2) can now be stored
            session.add(Framework(**{**row_of(kept), "version": 2}))
            await session.flush()
        await asyncio.to_thread(schema.downgrade, database_url, "0005")
        assert await counts() == [before[0] + 1, *before[1:]]
        await asyncio.to_thread(schema.upgrade, database_url)
    finally:
        await db.dispose()


async def test_an_excusal_counts_only_for_its_own_month(db: Database) -> None:
    """A member excused last month still gets this month's notices, even in one batch."""
    from storage import notifications as outbox
    from storage.models import Excusal, Organization, Period

    cell_id = await make_cell(db)
    opens = datetime(2026, 11, 1, tzinfo=UTC)
    async with db.session() as session:
        cell = await session.get(Organization, cell_id)
        assert cell is not None and cell.framework_id is not None
        member = Member(org_id=cell_id, full_name="Trần Thị Bình")
        session.add(member)
        months = [
            Period(
                cell_id=cell_id,
                year=2026,
                month=month,
                framework_id=cell.framework_id,
                opens_at=opens.replace(month=month),
                deadline_at=opens.replace(month=month, day=28),
            )
            for month in (11, 12)
        ]
        session.add_all(months)
        await session.flush()
        session.add(Excusal(period_id=months[0].id, member_id=member.id, status="approved"))
        await session.flush()
        found = await outbox.recipients(session, {member.id}, {p.id for p in months}, ["telegram"])
    assert found.done == {(months[0].id, member.id)}


async def test_shared_files_are_read_by_token_until_they_expire(db: Database) -> None:
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    async with db.session() as session:
        week = await file_store.publish(
            session, "Biểu đồ tháng 12.png", b"\x89PNG\x00\xff", now, timedelta(days=7)
        )
        hour = await file_store.publish(session, "a.csv", b"x", now, timedelta(hours=1))
    async with db.session() as session:
        shared = await file_store.fetch(session, week, now)
        assert shared is not None
        assert (shared.filename, shared.content) == ("Biểu đồ tháng 12.png", b"\x89PNG\x00\xff")
        assert shared.expires_at == now + timedelta(days=7) and shared.created_at == now
        assert await file_store.fetch(session, hour, now + timedelta(minutes=59)) is not None
        assert await file_store.fetch(session, hour, now + timedelta(hours=1)) is None
        assert await file_store.fetch(session, "no-such-token", now) is None
    async with db.session() as session:
        assert await file_store.prune(session, now + timedelta(minutes=59)) == 0
        assert await file_store.prune(session, now + timedelta(hours=1)) == 1
        assert await file_store.prune(session, now + timedelta(hours=1)) == 0
    async with db.session() as session:  # the pruned row is gone, not only hidden
        assert await session.get(SharedFile, hour) is None
        assert await file_store.fetch(session, week, now + timedelta(days=6)) is not None


async def test_shared_file_tokens_cannot_be_guessed(db: Database) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with db.session() as session:
        tokens = [
            await file_store.publish(session, "c.png", b"c", now, timedelta(days=1))
            for _ in range(200)
        ]
    assert len(set(tokens)) == len(tokens)
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert all(len(token) >= 32 and set(token) <= alphabet for token in tokens)
    assert len({token[:8] for token in tokens}) == len(tokens)  # no shared prefix or counter


async def test_a_long_shared_filename_is_cut_but_keeps_its_extension(db: Database) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    name = "Báo cáo " + "rất dài " * 40 + ".xlsx"
    async with db.session() as session:  # PostgreSQL refuses a value over the column's 200
        token = await file_store.publish(session, name, b"PK", now, timedelta(days=1))
    async with db.session() as session:
        shared = await file_store.fetch(session, token, now)
        assert shared is not None
        assert len(shared.filename) == 200 and shared.filename.endswith(".xlsx")
        assert shared.filename.startswith("Báo cáo rất dài")
