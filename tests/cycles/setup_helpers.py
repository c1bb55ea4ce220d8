"""Builders for the setup tests: school years, a cycle with goals, measurements, a driver
diagram and a team ready to carry forward, signed goals reviews with a real snapshot, a
rival request opening the same cycle, and snapshots of the cycle tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from fellowship.cycles import goal_services, queries
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    Driver,
    DriverKind,
    Goal,
    GoalCategory,
    GoalDirection,
    GoalStatus,
    ReviewStatus,
)
from fellowship.cycles.review_services import build_snapshot
from fellowship.extensions import db
from fellowship.school_years import SchoolYear
from tests.cycles.helpers import (
    DriverFactory,
    GoalFactory,
    MeasurementFactory,
    ProposedGoalFactory,
    ReviewFactory,
    Team,
    cycle_with_team,
)
from tests.factories import SchoolYearFactory, StaffFactory

SETUP_TABLES = (Cycle, CycleMembership, Goal, Driver, SchoolYear)


def year(label: str) -> SchoolYear:
    start = int(label[:4])
    return SchoolYearFactory(
        label=label, starts_on=date(start, 7, 1), ends_on=date(start + 1, 6, 30)
    )


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the tables opening cycles writes, to prove nothing changed."""
    db.session.expire_all()
    return {
        model.__tablename__: sorted(
            tuple(str(v) for v in row)
            for row in db.session.execute(sa.select(*model.__table__.columns))
        )
        for model in SETUP_TABLES
    }


def frozen_review(cycle_id: int, frozen_on: date, **fields: object):
    """A frozen review with a hand-made snapshot that has no next year's goals (the rows
    are read instead)."""
    return ReviewFactory(
        cycle_id=cycle_id,
        status=ReviewStatus.SIGNED,
        frozen_at=datetime(frozen_on.year, frozen_on.month, frozen_on.day, 12, tzinfo=UTC),
        snapshot={"goals": []},
        **fields,
    )


@dataclass
class Carry:
    """A 2026-27 cycle with three goals and a driver diagram, ready to carry forward."""

    team: Team
    measured: Goal  # 18 → 21 (Oct 1) → 24 (Mar 1), due 2027-06-01
    unmeasured: Goal  # baseline 90 on Aug 15, due 2027-06-01, overridden by hand
    undated: Goal  # no due date, one measurement of 5
    primary: Driver
    secondary: Driver
    idea: Driver

    @property
    def cycle(self) -> Cycle:
        return self.team.cycle


def carry_world(**cycle_fields: object) -> Carry:
    team = cycle_with_team(**cycle_fields)
    cycle = team.cycle
    measured = GoalFactory(cycle_id=cycle.id, title="Applicants from outside the zone", position=0)
    MeasurementFactory(goal_id=measured.id, measured_on=date(2026, 10, 1), value=21.0)
    MeasurementFactory(goal_id=measured.id, measured_on=date(2027, 3, 1), value=24.0)
    unmeasured = GoalFactory(
        cycle_id=cycle.id,
        title="Attendance",
        category=GoalCategory.CLIMATE,
        metric="Average daily attendance",
        baseline_value=90.0,
        target_value=95.0,
        direction=GoalDirection.HOLD,
        position=1,
        status_override=GoalStatus.AT_RISK,
        override_reason="The new bus route starts late.",
        override_by_id=StaffFactory().id,
        override_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    undated = GoalFactory(
        cycle_id=cycle.id,
        title="Family nights",
        unit="families",
        baseline_value=0.0,
        target_value=12.0,
        due_on=None,
        position=2,
    )
    MeasurementFactory(goal_id=undated.id, measured_on=date(2026, 12, 5), value=5.0)
    primary = DriverFactory(cycle_id=cycle.id, text="Families know the school", position=0)
    secondary = DriverFactory(
        cycle_id=cycle.id,
        parent_id=primary.id,
        kind=DriverKind.SECONDARY,
        text="Outreach in every neighbourhood",
        position=0,
    )
    idea = DriverFactory(
        cycle_id=cycle.id,
        parent_id=secondary.id,
        kind=DriverKind.CHANGE_IDEA,
        text="Open house in Spanish",
        position=0,
    )
    return Carry(team, measured, unmeasured, undated, primary, secondary, idea)


def signed_review(cycle_id: int, frozen_on: date, goals: list[dict[str, Any]], **fields: object):
    """A review signed on `frozen_on` agreeing next year's `goals` (ProposedGoalFactory
    fields, in order), its snapshot built the way signing builds it."""
    review = ReviewFactory(cycle_id=cycle_id, scheduled_for=frozen_on, **fields)
    for position, agreed in enumerate(goals):
        ProposedGoalFactory(review_id=review.id, position=position, **agreed)
    review.snapshot = build_snapshot(review, frozen_on)
    review.status = ReviewStatus.SIGNED
    review.frozen_at = datetime(frozen_on.year, frozen_on.month, frozen_on.day, 12, tzinfo=UTC)
    db.session.commit()
    return review


def keeps_the_goal_rules(goal: Goal) -> str | None:
    """None when the goal passes the goal form's checks in its own cycle, else why not."""
    try:
        goal_services.check_goal(
            queries.load_cycle(goal.cycle_id),
            goal_services.GoalData(
                title=goal.title,
                category=goal.category.value,
                metric=goal.metric,
                unit=goal.unit,
                baseline_value=goal.baseline_value,
                baseline_on=goal.baseline_on,
                target_value=goal.target_value,
                direction=goal.direction.value,
                due_on=goal.due_on,
            ),
        )
    except goal_services.GoalError as error:
        return error.message
    return None


@contextmanager
def rival_opens(school_id: int, label: str) -> Iterator[list[int]]:
    """Someone else opens the school's cycle for `label` between our check and our insert:
    it is written (in the transaction around ours, as if committed by another request) when
    the savepoint that inserts ours begins. Yields the id of the rival cycle once written."""
    year_id = year(label).id
    written: list[int] = []

    def after_transaction_create(session: Any, transaction: Any) -> None:
        if written or not transaction.nested:
            return
        written.append(
            session.get_bind()
            .execute(
                sa.insert(Cycle.__table__)
                .values(school_id=school_id, school_year_id=year_id)
                .returning(Cycle.__table__.c.id)
            )
            .scalar_one()
        )

    sa.event.listen(db.session, "after_transaction_create", after_transaction_create)
    try:
        yield written
    finally:
        sa.event.remove(db.session, "after_transaction_create", after_transaction_create)
