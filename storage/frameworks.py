"""Storing criteria frameworks: a validated spec becomes versioned rows."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.rules.framework import FrameworkSpec, QuestionSpec, parse_framework, shipped_framework
from storage.models import Criterion, CriterionGroup, Framework, Question, QuestionOption


class FrameworkVersionExists(Exception):
    """The same code and version is stored with different content."""


class FrameworkCodeReserved(Exception):
    """An organisation's own framework uses the code of a shipped (global) one."""


# Fields added after frameworks were first stored: left out of the digest while unset, so
# that a file stored before they existed keeps its digest (and its version stays valid).
_LATER_FIELDS = {
    "criteria": ("min_hours", "full_at"),
    "questions": ("suggest", "suggest_levels"),
}


def spec_digest(spec: FrameworkSpec) -> str:
    data = spec.model_dump(mode="json")
    for group in data["groups"]:
        for criterion in group["criteria"]:
            _drop_unset(criterion, _LATER_FIELDS["criteria"])
            for question in criterion["questions"]:
                _drop_unset(question, _LATER_FIELDS["questions"])
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _drop_unset(data: dict[str, object], names: tuple[str, ...]) -> None:
    for name in names:
        if data.get(name) is None:
            data.pop(name, None)


def _owned_by(owner_id: int | None) -> ColumnElement[bool]:
    column = Framework.owner_org_id
    return column.is_(None) if owner_id is None else column == owner_id


async def find(
    session: AsyncSession, code: str, version: int, owner_id: int | None = None
) -> Framework | None:
    """A version of a global framework (``owner_id`` None) or of one organisation's own."""
    query = select(Framework).where(
        Framework.code == code, Framework.version == version, _owned_by(owner_id)
    )
    return await session.scalar(query)


async def latest(session: AsyncSession, code: str, owner_id: int | None = None) -> Framework | None:
    query = (
        select(Framework)
        .where(Framework.code == code, _owned_by(owner_id))
        .order_by(Framework.version.desc())
    )
    return (await session.scalars(query)).first()


async def is_reserved(session: AsyncSession, code: str) -> bool:
    """Whether ``code`` belongs to the shipped framework or another global one."""
    if code == shipped_framework().code:
        return True
    return (
        await session.scalar(
            select(Framework.id).where(Framework.code == code, _owned_by(None)).limit(1)
        )
        is not None
    )


async def store(
    session: AsyncSession, spec: FrameworkSpec, owner_id: int | None = None
) -> tuple[Framework, bool]:
    """Store a spec once; returns (framework, created). Same version, other content: error.

    With ``owner_id`` the framework is that cell's or committee's own (uploaded in chat):
    its versions never collide with another owner's or a shipped one, and it may not use
    a global framework's code (FrameworkCodeReserved).
    """
    if owner_id is not None and await is_reserved(session, spec.code):
        raise FrameworkCodeReserved(
            f"the code {spec.code} belongs to a framework shipped with chibo; "
            "give your framework its own code"
        )
    digest = spec_digest(spec)
    existing = await find(session, spec.code, spec.version, owner_id)
    if existing is not None:
        if existing.source_sha256 != digest:
            raise FrameworkVersionExists(
                f"framework {spec.code} version {spec.version} is already stored with other "
                "content; give the changed file a new version number"
            )
        return existing, False
    framework = Framework(
        owner_org_id=owner_id,
        code=spec.code,
        version=spec.version,
        title=dict(spec.title),
        scoring=spec.scoring.model_dump(mode="json"),
        source_sha256=digest,
    )
    session.add(framework)
    await session.flush()
    session.add_all(
        CriterionGroup(
            framework_id=framework.id,
            key=group.key,
            position=g_pos,
            weight=group.weight,
            title=dict(group.title),
            criteria=[
                Criterion(
                    key=criterion.key,
                    position=c_pos,
                    points=criterion.points,
                    source=str(criterion.source),
                    metric=criterion.metric,
                    min_hours=criterion.min_hours,
                    full_at=criterion.full_at,
                    title=dict(criterion.title),
                    questions=[
                        _question_row(framework.id, q_pos, question)
                        for q_pos, question in enumerate(criterion.questions)
                    ],
                )
                for c_pos, criterion in enumerate(group.criteria)
            ],
        )
        for g_pos, group in enumerate(spec.groups)
    )
    await session.flush()
    return framework, True


def _question_row(framework_id: int, position: int, question: QuestionSpec) -> Question:
    return Question(
        framework_id=framework_id,
        key=question.key,
        position=position,
        kind=str(question.kind),
        text=dict(question.text),
        help=dict(question.help) if question.help else None,
        optional=question.optional,
        comment_below=question.comment_below,
        max_value=question.max,
        suggest=question.suggest,
        suggest_levels=(
            [level.model_dump(mode="json") for level in question.suggest_levels]
            if question.suggest_levels is not None
            else None
        ),
        options=[
            QuestionOption(
                value=option.value, position=o_pos, score=option.score, label=dict(option.label)
            )
            for o_pos, option in enumerate(question.options or [])
        ],
    )


_specs: dict[int, FrameworkSpec] = {}


async def load_spec(session: AsyncSession, framework_id: int) -> FrameworkSpec:
    """The stored framework version as a spec again (versions never change: cached)."""
    cached = _specs.get(framework_id)
    if cached is not None:
        return cached
    framework = await session.get(Framework, framework_id)
    assert framework is not None
    groups = (
        await session.scalars(
            select(CriterionGroup)
            .where(CriterionGroup.framework_id == framework_id)
            .order_by(CriterionGroup.position)
            .options(
                selectinload(CriterionGroup.criteria)
                .selectinload(Criterion.questions)
                .selectinload(Question.options)
            )
        )
    ).all()
    spec = parse_framework(
        {
            "code": framework.code,
            "version": framework.version,
            "title": framework.title,
            "scoring": framework.scoring,
            "groups": [
                {
                    "key": g.key,
                    "weight": g.weight,
                    "title": g.title,
                    "criteria": [
                        {
                            "key": c.key,
                            "title": c.title,
                            "points": c.points,
                            "source": c.source,
                            "metric": c.metric,
                            "min_hours": c.min_hours,
                            "full_at": c.full_at,
                            "questions": [_question_dict(q) for q in c.questions],
                        }
                        for c in g.criteria
                    ],
                }
                for g in groups
            ],
        },
        limits=False,
    )
    _specs[framework_id] = spec
    return spec


def _question_dict(question: Question) -> dict[str, object]:
    data: dict[str, object] = {
        "key": question.key,
        "kind": question.kind,
        "text": question.text,
        "optional": question.optional,
        "options": [
            {"value": o.value, "label": o.label, "score": o.score} for o in question.options
        ],
    }
    if question.help:
        data["help"] = question.help
    if question.comment_below is not None:
        data["comment_below"] = question.comment_below
    if question.max_value is not None:
        data["max"] = question.max_value
    if question.suggest is not None:
        data["suggest"] = question.suggest
    if question.suggest_levels is not None:
        data["suggest_levels"] = question.suggest_levels
    return data
