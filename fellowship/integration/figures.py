"""The figures store: every integration figure a page, CSV or `flask integration indices`
shows, computed once per school year by `report.year_report` and kept in the database
(`IntegrationFigures`), so a page reads a few rows instead of half a million counts.

It is a derived cache: deleting the table's rows loses nothing, the next read computes them
again. It lives in the database, not in a process: every worker and server reads the same
rows, and a change made through one is seen by all.

**When figures are out of date.** Each school year's figures carry a fingerprint of
everything they were computed from, read in one small query (`_read_state`):

- the settings row (minority groups, threshold, version);
- the schools (how many, the latest `updated_at`, the sum of their versions: deactivating a
  school, a new magnet flag or name moves it);
- the year's counts version and the previous year's (`IntegrationCountsVersion`: the import
  and the demo loader bump it in the transaction that changes the counts, with
  `counts_changed`; the previous year's because of the year-over-year changes);
- the objectives in force that year or before (how many, the latest `updated_at`, the
  largest id: a new, changed or removed objective moves it);
- the code that computes them (`_code_version`: a digest of this module, `report`, `queries`,
  `metrics`, `suppression` and `display`), so a deploy that changes how a figure is computed
  makes the stored ones out of date; and `FORMAT`, the shape of what is stored.

**A write on GET.** When a year's stored fingerprint is not the current one, `_refresh`
computes the year (with every other out-of-date year asked for) and replaces its rows - the
one place this module writes - inside a SAVEPOINT of the request's transaction; the view then
commits. If another process stored the same year at the same moment (a unique violation), or
the database refuses the write (SQLite's lock, a deadlock), the SAVEPOINT is rolled back and
the request goes on with the figures it computed: nothing is lost but the saving. No cron job
is needed: a read rebuilds what is out of date; after a big import `flask integration refresh`
warms the store so the first reader does not wait.

The state is read before the counts, so stored figures are never older than their fingerprint
says (at worst newer, and computed again). On PostgreSQL a page's reads are separate statements:
if another process replaces a year's rows between them, that one request may show the district
row from before and the schools' rows from after the change.

**What is stored.** Only what the outputs publish, written as `display` writes it: a count is
its number when it is shown and its mark ("small", "complement") when it is not; a share is
its value when it is shown and the reason when it is not ("small_denominator",
"would_reveal", "no_data"); statuses, objectives and results as judged. Never a hidden count.
The texts themselves are written when a page is shown (`display.count_text`,
`percent_text`, ...), because a page writes numbers in its reader's language.

Per school year:
- the district's row (`school_id` NULL): `payload` = {"year", "previous", "settings",
  "indices" (the document `flask integration indices` prints), "district_p",
  "district_low_income", "statuses" (schools per status), "schools", "rows" (schools per
  measure table)}; `counts` = the district totals per measure (the groups, then the total);
  `objectives` = the magnet schools' objectives in force and their results (`ObjectiveLine`).
- a row per active school: `payload` = {"school", "status", "rates" (RATE_KEYS), "objective",
  "met"}; `counts` = its published counts per measure it has counts in; `position` is its
  place in the report's order (by name), `list_position` on the dashboard (by status, then
  name).
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from flask import g
from sqlalchemy.exc import IntegrityError, OperationalError

from fellowship.cycles.models import School
from fellowship.db import Page, db, insert_for, utcnow
from fellowship.integration import display, metrics, queries, report, suppression
from fellowship.integration.display import CountCode, RateCode, count_code, rate_code
from fellowship.integration.metrics import Indices
from fellowship.integration.models import (
    DEFAULT_MINORITY,
    DEFAULT_THRESHOLD,
    MINORITY_CHOICES,
    RACE_GROUPS,
    IntegrationCountsVersion,
    IntegrationFigures,
    IntegrationObjective,
    IntegrationSettings,
    Measure,
    ObjectiveKind,
)
from fellowship.integration.queries import ObjectiveRow, SchoolRow, SettingsView, YearRow
from fellowship.integration.report import INDEX_FIELDS, Meeting, YearReport
from fellowship.school_years import SchoolYear

FORMAT = 1  # the shape of the stored figures: part of every fingerprint
PER_PAGE = 100  # schools per page of the dashboard's list

# A school's published shares, in the order they are stored.
RATE_KEYS = ("p", "gap", "change", "applicants", "new_enrollees", "low_income", "low_income_gap")
MEASURES = tuple(m.value for m in Measure)
_RACE = tuple(g.value for g in RACE_GROUPS)
_STATUS_RANK = {status: n for n, status in enumerate(report.STATUSES)}

_TABLE = cast(sa.Table, IntegrationFigures.__table__)


# What the figures depend on ------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    years: dict[int, YearRow]  # every school year
    settings: SettingsView
    prints: dict[int, str]  # each school year's fingerprint


def _previous(year: YearRow, years: Iterable[YearRow]) -> YearRow | None:
    """The school year just before this one (by its start), as `report` finds it."""
    wanted = year.starts_on.year - 1
    return next((other for other in years if other.starts_on.year == wanted), None)


@functools.cache
def _code_version() -> str:
    """A digest of the source of the modules the figures are computed with (read once per
    process). During a rolling deploy, servers with different code store their own figures
    in turn: each recomputes what the other stored, and nothing wrong is shown."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for module in (sys.modules[__name__], report, queries, metrics, suppression, display):
        source = getattr(module, "__file__", None)
        if source and Path(source).is_file():
            digest.update(Path(source).read_bytes())
    return digest.hexdigest()


