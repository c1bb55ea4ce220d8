"""The portfolio for administrators: every cycle of a school year in one table (filter, sort,
export as CSV) and the year-over-year view. Read-only, except the audit row of an export.

The table is not paginated: 1,000 cycles render in well under the page-time bar (see
`scripts/bench_portfolio.py`). Per-row work is kept small: the link to a cycle is built once
and completed with each id, and dates and hours are formatted once per distinct value.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Response, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from fellowship import policy
from fellowship.curriculum.queries import local_today
from fellowship.cycles import bp
from fellowship.cycles import portfolio_queries as queries
from fellowship.cycles.portfolio_forms import (
    COLUMN_LABELS,
    REVIEW_LABELS,
    STAGE_LABELS,
    STATUS_LABELS,
    filter_form,
)
from fellowship.cycles.portfolio_services import record_portfolio_export
from fellowship.cycles.status import STALE_AFTER_DAYS
from fellowship.db import commit
from fellowship.web import format_number, require

# A number no cycle id reaches, swapped for each row's id in a link built once.
_ID_MARK = 2_147_483_000


@dataclass(frozen=True)
class SortColumn:
    key: str
    label: str
    href: str
    aria_sort: str | None  # "ascending" / "descending" on the sorted column only


def _today() -> date:
    return local_today(current_user.timezone)


def _memo(fn: Callable[[Any], str]) -> Callable[[Any], str]:
    """`fn` computed once per distinct value for this page (dates and hours repeat)."""
    seen: dict[Any, str] = {}

    def cached(value: Any) -> str:
        if value not in seen:
            seen[value] = fn(value)
        return seen[value]

    return cached


def link_maker(endpoint: str) -> Callable[[int], str]:
    """A function of a cycle id giving `url_for(endpoint, cycle_id=id)`, building the URL
    once instead of once per row."""
    pattern = url_for(endpoint, cycle_id=_ID_MARK)
    head, mark, tail = pattern.partition(str(_ID_MARK))
    if not mark:  # an odd URL rule: build each one
        return lambda cycle_id: url_for(endpoint, cycle_id=cycle_id)
    return lambda cycle_id: f"{head}{cycle_id}{tail}"


def _page_args(data: queries.Portfolio) -> dict[str, Any]:
    args: dict[str, Any] = dict(data.filters.as_args())
    if data.year is not None:
        args["year"] = data.year.label
    return args


def _sort_columns(data: queries.Portfolio) -> dict[str, SortColumn]:
    """One header link per column; choosing the sorted one again flips the direction."""
    args = _page_args(data)
    columns = {}
    for key in queries.SORT_KEYS:
        if key == data.sort:
            next_direction = "asc" if data.direction == "desc" else "desc"
            aria = "descending" if data.direction == "desc" else "ascending"
        else:
            next_direction, aria = queries.FIRST_DIRECTION[key], None
        href = url_for(
            "cycles.portfolio", **args, sort=key, dir=next_direction, _anchor="portfolio"
        )
        columns[key] = SortColumn(key, str(COLUMN_LABELS[key]), href, aria)
    return columns


def _labels(labels: dict[str, Any]) -> dict[str, str]:
    """Labels translated once per page rather than once per row."""
    return {key: str(label) for key, label in labels.items()}


@dataclass(frozen=True, slots=True)
class ShownRow:
    """A portfolio row with its texts ready: the template prints, it does not compute (a
    call from a template costs far more than the same call here, times a thousand rows)."""

    row: queries.PortfolioRow
    href: str
    counts: Markup  # the status count cells, numbers only
    kind: str  # "Pilot · Magnet: STEM"
    last: str  # the last measurement's date, or "None yet"
    hours: str
    review: str


# A status count cell (whole numbers only, nothing to escape); zeros are greyed.
_COUNT_CELLS = {
    True: '<td class="portfolio-count">%d</td>',
    False: '<td class="portfolio-count portfolio-count--zero">%d</td>',
}


def shown_rows(data: queries.Portfolio) -> list[ShownRow]:
    cycle_href = link_maker("cycles.show")
    day = _memo(lambda value: format_date(value, "medium"))
    hours = _memo(lambda value: format_number(value, 1))
    reviews = _labels(REVIEW_LABELS)
    pilot, magnet, neither, none_yet = _("Pilot"), _("Magnet"), _("Neither"), _("None yet")
    kinds: dict[tuple[bool, bool, str], str] = {}
    shown = []
    for row in data.rows:
        key = (row.is_pilot, row.is_magnet, row.magnet_theme)
        if key not in kinds:
            parts = [pilot] if row.is_pilot else []
            if row.is_magnet:
                theme = row.magnet_theme
                parts.append(_("Magnet: %(theme)s", theme=theme) if theme else magnet)
            kinds[key] = " · ".join(parts) or neither
        review = reviews[row.review.state]
        if row.review.state == "scheduled" and row.review.scheduled_for:
            review = _("Scheduled: %(date)s", date=day(row.review.scheduled_for))
        shown.append(
            ShownRow(
                row=row,
                href=cycle_href(row.cycle_id),
                # Whole numbers in fixed markup: nothing to escape.
                counts=Markup("".join([_COUNT_CELLS[bool(n)] % n for n in row.counts])),  # noqa: S704
                kind=kinds[key],
                last=day(row.last_measured_on) if row.last_measured_on else none_yet,
                hours=hours(row.support_hours),
                review=review,
            )
        )
    return shown


@bp.route("/portfolio/")
@login_required
def portfolio() -> Any:
    require(policy.can_view_portfolio(current_user))
    data = queries.portfolio(request.args, _today())
    form = filter_form(data.years, data.year, data.regions, data.filters, data.sort, data.direction)
    return render_template(
        "cycles/portfolio_index.html",
        data=data,
        form=form,
        columns=_sort_columns(data),
        csv_href=url_for(
            "cycles.portfolio_csv", **_page_args(data), sort=data.sort, dir=data.direction
        ),
        rows=shown_rows(data),
        hours_total=format_number(data.hours_total, 1),
        stale_days=STALE_AFTER_DAYS,
        status_keys=[status.value for status in queries.STATUS_ORDER],
        status_labels=_labels(STATUS_LABELS),
        stage_labels=_labels(STAGE_LABELS),
    )


# CSV -------------------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a
    leading apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def csv_rows(data: queries.Portfolio) -> list[list[str]]:
    """The header and one line per row of the page, in the page's order."""
    stages = _labels(STAGE_LABELS)
    reviews = _labels(REVIEW_LABELS)
    yes, no = _("yes"), _("no")
    header = [
        _("School"),
        _("State code"),
        _("Pilot"),
        _("Magnet"),
        _("Magnet theme"),
        _("Region"),
        _("Stage"),
        _("Goals"),
        *(str(STATUS_LABELS[status.value]) for status in queries.STATUS_ORDER),
        _("Last measurement"),
        _("Stale"),
        _("Support hours"),
        _("Goals review"),
        _("Review date"),
    ]
    lines = [header]
    for row in data.rows:
        lines.append(
            [
                row.school,
                row.code,
                yes if row.is_pilot else no,
                yes if row.is_magnet else no,
                row.magnet_theme,
                row.region,
                stages[row.stage.value],
                str(row.goals),
                *(str(count) for count in row.counts),
                row.last_measured_on.isoformat() if row.last_measured_on else "",
                yes if row.stale else no,
                f"{row.support_hours:g}",
                reviews[row.review.state],
                row.review.scheduled_for.isoformat() if row.review.scheduled_for else "",
            ]
        )
    return [[csv_cell(cell) for cell in line] for line in lines]


