"""Integration pages: the district dashboard, a school's page, the indicators CSV and the
federal-report table (page and CSV). Read-only, except the audit row of an export and the
figures store (a derived cache, see below).

Every figure comes from the figures store (`figures`: computed once by `report`, published
through `suppression`, kept in the database), and is written by `display` — so a page and its
CSV show the same text for the same cell. The CSV files are built from the same rows as the
pages (`indicator_rows`, `federal_tables`). Reading the store may compute and store a year's
figures that are out of date: a page then commits them (see `figures`). The dashboard's list of
schools and the federal table show 100 schools a page; the CSV files have every school.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from fellowship import policy
from fellowship.cycles.models import School
from fellowship.db import commit
from fellowship.integration import bp, display, figures, queries, report
from fellowship.integration.charts import Series, line_chart
from fellowship.integration.dashboard_forms import year_form
from fellowship.integration.export_services import (
    FEDERAL_EXPORTED,
    INDICATORS_EXPORTED,
    record_export,
)
from fellowship.integration.figures import DistrictFigures, ObjectiveLine, SchoolFigures
from fellowship.integration.import_forms import MEASURE_LABELS
from fellowship.integration.models import RACE_GROUPS, Measure, ObjectiveKind
from fellowship.integration.objective_forms import KIND_LABELS
from fellowship.integration.queries import SchoolRow, SettingsView, YearRow
from fellowship.integration.settings_forms import RACE_GROUP_LABELS
from fellowship.web import format_number, get_or_404, page_arg, require

STATUS_LABELS = {
    report.ISOLATED: _l("Isolated"),
    report.WATCH: _l("Watch band"),
    report.NEITHER: _l("Neither"),
    report.NO_DATA: _l("No data"),
}
STATUS_HINTS = {
    report.ISOLATED: _l("More than half the students of known race or ethnicity are minority."),
    report.WATCH: _l("A minority share from 20% to 50% that rose since last year."),
    report.NEITHER: _l("Neither isolated nor in the watch band."),
    report.NO_DATA: _l("No enrollment counts by race or ethnicity for this year."),
}
# The indices, in the order every output lists them, with the attribute of `Indices`.
INDEX_KEYS = ("dissimilarity", "exposure", "isolation", "separation", "theil_h")
INDEX_LABELS = {
    "share": _l("Share P"),
    "dissimilarity": _l("Dissimilarity D"),
    "exposure": _l("Exposure"),
    "isolation": _l("Isolation"),
    "separation": _l("Separation"),
    "theil_h": _l("Theil's H"),
}

# The per-school indicator columns: (attribute of SchoolFigures, label, writer of its code).
Writer = Callable[..., str]
INDICATOR_COLUMNS: tuple[tuple[str, Any, Writer], ...] = (
    ("p", _l("Minority share p"), display.percent_text),
    ("gap", _l("Gap to district (points)"), display.points_text),
    ("change", _l("Change since last year (points)"), display.points_text),
    ("applicants", _l("Applicants' minority share a"), display.percent_text),
    ("new_enrollees", _l("New enrollees' minority share"), display.percent_text),
    ("low_income", _l("Low-income share"), display.percent_text),
    ("low_income_gap", _l("Low-income gap to district (points)"), display.points_text),
)
STATUS_ARG = "status"  # the dashboard's filter of its list of schools


def _chosen_year(years: Sequence[YearRow]) -> tuple[YearRow | None, str | None]:
    """`?year=` when it has counts, else the latest year with counts (and a message when a
    year was asked for and has none)."""
    latest = years[-1] if years else None
    asked = (request.args.get("year") or "").strip()
    if not asked:
        return latest, None
    found = next((year for year in years if year.label == asked), None)
    if found is not None:
        return found, None
    return latest, _(
        "There are no enrollment counts for the school year “%(year)s”.", year=asked[:20]
    )


def _year_or_404(years: Sequence[YearRow]) -> YearRow:
    from flask import abort

    year, problem = _chosen_year(years)
    if year is None or problem is not None:
        abort(404)
    return year


def minority_text(settings: SettingsView | None = None) -> str:
    groups = (settings or figures.settings()).minority
    return ", ".join(str(RACE_GROUP_LABELS[group.value]) for group in groups)


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def met_text(met: bool | None) -> str:
    """Whether an objective was met (its own words: "objetivo" is masculine in Spanish)."""
    if met is None:
        return pgettext("objective", "Not judged")
    return pgettext("objective", "Met") if met else pgettext("objective", "Not met")


def _kind_text(row: SchoolRow) -> str:
    parts = []
    if row.is_magnet:
        parts.append(_("Magnet"))
    if row.is_pilot:
        parts.append(_("Pilot"))
    return " · ".join(parts)


# The indicators: one row per school, the same texts on the page and in the CSV -------------


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    row: SchoolFigures
    cells: tuple[str, ...]  # INDICATOR_COLUMNS, written
    objective: str  # the kind of objective in force, or ""
    met: str  # met / not met / not judged, or "" without an objective


def indicator_rows(
    schools: Sequence[SchoolFigures], threshold: int, *, csv: bool = False
) -> list[IndicatorRow]:
    kinds = {key: str(label) for key, label in KIND_LABELS.items()}
    met_texts = {value: met_text(value) for value in (True, False, None)}
    rows = []
    for row in schools:
        cells = tuple(
            writer(getattr(row, key), threshold, csv=csv)
            for key, _label, writer in INDICATOR_COLUMNS
        )
        rows.append(
            IndicatorRow(
                row=row,
                cells=cells,
                objective=kinds[row.objective.kind.value] if row.objective else "",
                met=met_texts[row.met] if row.objective else "",
            )
        )
    return rows


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """Text a spreadsheet will not run (names and codes typed by people)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def indicators_csv_lines(
    data: DistrictFigures, schools: Sequence[SchoolFigures]
) -> list[list[str]]:
    header = [
        _("School year"),
        _("State code"),
        _("School"),
        _("Magnet"),
        _("Pilot"),
        _("Status"),
        _("Isolated"),
        _("Watch band"),
        *(
            f"{label} (%)" if writer is display.percent_text else str(label)
            for _key, label, writer in INDICATOR_COLUMNS
        ),
        _("Objective"),
        _("Objective met"),
        _("Minority groups"),
        _("Small-cell threshold N"),
    ]
    statuses = {key: str(label) for key, label in STATUS_LABELS.items()}
    groups = minority_text(data.settings)
    threshold = str(data.settings.threshold)
    yes_no = {value: _yes_no(value) for value in (True, False)}
    lines = [header]
    for shown in indicator_rows(schools, data.settings.threshold, csv=True):
        school = shown.row.school
        lines.append(
            [
                data.year.label,
                csv_cell(school.code),
                csv_cell(school.name),
                yes_no[school.is_magnet],
                yes_no[school.is_pilot],
                statuses[shown.row.status],
                yes_no[shown.row.isolated],
                yes_no[shown.row.watch],
                *shown.cells,
                shown.objective,
                shown.met,
                groups,
                threshold,
            ]
        )
    return lines


