"""Builders for the facilitation tests: a small cohort by factory, big grids in bulk."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from fellowship.auth.models import Role, User
from fellowship.cohorts.models import (
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    MembershipStatus,
)
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemKind,
    ItemProgress,
    Module,
    ModuleItem,
    ModulePrerequisite,
)
from fellowship.curriculum.queries import local_today
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.curriculum.helpers import ItemFactory, ModuleFactory, ProgressFactory
from tests.factories import CoachAssignmentFactory, CohortFactory, MembershipFactory, UserFactory

PROMPT = "What did the **coalition map** show you about your school?"


def today() -> date:
    """Today where the factories' people live (America/New_York), as the pages see it."""
    return local_today("America/New_York")


def ago(days: int) -> date:
    return today() - timedelta(days=days)


def ahead(days: int) -> date:
    return today() + timedelta(days=days)


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)


def running_cohort(**kwargs: object) -> Cohort:
    values: dict[str, object] = {"starts_on": ago(200), "ends_on": ahead(200)}
    values.update(kwargs)
    return CohortFactory(**values)


def member(
    cohort: Cohort,
    role: CohortRole,
    name: str | None = None,
    status: MembershipStatus = MembershipStatus.ACTIVE,
    **user: object,
) -> User:
    person = UserFactory(**({"name": name} if name else {}), **user)
    MembershipFactory(cohort=cohort, user=person, role=role, status=status)
    return person


def module(cohort: Cohort, title: str = "Coalition mapping", **kwargs: object) -> Module:
    values: dict[str, object] = {"release_on": ago(30), "due_on": ahead(10)}
    values.update(kwargs)
    return ModuleFactory(cohort_id=cohort.id, title=title, **values)


def reflection_item(mod: Module, title: str = "Your coalition", **kwargs: object) -> ModuleItem:
    return ItemFactory(
        module_id=mod.id, kind=ItemKind.REFLECTION, title=title, body_md=PROMPT, **kwargs
    )


def reflection(
    item: ModuleItem,
    fellow: User,
    text: str = "The parents' association is the key ally.",
    *,
    submitted: float | None = 1,
    feedback: str | None = None,
    feedback_by: User | None = None,
    feedback_days_ago: float = 0,
) -> ItemProgress:
    """A fellow's reflection, submitted `submitted` days ago (None: a draft)."""
    moment = days_ago(submitted) if submitted is not None else None
    return ProgressFactory(
        item_id=item.id,
        fellow_id=fellow.id,
        response_md=text,
        response_saved_at=moment or utcnow(),
        submitted_at=moment,
        completed_at=moment,
        feedback_md=feedback or "",
        feedback_by_id=feedback_by.id if feedback_by else None,
        feedback_at=days_ago(feedback_days_ago) if feedback else None,
    )


@dataclass
class World:
    """A cohort with one module holding a reflection prompt, and everyone around it."""

    cohort: Cohort
    module: Module
    item: ModuleItem
    fellow: User
    other_fellow: User
    coach: User
    other_coach: User
    facilitator: User
    reviewer: User


def world() -> World:
    cohort = running_cohort()
    fellow = member(cohort, CohortRole.FELLOW, "Felix Fellow")
    other_fellow = member(cohort, CohortRole.FELLOW, "Olga Otherfellow")
    coach = member(cohort, CohortRole.COACH, "Cora Coach")
    other_coach = member(cohort, CohortRole.COACH, "Gus Othercoach")
    facilitator = member(cohort, CohortRole.FACILITATOR, "Fay Facilitator")
    reviewer = member(cohort, CohortRole.REVIEWER, "Rita Reviewer")
    CoachAssignmentFactory(
        cohort_id=cohort.id, fellow_id=fellow.id, coach_id=coach.id, starts_on=ago(100)
    )
    CoachAssignmentFactory(
        cohort_id=cohort.id,
        fellow_id=other_fellow.id,
        coach_id=other_coach.id,
        starts_on=ago(100),
    )
    mod = module(cohort)
    item = reflection_item(mod)
    return World(cohort, mod, item, fellow, other_fellow, coach, other_coach, facilitator, reviewer)


# Bulk worlds -------------------------------------------------------------------------------


@dataclass
class BigGrid:
    cohort: Cohort
    fellow_ids: list[int] = field(default_factory=list)
    module_ids: list[int] = field(default_factory=list)
    coach_id: int = 0


