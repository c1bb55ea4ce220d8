"""The goal status rule (fellowship/cycles/status.py) as a table: every status for raise,
lower and hold; no measurement after the baseline; the due date passed; a projection of
exactly 100 % and 75 %; a target already behind the baseline; several measurements on one
day; the override winning. Then the help text says the same, with the rule's numbers.

Dates are chosen so the trend line is exact in binary: the baseline on day 0, one
measurement on day 32 and the due date on day 64 make the line at the due date twice the
measurement minus the baseline (2v - b)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import render_template

from fellowship.cycles import status
from fellowship.cycles.goal_queries import STATUS_RULE
from fellowship.cycles.models import GoalDirection, GoalStatus
from fellowship.cycles.status import GoalFacts, Point, computed_status, goal_status, is_stale

RAISE, LOWER, HOLD = GoalDirection.RAISE, GoalDirection.LOWER, GoalDirection.HOLD
MET, ON, RISK, OFF, NONE = (
    GoalStatus.MET,
    GoalStatus.ON_TRACK,
    GoalStatus.AT_RISK,
    GoalStatus.OFF_TRACK,
    GoalStatus.NO_DATA,
)
DAY0 = date(2026, 8, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


DUE = day(64)
BEFORE_DUE = day(40)
AFTER_DUE = day(65)


def facts(direction: GoalDirection, baseline: float, target: float) -> GoalFacts:
    return GoalFacts(
        direction=direction,
        baseline_value=baseline,
        baseline_on=DAY0,
        target_value=target,
        due_on=DUE,
    )


def points(*pairs: tuple[int, float]) -> list[Point]:
    return [Point(day(n), value) for n, value in pairs]


# case, direction, baseline, target, measurements (day, value), today, status
TABLE = [
    # No data: nothing measured after the baseline date.
    ("raise: no measurement at all", RAISE, 10, 26, [], BEFORE_DUE, NONE),
    ("raise: only on the baseline date", RAISE, 10, 26, [(0, 30)], BEFORE_DUE, NONE),
    ("raise: only before the baseline", RAISE, 10, 26, [(-5, 30)], BEFORE_DUE, NONE),
    ("lower: no measurement", LOWER, 20, 10, [], BEFORE_DUE, NONE),
    ("hold: no measurement", HOLD, 50, 50, [], BEFORE_DUE, NONE),
    ("no data even after the due date", RAISE, 10, 26, [], AFTER_DUE, NONE),
    # Met: the latest measurement reaches the target.
    ("raise: exactly the target", RAISE, 10, 26, [(32, 26)], BEFORE_DUE, MET),
    ("raise: above the target", RAISE, 10, 26, [(32, 27)], BEFORE_DUE, MET),
    ("raise: met, due date passed", RAISE, 10, 26, [(60, 26)], AFTER_DUE, MET),
    ("lower: exactly the target", LOWER, 20, 10, [(32, 10)], BEFORE_DUE, MET),
    ("lower: below the target", LOWER, 20, 10, [(32, 9)], BEFORE_DUE, MET),
    ("hold: inside the band above", HOLD, 50, 50, [(32, 52.5)], BEFORE_DUE, MET),
    ("hold: inside the band below", HOLD, 50, 50, [(32, 47.5)], BEFORE_DUE, MET),
    ("hold of zero: within 0.05", HOLD, 0, 0, [(32, 0.05)], BEFORE_DUE, MET),
    # Off track because the due date has passed.
    ("raise: not met, due date passed", RAISE, 10, 26, [(32, 25)], AFTER_DUE, OFF),
    ("lower: not met, due date passed", LOWER, 20, 10, [(32, 11)], AFTER_DUE, OFF),
    ("hold: outside the band, due date passed", HOLD, 50, 50, [(32, 53)], AFTER_DUE, OFF),
    # On the due date itself the trend still decides.
    ("raise: on the due date, trend on track", RAISE, 10, 26, [(32, 18)], DUE, ON),
    # Raise, by the trend: 2v - b reached at the due date.
    ("raise: projection exactly 100 %", RAISE, 10, 26, [(32, 18)], BEFORE_DUE, ON),
    ("raise: projection above 100 %", RAISE, 10, 26, [(32, 20)], BEFORE_DUE, ON),
    ("raise: projection exactly 75 %", RAISE, 10, 26, [(32, 16)], BEFORE_DUE, RISK),
    ("raise: projection just under 100 %", RAISE, 10, 26, [(32, 17.9)], BEFORE_DUE, RISK),
    ("raise: projection just under 75 %", RAISE, 10, 26, [(32, 15.9)], BEFORE_DUE, OFF),
    ("raise: moving away from the target", RAISE, 10, 26, [(32, 8)], BEFORE_DUE, OFF),
    ("raise: flat", RAISE, 10, 26, [(32, 10)], BEFORE_DUE, OFF),
    # Lower, by the trend: baseline 26 down to 10.
    ("lower: projection exactly 100 %", LOWER, 26, 10, [(32, 18)], BEFORE_DUE, ON),
    ("lower: projection exactly 75 %", LOWER, 26, 10, [(32, 20)], BEFORE_DUE, RISK),
    ("lower: projection under 75 %", LOWER, 26, 10, [(32, 21)], BEFORE_DUE, OFF),
    ("lower: moving away from the target", LOWER, 26, 10, [(32, 27)], BEFORE_DUE, OFF),
    # Hold 50 (band 2.5): the projection 2v - b against the band and twice the band.
    ("hold: projection at the target", HOLD, 56, 50, [(32, 53)], BEFORE_DUE, ON),
    ("hold: projection at the band's edge", HOLD, 57, 50, [(32, 54.75)], BEFORE_DUE, ON),
    ("hold: projection inside twice the band", HOLD, 60, 50, [(32, 57)], BEFORE_DUE, RISK),
    ("hold: projection at twice the band", HOLD, 60, 50, [(32, 57.5)], BEFORE_DUE, RISK),
    ("hold: projection beyond twice the band", HOLD, 60, 50, [(32, 59)], BEFORE_DUE, OFF),
    # A target already behind the baseline: reaching it is met, anything else is not progress.
    ("raise to a lower target: reached", RAISE, 30, 20, [(32, 25)], BEFORE_DUE, MET),
    ("raise to a lower target: below it", RAISE, 30, 20, [(32, 15)], BEFORE_DUE, OFF),
    ("raise to a lower target: climbing", RAISE, 30, 20, [(16, 12), (32, 19)], BEFORE_DUE, OFF),
    ("lower to a higher target: reached", LOWER, 20, 30, [(32, 25)], BEFORE_DUE, MET),
    ("lower to a higher target: above it", LOWER, 20, 30, [(32, 35)], BEFORE_DUE, OFF),
    # Several measurements on one day: the one listed (recorded) last is the latest.
    ("same day: the last listed reaches it", RAISE, 10, 26, [(32, 12), (32, 26)], BEFORE_DUE, MET),
    # ... and falls short: not met; the trend then counts both values of that day.
    ("same day: the last listed falls short", RAISE, 10, 26, [(32, 26), (32, 12)], BEFORE_DUE, ON),
    # Measurements in any order: the latest by date counts, and before-baseline ones are left out.
    ("out of order: latest by date", RAISE, 10, 26, [(32, 18), (16, 30)], BEFORE_DUE, ON),
    ("before the baseline is ignored", RAISE, 10, 26, [(-30, 100), (32, 18)], BEFORE_DUE, ON),
]


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "measured", "today", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_the_status_of_a_goal_follows_the_rule(
    direction, baseline, target, measured, today, expected
):
    goal = facts(direction, baseline, target)
    assert computed_status(goal, points(*measured), today) == expected
    assert goal_status(goal, points(*measured), today) == expected


def test_every_status_is_reached_for_raise_lower_and_hold():
    reached = {(row[1], row[6]) for row in TABLE}
    for direction in GoalDirection:
        for each in GoalStatus:
            assert (direction, each) in reached, (direction, each)


@pytest.mark.parametrize("override", list(GoalStatus))
@pytest.mark.parametrize(
    ("measured", "today"),
    [([], BEFORE_DUE), ([(32, 26)], BEFORE_DUE), ([(32, 10)], AFTER_DUE)],
    ids=["no data", "met", "off track"],
)
def test_an_override_wins_over_the_rule(override, measured, today):
    goal = facts(RAISE, 10, 26)
    assert goal_status(goal, points(*measured), today, override=override) == override
    # the rule's own answer is unchanged
    assert computed_status(goal, points(*measured), today) == goal_status(
        goal, points(*measured), today
    )


@pytest.mark.parametrize(
    ("measured", "expected"),
    [
        ([(32, 18)], 1.0),
        ([(32, 16)], 0.75),
        ([(32, 10)], 0.0),
        ([(32, 8)], -0.25),
    ],
)
def test_projected_progress_is_the_share_of_the_way_the_trend_reaches(measured, expected):
    assert status.projected_progress(facts(RAISE, 10, 26), points(*measured)) == expected


@pytest.mark.parametrize(
    ("last", "today", "stale"),
    [
        (None, date(2026, 11, 1), True),
        (date(2026, 11, 1), date(2026, 11, 1), False),
        (date(2026, 9, 2), date(2026, 11, 1), False),  # 60 days ago
        (date(2026, 9, 1), date(2026, 11, 1), True),  # 61 days ago
    ],
    ids=["never measured", "today", "60 days ago", "61 days ago"],
)
def test_a_goal_is_stale_after_60_days_without_a_measurement(last, today, stale):
    assert status.STALE_AFTER_DAYS == 60
    assert is_stale(last, today) is stale


def test_the_help_text_says_the_rule_with_its_numbers(app):
    with app.test_request_context():
        html = render_template("cycles/_status_rule.html", rule=STATUS_RULE)
    text = " ".join(html.split())
    band = format(status.HOLD_TOLERANCE * 100, "g")
    at_risk = format(status.AT_RISK_FROM * 100, "g")
    assert (band, at_risk) == ("5", "75")
    for words in [
        "No measurement taken after the baseline date: no data.",
        "The latest measurement reaches the target: met.",
        "at or above the target",
        "at or below it",
        f"within {band}% of the target either side",
        "Not met and the due date has passed: off track.",
        "least squares",
        "followed to the due date",
        "100% or more, on track",
        f"from {at_risk}% up to 100%, at risk",
        f"below {at_risk}% (or moving away from the target), off track",
        "inside twice the band at risk",
        "the one recorded last counts as the latest",
        "end of the cycle’s school year",
        "set by hand",
        f"no measurement in the last {status.STALE_AFTER_DAYS} days",
    ]:
        assert words in text, words
