"""The "Your school cycles" part of a person's home page. Read-only.

- A lead teacher, team member or staff liaison sees their current cycles, the goals that
  need a measurement (stale: none in the last 60 days, by `status.is_stale`), the next goals
  reviews (not signed yet) and the improvement tests still waiting for a decision.
- A partner sees the schools they support this school year, with their own hours there.
- Staff (the caller says so, from `policy`) see this year's counts: cycles, goals off track
  and reviews scheduled.

At most nine queries whatever the number of cycles, goals or tests; one (the memberships)
for a person who is in no cycle and is not staff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    CycleRole,
    CycleStage,
    Goal,
    GoalsReview,
    ImprovementTest,
    Measurement,
    ReviewStatus,
    School,
    SupportActivity,
)
from fellowship.cycles.status import is_stale
from fellowship.db import db
from fellowship.school_years import SchoolYear, label_for

TEAM_ROLES = (CycleRole.LEAD_TEACHER, CycleRole.TEAM_MEMBER, CycleRole.STAFF_LIAISON)


@dataclass(frozen=True)
class HomeCycle:
    cycle: Cycle
    school_id: int
    school: str
    year: str  # "2026-27"
    role: CycleRole

    @property
    def cycle_id(self) -> int:
        return self.cycle.id

    @property
    def stage(self) -> CycleStage:
        return self.cycle.stage


@dataclass(frozen=True)
class GoalToMeasure:
    goal_id: int
    cycle: Cycle
    title: str
    school: str
    last_measured_on: date | None


@dataclass(frozen=True)
class NextReview:
    review_id: int
    cycle_id: int
    school: str
    scheduled_for: date
    status: ReviewStatus


@dataclass(frozen=True)
class OpenTest:
    test_id: int
    cycle_id: int
    title: str
    school: str
    started_on: date | None


@dataclass(frozen=True)
class SupportedSchool:
    cycle: Cycle
    school: str
    organisation: str
    hours: float


@dataclass(frozen=True)
class StaffCounts:
    year: str  # this school year's label
    cycles: int
    reviews_scheduled: int
    reviews_signed: int


@dataclass
class CycleHome:
    team_cycles: list[HomeCycle] = field(default_factory=list)
    goals_to_measure: list[GoalToMeasure] = field(default_factory=list)
    reviews: list[NextReview] = field(default_factory=list)
    open_tests: list[OpenTest] = field(default_factory=list)
    supported: list[SupportedSchool] = field(default_factory=list)
    staff: StaffCounts | None = None

    @property
    def several_schools(self) -> bool:
        return len({c.school_id for c in self.team_cycles}) > 1

    @property
    def partner_hours(self) -> float:
        return sum(school.hours for school in self.supported)

    @property
    def organisations(self) -> list[str]:
        """The organisations the partner supports schools for (one, usually)."""
        return sorted({school.organisation for school in self.supported if school.organisation})


def _in_year(day: date) -> sa.ColumnElement[bool]:
    return sa.and_(SchoolYear.starts_on <= day, SchoolYear.ends_on >= day)


def cycle_home(user_id: int, today: date, *, staff_counts: bool = False) -> CycleHome | None:
    """What the home page shows about school cycles for this person; None when there is
    nothing (no current cycle membership, and `staff_counts` not asked for)."""
    rows = db.session.execute(
        sa.select(
            CycleMembership.role,
            CycleMembership.organisation,
            Cycle,
            School.id,
            School.name,
            SchoolYear.label,
            _in_year(today),
        )
        .join(Cycle, Cycle.id == CycleMembership.cycle_id)
        .join(School, School.id == Cycle.school_id)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
        .where(CycleMembership.user_id == user_id)
        .order_by(SchoolYear.starts_on.desc(), School.name, Cycle.id)
    ).all()
    home = CycleHome()
    partner_cycles: dict[int, tuple[Cycle, str, str]] = {}
    for role, organisation, cycle, school_id, school, year, this_year in rows:
        role = CycleRole(role)
        if role == CycleRole.PARTNER:
            if this_year:
                partner_cycles[cycle.id] = (cycle, school, organisation)
        # A lead teacher's current cycles: this year's, and any not closed yet.
        elif this_year or cycle.stage != CycleStage.CLOSED:
            home.team_cycles.append(HomeCycle(cycle, school_id, school, year, role))
    if home.team_cycles:
        _team_work(home, today)
    if partner_cycles:
        hours = _partner_hours(user_id, list(partner_cycles))
        home.supported = sorted(
            (
                SupportedSchool(cycle, school, organisation, hours.get(cycle.id, 0.0))
                for cycle, school, organisation in partner_cycles.values()
            ),
            key=lambda entry: entry.school.casefold(),
        )
    if staff_counts:
        home.staff = _staff_counts(today)
    if not (home.team_cycles or home.supported or home.staff):
        return None
    return home


def _team_work(home: CycleHome, today: date) -> None:
    """Goals to measure, reviews coming and open tests of the person's open cycles."""
    schools = {c.cycle_id: c.school for c in home.team_cycles}
    cycles = {c.cycle_id: c.cycle for c in home.team_cycles}
    open_ids = sorted(c.cycle_id for c in home.team_cycles if c.stage != CycleStage.CLOSED)
    if not open_ids:
        return
    goals = db.session.execute(
        sa.select(Goal.id, Goal.cycle_id, Goal.title, sa.func.max(Measurement.measured_on))
        .outerjoin(Measurement, Measurement.goal_id == Goal.id)
        .where(Goal.cycle_id.in_(open_ids))
        .group_by(Goal.id, Goal.cycle_id, Goal.title, Goal.position)
        .order_by(Goal.cycle_id, Goal.position, Goal.id)
    ).all()
    home.goals_to_measure = [
        GoalToMeasure(goal_id, cycles[cycle_id], title, schools[cycle_id], last)
        for goal_id, cycle_id, title, last in goals
        if is_stale(last, today)
    ]
    reviews = db.session.execute(
        sa.select(
            GoalsReview.id, GoalsReview.cycle_id, GoalsReview.scheduled_for, GoalsReview.status
        )
        .where(
            GoalsReview.cycle_id.in_(open_ids),
            GoalsReview.frozen_at.is_(None),
            GoalsReview.status.in_([ReviewStatus.SCHEDULED, ReviewStatus.IN_MEETING]),
        )
        .order_by(GoalsReview.scheduled_for, GoalsReview.id)
    ).all()
    home.reviews = [
        NextReview(review_id, cycle_id, schools[cycle_id], on, ReviewStatus(status))
        for review_id, cycle_id, on, status in reviews
    ]
    tests = db.session.execute(
        sa.select(
            ImprovementTest.id,
            ImprovementTest.cycle_id,
            ImprovementTest.title,
            ImprovementTest.started_on,
        )
        .where(ImprovementTest.cycle_id.in_(open_ids), ImprovementTest.decision.is_(None))
        .order_by(ImprovementTest.cycle_id, ImprovementTest.id)
    ).all()
    home.open_tests = [
        OpenTest(test_id, cycle_id, title, schools[cycle_id], started_on)
        for test_id, cycle_id, title, started_on in tests
    ]