def _read_state() -> _State:
    """Every school year with its counts version and a summary of the objectives that start
    then, with the settings row and the schools' summary: one query (a few ms for 5,000
    schools)."""
    years = cast(sa.Table, SchoolYear.__table__)
    versions = cast(sa.Table, IntegrationCountsVersion.__table__)
    objectives = cast(sa.Table, IntegrationObjective.__table__)
    settings = cast(sa.Table, IntegrationSettings.__table__)
    schools = sa.select(
        sa.func.count(School.id).label("n"),
        sa.func.max(School.updated_at).label("changed"),
        sa.func.sum(School.version).label("versions"),
    ).subquery("school_state")
    starting = (
        sa.select(
            objectives.c.effective_from_year_id.label("year_id"),
            sa.func.count(objectives.c.id).label("n"),
            sa.func.max(objectives.c.updated_at).label("changed"),
            sa.func.max(objectives.c.id).label("top"),
        )
        .group_by(objectives.c.effective_from_year_id)
        .subquery("objective_state")
    )
    query = sa.select(
        years.c.id,
        years.c.label,
        years.c.starts_on,
        versions.c.version,
        settings.c.minority_groups,
        settings.c.suppression_threshold,
        settings.c.version,
        schools.c.n,
        schools.c.changed,
        schools.c.versions,
        starting.c.n,
        starting.c.changed,
        starting.c.top,
    ).select_from(
        years.outerjoin(versions, versions.c.school_year_id == years.c.id)
        .outerjoin(starting, starting.c.year_id == years.c.id)
        .outerjoin(settings, settings.c.id == 1)
        .join(schools, sa.true())
    )
    rows = list(db.session.execute(query))
    if not rows:  # no school year at all: nothing to compute, only the settings to state
        return _State(years={}, settings=queries.current_settings(), prints={})
    first = rows[0]
    if first[4] is None:  # no settings row: the defaults
        settings_view = SettingsView(
            minority=DEFAULT_MINORITY, threshold=DEFAULT_THRESHOLD, version=0
        )
    else:
        chosen = set(first[4].split(","))
        settings_view = SettingsView(
            minority=tuple(g for g in MINORITY_CHOICES if g.value in chosen),
            threshold=int(first[5]),
            version=int(first[6]),
        )
    common = [
        _code_version(),
        [g.value for g in settings_view.minority],
        settings_view.threshold,
        settings_view.version,
        int(first[7] or 0),
        str(first[8]),
        int(first[9] or 0),
    ]
    rows.sort(key=lambda row: str(row[2]))
    all_years = {row[0]: YearRow(row[0], row[1], _date(row[2])) for row in rows}
    counts_version = {row[0]: int(row[3] or 0) for row in rows}
    # The objectives in force in a year or later started in it or before: how many, the
    # latest change, the largest id (a new, changed, moved or removed objective moves them).
    objective_state = {}
    n, changed, top = 0, "", 0
    for row in rows:
        if row[10]:
            n, changed, top = n + int(row[10]), max(changed, str(row[11])), max(top, row[12])
        objective_state[row[0]] = [n, changed, top]
    prints = {}
    for year in all_years.values():
        before = _previous(year, all_years.values())
        facts = [
            *common,
            year.id,
            year.label,
            counts_version[year.id],
            objective_state[year.id],
            before.id if before else None,
            counts_version[before.id] if before else None,
        ]
        prints[year.id] = hashlib.sha256(
            json.dumps(facts, separators=(",", ":")).encode()
        ).hexdigest()
    return _State(years=all_years, settings=settings_view, prints=prints)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def counts_changed(year_ids: Iterable[int]) -> None:
    """Mark the counts of these school years as changed (their figures, and the next years',
    are then out of date). Call it in the transaction that changes the counts; it writes
    (one upsert) and never commits."""
    ids = sorted(set(year_ids))
    if not ids:
        return
    table = cast(sa.Table, IntegrationCountsVersion.__table__)
    statement = insert_for(table).values([{"school_year_id": i, "version": 1} for i in ids])
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.school_year_id],
            set_={"version": table.c.version + 1},
        )
    )


