"""Builders for the caseload and rhythm tests: small worlds by factory, big ones in bulk."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from fellowship.auth.models import Role, User
from fellowship.coaching.caseload import local_today
from fellowship.coaching.models import ActionItem, CheckIn, CheckInMode
from fellowship.cohorts.models import (
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    MembershipStatus,
)
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.factories import CoachAssignmentFactory, CohortFactory, MembershipFactory, UserFactory


def today() -> date:
    """Today where the factories' people live (America/New_York), as the pages see it."""
    return local_today(utcnow(), "America/New_York")


def ago(days: int) -> date:
    return today() - timedelta(days=days)


def running_cohort(**kwargs: object) -> Cohort:
    """A cohort that started 200 days ago and ends in 200, whatever the date the tests run."""
    values: dict[str, object] = {
        "starts_on": ago(200),
        "ends_on": today() + timedelta(days=200),
        "checkin_rhythm_days": 14,
    }
    values.update(kwargs)
    return CohortFactory(**values)


def member(
    cohort: Cohort,
    role: CohortRole,
    name: str | None = None,
    status: MembershipStatus = MembershipStatus.ACTIVE,
) -> User:
    person = UserFactory(**({"name": name} if name else {}))
    MembershipFactory(cohort=cohort, user=person, role=role, status=status)
    return person


def assign(
    cohort: Cohort, fellow: User, coach: User, starts_on: date, ends_on: date | None = None
) -> None:
    CoachAssignmentFactory(
        cohort_id=cohort.id,
        fellow_id=fellow.id,
        coach_id=coach.id,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def checkin(
    cohort: Cohort, coach: User, fellow: User, held_on: date, *, shared: bool = True
) -> CheckIn:
    row = CheckIn(
        cohort_id=cohort.id,
        coach_id=coach.id,
        fellow_id=fellow.id,
        held_on=held_on,
        duration_minutes=45,
        mode=CheckInMode.VIDEO,
        shared_summary_md="We talked about the family survey.",
        shared_at=utcnow() if shared else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def action_item(
    row: CheckIn, owner: User, due_on: date | None, *, done: bool = False
) -> ActionItem:
    item = ActionItem(
        checkin_id=row.id,
        owner_id=owner.id,
        description="Call the PTA president",
        due_on=due_on,
        done_at=utcnow() if done else None,
        done_by_id=owner.id if done else None,
    )
    db.session.add(item)
    db.session.commit()
    return item


# Scale -------------------------------------------------------------------------------------


@dataclass
class BigCohort:
    cohort: Cohort
    coaches: list[User] = field(default_factory=list)


def big_cohort(fellows: int, coaches: int, label: str) -> BigCohort:
    """`fellows` fellows shared among `coaches` coaches, with a year of fortnightly check-ins
    (every fourth a draft) and two action items per check-in (the older ones done), in bulk."""
    cohort = running_cohort(starts_on=ago(400))
    now = utcnow()
    start = ago(365)
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
        for kind, count in (("coach", coaches), ("fellow", fellows))
        for i in range(count)
    ]
    db.session.execute(sa.insert(User), people)
    emails = [p["email"] for p in people]
    ids = {
        email: user_id
        for email, user_id in db.session.execute(
            sa.select(User.email, User.id).where(User.email.in_(emails))
        )
    }
    coach_ids = [ids[f"{label}-coach-{i}@example.org"] for i in range(coaches)]
    fellow_ids = [ids[f"{label}-fellow-{i}@example.org"] for i in range(fellows)]
    db.session.execute(
        sa.insert(CohortMembership),
        [
            {
                "cohort_id": cohort.id,
                "user_id": user_id,
                "role": role,
                "status": MembershipStatus.ACTIVE,
                "joined_on": start,
                "created_at": now,
                "updated_at": now,
            }
            for role, users in ((CohortRole.COACH, coach_ids), (CohortRole.FELLOW, fellow_ids))
            for user_id in users
        ],
    )
    pair = {fellow: coach_ids[i % coaches] for i, fellow in enumerate(fellow_ids)}
    db.session.execute(
        sa.insert(CoachAssignment),
        [
            {
                "cohort_id": cohort.id,
                "fellow_id": fellow,
                "coach_id": coach,
                "starts_on": start,
                "ends_on": None,
                "created_at": now,
            }
            for fellow, coach in pair.items()
        ],
    )
    rows = []
    for i, fellow in enumerate(fellow_ids):
        # Fellow i was last seen i % 30 days ago: a mix of on track, due soon and overdue.
        last = today() - timedelta(days=i % 30)
        held = [last - timedelta(days=14 * k) for k in range(26)]
        rows += [
            {
                "cohort_id": cohort.id,
                "coach_id": pair[fellow],
                "fellow_id": fellow,
                "held_on": day,
                "duration_minutes": 45,
                "mode": CheckInMode.VIDEO,
                "shared_summary_md": "Budget, hiring and the family survey.",
                "next_steps_md": "",
                "next_checkin_on": None,
                "shared_at": None if k % 4 == 3 else now,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for k, day in enumerate(held)
        ]
    db.session.execute(sa.insert(CheckIn), rows)
    checkins = db.session.execute(
        sa.select(CheckIn.id, CheckIn.fellow_id, CheckIn.held_on).where(
            CheckIn.cohort_id == cohort.id
        )
    ).all()
    db.session.execute(
        sa.insert(ActionItem),
        [
            {
                "checkin_id": checkin_id,
                "owner_id": fellow_id if n == 0 else pair[fellow_id],
                "description": "Follow up with the site council",
                "due_on": held_on + timedelta(days=10),
                "done_at": now if held_on < ago(40) else None,
                "done_by_id": None,
                "position": n,
                "created_at": now,
            }
            for checkin_id, fellow_id, held_on in checkins
            for n in range(2)
        ],
    )
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # As autovacuum would after a real import: without statistics the planner takes
        # every table for empty and loops over the aggregates.
        db.session.execute(sa.text("ANALYZE"))
    return BigCohort(cohort, [db.session.get(User, i) for i in coach_ids])


@dataclass
class Measured:
    queries: int
    median_ms: float
    status: int


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
    return Measured(counter.count, statistics.median(times), response.status_code)
