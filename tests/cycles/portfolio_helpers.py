"""Helpers for the portfolio, home and demo tests.

`build_cycle(shape, year, baseline_on)` makes one school's cycle with the goals, measurements,
support hours and review a `Shape` describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fellowship.cycles.models import (
    Cycle,
    CycleStage,
    GoalDirection,
    GoalStatus,
    ReviewStatus,
    School,
)
from fellowship.db import utcnow
from fellowship.school_years import SchoolYear
from tests.cycles.helpers import (
    CycleFactory,
    GoalFactory,
    MeasurementFactory,
    ReviewFactory,
    SchoolFactory,
    SupportFactory,
)
from tests.factories import SchoolYearFactory


def year(label: str) -> SchoolYear:
    first = int(label[:4])
    return SchoolYearFactory(
        label=label, starts_on=date(first, 7, 1), ends_on=date(first + 1, 6, 30)
    )


@dataclass
class Shape:
    """What one cycle of a dataset should hold."""

    name: str
    pilot: bool = False
    magnet: bool = True
    theme: str = "STEM"
    region: str = "North"
    stage: CycleStage = CycleStage.IMPLEMENTING
    # each goal: (direction, baseline, target, [(days after the baseline, value)], override)
    goals: tuple[
        tuple[GoalDirection, float, float, list[tuple[int, float]], GoalStatus | None], ...
    ] = ()
    hours: tuple[float, ...] = ()
    review: ReviewStatus | None = None
    review_on: date | None = None


def build_cycle(shape: Shape, school_year: SchoolYear, baseline_on: date) -> Cycle:
    """One cycle of a new school in `school_year`, as the shape says."""
    school: School = SchoolFactory(
        name=shape.name,
        is_pilot=shape.pilot,
        is_magnet=shape.magnet,
        magnet_theme=shape.theme if shape.magnet else "",
        region=shape.region,
    )
    cycle: Cycle = CycleFactory(
        school_id=school.id, school_year_id=school_year.id, stage=shape.stage
    )
    for direction, base, target, points, override in shape.goals:
        goal = GoalFactory(
            cycle_id=cycle.id,
            direction=direction,
            baseline_value=base,
            target_value=target,
            baseline_on=baseline_on,
            due_on=None,
            status_override=override,
            override_reason="Set by hand in a test" if override else "",
        )
        for days, value in points:
            MeasurementFactory(
                goal_id=goal.id, measured_on=baseline_on + timedelta(days=days), value=value
            )
    for hours in shape.hours:
        SupportFactory(cycle_id=cycle.id, hours=hours, held_on=baseline_on)
    if shape.review is not None:
        ReviewFactory(
            cycle_id=cycle.id,
            status=shape.review,
            scheduled_for=shape.review_on or school_year.ends_on - timedelta(days=40),
            frozen_at=utcnow()
            if shape.review in (ReviewStatus.SIGNED, ReviewStatus.AMENDED)
            else None,
        )
    return cycle


def raise_goal(
    points: list[tuple[int, float]], override: GoalStatus | None = None
) -> tuple[GoalDirection, float, float, list[tuple[int, float]], GoalStatus | None]:
    """A goal to raise 18 → 30 with these measurements."""
    return (GoalDirection.RAISE, 18.0, 30.0, points, override)