# The figures as the outputs read them ----------------------------------------------------------


@dataclass(frozen=True)
class DistrictFigures:
    """The district in one school year, as every output shows it."""

    year: YearRow
    previous_label: str | None
    settings: SettingsView
    race: Indices
    income: Indices
    meeting: Meeting
    district_p: RateCode
    district_low_income: RateCode
    statuses: Mapping[str, int]  # schools per status
    schools: int  # active schools
    rows: Mapping[str, int]  # schools in each measure's table
    totals: Mapping[str, list[CountCode]]  # the district row per measure: groups, then total
    document: Mapping[str, Any]  # the indices as `flask integration indices` prints them


@dataclass(frozen=True, slots=True)
class SchoolFigures:
    """One school in one school year: its published shares (stored codes, see `display`),
    status, objective and result, and - when asked for - its published counts."""

    school: SchoolRow
    status: str
    p: RateCode
    gap: RateCode
    change: RateCode
    applicants: RateCode
    new_enrollees: RateCode
    low_income: RateCode
    low_income_gap: RateCode
    objective: ObjectiveRow | None
    met: bool | None
    counts: Mapping[str, list[CountCode]]  # per measure it has counts in: groups, then total

    @property
    def isolated(self) -> bool:
        return self.status == report.ISOLATED

    @property
    def watch(self) -> bool:
        return self.status == report.WATCH


@dataclass(frozen=True, slots=True)
class HistoryYear:
    """One school in one school year, for its page."""

    year: YearRow
    has_data: bool  # it has enrollment counts that year
    counts: list[CountCode]  # per RACE_GROUPS column; [] without data
    total: CountCode | None
    p: RateCode
    change: RateCode
    status: str
    objective: ObjectiveRow | None
    met: bool | None


class ObjectiveLine(NamedTuple):
    """A magnet school's objective in force in a year, and its result (the dashboard)."""

    school_id: int
    name: str
    kind: str  # an ObjectiveKind value
    band_k: str  # a Decimal, as text
    since: str  # the label of the school year it is in force from
    met: bool | None


# Encoding and decoding -----------------------------------------------------------------------


def _indices(document: Mapping[str, Any]) -> Indices:
    return Indices(schools=document["schools"], **{name: document[name] for name in INDEX_FIELDS})


