"""The goal chart (cycles/charts.py): safe SVG whatever people typed, labelled for screen
readers, scaled so every value fits, and drawn from a GoalSummary or a hand-made spec."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

import pytest
from markupsafe import Markup

from fellowship.cycles import charts

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class FakeGoal:
    title: str = "More families"
    unit: str = "%"
    baseline_value: float = 18.0
    baseline_on: date = date(2026, 8, 15)
    target_value: float = 30.0
    due_on: date | None = date(2027, 6, 1)


@dataclass
class FakeMeasurement:
    measured_on: date
    value: float


@dataclass
class FakeSummary:
    goal: FakeGoal
    measurements: list[FakeMeasurement]


def summary(*points: tuple[date, float], **goal) -> FakeSummary:
    return FakeSummary(FakeGoal(**goal), [FakeMeasurement(on, value) for on, value in points])


def parse(svg: Markup) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 - our own output


def test_the_chart_is_an_image_labelled_with_what_it_shows(ctx):
    svg = charts.goal_chart(
        summary((date(2026, 10, 1), 21), (date(2026, 12, 1), 24.5)),
    )
    assert isinstance(svg, Markup)
    root = parse(svg)
    label = root.get("aria-label")
    assert root.get("role") == "img"
    assert label == root.find(f"{SVG}title").text
    assert label == (
        "Chart of “More families”: baseline 18% on Aug 15, 2026, target 30% by Jun 1, 2027. "
        "2 measurements from Oct 1, 2026 to Dec 1, 2026, from 21% to 24.5%."
    )
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Target 30%" in texts
    assert "Baseline 18%" in texts
    assert "Due" in texts
    assert "Sep 2026" in texts
    assert "Mar 2027" in texts
    assert "%" in texts  # the unit over the value axis
    assert len(list(root.iter(f"{SVG}circle"))) == 2
    assert len(list(root.iter(f"{SVG}polyline"))) == 1
    dashed = [line for line in root.iter(f"{SVG}line") if line.get("stroke-dasharray") == "6 4"]
    assert len(dashed) == 1  # the baseline


def test_whatever_was_typed_is_escaped(ctx):
    svg = str(
        charts.goal_chart(
            summary(
                (date(2026, 10, 1), 21),
                title='</svg><script>alert(1)</script> "x" & y',
                unit="<b>%</b>",
            )
        )
    )
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;script&gt;" in svg
    ET.fromstring(svg)  # noqa: S314 - still well-formed


def test_no_measurements_says_so_and_draws_no_line(ctx):
    root = parse(charts.goal_chart(summary()))
    assert root.get("aria-label").endswith("No measurements yet.")
    assert list(root.iter(f"{SVG}circle")) == []
    assert list(root.iter(f"{SVG}polyline")) == []


def test_one_measurement_is_a_point_without_a_line(ctx):
    root = parse(charts.goal_chart(summary((date(2026, 10, 1), 21))))
    assert "One measurement: 21% on Oct 1, 2026." in root.get("aria-label")
    assert len(list(root.iter(f"{SVG}circle"))) == 1
    assert list(root.iter(f"{SVG}polyline")) == []


def test_the_compact_chart_has_no_axis_text(ctx):
    root = parse(charts.goal_chart(summary((date(2026, 10, 1), 21)), compact=True))
    assert list(root.iter(f"{SVG}text")) == []
    assert "goal-chart--compact" in root.get("class")
    assert root.get("role") == "img"
    assert root.get("aria-label")


@pytest.mark.parametrize(
    "points",
    [
        [(date(2026, 10, 1), 18.0)],  # everything equal to the baseline
        [(date(2026, 10, 1), -1e12), (date(2026, 11, 1), 1e12)],
        [(date(2026, 8, 15), 0.0001)],  # on the baseline date
        [(date(2020, 1, 1), 5.0), (date(2031, 1, 1), 50.0)],  # outside the due range
    ],
)
def test_every_point_and_line_stays_inside_the_picture(ctx, points):
    root = parse(charts.goal_chart(summary(*points, target_value=18.0)))
    _x, _y, width, height = (float(n) for n in root.get("viewBox").split())
    for circle in root.iter(f"{SVG}circle"):
        assert 0 <= float(circle.get("cx")) <= width
        assert 0 <= float(circle.get("cy")) <= height
    for line in root.iter(f"{SVG}line"):
        for attr in ("x1", "x2"):
            assert 0 <= float(line.get(attr)) <= width
        for attr in ("y1", "y2"):
            assert 0 <= float(line.get(attr)) <= height
    assert not re.search(r"\bnan\b|\binf\b", str(charts.goal_chart(summary(*points))).lower())


def test_a_goal_without_a_due_date_runs_to_the_end_of_the_school_year(ctx):
    spec = charts.spec_for(summary(due_on=None), due_on=date(2027, 6, 30))
    assert spec.due_on == date(2027, 6, 30)
    assert charts.spec_for(summary(due_on=None)).due_on == date(2027, 8, 15)


def test_a_hand_made_spec_draws_the_same_chart(ctx):
    from_summary = charts.goal_chart(summary((date(2026, 10, 1), 21)))
    spec = charts.ChartSpec(
        title="More families",
        unit="%",
        baseline_value=18,
        baseline_on=date(2026, 8, 15),
        target_value=30,
        due_on=date(2027, 6, 1),
        points=[(date(2026, 10, 1), 21)],
    )
    assert charts.svg_chart(spec) == from_summary


@pytest.mark.parametrize(
    ("start", "end", "ticks"),
    [
        (date(2026, 8, 15), date(2026, 9, 20), [date(2026, 9, 1)]),
        (
            date(2026, 8, 1),
            date(2026, 10, 1),
            [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)],
        ),
        (
            date(2026, 8, 15),
            date(2027, 6, 1),
            [
                date(2026, 9, 1),
                date(2026, 11, 1),
                date(2027, 1, 1),
                date(2027, 3, 1),
                date(2027, 5, 1),
            ],
        ),
    ],
)
def test_the_time_axis_is_marked_at_the_start_of_months(start, end, ticks):
    assert charts.month_ticks(start, end) == ticks


def test_value_ticks_are_round_and_cover_every_value(ctx):
    spec = charts.spec_for(summary((date(2026, 10, 1), 21.3), (date(2026, 11, 1), 33.7)))
    low, high, ticks = charts.value_range(spec)
    assert low <= 18
    assert high >= 33.7
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    assert all(re.fullmatch(r"-?\d+(\.\d)?", f"{t:g}") for t in ticks)


def test_a_chart_whose_values_all_but_coincide_still_draws(ctx):
    """A goal stored before numbers were kept to nine decimals (baseline 0, target 5e-324)."""
    svg = charts.goal_chart(
        summary((date(2026, 10, 1), 5e-324), baseline_value=0.0, target_value=5e-324)
    )
    assert parse(svg).get("role") == "img"
