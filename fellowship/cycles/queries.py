"""Read-only selectors shared by every cycles page: loading a cycle with its school and year,
and goals with their measurements and status (a fixed number of queries for any number of
cycles)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import abort

from fellowship.cycles.models import Cycle, Goal, GoalStatus, Measurement, School
from fellowship.cycles.status import GoalFacts, Point, goal_status, is_stale, latest
from fellowship.db import db
from fellowship.school_years import SchoolYear
from fellowship.web import MAX_ID


@dataclass(frozen=True)
class CycleContext:
    """A cycle with the school and school year every cycle page names in its header."""

    cycle: Cycle
    school: School
    year: SchoolYear


def load_cycle(cycle_id: int) -> CycleContext:
    """The cycle, its school and its year in one query; 404 when there is no such cycle."""
    if not 0 < cycle_id <= MAX_ID:
        abort(404)
    row = db.session.execute(
        sa.select(Cycle, School, SchoolYear)
        .join(School, School.id == Cycle.school_id)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
        .where(Cycle.id == cycle_id)
    ).one_or_none()
    if row is None:
        abort(404)
    return CycleContext(*row)


def facts_for(goal: Goal, year: SchoolYear) -> GoalFacts:
    return GoalFacts(
        direction=goal.direction,
        baseline_value=goal.baseline_value,
        baseline_on=goal.baseline_on,
        target_value=goal.target_value,
        due_on=goal.due_on or year.ends_on,
    )


@dataclass(frozen=True)
class GoalSummary:
    """A goal as every page shows it: its measurements (oldest first), the latest one, the
    status people see (`status`), the rule's own answer (`computed`), and staleness."""

    goal: Goal
    measurements: list[Measurement]
    status: GoalStatus
    computed: GoalStatus
    latest: Measurement | None
    stale: bool

    @property
    def overridden(self) -> bool:
        return self.goal.status_override is not None


def summarize(
    goal: Goal, year: SchoolYear, measurements: list[Measurement], today: date
) -> GoalSummary:
    points = [Point(m.measured_on, m.value) for m in measurements]
    facts = facts_for(goal, year)
    computed = goal_status(facts, points, today)
    last_point = latest(points)
    last = None
    if last_point is not None:
        last = max(
            (m for m in measurements if m.measured_on == last_point.on), key=lambda m: m.id or 0
        )
    return GoalSummary(
        goal=goal,
        measurements=measurements,
        status=goal.status_override or computed,
        computed=computed,
        latest=last,
        stale=is_stale(last.measured_on if last else None, today),
    )


def measurements_by_goal(goal_ids: Iterable[int]) -> dict[int, list[Measurement]]:
    """{goal_id: measurements oldest first}, one query."""
    ids = sorted(set(goal_ids))
    found: dict[int, list[Measurement]] = defaultdict(list)
    if not ids:
        return found
    rows = db.session.scalars(
        sa.select(Measurement)
        .where(Measurement.goal_id.in_(ids))
        .order_by(Measurement.goal_id, Measurement.measured_on, Measurement.id)
    )
    for measurement in rows:
        found[measurement.goal_id].append(measurement)
    return found


def goal_summaries(cycle_ids: Iterable[int], today: date) -> dict[int, list[GoalSummary]]:
    """{cycle_id: its goals in order, summarized} for any number of cycles in two queries."""
    ids = sorted(set(cycle_ids))
    result: dict[int, list[GoalSummary]] = {cycle_id: [] for cycle_id in ids}
    if not ids:
        return result
    rows = db.session.execute(
        sa.select(Goal, SchoolYear)
        .join(Cycle, Cycle.id == Goal.cycle_id)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
        .where(Goal.cycle_id.in_(ids))
        .order_by(Goal.cycle_id, Goal.position, Goal.id)
    ).all()
    measured = measurements_by_goal(goal.id for goal, _ in rows)
    for goal, year in rows:
        result[goal.cycle_id].append(summarize(goal, year, measured.get(goal.id, []), today))
    return result
