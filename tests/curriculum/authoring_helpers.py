"""Builders for the authoring tests: a cohort with everyone in it, modules, form data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, CohortRole
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemProgress,
    Module,
    ModuleItem,
    ModulePrerequisite,
)
from fellowship.extensions import db
from fellowship.uploads import StoredFile
from tests.conftest import csrf_token
from tests.curriculum.helpers import ItemFactory, ModuleFactory
from tests.factories import CohortFactory, MembershipFactory, StaffFactory, UserFactory

CURRICULUM_TABLES = (
    Module,
    ModuleItem,
    ModulePrerequisite,
    ItemProgress,
    DueDateExtension,
    StoredFile,
)


@dataclass
class World:
    cohort: Cohort
    staff: User
    facilitator: User
    fellow: User
    coach: User
    reviewer: User
    outsider: User  # a member with no membership in the cohort


def world(**cohort_kwargs: object) -> World:
    cohort = CohortFactory(**cohort_kwargs)
    people = {}
    for role in (CohortRole.FACILITATOR, CohortRole.FELLOW, CohortRole.COACH, CohortRole.REVIEWER):
        person = UserFactory(name=f"{role.value.title()} Person")
        MembershipFactory(cohort=cohort, user=person, role=role)
        people[role] = person
    return World(
        cohort=cohort,
        staff=StaffFactory(name="Sam Staff"),
        facilitator=people[CohortRole.FACILITATOR],
        fellow=people[CohortRole.FELLOW],
        coach=people[CohortRole.COACH],
        reviewer=people[CohortRole.REVIEWER],
        outsider=UserFactory(name="Oscar Outsider"),
    )


def modules(cohort: Cohort, titles: list[str], **kwargs: object) -> list[Module]:
    """Modules with these titles, in this order (positions 0..n-1), in the first strand."""
    strand_id = cohort.strands[0].id if cohort.strands else None
    kwargs.setdefault("strand_id", strand_id)
    return [
        ModuleFactory(cohort_id=cohort.id, position=position, title=title, **kwargs)
        for position, title in enumerate(titles)
    ]


def items(module: Module, titles: list[str], **kwargs: object) -> list[ModuleItem]:
    return [
        ItemFactory(module_id=module.id, position=position, title=title, **kwargs)
        for position, title in enumerate(titles)
    ]


def order(cohort_id: int) -> list[tuple[int, str]]:
    """(position, title) of the cohort's modules, as stored."""
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(Module.position, Module.title)
        .where(Module.cohort_id == cohort_id)
        .order_by(Module.position, Module.id)
    )
    return [(position, title) for position, title in rows]


def item_order(module_id: int) -> list[tuple[int, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(ModuleItem.position, ModuleItem.title)
        .where(ModuleItem.module_id == module_id)
        .order_by(ModuleItem.position, ModuleItem.id)
    )
    return [(position, title) for position, title in rows]


def snapshot() -> dict[str, list[tuple[str, ...]]]:
    """Every row of the curriculum tables, to prove a request changed nothing."""
    db.session.expire_all()
    return {
        model.__tablename__: sorted(
            tuple(str(value) for value in row)
            for row in db.session.execute(sa.select(model.__table__))  # type: ignore[attr-defined]
        )
        for model in CURRICULUM_TABLES
    }


def module_form(client, path: str, **overrides: object) -> dict[str, object]:
    """A filled module form as the browser sends it."""
    values: dict[str, object] = {
        "csrf_token": csrf_token(client),
        "title": "Coalition mapping",
        "strand": "",
        "summary": "Who is with you, who is against, who is undecided.",
        "outcomes_md": "- Draw a coalition map",
        "release_on": "2026-09-01",
        "due_on": "2026-09-30",
        "estimated_minutes": "90",
        "version": "",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
