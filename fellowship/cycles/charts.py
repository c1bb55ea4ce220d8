"""The small goal chart: server-rendered inline SVG, safe to put in any page or packet.

`goal_chart(summary)` takes anything shaped like a `queries.GoalSummary` (a `.goal` with
baseline, target, due date, unit and title, and `.measurements` with `measured_on` and
`value`); `svg_chart(spec)` draws a `ChartSpec` built by hand (a frozen review snapshot, for
instance). The full chart has labelled axes (dates and values), the measurements as points
joined by a line, a dashed baseline line, a target line and the due date; the compact one is
the same picture without axes, for lists. Both are `role="img"` with an `aria-label` (and a
`<title>`) that says what the chart shows; pages still put a data table beside them.

Every piece of text is escaped here; presentation attributes (not `style=`) draw it, so the
page's Content-Security-Policy needs nothing and the SVG looks the same without the CSS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup, escape

from fellowship.web import format_number

MEASURED = "#005ea2"
TARGET = "#00794a"
BASELINE = "#565c65"
AXIS = "#1b1b1b"
GRID = "#dfe1e2"


class _Measured(Protocol):
    measured_on: date
    value: float


@dataclass(frozen=True)
class ChartSpec:
    """What the chart draws. `points` are (date, value), in any order."""

    title: str
    unit: str
    baseline_value: float
    baseline_on: date
    target_value: float
    due_on: date
    points: Sequence[tuple[date, float]]


def spec_for(summary: Any, due_on: date | None = None) -> ChartSpec:
    """A ChartSpec from a GoalSummary-like object. `due_on` is the date the chart runs to
    when the goal has none (the end of its school year)."""
    goal = summary.goal
    measurements: Iterable[_Measured] = summary.measurements
    points = [(m.measured_on, float(m.value)) for m in measurements]
    end = goal.due_on or due_on
    if end is None:
        end = max([goal.baseline_on + timedelta(days=365), *(on for on, _ in points)])
    return ChartSpec(
        title=goal.title,
        unit=goal.unit or "",
        baseline_value=float(goal.baseline_value),
        baseline_on=goal.baseline_on,
        target_value=float(goal.target_value),
        due_on=end,
        points=points,
    )


def goal_chart(summary: Any, *, due_on: date | None = None, compact: bool = False) -> Markup:
    """The chart of a GoalSummary-like object as safe SVG markup."""
    return svg_chart(spec_for(summary, due_on), compact=compact)


def amount(value: float, unit: str) -> str:
    """A value with its unit, in the reader's locale: "30%", "12.5 days"."""
    number = format_number(value, 2)
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def describe(spec: ChartSpec) -> str:
    """The chart in one or two sentences, for its aria-label and title."""
    text = _(
        "Chart of “%(title)s”: baseline %(baseline)s on %(baseline_on)s, target %(target)s "
        "by %(due_on)s.",
        title=spec.title,
        baseline=amount(spec.baseline_value, spec.unit),
        baseline_on=format_date(spec.baseline_on, "medium"),
        target=amount(spec.target_value, spec.unit),
        due_on=format_date(spec.due_on, "medium"),
    )
    points = sorted(spec.points, key=lambda point: point[0])
    if not points:
        return text + " " + _("No measurements yet.")
    first, last = points[0], points[-1]
    if len(points) == 1:
        more = _(
            "One measurement: %(value)s on %(on)s.",
            value=amount(last[1], spec.unit),
            on=format_date(last[0], "medium"),
        )
    else:
        more = _(
            "%(count)d measurements from %(first_on)s to %(last_on)s, from %(first)s to %(last)s.",
            count=len(points),
            first_on=format_date(first[0], "medium"),
            last_on=format_date(last[0], "medium"),
            first=amount(first[1], spec.unit),
            last=amount(last[1], spec.unit),
        )
    return f"{text} {more}"


