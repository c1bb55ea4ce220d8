"""Line charts of figures over school years: server-rendered inline SVG, like
`fellowship.cycles.charts`. Every series has its own colour *and* its own point shape and
dash pattern (so it reads without colour), a legend, and a `<title>` on every point; the
chart is `role="img"` with an `aria-label` saying what it shows, and the page puts a data
table with the same figures beside it.

Every piece of text is escaped here; presentation attributes (not `style=`) draw it, so the
page's Content-Security-Policy needs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

AXIS = "#1b1b1b"
GRID = "#dfe1e2"
# (colour, dash pattern, point shape) per series, in order.
STYLES: tuple[tuple[str, str, str], ...] = (
    ("#005ea2", "", "circle"),
    ("#d54309", "6 3", "square"),
    ("#00794a", "2 3", "diamond"),
    ("#8168b3", "8 3 2 3", "triangle"),
    ("#565c65", "12 4", "cross"),
    ("#936f38", "4 2", "circle"),
)

WIDTH = 560
LEFT, RIGHT, TOP, BOTTOM = 52, 180, 16, 40
HEIGHT = 260


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one per x label; None draws a gap


def _f(number: float) -> str:
    return f"{number:.1f}"


def _point(shape: str, x: float, y: float, colour: str, tip: str) -> str:
    title = f"<title>{escape(tip)}</title>"
    if shape == "square":
        return (
            f'<rect x="{_f(x - 4)}" y="{_f(y - 4)}" width="8" height="8" fill="{colour}" '
            f'stroke="#fff" stroke-width="1">{title}</rect>'
        )
    if shape == "diamond":
        return (
            f'<polygon points="{_f(x)},{_f(y - 5.5)} {_f(x + 5.5)},{_f(y)} {_f(x)},{_f(y + 5.5)} '
            f'{_f(x - 5.5)},{_f(y)}" fill="{colour}" stroke="#fff" stroke-width="1">'
            f"{title}</polygon>"
        )
    if shape == "triangle":
        return (
            f'<polygon points="{_f(x)},{_f(y - 5.5)} {_f(x + 5)},{_f(y + 4)} {_f(x - 5)},'
            f'{_f(y + 4)}" fill="{colour}" stroke="#fff" stroke-width="1">{title}</polygon>'
        )
    if shape == "cross":
        return (
            f'<path d="M{_f(x - 4)},{_f(y - 4)} L{_f(x + 4)},{_f(y + 4)} M{_f(x - 4)},'
            f'{_f(y + 4)} L{_f(x + 4)},{_f(y - 4)}" stroke="{colour}" stroke-width="2.5">'
            f"{title}</path>"
        )
    return (
        f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4.5" fill="{colour}" stroke="#fff" '
        f'stroke-width="1">{title}</circle>'
    )


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    description: str,
    value_text: Callable[[float], str],
    ticks: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    css_class: str = "integration-chart",
) -> Markup:
    """Lines of values over `labels` (school years, oldest first) on a fixed scale from the
    first tick to the last. `value_text` writes a value for the axis and the points' titles;
    `description` is the chart's accessible name (say what it shows; the table has the
    figures)."""
    low, high = ticks[0], ticks[-1]
    inner_w = WIDTH - LEFT - RIGHT
    inner_h = HEIGHT - TOP - BOTTOM
    bottom = HEIGHT - BOTTOM
    slots = max(len(labels), 1)

    def x(i: int) -> float:
        if len(labels) == 1:
            return LEFT + inner_w / 2
        return LEFT + inner_w * i / (slots - 1)

    def y(value: float) -> float:
        clamped = min(high, max(low, value))
        return TOP + inner_h * (high - clamped) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(description)}" '
        f'focusable="false" font-family="Source Sans Pro Web, Helvetica Neue, Helvetica, '
        f'Roboto, Arial, sans-serif" font-size="13">',
        f"<title>{escape(description)}</title>",
    ]
    for tick in ticks:
        ty = _f(y(tick))
        parts.append(
            f'<line x1="{LEFT}" y1="{ty}" x2="{WIDTH - RIGHT}" y2="{ty}" stroke="{GRID}" '
            f'stroke-width="1"/><text x="{LEFT - 8}" y="{ty}" text-anchor="end" '
            f'dominant-baseline="middle" fill="{AXIS}">{escape(value_text(tick))}</text>'
        )
    every = max(1, -(-len(labels) // 6))  # at most about six year labels
    last = len(labels) - 1
    for i, label in enumerate(labels):
        # Every `every`-th label and the last one, but not one so close to the last that the
        # two would overlap.
        if (i % every or last - i < every) and i != last:
            continue
        tx = _f(x(i))
        parts.append(
            f'<line x1="{tx}" y1="{bottom}" x2="{tx}" y2="{bottom + 5}" stroke="{AXIS}"/>'
            f'<text x="{tx}" y="{bottom + 20}" text-anchor="middle" fill="{AXIS}">'
            f"{escape(label)}</text>"
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="{AXIS}"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="{AXIS}"/>'
    )
    for n, line in enumerate(series):
        colour, dash, shape = STYLES[n % len(STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        run: list[str] = []
        runs: list[list[str]] = []
        for i, value in enumerate(line.values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{_f(x(i))},{_f(y(value))}")
        if run:
            runs.append(run)
        for points in runs:
            if len(points) > 1:
                parts.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2.5"{dash_attr}/>'
                )
        for i, value in enumerate(line.values):
            if value is not None:
                tip = f"{line.label}, {labels[i]}: {value_text(value)}"
                parts.append(_point(shape, x(i), y(value), colour, tip))
        # The legend, right of the plot: a short line in the series' style, its shape, its name.
        ly = TOP + 8 + n * 22
        lx = WIDTH - RIGHT + 14
        parts.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 28}" y2="{ly}" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
            + _point(shape, lx + 14, ly, colour, line.label)
            + f'<text x="{lx + 36}" y="{ly}" dominant-baseline="middle" fill="{AXIS}">'
            f"{escape(line.label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text above is escaped
