"""The goals review packet as a printable PDF (reportlab platypus).

It prints the same plain-data record the review page shows (`review_queries.meeting_record`
or a frozen review's snapshot): the packet, the meeting record and the signatures. It knows
nothing of Flask or the database: the caller passes the reader's words (`PdfText.labels`,
already translated), the labels of stored values, and how to write dates and numbers in the
reader's locale. Everything user-written goes through `_esc` before it reaches reportlab's
paragraph mini-markup, and Markdown is printed as plain paragraphs.

The Bitstream Vera fonts shipped with reportlab are embedded, so Spanish accents and curly
quotes print as typed (the standard PDF fonts cannot).
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.shapes import Drawing, Line, PolyLine
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

FONT = "Vera"
FONT_BOLD = "Vera-Bold"
_FONT_FILES = {
    "Vera": "Vera.ttf",
    "Vera-Bold": "VeraBd.ttf",
    "Vera-Italic": "VeraIt.ttf",
    "Vera-BoldItalic": "VeraBI.ttf",
}
_fonts_lock = threading.Lock()

INK = colors.HexColor("#1b1b1b")
MUTED = colors.HexColor("#565c65")
RULE = colors.HexColor("#a9aeb1")
HEAD_FILL = colors.HexColor("#dfe1e2")
ACCENT = colors.HexColor("#005ea2")

PAGE_WIDTH, PAGE_HEIGHT = LETTER
MARGIN = 0.75 * inch
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN


def register_fonts() -> None:
    """Register the Vera family once per process."""
    with _fonts_lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return
        folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
        for name, filename in _FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, os.path.join(folder, filename)))
        registerFontFamily(
            FONT, normal=FONT, bold=FONT_BOLD, italic="Vera-Italic", boldItalic="Vera-BoldItalic"
        )


@dataclass(frozen=True)
class PdfText:
    """The reader's words: fixed texts (`labels`), labels of stored values (`values`, e.g.
    `values["rating"]["met"]`), and formatters for ISO dates, ISO times and numbers."""

    labels: Mapping[str, str]
    values: Mapping[str, Mapping[str, Any]]
    day: Callable[[str | None], str]
    moment: Callable[[str | None], str]
    number: Callable[[float | int | None], str]

    def __getitem__(self, key: str) -> str:
        return str(self.labels.get(key, key))

    def value(self, kind: str, key: Any) -> str:
        if key is None:
            return ""
        return str(self.values.get(kind, {}).get(str(key), key))


def _esc(value: Any) -> str:
    """Text for reportlab's paragraph markup: &, < and > escaped, line breaks kept."""
    return escape(str(value if value is not None else "")).replace("\n", "<br/>")


_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![*\w])([*_])(?=\S)(.+?)(?<=\S)\1(?![*\w])")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)


def plain_markdown(text: str | None) -> list[str]:
    """Markdown as plain paragraphs (blank lines separate them): heading marks and the
    asterisks of bold and italic dropped, everything else as typed. Not escaped."""
    source = _HEADING.sub("", (text or "").replace("\r\n", "\n"))
    source = _EMPHASIS.sub(r"\2", _STRONG.sub(r"\2", source))
    blocks = [block.strip() for block in source.split("\n\n")]
    return [block for block in blocks if block]


def markdown_paragraphs(text: str | None) -> list[str]:
    """`plain_markdown`, escaped for reportlab's paragraph markup."""
    return [_esc(block) for block in plain_markdown(text)]


def sparkline_points(
    values: Sequence[float], width: float, height: float, pad: float = 1.5
) -> list[tuple[float, float]]:
    """Points of a small line through `values`, left to right, scaled into the box (y up)."""
    if not values:
        return []
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    return [
        (round(pad + i * step, 2), round(pad + (v - low) / span * (height - 2 * pad), 2))
        for i, v in enumerate(values)
    ]


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=12.5, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11),
        "muted": ParagraphStyle("muted", parent=base, fontSize=8.5, leading=11, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("head", parent=base, fontName=FONT_BOLD, fontSize=8.5, leading=10.5),
        "headnum": ParagraphStyle(
            "headnum",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=8.5,
            leading=10.5,
            alignment=TA_RIGHT,
        ),
        "num": ParagraphStyle("num", parent=base, fontSize=8.5, leading=10.5, alignment=TA_RIGHT),
        "h1": ParagraphStyle(
            "h1", parent=base, fontName=FONT_BOLD, fontSize=18, leading=22, spaceAfter=4
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=13,
            leading=16,
            spaceBefore=12,
            spaceAfter=5,
            textColor=ACCENT,
            keepWithNext=1,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName=FONT_BOLD,
            fontSize=10.5,
            leading=13,
            spaceBefore=8,
            keepWithNext=1,
        ),
    }