# Scales ---------------------------------------------------------------------------------------


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(ticks, 1)
    if not (raw > 0 and math.isfinite(raw)):  # a span too small to divide (stored before the
        return 1.0  # nine-decimal rule, or in an old snapshot): one unit a tick
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def value_range(spec: ChartSpec) -> tuple[float, float, list[float]]:
    """(low, high, ticks) of the value axis: every value inside, round tick values."""
    values = [spec.baseline_value, spec.target_value, *(value for _, value in spec.points)]
    low, high = min(values), max(values)
    if high - low <= max(abs(high), abs(low), 1.0) * 1e-9:  # equal, or as good as
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = _nice_step(high - low, 4)
    low = math.floor(low / step) * step
    high = math.ceil(high / step) * step
    if high == low:
        high = low + step
    count = round((high - low) / step)
    return low, high, [low + i * step for i in range(count + 1)]


def date_range(spec: ChartSpec) -> tuple[date, date]:
    days = [spec.baseline_on, spec.due_on, *(on for on, _ in spec.points)]
    start, end = min(days), max(days)
    return start, end if end > start else start + timedelta(days=1)


def month_ticks(start: date, end: date, most: int = 5) -> list[date]:
    """First days of months inside [start, end], thinned to at most `most`."""
    first = date(start.year, start.month, 1)
    months: list[date] = []
    day = first if first >= start else _next_month(first)
    while day <= end:
        months.append(day)
        day = _next_month(day)
    if len(months) <= most:
        return months
    every = math.ceil(len(months) / most)
    return months[::every]


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


# Drawing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int


FULL = _Frame(width=480, height=280, left=60, right=104, top=30, bottom=44)
COMPACT = _Frame(width=200, height=60, left=4, right=4, top=6, bottom=6)


def _f(number: float) -> str:
    return f"{number:.1f}"