def _partner_hours(user_id: int, cycle_ids: list[int]) -> dict[int, float]:
    """The partner's own hours in these cycles: the support they gave (or logged without
    naming anyone else as the provider)."""
    own = sa.or_(
        SupportActivity.provider_id == user_id,
        sa.and_(SupportActivity.provider_id.is_(None), SupportActivity.recorded_by_id == user_id),
    )
    rows = db.session.execute(
        sa.select(SupportActivity.cycle_id, sa.func.sum(SupportActivity.hours))
        .where(SupportActivity.cycle_id.in_(sorted(cycle_ids)), own)
        .group_by(SupportActivity.cycle_id)
    ).all()
    return {cycle_id: float(hours or 0) for cycle_id, hours in rows}


def _staff_counts(today: date) -> StaffCounts:
    """This school year's cycles, goals reviews scheduled and reviews signed: plain counts
    in two queries (one when this year has no cycles), so the home page stays quick however
    many cycles there are; goals by status are on the portfolio."""
    label = label_for(today)
    row = db.session.execute(
        sa.select(SchoolYear, sa.func.count(Cycle.id))
        .join(Cycle, Cycle.school_year_id == SchoolYear.id)
        .where(SchoolYear.label == label)
        .group_by(SchoolYear.id)
    ).one_or_none()
    if row is None:
        return StaffCounts(label, 0, 0, 0)
    year, cycles = row
    scheduled, signed = db.session.execute(
        sa.select(
            sa.func.count(GoalsReview.id).filter(GoalsReview.frozen_at.is_(None)),
            sa.func.count(GoalsReview.id).filter(GoalsReview.frozen_at.is_not(None)),
        )
        .join(Cycle, Cycle.id == GoalsReview.cycle_id)
        .where(Cycle.school_year_id == year.id, GoalsReview.amends_review_id.is_(None))
    ).one()
    return StaffCounts(
        year=label,
        cycles=int(cycles),
        reviews_scheduled=int(scheduled or 0),
        reviews_signed=int(signed or 0),
    )