def _district(payload: Mapping[str, Any], counts: Mapping[str, Any]) -> DistrictFigures:
    year = payload["year"]
    settings = payload["settings"]
    document = payload["indices"]
    meeting = document["magnet_objectives"]
    return DistrictFigures(
        year=YearRow(year["id"], year["label"], date.fromisoformat(year["starts_on"])),
        previous_label=payload["previous"],
        settings=SettingsView(
            minority=tuple(g for g in MINORITY_CHOICES if g.value in settings["minority"]),
            threshold=settings["threshold"],
            version=settings["version"],
        ),
        race=_indices(document["race"]),
        income=_indices(document["income"]),
        meeting=Meeting(met=meeting["met"], judged=meeting["judged"], share=meeting["share"]),
        district_p=payload["district_p"],
        district_low_income=payload["district_low_income"],
        statuses=payload["statuses"],
        schools=payload["schools"],
        rows=payload["rows"],
        totals=counts,
        document=document,
    )


def _objective(school_id: int, found: Mapping[str, Any] | None) -> ObjectiveRow | None:
    if found is None:
        return None
    return ObjectiveRow(
        id=found["id"],
        school_id=school_id,
        kind=ObjectiveKind(found["kind"]),
        band_k=Decimal(found["band_k"]),
        effective_from_year_id=found["from_id"],
        effective_from_label=found["from"],
        note=found["note"],
    )


def _school(payload: Mapping[str, Any], counts: Mapping[str, Any] | None) -> SchoolFigures:
    school_id, code, name, is_magnet, is_pilot = payload["school"]
    p, gap, change, applicants, new_enrollees, low_income, low_income_gap = payload["rates"]
    return SchoolFigures(
        SchoolRow(school_id, code, name, is_magnet, is_pilot, True),
        payload["status"],
        p,
        gap,
        change,
        applicants,
        new_enrollees,
        low_income,
        low_income_gap,
        _objective(school_id, payload["objective"]),
        payload["met"],
        counts or {},
    )