def _users(label: str, kind: str, count: int) -> list[int]:
    now = utcnow()
    people = [
        {
            "email": f"{label}-{kind}-{i}@example.org",
            "name": f"{kind.title()} {label} {i:03d}",
            "role": Role.MEMBER,
            "is_active": True,
            "locale": "en",
            "timezone": "America/New_York",
            "password_hash": None,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    db.session.execute(sa.insert(User), people)
    emails = [p["email"] for p in people]
    rows = db.session.execute(sa.select(User.email, User.id).where(User.email.in_(emails)))
    ids = {email: user_id for email, user_id in rows}
    return [ids[email] for email in emails]


def big_grid(fellows: int, modules: int, label: str, *, coach: bool = False) -> BigGrid:
    """`fellows` × `modules` with every state represented, in bulk.

    Each module has two required readings and a required reflection. Module j is due
    `(j - 3) * 7` days from today (the first three are past due), module j ≥ 2 requires module
    j - 2, and the last module opens next month. Fellow i has done (i + j) % 5 steps of module j
    (0 none, 1 one reading, 2 both readings, 3 a draft reflection as well, 4 all: complete),
    and every fourth fellow has an extension on the first module. With `coach`, one coach
    coaches every fellow.
    """
    cohort = running_cohort()
    now = utcnow()
    fellow_ids = _users(label, "fellow", fellows)
    rows = [
        {
            "cohort_id": cohort.id,
            "user_id": user_id,
            "role": CohortRole.FELLOW,
            "status": MembershipStatus.ACTIVE,
            "joined_on": ago(200),
            "created_at": now,
            "updated_at": now,
        }
        for user_id in fellow_ids
    ]
    coach_id = 0
    if coach:
        [coach_id] = _users(label, "coach", 1)
        rows.append({**rows[0], "user_id": coach_id, "role": CohortRole.COACH})
    db.session.execute(sa.insert(CohortMembership), rows)
    if coach:
        db.session.execute(
            sa.insert(CoachAssignment),
            [
                {
                    "cohort_id": cohort.id,
                    "fellow_id": fellow_id,
                    "coach_id": coach_id,
                    "starts_on": ago(100),
                    "ends_on": None,
                    "created_at": now,
                }
                for fellow_id in fellow_ids
            ],
        )
    db.session.execute(
        sa.insert(Module),
        [
            {
                "cohort_id": cohort.id,
                "strand_id": cohort.strands[j % len(cohort.strands)].id,
                "position": j,
                "title": f"Module {label} {j:02d}",
                "summary": "",
                "outcomes_md": "",
                "release_on": ahead(30) if j == modules - 1 and modules > 1 else ago(60),
                "due_on": ahead(max((j - 3) * 7, 0) + 40)
                if j == modules - 1 and modules > 1
                else ahead((j - 3) * 7),
                "estimated_minutes": 45,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for j in range(modules)
        ],
    )
    module_ids = list(
        db.session.scalars(
            sa.select(Module.id).where(Module.cohort_id == cohort.id).order_by(Module.position)
        )
    )
    if modules > 2:
        db.session.execute(
            sa.insert(ModulePrerequisite),
            [
                {"module_id": module_ids[j], "requires_module_id": module_ids[j - 2]}
                for j in range(2, modules)
            ],
        )
    kinds = [ItemKind.READING, ItemKind.READING, ItemKind.REFLECTION]
    db.session.execute(
        sa.insert(ModuleItem),
        [
            {
                "module_id": module_id,
                "position": k,
                "kind": kind,
                "title": f"Step {k + 1}",
                "body_md": PROMPT,
                "url": None,
                "stored_file_id": None,
                "required": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for module_id in module_ids
            for k, kind in enumerate(kinds)
        ],
    )
    items = {
        (module_id, position): item_id
        for item_id, module_id, position in db.session.execute(
            sa.select(ModuleItem.id, ModuleItem.module_id, ModuleItem.position).where(
                ModuleItem.module_id.in_(module_ids)
            )
        )
    }
    progress = []
    for i, fellow_id in enumerate(fellow_ids):
        for j, module_id in enumerate(module_ids):
            steps = (i + j) % 5
            for position in range(min(steps, 3)):
                reflection_row = position == 2
                submitted = now - timedelta(days=i % 9 + 1) if steps == 4 else None
                progress.append(
                    {
                        "item_id": items[(module_id, position)],
                        "fellow_id": fellow_id,
                        "completed_at": (submitted if reflection_row else now),
                        "response_md": "A reflection." if reflection_row else "",
                        "response_saved_at": now if reflection_row else None,
                        "submitted_at": submitted if reflection_row else None,
                        "feedback_md": "",
                        "feedback_by_id": None,
                        "feedback_at": None,
                        "version": 1,
                    }
                )
    db.session.execute(sa.insert(ItemProgress), progress)
    if module_ids:
        db.session.execute(
            sa.insert(DueDateExtension),
            [
                {
                    "module_id": module_ids[0],
                    "fellow_id": fellow_id,
                    "due_on": ahead(14),
                    "reason": "Family emergency",
                    "granted_by_id": None,
                    "created_at": now,
                }
                for fellow_id in fellow_ids[::4]
            ],
        )
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
    return BigGrid(cohort, fellow_ids, module_ids, coach_id)


@dataclass
class Measured:
    queries: int
    median_ms: float
    status: int
    html: str


def measure(client, count_queries, url: str, runs: int = 5) -> Measured:
    """Queries of one request and the median server time of `runs` (after one warm-up)."""
    client.get(url)
    with count_queries() as counter:
        response = client.get(url)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return Measured(
        counter.count, statistics.median(times), response.status_code, response.get_data(True)
    )
