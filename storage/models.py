"""SQLAlchemy models: organisation tree, members, invites, criteria framework.

Times are stored in UTC (`UTCDateTime`); localized text of the framework is a
JSON mapping locale → text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; store aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, dict[str, str]: JSON}


class OrgKind(StrEnum):
    COMMITTEE = "committee"
    CELL = "cell"


class Role(StrEnum):
    MEMBER = "member"
    SECRETARY = "secretary"
    DEPUTY_SECRETARY = "deputy_secretary"
    COMMITTEE_OFFICER = "committee_officer"


class MemberStatus(StrEnum):
    OFFICIAL = "official"
    PROBATIONARY = "probationary"
    EXEMPT = "exempt"


class Organization(Base):
    """A node of the party tree: committees of any depth, cells as leaves."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    framework_id: Mapped[int | None] = mapped_column(ForeignKey("frameworks.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Organization | None] = relationship(remote_side=[id])


class Member(Base):
    """A person in one organisation node (a cell, or a committee for officers)."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(24), default=Role.MEMBER)
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.OFFICIAL)
    locale: Mapped[str | None] = mapped_column(String(8))
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    pending_input: Mapped[str | None] = mapped_column(String(64))
    pending_text: Mapped[str | None] = mapped_column(Text)
    """Text this person typed that waits for their confirmation (a removal's reason)."""
    joined_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column()
    """When the member left this cell (removed or moved); the row then stays, inactive,
    so that the cell's past months keep them."""
    left_reason: Mapped[str | None] = mapped_column(Text)
    moved_from_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    """The same person's row in the cell they came from (their history follows this chain)."""
    erased_at: Mapped[datetime | None] = mapped_column()
    """When `chibo member erase` removed their personal data (the name is then a placeholder)."""

    org: Mapped[Organization] = relationship()


class MemberEventKind(StrEnum):
    REMOVED = "removed"
    MOVED_OUT = "moved_out"
    MOVED_IN = "moved_in"
    STATUS = "status"
    ROLE = "role"


class MemberEvent(Base):
    """One change in a member's life in a cell: removed, moved, status or role changed.

    Status changes are also what keeps past months as they were: a month whose deadline
    passed before a change reads the status the member had then (`old_value`).
    """

    __tablename__ = "member_events"
    __table_args__ = (Index("ix_member_events_member_kind_at", "member_id", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[str | None] = mapped_column(String(64))
    new_value: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    """The secretary who did it (None: an administrator on the CLI)."""
    other_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    """For a move: the same person's row in the other cell."""


class ChatIdentity(Base):
    """A member's account on one channel (telegram, zalo, console)."""

    __tablename__ = "chat_identities"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_chat_identities_channel_external"),
        UniqueConstraint("member_id", "channel", name="uq_chat_identities_member_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column()
    """When the member last wrote from this account: notifications go to the latest."""
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    """Sends refused in a row with an unclear error (Zalo's 403); a success resets it."""
    bot_id: Mapped[int | None] = mapped_column(ForeignKey("bots.id", ondelete="SET NULL"))
    """The bot the member writes to (None: the channel's default bot, from the settings)."""


class Bot(Base):
    """An extra bot serving part of the organisation tree (`chibo bot add`).

    A free Zalo bot may serve only a few dozen users and a Telegram bot sends about
    30 messages a second, so a deployment can run several per channel; the default
    bot of each channel comes from the settings (TELEGRAM_BOT_TOKEN, ZALO_BOT_TOKEN).
    """

    __tablename__ = "bots"
    __table_args__ = (UniqueConstraint("channel", "token", name="uq_bots_channel_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(String(256))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(100))  # Telegram: learned from getMe
    link: Mapped[str | None] = mapped_column(String(200))  # Zalo: the bot's link, for invites
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatPrompt(Base):
    """The numbered options a chat was last shown, on channels without buttons.

    Kept in the database so that "2" means the same after a restart and in any
    process; the next message with options replaces them.
    """

    __tablename__ = "chat_prompts"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)  # `Prompt.to_json()`
    shown_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedMessage(Base):
    """A channel message already answered (Zalo has no update offsets: replays happen)."""

    __tablename__ = "processed_messages"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LinkCode(Base):
    """A short-lived code that links a member's second chat account (`/link`)."""

    __tablename__ = "link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column()


class WebSignIn(Base):
    """A one-time sign-in link to the web view (`/web`); only the token's SHA-256 is stored.

    Used links are kept (with `used_at`) until they are a day old: they count towards the
    member's limit of links, and a second use of the same link is refused.
    """

    __tablename__ = "web_sign_ins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class WebSession(Base):
    """A browser signed in to the web view as one member, until it expires or signs out.

    The cookie holds a random token; only its SHA-256 is stored. `csrf` is the token every
    form that changes something must carry back.
    """

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SharedFile(Base):
    """A chart or workbook behind an unguessable, expiring URL (channels that cannot upload)."""

    __tablename__ = "shared_files"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invite(Base):
    """A join code; only its SHA-256 is stored, the code is shown once."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column()


class JoinAttempt(Base):
    """A failed invite redemption, kept to throttle guessing per chat."""

    __tablename__ = "join_attempts"
    __table_args__ = (Index("ix_join_attempts_who_at", "channel", "external_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Framework(Base):
    """One version of a criteria framework, loaded from a data file."""

    __tablename__ = "frameworks"
    __table_args__ = (
        # Shipped or CLI-imported frameworks (no owner) are unique per code and version,
        # uploaded ones per owner: a cell's upload can never block the next shipped version.
        UniqueConstraint(
            "owner_org_id", "code", "version", name="uq_frameworks_owner_code_version"
        ),
        Index(
            "uq_frameworks_shipped_code_version",
            "code",
            "version",
            unique=True,
            sqlite_where=text("owner_org_id IS NULL"),
            postgresql_where=text("owner_org_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", use_alter=True), index=True
    )
    """The cell or committee that uploaded it in chat; None: shipped or imported by the CLI."""
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[dict[str, str]] = mapped_column()
    scoring: Mapped[dict[str, Any]] = mapped_column()
    source_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    groups: Mapped[list[CriterionGroup]] = relationship(
        order_by="CriterionGroup.position", cascade="all, delete-orphan"
    )


class CriterionGroup(Base):
    __tablename__ = "criterion_groups"
    __table_args__ = (UniqueConstraint("framework_id", "key", name="uq_criterion_groups_fw_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(24))
    position: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float)
    title: Mapped[dict[str, str]] = mapped_column()

    criteria: Mapped[list[Criterion]] = relationship(
        order_by="Criterion.position", cascade="all, delete-orphan"
    )


class Criterion(Base):
    __tablename__ = "criteria"
    __table_args__ = (UniqueConstraint("group_id", "key", name="uq_criteria_group_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("criterion_groups.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(24))
    position: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str | None] = mapped_column(String(32))
    min_hours: Mapped[float | None] = mapped_column(Float)  # the documents_lead_hours threshold
    full_at: Mapped[float | None] = mapped_column(Float)  # a share metric's full-points share
    title: Mapped[dict[str, str]] = mapped_column()

    questions: Mapped[list[Question]] = relationship(
        order_by="Question.position", cascade="all, delete-orphan"
    )


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("framework_id", "key", name="uq_questions_fw_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(24))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[dict[str, str]] = mapped_column()
    help: Mapped[dict[str, str] | None] = mapped_column(JSON)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    comment_below: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[int | None] = mapped_column(Integer)
    suggest: Mapped[str | None] = mapped_column(String(32))  # a `Suggestion` from chibo's records
    suggest_levels: Mapped[list[Any] | None] = mapped_column(JSON)  # tasks_done: share → option

    options: Mapped[list[QuestionOption]] = relationship(
        order_by="QuestionOption.position", cascade="all, delete-orphan"
    )


class QuestionOption(Base):
    __tablename__ = "question_options"
    __table_args__ = (UniqueConstraint("question_id", "value", name="uq_question_options_q_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(12))
    position: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    label: Mapped[dict[str, str]] = mapped_column()


class PeriodState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Period(Base):
    """One month of one cell: its assessment window, deadline and pinned framework."""

    __tablename__ = "periods"
    __table_args__ = (UniqueConstraint("cell_id", "year", "month", name="uq_periods_cell_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"))
    opens_at: Mapped[datetime] = mapped_column()
    deadline_at: Mapped[datetime] = mapped_column()
    meeting_at: Mapped[datetime | None] = mapped_column()
    place: Mapped[str | None] = mapped_column(String(300))
    agenda: Mapped[str | None] = mapped_column(Text)
    thematic: Mapped[bool] = mapped_column(Boolean, default=False)
    # bumped when the meeting moves: older reminders are void, new ones are planned
    schedule_version: Mapped[int] = mapped_column(Integer, default=1)
    schedule_changed_at: Mapped[datetime | None] = mapped_column()
    planned_version: Mapped[int] = mapped_column(Integer, default=0)
    planned_at: Mapped[datetime | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default=PeriodState.OPEN)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    free_text_cleared_at: Mapped[datetime | None] = mapped_column()
    """When the retention sweep blanked the month's free text (FREE_TEXT_RETENTION_MONTHS)."""


class AssessmentState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Assessment(Base):
    """A member's self-assessment of one period; the cursor is the question on screen."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("period_id", "member_id", name="uq_assessments_period_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=AssessmentState.DRAFT)
    cursor_question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    awaiting_comment: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column()


class Answer(Base):
    """One answer; unique per (assessment, question) so a retry never duplicates it."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("assessment_id", "question_id", name="uq_answers_assessment_question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    value: Mapped[str | None] = mapped_column(Text)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class CellSchedule(Base):
    """A cell's monthly meeting rule and the offsets of its reminders (in minutes)."""

    __tablename__ = "cell_schedules"

    cell_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    window_opens_days_before: Mapped[int] = mapped_column(Integer, default=7)
    reminder_offsets: Mapped[list[int]] = mapped_column(JSON, default=lambda: [4320, 1440, 120])
    deadline_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)
    preview_offset_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    place: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class MeetingOverride(Base):
    """One month's meeting moved, annotated or skipped (e.g. Tết)."""

    __tablename__ = "meeting_overrides"
    __table_args__ = (
        UniqueConstraint("cell_id", "year", "month", name="uq_meeting_overrides_cell_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime | None] = mapped_column()
    place: Mapped[str | None] = mapped_column(String(300))
    agenda: Mapped[str | None] = mapped_column(Text)
    thematic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a process; if it dies, the row becomes UNKNOWN
    SENT = "sent"
    DROPPED = "dropped"  # its grace window ended before it could be sent
    SKIPPED = "skipped"  # no longer relevant (submitted, muted, excused, unreachable)
    VOID = "void"  # superseded: the meeting moved
    FAILED = "failed"  # gave up after retries
    UNREACHABLE = "unreachable"  # the person blocked the bot or the chat is gone
    UNKNOWN = "unknown"  # a process died while sending: never resent, to never send twice


class Notification(Base):
    """The outbox: one row per (recipient, period, kind, offset, version), sent at most once."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint(
            "member_id", "period_id", "kind", "offset_key", "version",
            name="uq_notifications_natural_key",
        ),
        Index("ix_notifications_status_due", "status", "due_at"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    period_id: Mapped[int | None] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    """None for a notice about the member themselves (removed, moved…), of no month."""
    kind: Mapped[str] = mapped_column(String(32))
    offset_key: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(16))
    """The channel it was sent on (the member's latest), set when it is sent."""


class Rsvp(Base):
    """A member's answer to the meeting notice: attending, or absent with a reason."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("period_id", "member_id", name="uq_rsvps_period_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    attending: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attendance(Base):
    """Who was at the month's meeting, as the secretary recorded it."""

    __tablename__ = "attendance"
    __table_args__ = (
        UniqueConstraint("period_id", "member_id", name="uq_attendance_period_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    present: Mapped[bool] = mapped_column(Boolean)
    with_reason: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExcusalStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"


class Excusal(Base):
    """A member excused for one month (travel, illness): no nudges, not counted as missing."""

    __tablename__ = "excusals"
    __table_args__ = (UniqueConstraint("period_id", "member_id", name="uq_excusals_period_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ExcusalStatus.REQUESTED)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    decided_at: Mapped[datetime | None] = mapped_column()


class CellFact(Base):
    """The secretary's answer to a cell-level criterion's question for one month."""

    __tablename__ = "cell_facts"
    __table_args__ = (
        UniqueConstraint("period_id", "question_key", name="uq_cell_facts_period_question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(24))
    value: Mapped[str] = mapped_column(String(12))
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class CellEvaluation(Base):
    """The cell's month as computed, adjusted and confirmed by the secretary."""

    __tablename__ = "cell_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("periods.id", ondelete="CASCADE"), unique=True
    )
    total: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(24))
    four_good: Mapped[bool] = mapped_column(Boolean)
    result: Mapped[dict[str, Any]] = mapped_column()
    adjustments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column()
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class AuditEntry(Base):
    """Who changed what in a cell's record, when and why; entries without a month are about
    people (an erasure of personal data)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int | None] = mapped_column(
        ForeignKey("periods.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text)


class MeetingDocument(Base):
    """A document of the month's meeting, sent by a secretary to every member of the cell.

    A text, a link, or a Telegram file (kept by its file_id, never downloaded for good);
    `sent_at` is when the fan-out was queued (None: a file waiting for the secretary's choice).
    """

    __tablename__ = "meeting_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"), index=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(String(200))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column(Integer)
    file_link: Mapped[str | None] = mapped_column(Text)  # a public copy, for channels without files
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class DocumentRead(Base):
    """A member pressed "Read" on a meeting document (once; pressing again changes nothing)."""

    __tablename__ = "document_reads"
    __table_args__ = (
        UniqueConstraint("document_id", "member_id", name="uq_document_reads_document_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("meeting_documents.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsultationChoice(StrEnum):
    """A member's answer to a draft: Đồng ý / Không đồng ý / Ý kiến khác (with a text)."""

    AGREE = "agree"
    DISAGREE = "disagree"
    OTHER = "other"


class Consultation(Base):
    """A draft the secretary puts to every member of the cell (góp ý dự thảo), until a deadline.

    A text, optionally with a Telegram file (kept by its file_id, as meeting documents);
    `roll` is the number of members who must answer (not exempt) when it went out, the
    denominator of the `consultation_answer_rate` metric. `reminded_at` and `tallied_at`
    record that the scheduler planned the reminder and the secretaries' tally (once).
    """

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(String(200))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column(Integer)
    file_link: Mapped[str | None] = mapped_column(Text)  # a public copy, for channels without files
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column()
    remind_at: Mapped[datetime] = mapped_column()
    roll: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None] = mapped_column()
    tallied_at: Mapped[datetime | None] = mapped_column()


class ConsultationResponse(Base):
    """One member's answer to a consultation; changed in place until the deadline."""

    __tablename__ = "consultation_responses"
    __table_args__ = (
        UniqueConstraint(
            "consultation_id", "member_id", name="uq_consultation_responses_consultation_member"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    choice: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Resolution(Base):
    """The resolution a cell passed at one month's meeting (one per month), with its tasks.

    Its text as typed, or a Telegram file kept by its file_id (a public copy for Zalo).
    """

    __tablename__ = "resolutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(
        ForeignKey("periods.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str | None] = mapped_column(String(200))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column(Integer)
    file_link: Mapped[str | None] = mapped_column(Text)  # a public copy, for channels without files
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResolutionTask(Base):
    """One task of a resolution: what, by when, for whom (named members or everyone).

    A task nobody reported on may be deleted; after a report it can only be cancelled,
    with a reason, and stays in the record.
    """

    __tablename__ = "resolution_tasks"
    __table_args__ = (
        UniqueConstraint("resolution_id", "position", name="uq_resolution_tasks_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(
        ForeignKey("resolutions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # the task's number, from 1
    description: Mapped[str] = mapped_column(Text)
    everyone: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime] = mapped_column()  # the end of the due day, in the cell's zone
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancel_reason: Mapped[str | None] = mapped_column(Text)


class TaskStatus(StrEnum):
    OPEN = "open"  # not reported on yet
    DONE = "done"  # Đã xong
    DOING = "doing"  # Đang làm
    UNABLE = "unable"  # Chưa làm được


class TaskAssignment(Base):
    """A task as one member carries it: acknowledged, and their latest report."""

    __tablename__ = "task_assignments"
    __table_args__ = (
        UniqueConstraint("task_id", "member_id", name="uq_task_assignments_task_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("resolution_tasks.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)
    note: Mapped[str | None] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(200))  # Telegram evidence
    reported_at: Mapped[datetime | None] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()  # when it was first reported done


__all__ = [
    "Answer",
    "Assessment",
    "AssessmentState",
    "Attendance",
    "AuditEntry",
    "Base",
    "CellEvaluation",
    "CellFact",
    "CellSchedule",
    "ChatIdentity",
    "Consultation",
    "ConsultationChoice",
    "ConsultationResponse",
    "Criterion",
    "CriterionGroup",
    "DocumentRead",
    "Excusal",
    "ExcusalStatus",
    "Framework",
    "Invite",
    "JoinAttempt",
    "MeetingDocument",
    "MeetingOverride",
    "Member",
    "MemberEvent",
    "MemberEventKind",
    "MemberStatus",
    "Notification",
    "NotificationStatus",
    "OrgKind",
    "Organization",
    "Period",
    "PeriodState",
    "Question",
    "QuestionOption",
    "Resolution",
    "ResolutionTask",
    "Role",
    "Rsvp",
    "TaskAssignment",
    "TaskStatus",
    "WebSession",
    "WebSignIn",
    "utcnow",
]
