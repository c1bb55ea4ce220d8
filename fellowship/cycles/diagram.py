"""The driver diagram as a picture: a server-rendered inline SVG.

Four columns, read left to right: the aim, the primary drivers, the secondary drivers and
the change ideas, with a line from each box to the boxes under it. Each subtree gets its
own horizontal band, so lines never cross another branch's boxes; a change idea that sits
directly under a primary driver is drawn in the change-ideas column with its line passing
through the (empty) secondary column.

Every piece of user text is escaped here: the SVG is built as a string and put in the page
as markup. SVG does not wrap text, so text is wrapped by an estimate of character widths
and long texts are cut with "…" — the outline on the same page always has the full text,
and the picture says so in its accessible name (`role="img"`, `aria-label`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from fellowship.cycles.models import DriverKind

COLUMN_WIDTH = 200
COLUMN_GAP = 48
MARGIN = 8
HEADER_HEIGHT = 34
FONT_SIZE = 13
LINE_HEIGHT = 17
BOX_PADDING = 8
SIBLING_GAP = 10  # between boxes under the same parent
BRANCH_GAP = 22  # between primary drivers' bands
# Characters per line: the box's inner width over a generous average character width, so
# a line of wide letters still fits.
CHARS_PER_LINE = int((COLUMN_WIDTH - 2 * BOX_PADDING) / (FONT_SIZE * 0.53))
MAX_LINES = 8
MAX_AIM_LINES = 16

COLUMNS = (
    _l("Aim"),
    _l("Primary drivers"),
    _l("Secondary drivers"),
    _l("Change ideas"),
)
COLUMN_OF = {DriverKind.PRIMARY: 1, DriverKind.SECONDARY: 2, DriverKind.CHANGE_IDEA: 3}
# (fill, stroke, text) per column: the aim stands out; the kinds are also named by the
# column headings, so colour is never the only cue.
COLOURS = (
    ("#1a4480", "#1a4480", "#ffffff"),
    ("#d9e8f6", "#005ea2", "#1b1b1b"),
    ("#e7f6f8", "#00687d", "#1b1b1b"),
    ("#ecf3ec", "#4d8055", "#1b1b1b"),
)
FONT = "Source Sans Pro Web, Helvetica Neue, Helvetica, Roboto, Arial, sans-serif"
NO_AIM = _l("No aim written yet")
NO_DRIVERS = _l("No drivers yet")


class DiagramNode(Protocol):
    """What the picture needs of a driver (plan_queries.DriverNode has it)."""

    @property
    def text(self) -> str: ...

    @property
    def kind(self) -> DriverKind: ...

    @property
    def children(self) -> Sequence[DiagramNode]: ...


def wrap(text: str, *, width: int = CHARS_PER_LINE, max_lines: int = MAX_LINES) -> list[str]:
    """The text as lines of at most `width` characters, cut with "…" after `max_lines`."""
    lines = textwrap.wrap(" ".join(text.split()), width=width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


@dataclass
class _Box:
    column: int
    lines: list[str]
    children: list[_Box] = field(default_factory=list)
    x: float = 0
    y: float = 0  # top of the box

    @property
    def height(self) -> float:
        return len(self.lines) * LINE_HEIGHT + 2 * BOX_PADDING

    @property
    def middle(self) -> float:
        return self.y + self.height / 2

    def band(self) -> float:
        """The height this box and everything under it need."""
        if not self.children:
            return self.height
        below = sum(child.band() for child in self.children)
        below += SIBLING_GAP * (len(self.children) - 1)
        return max(self.height, below)

    def place(self, top: float) -> None:
        band = self.band()
        self.x = _column_x(self.column)
        self.y = top + (band - self.height) / 2
        below = sum(child.band() for child in self.children)
        below += SIBLING_GAP * (len(self.children) - 1)
        y = top + (band - below) / 2
        for child in self.children:
            child.place(y)
            y += child.band() + SIBLING_GAP


def _column_x(column: int) -> float:
    return MARGIN + column * (COLUMN_WIDTH + COLUMN_GAP)


def _box(node: DiagramNode) -> _Box:
    return _Box(
        column=COLUMN_OF.get(node.kind, 3),
        lines=wrap(node.text),
        children=[_box(child) for child in node.children],
    )


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _rect(box: _Box) -> str:
    fill, stroke, ink = COLOURS[box.column]
    text_x = box.x + BOX_PADDING
    first_baseline = box.y + BOX_PADDING + FONT_SIZE
    spans = "".join(
        f'<tspan x="{_number(text_x)}" y="{_number(first_baseline + i * LINE_HEIGHT)}">'
        f"{escape(line)}</tspan>"
        for i, line in enumerate(box.lines)
    )
    return (
        f'<rect x="{_number(box.x)}" y="{_number(box.y)}" width="{COLUMN_WIDTH}" '
        f'height="{_number(box.height)}" rx="4" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="1.5"/>'
        f'<text fill="{ink}">{spans}</text>'
    )


def _line(parent: _Box, child: _Box) -> str:
    x1 = parent.x + COLUMN_WIDTH
    x2 = child.x
    bend = x1 + COLUMN_GAP / 2
    return (
        f'<path d="M{_number(x1)} {_number(parent.middle)} H{_number(bend)} '
        f'V{_number(child.middle)} H{_number(x2)}" fill="none" stroke="#71767a" '
        f'stroke-width="1.5"/>'
    )


def _walk(box: _Box, parts: list[str], lines: list[str]) -> None:
    parts.append(_rect(box))
    for child in box.children:
        lines.append(_line(box, child))
        _walk(child, parts, lines)


def render(aim: str, primaries: Sequence[DiagramNode], *, label: str) -> Markup:
    """The diagram as inline SVG markup. `aim` is plain text; `label` is the picture's
    accessible name (say that the outline has the same content)."""
    aim_box = _Box(column=0, lines=wrap(aim or str(NO_AIM), max_lines=MAX_AIM_LINES))
    aim_box.children = [_box(node) for node in primaries]
    top = HEADER_HEIGHT + MARGIN
    drivers = sum(child.band() for child in aim_box.children)
    drivers += BRANCH_GAP * max(len(aim_box.children) - 1, 0)
    content = max(aim_box.height, drivers)
    aim_box.x = _column_x(0)
    aim_box.y = top + (content - aim_box.height) / 2
    y = top + (content - drivers) / 2
    for child in aim_box.children:
        child.place(y)
        y += child.band() + BRANCH_GAP
    width = 2 * MARGIN + 4 * COLUMN_WIDTH + 3 * COLUMN_GAP
    height = top + content + MARGIN

    boxes: list[str] = []
    connectors: list[str] = []
    _walk(aim_box, boxes, connectors)
    headings = "".join(
        f'<text x="{_number(_column_x(i) + COLUMN_WIDTH / 2)}" y="{HEADER_HEIGHT - 12}" '
        f'text-anchor="middle" font-weight="700" fill="#1b1b1b">{escape(str(title))}</text>'
        for i, title in enumerate(COLUMNS)
    )
    empty = ""
    if not primaries:
        empty = (
            f'<text x="{_number(_column_x(1) + 4)}" y="{_number(aim_box.middle + 4)}" '
            f'fill="#565c65" font-style="italic">{escape(str(NO_DRIVERS))}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plan-diagram-svg" '
        f'viewBox="0 0 {width} {_number(height)}" width="{width}" height="{_number(height)}" '
        f'role="img" aria-label="{escape(label)}" font-family="{FONT}" '
        f'font-size="{FONT_SIZE}"><title>{escape(label)}</title>'
        f"{headings}<g>{''.join(connectors)}</g><g>{''.join(boxes)}</g>{empty}</svg>"
    )
    return Markup(svg)  # noqa: S704 - every piece of text above is escaped