def _csv_response(lines: list[list[str]], name: str) -> Response:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Charts --------------------------------------------------------------------------------------


def _index_chart(series: list[DistrictFigures], dimension: str, description: str) -> Markup:
    labels = [entry.year.label for entry in series]
    lines = [
        Series(
            label=str(INDEX_LABELS[key]),
            values=[getattr(getattr(entry, dimension), key) for entry in series],
        )
        for key in INDEX_KEYS
    ]
    return line_chart(labels, lines, description=description, value_text=display.index)


def _meeting_chart(series: list[DistrictFigures]) -> Markup:
    labels = [entry.year.label for entry in series]
    line = Series(label=_("Share meeting"), values=[entry.meeting.share for entry in series])
    return line_chart(
        labels,
        [line],
        description=_(
            "Share of magnet schools meeting their integration objective, per school year. "
            "The table below has the same figures."
        ),
        value_text=lambda value: display.share_of(value),
    )


def _link_maker(endpoint: str) -> Callable[[int], str]:
    """`url_for(endpoint, school_id=id)` built once, completed with each id."""
    mark = 2_147_483_000
    head, found, tail = url_for(endpoint, school_id=mark).partition(str(mark))
    if not found:
        return lambda school_id: url_for(endpoint, school_id=school_id)
    return lambda school_id: f"{head}{school_id}{tail}"


# The dashboard -------------------------------------------------------------------------------


def row_writer(school_href: Callable[[int], str]) -> Callable[[IndicatorRow], Markup]:
    """A school's row of the status tables as markup, built here rather than in the template
    (one row per school of the page)."""
    kinds: dict[tuple[bool, bool], str] = {}

    def write(shown: IndicatorRow) -> Markup:
        school = shown.row.school
        key = (school.is_magnet, school.is_pilot)
        if key not in kinds:
            kinds[key] = str(escape(_kind_text(school)))
        cells = "".join(f'<td class="integration-num">{escape(cell)}</td>' for cell in shown.cells)
        return Markup(  # noqa: S704 - every piece of text is escaped
            f'<tr data-school="{escape(school.code)}"><th scope="row"><a class="usa-link" '
            f'href="{escape(school_href(school.id))}">{escape(school.name)}</a></th>'
            f"<td>{kinds[key]}</td>{cells}<td>{escape(shown.met)}</td></tr>"
        )

    return write


