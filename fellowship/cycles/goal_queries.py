"""Read-only selectors for the goals pages: a goal or measurement inside its cycle (404
otherwise), a goal with everything its page shows, the names and files the tables need, and
the status counts at the top of the goals tab. Statuses come from `queries.summarize` (the
rule in `status.py`); nothing here decides a status."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import abort

from fellowship import uploads
from fellowship.auth.models import User
from fellowship.cycles import queries, status
from fellowship.cycles.models import Goal, GoalDirection, GoalStatus, Measurement
from fellowship.cycles.queries import CycleContext, GoalSummary
from fellowship.db import db
from fellowship.web import MAX_ID

# The order statuses are counted and listed in.
STATUS_ORDER = [
    GoalStatus.MET,
    GoalStatus.ON_TRACK,
    GoalStatus.AT_RISK,
    GoalStatus.OFF_TRACK,
    GoalStatus.NO_DATA,
]

# The numbers the help text "How the status is worked out" (cycles/_status_rule.html) quotes,
# taken from the rule itself: render the partial with `rule=STATUS_RULE`.
STATUS_RULE = {
    "band": format(status.HOLD_TOLERANCE * 100, "g"),
    "at_risk": format(status.AT_RISK_FROM * 100, "g"),
    "stale_days": status.STALE_AFTER_DAYS,
    "zero_band": format(status.HOLD_TOLERANCE, "g"),
}


def local_today(user: object) -> date:
    """Today where the person is (their timezone; UTC when it is unknown)."""
    try:
        zone = ZoneInfo(str(getattr(user, "timezone", None) or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


def goal_in_cycle(cycle_id: int, goal_id: int) -> Goal:
    """The goal, when it belongs to this cycle; 404 otherwise (another cycle's goal id)."""
    if not 0 < goal_id <= MAX_ID:
        abort(404)
    goal = db.session.get(Goal, goal_id)
    if goal is None or goal.cycle_id != cycle_id:
        abort(404)
    return goal


def measurement_in_cycle(cycle_id: int, measurement_id: int) -> tuple[Measurement, Goal]:
    """The measurement and its goal, when the goal belongs to this cycle; 404 otherwise."""
    if not 0 < measurement_id <= MAX_ID:
        abort(404)
    row = db.session.execute(
        sa.select(Measurement, Goal)
        .join(Goal, Goal.id == Measurement.goal_id)
        .where(Measurement.id == measurement_id, Goal.cycle_id == cycle_id)
    ).one_or_none()
    if row is None:
        abort(404)
    return row[0], row[1]


def names_of(user_ids: Iterable[int | None]) -> dict[int, str]:
    """{user id: name} in one query."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    return {
        user_id: name
        for user_id, name in db.session.execute(
            sa.select(User.id, User.name).where(User.id.in_(ids))
        )
    }


def stored_files(file_ids: Iterable[int | None]) -> dict[int, uploads.StoredFile]:
    ids = sorted({i for i in file_ids if i is not None})
    if not ids:
        return {}
    return {
        stored.id: stored
        for stored in db.session.scalars(
            sa.select(uploads.StoredFile).where(uploads.StoredFile.id.in_(ids))
        )
    }


@dataclass(frozen=True)
class Projection:
    """Where the rule's trend line reaches by the due date (what "on track" is judged on)."""

    due_on: date
    value: float
    progress: float | None  # share of the way from baseline to target; None for hold goals


@dataclass(frozen=True)
class GoalPage:
    summary: GoalSummary
    due_on: date  # the goal's due date, or the end of the school year
    projection: Projection | None
    names: dict[int, str]
    files: dict[int, uploads.StoredFile]


def projection_for(summary: GoalSummary, ctx: CycleContext, today: date) -> Projection | None:
    """The trend's value at the due date, when the rule judged the goal by it: some
    measurement after the baseline, not met, and the due date not passed."""
    facts = queries.facts_for(summary.goal, ctx.year)
    points = sorted(
        (
            status.Point(m.measured_on, m.value)
            for m in summary.measurements
            if m.measured_on > facts.baseline_on
        ),
        key=lambda point: point.on,
    )
    if not points or summary.computed == GoalStatus.MET or today > facts.due_on:
        return None
    line = [status.Point(facts.baseline_on, facts.baseline_value), *points]
    value = status.trend_at(line, facts.due_on)
    progress = None
    if facts.direction != GoalDirection.HOLD:
        progress = status.projected_progress(facts, points)
    return Projection(due_on=facts.due_on, value=value, progress=progress)


def goal_page(ctx: CycleContext, goal: Goal, today: date) -> GoalPage:
    """The goal with its measurements, status, projection, and the names and evidence files
    its table shows (three queries)."""
    measurements = queries.measurements_by_goal([goal.id]).get(goal.id, [])
    summary = queries.summarize(goal, ctx.year, measurements, today)
    return GoalPage(
        summary=summary,
        due_on=goal.due_on or ctx.year.ends_on,
        projection=projection_for(summary, ctx, today),
        names=names_of([m.recorded_by_id for m in measurements] + [goal.override_by_id]),
        files=stored_files(m.evidence_file_id for m in measurements),
    )


def status_counts(summaries: Iterable[GoalSummary]) -> list[tuple[GoalStatus, int]]:
    """(status, how many goals show it) for every status, in STATUS_ORDER."""
    counts = Counter(summary.status for summary in summaries)
    return [(each, counts.get(each, 0)) for each in STATUS_ORDER]


def goal_choices(cycle_id: int) -> list[tuple[int, str]]:
    """(id, title) of the cycle's goals in order, for a select."""
    return [
        (goal_id, title)
        for goal_id, title in db.session.execute(
            sa.select(Goal.id, Goal.title)
            .where(Goal.cycle_id == cycle_id)
            .order_by(Goal.position, Goal.id)
        )
    ]