def _encode(data: YearReport) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A year's report as the store keeps it: the district's row and a row per school (the
    columns of `IntegrationFigures` but the year and fingerprint)."""
    tables = {key: data.tables[key] for key in MEASURES}
    members = {key: frozenset(table.rows) for key, table in tables.items()}
    order = sorted(
        range(len(data.schools)), key=lambda i: (_STATUS_RANK[data.schools[i].status], i)
    )
    list_position = {index: n for n, index in enumerate(order, start=1)}
    schools = []
    statuses = dict.fromkeys(report.STATUSES, 0)
    for position, row in enumerate(data.schools, start=1):
        school = row.school
        statuses[row.status] += 1
        counts = {}
        for key, table in tables.items():
            if school.id in members[key]:
                cell = table.cell
                published = [cell(school.id, c) for c in _RACE]
                published.append(table.row_total(school.id))
                # `display.count_code`, inline: 45 cells a school, 5,000 schools a year.
                counts[key] = [
                    c.value if c.value is not None else c.status.value for c in published
                ]
        objective = row.objective
        schools.append(
            {
                "school_id": school.id,
                "status": row.status,
                "position": position,
                "list_position": list_position[position - 1],
                "objectives": None,
                "payload": {
                    "school": [
                        school.id,
                        school.code,
                        school.name,
                        school.is_magnet,
                        school.is_pilot,
                    ],
                    "status": row.status,
                    "rates": [rate_code(getattr(row, key)) for key in RATE_KEYS],
                    "objective": None
                    if objective is None
                    else {
                        "id": objective.id,
                        "kind": objective.kind.value,
                        "band_k": str(objective.band_k),
                        "from_id": objective.effective_from_year_id,
                        "from": objective.effective_from_label,
                        "note": objective.note,
                    },
                    "met": row.met,
                },
                "counts": counts,
            }
        )
    year = data.year
    district = {
        "school_id": None,
        "status": None,
        "position": 0,
        "list_position": 0,
        "payload": {
            "year": {"id": year.id, "label": year.label, "starts_on": year.starts_on.isoformat()},
            "previous": data.previous_year.label if data.previous_year else None,
            "settings": {
                "minority": [g.value for g in data.settings.minority],
                "threshold": data.settings.threshold,
                "version": data.settings.version,
            },
            "indices": report.indices_document(data),
            "district_p": rate_code(data.district_p),
            "district_low_income": rate_code(data.district_low_income),
            "statuses": statuses,
            "schools": len(data.schools),
            "rows": {key: len(table.rows) for key, table in tables.items()},
        },
        "counts": {
            key: [count_code(table.column_total(c)) for c in _RACE] + [count_code(table.total())]
            for key, table in tables.items()
        },
        "objectives": [
            [
                row.school.id,
                row.school.name,
                row.objective.kind.value,
                str(row.objective.band_k),
                row.objective.effective_from_label,
                row.met,
            ]
            for row in data.schools
            if row.objective is not None
        ],
    }
    return district, schools


# The request's memo --------------------------------------------------------------------------


@dataclass
class _Computed:
    """A year computed in this request: its rows, kept for the rest of the request (they are
    what the request shows, whether or not they could be stored)."""

    district: dict[str, Any]
    schools: list[dict[str, Any]]  # by position


@dataclass
class _Memo:
    state: _State
    district: dict[int, DistrictFigures] = field(default_factory=dict)
    computed: dict[int, _Computed] = field(default_factory=dict)
    stored: bool = False  # rows were written in this request (to commit)


def _memo() -> _Memo:
    memo: _Memo | None = g.get("_integration_figures")
    if memo is None:
        # What was computed before the state was read could be older than it: start afresh.
        report.forget()
        memo = _Memo(state=_read_state())
        g._integration_figures = memo
    return memo


def stored() -> bool:
    """Whether this request wrote figures to the store (the view then commits)."""
    memo: _Memo | None = g.get("_integration_figures")
    return memo is not None and memo.stored


def settings() -> SettingsView:
    """The district's settings (read with the fingerprints: no query of its own)."""
    return _memo().state.settings


# Reading, and computing what is out of date ----------------------------------------------------


def year_figures(year: YearRow) -> DistrictFigures:
    """The district's figures of a school year: from the store when they are up to date, else
    computed (and stored, see `_refresh`)."""
    (found,) = district_figures([year])
    return found


def district_figures(years: Sequence[YearRow]) -> list[DistrictFigures]:
    """The district's figures of these school years (the dashboard's series), in the order
    given: one query when they are up to date; the out-of-date ones are computed together."""
    memo = _memo()
    wanted = {year.id: year for year in years if year.id not in memo.district}
    if wanted:
        rows = db.session.execute(
            sa.select(
                _TABLE.c.school_year_id, _TABLE.c.fingerprint, _TABLE.c.payload, _TABLE.c.counts
            ).where(_TABLE.c.school_id.is_(None), _TABLE.c.school_year_id.in_(sorted(wanted)))
        )
        for year_id, fingerprint, payload, counts in rows:
            if fingerprint == memo.state.prints.get(year_id):
                memo.district[year_id] = _district(payload, counts)
        stale = [year for year_id, year in wanted.items() if year_id not in memo.district]
        if stale:
            _refresh(stale)
    return [memo.district[year.id] for year in years]


def refresh(years: Sequence[YearRow], *, force: bool = False) -> tuple[list[YearRow], bool]:
    """Compute and store the figures of these years that are out of date (all of them with
    `force`), for `flask integration refresh`: (the years computed, whether they were stored;
    the caller commits)."""
    memo = _memo()
    if force:
        stale = list(years)
    else:
        rows = db.session.execute(
            sa.select(_TABLE.c.school_year_id, _TABLE.c.fingerprint).where(
                _TABLE.c.school_id.is_(None),
                _TABLE.c.school_year_id.in_([year.id for year in years]),
            )
        )
        fresh = {year_id for year_id, fp in rows if fp == memo.state.prints.get(year_id)}
        stale = [year for year in years if year.id not in fresh]
    return stale, _refresh(stale) if stale else True