def svg_chart(spec: ChartSpec, *, compact: bool = False) -> Markup:
    """The chart as safe SVG markup (see the module docstring)."""
    frame = COMPACT if compact else FULL
    low, high, value_ticks = value_range(spec)
    start, end = date_range(spec)
    inner_w = frame.width - frame.left - frame.right
    inner_h = frame.height - frame.top - frame.bottom
    span_days = (end - start).days

    def x(day: date) -> float:
        return frame.left + inner_w * (day - start).days / span_days

    def y(value: float) -> float:
        return frame.top + inner_h * (high - value) / (high - low)

    label = describe(spec)
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="goal-chart'
        f'{" goal-chart--compact" if compact else ""}" viewBox="0 0 {frame.width} '
        f'{frame.height}" role="img" aria-label="{escape(label)}" focusable="false" '
        f'font-family="Source Sans Pro Web, Helvetica Neue, Helvetica, Roboto, Arial, '
        f'sans-serif" font-size="14">',
        f"<title>{escape(label)}</title>",
    ]
    right_edge = frame.width - frame.right
    bottom_edge = frame.height - frame.bottom
    if not compact:
        for tick in value_ticks:
            ty = _f(y(tick))
            parts.append(
                f'<line x1="{frame.left}" y1="{ty}" x2="{right_edge}" y2="{ty}" '
                f'stroke="{GRID}" stroke-width="1"/>'
                f'<text x="{frame.left - 8}" y="{ty}" text-anchor="end" '
                f'dominant-baseline="middle" fill="{AXIS}">'
                f"{escape(format_number(tick, 2))}</text>"
            )
        days = month_ticks(start, end, most=4)
        day_format = "MMM y"
        if len(days) < 2:
            days, day_format = [start, end], "short"
        for day in days:
            tx = _f(x(day))
            parts.append(
                f'<line x1="{tx}" y1="{bottom_edge}" x2="{tx}" y2="{bottom_edge + 6}" '
                f'stroke="{AXIS}" stroke-width="1"/>'
                f'<text x="{tx}" y="{bottom_edge + 22}" text-anchor="middle" fill="{AXIS}">'
                f"{escape(format_date(day, day_format))}</text>"
            )
        parts.append(
            f'<line x1="{frame.left}" y1="{bottom_edge}" x2="{right_edge}" y2="{bottom_edge}" '
            f'stroke="{AXIS}" stroke-width="1"/>'
            f'<line x1="{frame.left}" y1="{frame.top}" x2="{frame.left}" y2="{bottom_edge}" '
            f'stroke="{AXIS}" stroke-width="1"/>'
        )
        if spec.unit:
            parts.append(
                f'<text x="{frame.left - 8}" y="{frame.top - 14}" text-anchor="end" '
                f'fill="{AXIS}">{escape(spec.unit)}</text>'
            )
    # The due date: a dotted vertical line.
    due_x = _f(x(spec.due_on))
    parts.append(
        f'<line x1="{due_x}" y1="{frame.top}" x2="{due_x}" y2="{bottom_edge}" '
        f'stroke="{BASELINE}" stroke-width="1" stroke-dasharray="2 3"/>'
    )
    # Baseline (dashed) and target (solid, thicker) across the whole width.
    base_y, target_y = y(spec.baseline_value), y(spec.target_value)
    parts.append(
        f'<line class="goal-chart__baseline" x1="{frame.left}" y1="{_f(base_y)}" '
        f'x2="{right_edge}" y2="{_f(base_y)}" stroke="{BASELINE}" stroke-width="2" '
        f'stroke-dasharray="6 4"/>'
        f'<line class="goal-chart__target" x1="{frame.left}" y1="{_f(target_y)}" '
        f'x2="{right_edge}" y2="{_f(target_y)}" stroke="{TARGET}" stroke-width="2.5"/>'
    )
    if not compact:
        # Labels right of the plot; pushed apart when the two lines are close.
        base_label_y, target_label_y = base_y, target_y
        if abs(base_y - target_y) < 18:
            above, below = min(base_y, target_y) - 9, max(base_y, target_y) + 9
            if target_y <= base_y:
                target_label_y, base_label_y = above, below
            else:
                base_label_y, target_label_y = above, below
        target_label = _("Target %(value)s", value=amount(spec.target_value, spec.unit))
        base_label = _("Baseline %(value)s", value=amount(spec.baseline_value, spec.unit))
        due_label = _("Due")
        parts.append(
            f'<text x="{right_edge + 8}" y="{_f(target_label_y)}" dominant-baseline="middle" '
            f'fill="{TARGET}" font-weight="bold">{escape(target_label)}</text>'
            f'<text x="{right_edge + 8}" y="{_f(base_label_y)}" dominant-baseline="middle" '
            f'fill="{BASELINE}">{escape(base_label)}</text>'
            f'<text x="{_f(x(spec.due_on) - 4)}" y="{bottom_edge - 6}" text-anchor="end" '
            f'fill="{BASELINE}">{escape(due_label)}</text>'
        )
    points = sorted(spec.points, key=lambda point: point[0])
    if points:
        coords = [(x(on), y(value)) for on, value in points]
        if len(coords) > 1:
            path = " ".join(f"{_f(px)},{_f(py)}" for px, py in coords)
            parts.append(
                f'<polyline class="goal-chart__line" points="{path}" fill="none" '
                f'stroke="{MEASURED}" stroke-width="{2 if compact else 2.5}"/>'
            )
        radius = 2.5 if compact else 4.5
        for (on, value), (px, py) in zip(points, coords, strict=True):
            tip = f"{format_date(on, 'medium')}: {amount(value, spec.unit)}"
            parts.append(
                f'<circle class="goal-chart__point" cx="{_f(px)}" cy="{_f(py)}" r="{radius}" '
                f'fill="{MEASURED}" stroke="#fff" stroke-width="1">'
                f"<title>{escape(tip)}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text above is escaped