def objective_writer(school_href: Callable[[int], str]) -> Callable[[ObjectiveLine], Markup]:
    """A row of the magnet schools' objectives as markup (a large district has a thousand
    and more), the same texts as the school's page."""
    kinds = {key: str(escape(label)) for key, label in KIND_LABELS.items()}
    met_texts = {value: str(escape(met_text(value))) for value in (True, False, None)}
    bands: dict[str, str] = {}

    def write(line: ObjectiveLine) -> Markup:
        kind = kinds[line.kind]
        if line.kind == ObjectiveKind.RELATIVE_BAND.value:
            band = bands.get(line.band_k)
            if band is None:
                points = format_number(float(Decimal(line.band_k) * 100), 1)
                band = bands[line.band_k] = str(escape(_("k = %(k)s points", k=points)))
            kind = f"{kind} ({band})"
        return Markup(  # noqa: S704 - every piece of text is escaped
            f'<tr><th scope="row"><a class="usa-link" href="{escape(school_href(line.school_id))}">'
            f"{escape(line.name)}</a></th><td>{kind}</td>"
            f"<td>{escape(line.since)}</td><td>{met_texts[line.met]}</td></tr>"
        )

    return write


def _status_arg() -> str | None:
    """`?status=` when it names a status; anything else lists every status."""
    asked = (request.args.get(STATUS_ARG) or "").strip()
    return asked if asked in report.STATUSES else None


@bp.route("/")
@login_required
def dashboard() -> Any:
    require(policy.can_view_integration(current_user))
    years = queries.years_with_counts()
    year, problem = _chosen_year(years)
    if year is None:
        settings = figures.settings()
        return render_template(
            "integration/dashboard.html",
            data=None,
            years=years,
            problem=problem,
            settings=settings,
            minority=minority_text(settings),
        )
    series = figures.district_figures(years)
    data = series[years.index(year)]
    status = _status_arg()
    page = figures.school_list(year, status=status, page=page_arg())
    objectives = figures.objective_lines(year)
    if figures.stored():
        commit()  # the figures of out-of-date years, computed and stored (see `figures`)
    school_href = _link_maker("integration.school")
    by_status: dict[str, list[IndicatorRow]] = {status: [] for status in report.STATUSES}
    for shown in indicator_rows(page.items, data.settings.threshold):
        by_status[shown.row.status].append(shown)
    return render_template(
        "integration/dashboard.html",
        data=data,
        year=year,
        years=years,
        year_form=year_form(years, year),
        problem=problem,
        settings=data.settings,
        minority=minority_text(data.settings),
        series=series,
        race_chart=_index_chart(
            series,
            "race",
            _(
                "The district's race and ethnicity indices per school year, from 0 to 1. "
                "The table beside the chart has the same figures."
            ),
        ),
        income_chart=_index_chart(
            series,
            "income",
            _(
                "The district's income indices per school year, from 0 to 1. The table "
                "beside the chart has the same figures."
            ),
        ),
        meeting_chart=_meeting_chart(series),
        status=status,
        page=page,
        list_args={"year": year.label, **({STATUS_ARG: status} if status else {})},
        by_status=by_status,
        objectives=objectives,
        school_href=school_href,
        school_row=row_writer(school_href),
        objective_row=objective_writer(school_href),
        met_text=met_text,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        status_hints=STATUS_HINTS,
        statuses=report.STATUSES,
        index_keys=INDEX_KEYS,
        index_labels=INDEX_LABELS,
        indicator_columns=INDICATOR_COLUMNS,
        display=display,
    )


# A school's page -----------------------------------------------------------------------------


def school_row(school: School) -> SchoolRow:
    return SchoolRow(
        id=school.id,
        code=school.code,
        name=school.name,
        is_magnet=school.is_magnet,
        is_pilot=school.is_pilot,
        is_active=school.is_active,
    )


@bp.route("/schools/<int:school_id>")
@login_required
def school(school_id: int) -> Any:
    found = get_or_404(School, school_id)
    require(policy.can_view_school_integration(current_user, found))
    years = queries.years_with_counts()
    history = figures.school_history(school_row(found), years)
    settings = figures.settings()
    if figures.stored():
        commit()  # the figures of out-of-date years, computed and stored (see `figures`)
    return render_template(
        "integration/school.html",
        school=found,
        history=list(reversed(history)),
        chart_history=history,
        settings=settings,
        minority=minority_text(settings),
        groups=RACE_GROUPS,
        group_labels=RACE_GROUP_LABELS,
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
        met_text=met_text,
        display=display,
    )