def _refresh(years: Sequence[YearRow]) -> bool:
    """Compute these years' figures from the counts and replace their rows in the store.

    The one place the figures store is written - also on a GET: a derived cache, and deleting
    the table loses nothing. The rows are replaced inside a SAVEPOINT of the request's
    transaction (the caller commits); if another process wrote the same year meanwhile (a
    unique violation) or the database refuses the write (SQLite's lock, a deadlock), the
    SAVEPOINT is rolled back and the request goes on with what it computed. Returns whether
    the rows were stored."""
    memo = _memo()
    ordered = sorted(years, key=lambda year: year.starts_on)
    report.prefetch(ordered)
    rows: list[dict[str, Any]] = []
    for year in ordered:
        district, schools = _encode(report.year_report(year))
        memo.computed[year.id] = _Computed(district=district, schools=schools)
        memo.district[year.id] = _district(district["payload"], district["counts"])
        fingerprint = memo.state.prints.get(year.id, "")
        now = utcnow()
        rows.extend(
            {**row, "school_year_id": year.id, "fingerprint": fingerprint, "computed_at": now}
            for row in (district, *schools)
        )
    try:
        with db.session.begin_nested():
            connection = db.session.connection()  # (this emits the SAVEPOINT)
            connection.execute(
                _TABLE.delete().where(_TABLE.c.school_year_id.in_([y.id for y in ordered]))
            )
            connection.execute(_TABLE.insert(), rows)
    except (IntegrityError, OperationalError):
        return False  # stored by someone else meanwhile, or not now: what was computed is shown
    memo.stored = True
    return True


def _computed_or_none(year: YearRow) -> _Computed | None:
    return _memo().computed.get(year.id)


def school_list(
    year: YearRow, *, status: str | None = None, page: int = 1, per_page: int = PER_PAGE
) -> Page[SchoolFigures]:
    """One page of the year's schools, by status then name (or of one status, by name)."""
    district = year_figures(year)
    total = district.statuses.get(status, 0) if status else district.schools
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    start = (page - 1) * per_page
    computed = _computed_or_none(year)
    if computed is not None:
        chosen = [row for row in computed.schools if status is None or row["status"] == status]
        chosen.sort(key=lambda row: row["list_position"])
        payloads = [row["payload"] for row in chosen[start : start + per_page]]
    else:
        query = (
            sa.select(_TABLE.c.payload)
            .where(_TABLE.c.school_year_id == year.id, _TABLE.c.school_id.is_not(None))
            .order_by(_TABLE.c.list_position)
            .limit(per_page)
            .offset(start)
        )
        if status is not None:
            query = query.where(_TABLE.c.status == status)
        payloads = list(db.session.scalars(query))
    return Page([_school(payload, None) for payload in payloads], page, per_page, total)