class _Builder:
    def __init__(self, record: Mapping[str, Any], text: PdfText) -> None:
        self.record = record
        self.packet: Mapping[str, Any] = record.get("packet") or {}
        self.t = text
        self.s = _styles()
        self.story: list[Flowable] = []

    # Small pieces ---------------------------------------------------------------------------

    def p(self, markup: str, style: str = "body") -> Paragraph:
        return Paragraph(markup, self.s[style])

    def para(self, value: Any, style: str = "body") -> Paragraph:
        return self.p(_esc(value), style)

    def cell(self, value: Any, style: str = "cell") -> Any:
        """What a table cell holds: a flowable as it is, a list as one paragraph per item
        (so a cell taller than a page splits between paragraphs cheaply), else a paragraph."""
        if isinstance(value, Flowable):
            return value
        if isinstance(value, list):
            return [self.cell(item, style) for item in value] or self.para("—", style)
        return self.para(value, style)

    def add(self, *flowables: Flowable) -> None:
        self.story.extend(flowables)

    def heading(self, label_key: str, level: str = "h2") -> None:
        self.add(self.para(self.t[label_key], level))

    def markdown(self, text: str | None, empty: str | None = None) -> None:
        blocks = markdown_paragraphs(text)
        if not blocks and empty:
            self.add(self.para(empty, "muted"))
        for block in blocks:
            self.add(self.p(block), Spacer(1, 3))

    def blocks(self, text: str | None) -> list[Any]:
        """Markdown for a table cell: its paragraphs with a little space between, or "—"."""
        found: list[Any] = []
        for block in plain_markdown(text):
            if found:
                found.append(Spacer(1, 4))
            found.append(block)
        return found or ["—"]

    def amount(self, value: Any, unit: str = "") -> str:
        if value is None:
            return "—"
        return f"{self.t.number(value)} {unit}".strip()

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float],
        numeric: Sequence[int] = (),
    ) -> Table:
        """A table with a repeated header row; strings become wrapping paragraphs."""

        def cell(value: Any, index: int) -> Any:
            return self.cell(value, "num" if index in numeric else "cell")

        data = [[self.para(h, "headnum" if i in numeric else "head") for i, h in enumerate(header)]]
        data += [[cell(value, i) for i, value in enumerate(row)] for row in rows]
        table = Table(data, colWidths=list(widths), repeatRows=1, hAlign="LEFT", splitInRow=1)
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 4),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return table

    def facts(self, pairs: Sequence[tuple[str, Any]]) -> Table:
        data = [[self.para(label, "head"), self.cell(value)] for label, value in pairs]
        table = Table(
            data,
            colWidths=[1.7 * inch, CONTENT_WIDTH - 1.7 * inch],
            hAlign="LEFT",
            splitInRow=1,
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                    ("LEFTPADDING", (0, 0), (-1, -1), 4),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return table

    def sparkline(self, goal: Mapping[str, Any]) -> Drawing | None:
        values = [float(m["value"]) for m in goal.get("measurements") or []]
        baseline = (goal.get("baseline") or {}).get("value")
        if baseline is not None:
            values = [float(baseline), *values]
        if len(values) < 2:
            return None
        width, height = 90.0, 22.0
        target = goal.get("target")
        scale = [*values, float(target)] if target is not None else values
        points = sparkline_points(scale, width, height)[: len(values)]
        drawing = Drawing(width, height)
        if target is not None:
            target_y = sparkline_points(scale, width, height)[-1][1]
            drawing.add(
                Line(0, target_y, width, target_y, strokeColor=RULE, strokeDashArray=[2, 2])
            )
        flat = [coordinate for point in points for coordinate in point]
        drawing.add(PolyLine(flat, strokeColor=ACCENT, strokeWidth=1.2))
        return drawing

    # Sections ---------------------------------------------------------------------------------

    def title(self) -> None:
        t = self.t
        self.add(self.para(t["heading"], "h1"))
        self.add(self.para(t["subheading"], "muted"))
        self.add(self.para(t["state_note"], "small"), Spacer(1, 6))
        meeting = self.record.get("meeting") or {}
        participants = meeting.get("participants") or []
        self.add(
            self.facts(
                [
                    (t["meeting_date"], t.day(meeting.get("scheduled_for")) or "—"),
                    (t["location"], meeting.get("location") or "—"),
                    (t["participants"], [str(name) for name in participants] or "—"),
                ]
            )
        )

    def school(self) -> None:
        t = self.t
        school = self.packet.get("school") or {}
        initiative = self.packet.get("initiative") or {}
        self.heading("school_section")
        yes, no = t["yes"], t["no"]
        self.add(
            self.facts(
                [
                    (t["school"], school.get("name", "")),
                    (t["code"], school.get("code", "")),
                    (t["school_year"], (self.packet.get("year") or {}).get("label", "")),
                    (t["pilot"], yes if school.get("pilot") else no),
                    (t["magnet"], yes if school.get("magnet") else no),
                    (t["theme"], school.get("theme") or "—"),
                ]
            )
        )
        self.heading("initiative")
        self.add(self.para(initiative.get("title") or t["no_title"], "h3"))
        self.add(self.para(t["challenge"], "h3"))
        self.markdown(initiative.get("challenge_md"), t["not_written"])
        self.add(self.para(t["aim"], "h3"))
        self.markdown(initiative.get("aim_md"), t["not_written"])

    def goal_status(self, goal: Mapping[str, Any]) -> str:
        t = self.t
        status = t.value("goal_status", goal.get("status"))
        override = goal.get("override")
        if override:
            computed = t.value("goal_status", goal.get("computed"))
            return f"{status} ({t['set_by_hand']}; {t['rule_says']}: {computed})"
        return status

    def goals(self) -> None:
        t = self.t
        goals = self.packet.get("goals") or []
        self.heading("goals")
        if not goals:
            self.add(self.para(t["no_goals"], "muted"))
            return
        rows = []
        for goal in goals:
            unit = goal.get("unit") or ""
            baseline = goal.get("baseline") or {}
            latest = goal.get("latest")
            change = goal.get("change")
            sign = "+" if isinstance(change, int | float) and change > 0 else ""
            rows.append(
                [
                    goal.get("title", ""),
                    f"{self.amount(baseline.get('value'), unit)}\n{t.day(baseline.get('on'))}",
                    self.amount(goal.get("target"), unit),
                    (
                        f"{self.amount(latest.get('value'), unit)}\n{t.day(latest.get('on'))}"
                        if latest
                        else t["no_measurement"]
                    ),
                    f"{sign}{self.amount(change, unit)}" if change is not None else "—",
                    self.goal_status(goal),
                ]
            )
        widths = [x * inch for x in (1.9, 0.95, 0.7, 0.95, 0.7, 1.8)]
        self.add(
            self.table(
                [t["goal"], t["baseline"], t["target"], t["latest"], t["change"], t["status"]],
                rows,
                widths,
            )
        )
        for goal in goals:
            self.goal_details(goal)

    def goal_details(self, goal: Mapping[str, Any]) -> None:
        t = self.t
        unit = goal.get("unit") or ""
        parts: list[Flowable] = [self.para(goal.get("title", ""), "h3")]
        trend = t.value("trend", goal.get("trend")) if goal.get("trend") else t["no_measurement"]
        facts = [
            (t["metric"], goal.get("metric", "")),
            (t["category"], t.value("category", goal.get("category"))),
            (t["direction"], t.value("direction", goal.get("direction"))),
            (t["due"], t.day(goal.get("due_on")) or t["end_of_year"]),
            (t["status"], self.goal_status(goal)),
            (t["trend"], trend),
        ]
        override = goal.get("override")
        if override:
            facts.append((t["override_reason"], override.get("reason") or "—"))
        parts.append(self.facts(facts))
        measurements = goal.get("measurements") or []
        if measurements:
            line = self.sparkline(goal)
            baseline = goal.get("baseline") or {}
            rows = [
                [
                    f"{t.day(baseline.get('on'))} ({t['baseline_row']})",
                    self.amount(baseline.get("value"), unit),
                ],
                *([t.day(m.get("on")), self.amount(m.get("value"), unit)] for m in measurements),
            ]
            table = self.table(
                [t["date"], t["value"]], rows, [1.6 * inch, 1.1 * inch], numeric=(1,)
            )
            if line is not None:
                holder = Table(
                    [[table, line]],
                    colWidths=[2.8 * inch, CONTENT_WIDTH - 2.8 * inch],
                    hAlign="LEFT",
                    splitInRow=1,
                )
                holder.setStyle(
                    TableStyle(
                        [
                            ("VALIGN", (0, 0), (-1, -1), "TOP"),
                            ("LEFTPADDING", (0, 0), (-1, -1), 0),
                            ("TOPPADDING", (0, 0), (-1, -1), 4),
                        ]
                    )
                )
                parts.append(holder)
            else:
                parts.extend([Spacer(1, 4), table])
        else:
            parts.append(self.para(t["no_measurements"], "muted"))
        self.add(KeepTogether(parts))

    def support(self) -> None:
        t = self.t
        support = self.packet.get("support") or {}
        self.heading("support")
        by_kind = support.get("by_kind") or []
        rows: list[list[Any]] = [
            [
                t.value("support_kind", k.get("kind")),
                t.number(k.get("hours") or 0),
                k.get("activities", 0),
            ]
            for k in by_kind
        ]
        rows.append(
            [
                self.p(f"<b>{_esc(t['total'])}</b>", "cell"),
                self.p(f"<b>{_esc(t.number(support.get('total_hours') or 0))}</b>", "num"),
                self.p(f"<b>{_esc(support.get('activities') or 0)}</b>", "num"),
            ]
        )
        widths = [2.6 * inch, 1.0 * inch, 1.0 * inch]
        self.add(self.table([t["kind"], t["hours"], t["activities"]], rows, widths, numeric=(1, 2)))
        partners = support.get("by_partner") or []
        if partners:
            self.add(self.para(t["by_partner"], "h3"), Spacer(1, 3))
            rows = []
            for partner in partners:
                name = partner.get("name") or ""
                organisation = partner.get("organisation") or ""
                who = f"{name} ({organisation})" if name and organisation else name or organisation
                rows.append([who or t["not_recorded"], t.number(partner.get("hours") or 0)])
            self.add(self.table([t["partner"], t["hours"]], rows, [3.6 * inch, 1.0 * inch], (1,)))

    def tests(self) -> None:
        t = self.t
        tests = self.packet.get("tests") or []
        self.heading("tests")
        if not tests:
            self.add(self.para(t["no_tests"], "muted"))
            return
        rows = []
        for test in tests:
            started, ended = t.day(test.get("started_on")), t.day(test.get("ended_on"))
            dates = f"{started} – {ended}" if started and ended else started or ended or "—"
            decision = test.get("decision")
            rows.append(
                [
                    test.get("title", ""),
                    test.get("change_idea") or "—",
                    t.value("decision", decision) if decision else t["no_decision"],
                    dates,
                ]
            )
        widths = [x * inch for x in (2.0, 2.3, 1.0, 1.7)]
        self.add(self.table([t["test"], t["change_idea"], t["decision"], t["dates"]], rows, widths))

    def engagement(self) -> None:
        t = self.t
        sessions = self.packet.get("engagement") or []
        self.heading("engagement")
        if not sessions:
            self.add(self.para(t["no_engagement"], "muted"))
            return
        rows = [
            [
                t.day(s.get("held_on")),
                t.value("group", s.get("group")),
                s.get("participants", 0),
                self.blocks(s.get("heard_md")),
                self.blocks(s.get("changed_md")),
            ]
            for s in sessions
        ]
        widths = [x * inch for x in (0.95, 0.95, 1.0, 2.05, 2.05)]
        self.add(
            self.table(
                [t["date"], t["group"], t["participants"], t["heard"], t["changed"]],
                rows,
                widths,
                numeric=(2,),
            )
        )

    def integration(self) -> None:
        self.heading("integration")
        data = self.packet.get("integration")
        if not data:
            self.add(self.para(self.t["integration_note"], "muted"))
            return
        from fellowship.integration.packet import packet_view

        view = packet_view(data)
        self.add(self.para(self.t["integration_intro"] % view, "muted"), Spacer(1, 3))
        labels = [label for label, _text in view["composition"]]
        texts = [text for _label, text in view["composition"]]
        width = 7.0 * inch / len(labels)
        numeric = tuple(range(len(labels)))
        self.add(self.table(labels, [texts], [width] * len(labels), numeric), Spacer(1, 6))
        rows = [[label, text] for label, text in view["indicators"]]
        self.add(
            self.table([self.t["indicator"], self.t["figure"]], rows, [3.6 * inch, 3.4 * inch])
        )

    def meeting_record(self) -> None:
        t = self.t
        self.heading("meeting_record")
        self.add(self.para(t["ratings"], "h3"), Spacer(1, 3))
        goals = self.packet.get("goals") or []
        ratings = {r.get("goal_id"): r for r in self.record.get("ratings") or []}
        if goals:
            rows = []
            for goal in goals:
                rating = ratings.get(goal.get("id"))
                rows.append(
                    [
                        goal.get("title", ""),
                        t.value("rating", rating.get("rating")) if rating else t["not_rated"],
                        (rating.get("comment") if rating else "") or "—",
                    ]
                )
            widths = [x * inch for x in (2.4, 1.1, 3.5)]
            self.add(self.table([t["goal"], t["rating"], t["comment"]], rows, widths))
        else:
            self.add(self.para(t["no_goals"], "muted"))
        self.add(self.para(t["notes"], "h3"))
        self.markdown(self.record.get("notes_md"), t["no_notes"])
        self.add(self.para(t["next_goals"], "h3"), Spacer(1, 3))
        proposed = self.record.get("next_goals") or []
        if not proposed:
            self.add(self.para(t["no_next_goals"], "muted"))
            return
        rows = []
        for goal in proposed:
            unit = goal.get("unit") or ""
            title = goal.get("title", "")
            continues = goal.get("continues")
            if continues:
                title = f"{title}\n{t['continues']}: {continues.get('title', '')}"
            baseline = goal.get("baseline")
            if baseline:
                text = f"{self.amount(baseline.get('value'), unit)}\n{t.day(baseline.get('on'))}"
                if baseline.get("from_goal"):
                    text += f"\n({t['baseline_from_goal']})"
            else:
                text = "—"
            rows.append(
                [
                    title,
                    f"{goal.get('metric', '')}\n{t.value('category', goal.get('category'))}",
                    text,
                    f"{self.amount(goal.get('target'), unit)}\n"
                    f"{t.value('direction', goal.get('direction'))}",
                    t.day(goal.get("due_on")) or t["end_of_next_year"],
                ]
            )
        widths = [x * inch for x in (1.9, 1.9, 1.2, 1.0, 1.0)]
        self.add(
            self.table([t["goal"], t["metric"], t["baseline"], t["target"], t["due"]], rows, widths)
        )

    def signatures(self) -> None:
        t = self.t
        self.heading("signatures")
        signed = self.record.get("signed") or {}
        rows = []
        for side, label in (("lead", t["lead_signature"]), ("staff", t["staff_signature"])):
            entry = signed.get(side)
            if entry:
                rows.append([label, entry.get("name", ""), t.moment(entry.get("at"))])
            else:
                rows.append([label, t["not_signed"], "—"])
        widths = [x * inch for x in (2.0, 2.6, 2.4)]
        self.add(self.table([t["side"], t["name"], t["signed_at"]], rows, widths))

    def build(self) -> list[Flowable]:
        self.title()
        self.school()
        self.goals()
        self.support()
        self.tests()
        self.engagement()
        self.integration()
        self.meeting_record()
        self.signatures()
        return self.story


def fit_line(text: str, width: float, font: str = FONT, size: float = 8) -> str:
    """`text` cut to fit on one line `width` wide (an ellipsis where it was cut): the page
    header is drawn, not wrapped, so a very long school name must not run off the page."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if pdfmetrics.stringWidth(text[:middle] + "…", font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


def _canvas_class(header: str, page_label: str) -> type[canvas.Canvas]:
    """A canvas that writes the header (school and year) and "Page n of m" on every page,
    once the number of pages is known."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            self.saveState()
            self.setFont(FONT, 8)
            self.setFillColor(MUTED)
            self.drawString(MARGIN, PAGE_HEIGHT - 0.5 * inch, fit_line(header, CONTENT_WIDTH))
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(
                MARGIN, PAGE_HEIGHT - 0.55 * inch, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 0.55 * inch
            )
            label = page_label % {"page": self._pageNumber, "pages": total}
            self.drawRightString(PAGE_WIDTH - MARGIN, 0.45 * inch, label)
            self.restoreState()

    return NumberedCanvas


def render_packet_pdf(
    record: Mapping[str, Any], text: PdfText, *, page_compression: int = 1
) -> bytes:
    """The PDF of a review record (`meeting_record` shape). `text.labels` holds "header"
    (school and year, on every page) and "page" ("Page %(page)d of %(pages)d") among the
    section names. `page_compression=0` leaves the page streams readable (tests)."""
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=0.8 * inch,
        bottomMargin=0.75 * inch,
        title=text["heading"],
        author=text["header"],
        pageCompression=page_compression,
        invariant=1,
    )
    story = _Builder(record, text).build()
    doc.build(story, canvasmaker=_canvas_class(text["header"], text["page"]))
    return buffer.getvalue()