# Exports -------------------------------------------------------------------------------------


@bp.route("/indicators.csv")
@login_required
def indicators_csv() -> Any:
    require(policy.can_view_integration(current_user))
    year = _year_or_404(queries.years_with_counts())
    data = figures.year_figures(year)
    lines = indicators_csv_lines(data, figures.all_schools(year))
    record_export(current_user, INDICATORS_EXPORTED, data, rows=len(lines) - 1)
    commit()
    return _csv_response(lines, f"integration-indicators-{year.label}.csv")


@dataclass(frozen=True, slots=True)
class FederalTable:
    measure: str
    label: str
    rows: list[tuple[SchoolRow, list[str]]]  # each school's cells: the groups, then the total
    totals: list[str]  # the district row


def federal_tables(
    data: DistrictFigures, schools: Sequence[SchoolFigures], *, csv: bool = False
) -> list[FederalTable]:
    threshold = data.settings.threshold
    write = display.count_text
    tables = []
    for measure in Measure:
        key = measure.value
        rows = [
            (shown.school, [write(code, threshold, csv=csv) for code in shown.counts[key]])
            for shown in schools
            if key in shown.counts
        ]
        totals = [write(code, threshold, csv=csv) for code in data.totals[key]]
        tables.append(
            FederalTable(
                measure=key,
                label=str(MEASURE_LABELS[key]),
                rows=rows,
                totals=totals,
            )
        )
    return tables


def _cells(cells: list[str]) -> Markup:
    """A row's count cells as markup, built here rather than in a template loop (5 tables of
    up to thousands of rows)."""
    return Markup(  # noqa: S704 - every cell is escaped
        "".join(f'<td class="integration-num">{escape(cell)}</td>' for cell in cells)
    )


@bp.route("/federal")
@login_required
def federal_table() -> Any:
    require(policy.can_view_integration(current_user))
    years = queries.years_with_counts()
    year, problem = _chosen_year(years)
    data = figures.year_figures(year) if year is not None else None
    page = figures.schools_by_name(year, page=page_arg()) if year is not None else None
    tables = federal_tables(data, page.items) if data and page else []
    if figures.stored():
        commit()  # the figures of an out-of-date year, computed and stored (see `figures`)
    settings = data.settings if data else figures.settings()
    return render_template(
        "integration/federal.html",
        data=data,
        year=year,
        years=years,
        year_form=year_form(years, year),
        problem=problem,
        settings=settings,
        minority=minority_text(settings),
        page=page,
        tables=tables,
        cells=_cells,
        groups=RACE_GROUPS,
        group_labels=RACE_GROUP_LABELS,
        display=display,
    )


def federal_csv_lines(data: DistrictFigures, schools: Sequence[SchoolFigures]) -> list[list[str]]:
    header = [
        _("School year"),
        _("Measure"),
        _("State code"),
        _("School"),
        *(str(RACE_GROUP_LABELS[group.value]) for group in RACE_GROUPS),
        _("Total"),
        _("Small-cell threshold N"),
        _("Marks"),
    ]
    threshold = str(data.settings.threshold)
    marks = _(
        "<%(n)d: from 1 to %(last)d, not shown; *: hidden so that a small count cannot be "
        "worked out from the totals",
        n=data.settings.threshold,
        last=data.settings.threshold - 1,
    )
    lines = [header]
    district = _("District total")
    for table in federal_tables(data, schools, csv=True):
        for school_row_, cells in table.rows:
            lines.append(
                [
                    data.year.label,
                    table.label,
                    csv_cell(school_row_.code),
                    csv_cell(school_row_.name),
                    *cells,
                    threshold,
                    marks,
                ]
            )
        lines.append([data.year.label, table.label, "", district, *table.totals, threshold, marks])
    return lines


@bp.route("/federal.csv")
@login_required
def federal_csv() -> Any:
    require(policy.can_view_integration(current_user))
    year = _year_or_404(queries.years_with_counts())
    data = figures.year_figures(year)
    lines = federal_csv_lines(data, figures.all_schools(year, counts=True))
    record_export(current_user, FEDERAL_EXPORTED, data, rows=len(lines) - 1)
    commit()
    return _csv_response(lines, f"integration-federal-{year.label}.csv")