@bp.route("/portfolio/export.csv")
@login_required
def portfolio_csv() -> Any:
    require(policy.can_view_portfolio(current_user))
    data = queries.portfolio(request.args, _today())
    # An export of every school's figures is audited (the one write of this GET).
    record_portfolio_export(current_user, data)
    commit()
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv_rows(data))
    name = f"portfolio-{data.year.label if data.year else 'none'}.csv"
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"  # every school's figures
    return response


# Year over year ----------------------------------------------------------------------------

_CHART_WIDTH = 420  # SVG units; the chart scales to its box (so text stays readable on a phone)
_CHART_BAR_AREA = 200  # the tallest bar, in SVG units
_CHART_TOP = 24  # room for the value above a bar
_CHART_BOTTOM = 28  # room for the year under it


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


def chart_bars(figures: list[queries.YearFigures]) -> list[Bar]:
    """Bars of schools (cycles) per year, oldest on the left, scaled to the tallest."""
    if not figures:
        return []
    tallest = max(entry.cycles for entry in figures) or 1
    slot = _CHART_WIDTH / len(figures)
    width = min(slot * 0.6, 80)
    bars = []
    for i, entry in enumerate(figures):
        height = _CHART_BAR_AREA * entry.cycles / tallest
        bars.append(
            Bar(
                label=entry.year.label,
                value=entry.cycles,
                x=round(i * slot + (slot - width) / 2, 1),
                y=round(_CHART_TOP + _CHART_BAR_AREA - height, 1),
                width=round(width, 1),
                height=round(height, 1),
            )
        )
    return bars


@bp.route("/portfolio/years")
@login_required
def portfolio_years() -> Any:
    require(policy.can_view_portfolio(current_user))
    figures = queries.years_overview(_today())
    return render_template(
        "cycles/portfolio_years.html",
        figures=figures,
        bars=chart_bars(figures),
        chart={
            "width": _CHART_WIDTH,
            "height": _CHART_TOP + _CHART_BAR_AREA + _CHART_BOTTOM,
            "base": _CHART_TOP + _CHART_BAR_AREA,
        },
    )
