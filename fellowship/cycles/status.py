"""A goal's status from its measurements: the rule, written down once.

Pure functions (no database, no Flask) so the goal page, the review packet, the portfolio,
the lead teacher's home and the reminders all agree. The help text on the goal page
(`templates/cycles/_status_rule.html`) says the same in plain words; change both together.

The rule, for a goal with a baseline (value, date), a target, a direction and a due date
(the end of the cycle's school year when the goal has none):

1. No measurement taken after the baseline date: **no data**.
2. The latest measurement reaches the target (raise: at or above it; lower: at or below it;
   hold: within the tolerance band, 5 % of the target either side, or 0.05 either side of
   a target of 0): **met**.
3. Not met and the due date has passed: **off track**.
4. Otherwise the trend decides. A straight line is fitted (least squares) through the
   baseline and every measurement since, and followed to the due date. The share of the way
   from baseline to target that the line reaches there is the projected progress:
   at least 100 %: **on track**; 75 % to 100 %: **at risk**; below 75 % (or moving away from
   the target): **off track**. For a hold goal, a projection still inside the band is on
   track, one inside twice the band at risk, anything else off track.

A person can set the status by hand with a reason (`Goal.status_override`); the override wins
and is always shown as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from fellowship.cycles.models import GoalDirection, GoalStatus

HOLD_TOLERANCE = 0.05  # a hold goal is met within 5 % of the target, either side
AT_RISK_FROM = 0.75  # projected progress from 75 % (inclusive) to 100 % is "at risk"
STALE_AFTER_DAYS = 60  # a goal with no measurement for this long needs one


@dataclass(frozen=True)
class Point:
    on: date
    value: float


@dataclass(frozen=True)
class GoalFacts:
    """What the rule needs to know about a goal."""

    direction: GoalDirection
    baseline_value: float
    baseline_on: date
    target_value: float
    due_on: date  # the goal's due date, or the end of its cycle's school year


def latest(points: Iterable[Point]) -> Point | None:
    """The most recent measurement (the last one listed, among several on the same day)."""
    best: Point | None = None
    for point in points:
        if best is None or point.on >= best.on:
            best = point
    return best


def _band(target: float) -> float:
    return abs(target) * HOLD_TOLERANCE if target else HOLD_TOLERANCE


def _reached(facts: GoalFacts, value: float) -> bool:
    if facts.direction == GoalDirection.RAISE:
        return value >= facts.target_value
    if facts.direction == GoalDirection.LOWER:
        return value <= facts.target_value
    return abs(value - facts.target_value) <= _band(facts.target_value)


def trend_at(points: Sequence[Point], day: date) -> float:
    """The least-squares line through the points, read off at `day`. With every point on
    one day, the mean of their values."""
    xs = [float((point.on - points[0].on).days) for point in points]
    ys = [point.value for point in points]
    n = len(points)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return mean_y
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return mean_y + slope * (float((day - points[0].on).days) - mean_x)


def projected_progress(facts: GoalFacts, points: Sequence[Point]) -> float:
    """Share of the way from baseline to target the trend reaches by the due date
    (1.0 = exactly the target; negative = moving away from it)."""
    line = [Point(facts.baseline_on, facts.baseline_value), *points]
    projected = trend_at(line, facts.due_on)
    distance = facts.target_value - facts.baseline_value
    if distance == 0:
        return 1.0 if _reached(facts, projected) else 0.0
    progress = (projected - facts.baseline_value) / distance
    # A target already behind the baseline (raise to a lower value): any value at or past
    # the target counts, which `_reached` has checked; what is left is not progress.
    if (facts.direction == GoalDirection.RAISE and distance < 0) or (
        facts.direction == GoalDirection.LOWER and distance > 0
    ):
        return 0.0
    return progress


def computed_status(facts: GoalFacts, measurements: Iterable[Point], today: date) -> GoalStatus:
    """The status by the rule above (ignoring any override)."""
    since = sorted(
        (point for point in measurements if point.on > facts.baseline_on), key=lambda p: p.on
    )
    last = latest(since)
    if last is None:
        return GoalStatus.NO_DATA
    if _reached(facts, last.value):
        return GoalStatus.MET
    if today > facts.due_on:
        return GoalStatus.OFF_TRACK
    if facts.direction == GoalDirection.HOLD:
        line = [Point(facts.baseline_on, facts.baseline_value), *since]
        off_by = abs(trend_at(line, facts.due_on) - facts.target_value)
        band = _band(facts.target_value)
        if off_by <= band:
            return GoalStatus.ON_TRACK
        return GoalStatus.AT_RISK if off_by <= 2 * band else GoalStatus.OFF_TRACK
    progress = projected_progress(facts, since)
    if progress >= 1:
        return GoalStatus.ON_TRACK
    if progress >= AT_RISK_FROM:
        return GoalStatus.AT_RISK
    return GoalStatus.OFF_TRACK


def goal_status(
    facts: GoalFacts,
    measurements: Iterable[Point],
    today: date,
    override: GoalStatus | None = None,
) -> GoalStatus:
    """The status people see: the override when one is set, else the rule's."""
    if override is not None:
        return override
    return computed_status(facts, measurements, today)


def is_stale(last_measured_on: date | None, today: date) -> bool:
    """No measurement yet, or none in the last STALE_AFTER_DAYS days."""
    return last_measured_on is None or (today - last_measured_on).days > STALE_AFTER_DAYS