def schools_by_name(
    year: YearRow, *, page: int = 1, per_page: int = PER_PAGE
) -> Page[SchoolFigures]:
    """One page of the year's schools by name, with their published counts (the federal
    table)."""
    district = year_figures(year)
    total = district.schools
    page = min(max(page, 1), max(1, -(-total // per_page)))
    start = (page - 1) * per_page
    computed = _computed_or_none(year)
    if computed is not None:
        rows: Iterable[Any] = (
            (row["payload"], row["counts"]) for row in computed.schools[start : start + per_page]
        )
    else:
        rows = db.session.execute(
            sa.select(_TABLE.c.payload, _TABLE.c.counts)
            .where(_TABLE.c.school_year_id == year.id, _TABLE.c.school_id.is_not(None))
            .order_by(_TABLE.c.position)
            .limit(per_page)
            .offset(start)
        )
    return Page([_school(payload, found) for payload, found in rows], page, per_page, total)


def objective_lines(year: YearRow) -> list[ObjectiveLine]:
    """The year's magnet schools with an objective in force and their results, by name (one
    small query: the list is kept on the district's row)."""
    year_figures(year)
    computed = _computed_or_none(year)
    if computed is not None:
        lines = computed.district["objectives"]
    else:
        lines = db.session.scalar(
            sa.select(_TABLE.c.objectives).where(
                _TABLE.c.school_year_id == year.id, _TABLE.c.school_id.is_(None)
            )
        )
    return [ObjectiveLine(*line) for line in lines or []]


def all_schools(year: YearRow, *, counts: bool = False) -> list[SchoolFigures]:
    """Every active school of the year, by name; with their published counts when asked."""
    year_figures(year)
    computed = _computed_or_none(year)
    if computed is not None:
        rows: Iterable[Any] = (
            (row["payload"], row["counts"] if counts else None) for row in computed.schools
        )
    else:
        rows = db.session.execute(
            sa.select(_TABLE.c.payload, _TABLE.c.counts if counts else sa.null())
            .where(_TABLE.c.school_year_id == year.id, _TABLE.c.school_id.is_not(None))
            .order_by(_TABLE.c.position)
        )
    return [_school(payload, found) for payload, found in rows]


def school_history(school: SchoolRow, years: Sequence[YearRow]) -> list[HistoryYear]:
    """One school over these years (oldest first, as given): its published enrollment counts
    (suppressed within the whole district's table, as on the dashboard), share, change,
    status and objective. An inactive school is in no year's figures."""
    district_figures(years)
    memo = _memo()
    found: dict[int, SchoolFigures] = {}
    from_store = []
    for year in years:
        computed = memo.computed.get(year.id)
        if computed is None:
            from_store.append(year.id)
            continue
        row = next((r for r in computed.schools if r["school_id"] == school.id), None)
        if row is not None:
            found[year.id] = _school(row["payload"], row["counts"])
    if from_store and school.is_active:
        rows = db.session.execute(
            sa.select(_TABLE.c.school_year_id, _TABLE.c.payload, _TABLE.c.counts).where(
                _TABLE.c.school_id == school.id, _TABLE.c.school_year_id.in_(from_store)
            )
        )
        for year_id, payload, counts in rows:
            found[year_id] = _school(payload, counts)
    objectives: dict[tuple[int, int], ObjectiveRow] = {}
    if not school.is_active and school.is_magnet:
        # Not in the figures; its objective is still stated (never judged).
        objectives = queries.objectives_in_force(year.id for year in years)
    history = []
    for year in years:
        shown = found.get(year.id)
        if shown is None:
            history.append(
                HistoryYear(
                    year=year,
                    has_data=False,
                    counts=[],
                    total=None,
                    p="no_data",
                    change="no_data",
                    status=report.NO_DATA,
                    objective=objectives.get((school.id, year.id)),
                    met=None,
                )
            )
            continue
        enrollment = shown.counts.get(Measure.ENROLLMENT.value)
        history.append(
            HistoryYear(
                year=year,
                has_data=enrollment is not None,
                counts=enrollment[:-1] if enrollment else [],
                total=enrollment[-1] if enrollment else None,
                p=shown.p,
                change=shown.change,
                status=shown.status,
                objective=shown.objective,
                met=shown.met,
            )
        )
    return history


def one_school(school_id: int, year: YearRow) -> SchoolFigures | None:
    """One school in one school year with its published counts (the review packet): None
    when the school is not in that year's figures (inactive, or no counts that year)."""
    year_figures(year)
    computed = _computed_or_none(year)
    if computed is not None:
        found = next((row for row in computed.schools if row["school_id"] == school_id), None)
        return _school(found["payload"], found["counts"]) if found else None
    row = db.session.execute(
        sa.select(_TABLE.c.payload, _TABLE.c.counts).where(
            _TABLE.c.school_year_id == year.id, _TABLE.c.school_id == school_id
        )
    ).first()
    return _school(row[0], row[1]) if row else None
