"""Read-only selectors for the support log: a cycle's entries with their totals, and the
report across schools (totals per school, partner, kind and year, aggregated in SQL) with the
entries behind it as CSV. Each page loads in a fixed number of queries."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import abort

from fellowship import policy
from fellowship.auth.models import User
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    Goal,
    School,
    SupportActivity,
    SupportKind,
)
from fellowship.db import db
from fellowship.school_years import SchoolYear, label_for
from fellowship.web import MAX_ID

KIND_ORDER = [
    SupportKind.TECHNICAL_ASSISTANCE,
    SupportKind.PROFESSIONAL_DEVELOPMENT,
    SupportKind.COACHING,
]


def activity_in_cycle(cycle_id: int, activity_id: int) -> SupportActivity:
    """The entry, when it belongs to this cycle; 404 otherwise."""
    if not 0 < activity_id <= MAX_ID:
        abort(404)
    activity = db.session.get(SupportActivity, activity_id)
    if activity is None or activity.cycle_id != cycle_id:
        abort(404)
    return activity


def organisation_of(user_id: int, cycle_id: int) -> str:
    """The organisation of the person's membership in the cycle ("" when none)."""
    value = db.session.scalar(
        sa.select(CycleMembership.organisation).where(
            CycleMembership.user_id == user_id, CycleMembership.cycle_id == cycle_id
        )
    )
    return value or ""


# A cycle's log ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    activity: SupportActivity
    provider: str | None  # the person's name (None when their account is gone)
    goal_title: str | None


@dataclass(frozen=True)
class Total:
    """Entries, hours and participants of one group (a kind, a partner, a school, a year)."""

    label: Any
    entries: int
    hours: float
    participants: int
    organisation: str = ""
    schools: int = 0


@dataclass(frozen=True)
class CycleLog:
    entries: list[Entry]
    by_kind: list[Total]
    by_partner: list[Total]

    @property
    def hours(self) -> float:
        return sum(total.hours for total in self.by_kind)


def _sums() -> tuple[Any, Any, Any]:
    return (
        sa.func.count(SupportActivity.id),
        sa.func.coalesce(sa.func.sum(SupportActivity.hours), 0.0),
        sa.func.coalesce(sa.func.sum(SupportActivity.participants), 0),
    )


def _by_kind(where: list[Any], joins: bool) -> list[Total]:
    query = sa.select(SupportActivity.kind, *_sums())
    if joins:
        query = query.join(Cycle, Cycle.id == SupportActivity.cycle_id)
    found = {
        SupportKind(getattr(kind, "value", kind)): (count, hours, people)
        for kind, count, hours, people in db.session.execute(
            query.where(*where).group_by(SupportActivity.kind)
        )
    }
    return [
        Total(kind, int(found[kind][0]), float(found[kind][1]), int(found[kind][2]))
        if kind in found
        else Total(kind, 0, 0.0, 0)
        for kind in KIND_ORDER
    ]


def _by_partner(where: list[Any], joins: bool) -> list[Total]:
    count, hours, people = _sums()
    query = sa.select(User.name, SupportActivity.provider_name, count, hours, people).outerjoin(
        User, User.id == SupportActivity.provider_id
    )
    if joins:
        query = query.join(Cycle, Cycle.id == SupportActivity.cycle_id)
    rows = db.session.execute(
        query.where(*where)
        .group_by(SupportActivity.provider_id, User.name, SupportActivity.provider_name)
        .order_by(hours.desc(), User.name, SupportActivity.provider_name)
    )
    return [
        Total(name, int(entries), float(total), int(participants), organisation=organisation)
        for name, organisation, entries, total, participants in rows
    ]


def cycle_log(cycle_id: int) -> CycleLog:
    """The cycle's entries newest first, with totals per kind and per partner (3 queries)."""
    rows = db.session.execute(
        sa.select(SupportActivity, User.name, Goal.title)
        .outerjoin(User, User.id == SupportActivity.provider_id)
        .outerjoin(Goal, Goal.id == SupportActivity.goal_id)
        .where(SupportActivity.cycle_id == cycle_id)
        .order_by(SupportActivity.held_on.desc(), SupportActivity.id.desc())
    )
    entries = [Entry(activity, name, title) for activity, name, title in rows]
    where = [SupportActivity.cycle_id == cycle_id]
    return CycleLog(
        entries=entries,
        by_kind=_by_kind(where, joins=False),
        by_partner=_by_partner(where, joins=False),
    )


# The report across schools --------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which cycles' entries a person's report counts: every cycle (staff), or the cycles
    they are a partner in (`cycle_ids` a subquery)."""

    everything: bool
    cycle_ids: Any = None

    @property
    def label(self) -> str:
        return "all" if self.everything else "partner"

    def where(self) -> list[Any]:
        return [] if self.everything else [SupportActivity.cycle_id.in_(self.cycle_ids)]


def report_scope(user: Any) -> Scope:
    """Staff see every school's entries; a partner only those of the cycles they are a
    partner in (policy.support_cycles_visible_to)."""
    cycle_ids = policy.support_cycles_visible_to(user)
    return Scope(everything=cycle_ids is None, cycle_ids=cycle_ids)


def report_years(scope: Scope) -> list[SchoolYear]:
    """The school years with a cycle in scope, newest first."""
    cycles = sa.select(Cycle.school_year_id)
    if not scope.everything:
        cycles = cycles.where(Cycle.id.in_(scope.cycle_ids))
    return list(
        db.session.scalars(
            sa.select(SchoolYear)
            .where(SchoolYear.id.in_(cycles))
            .order_by(SchoolYear.starts_on.desc())
        )
    )


def choose_year(years: list[SchoolYear], wanted: str | None, today: date) -> SchoolYear | None:
    """The year asked for, else the current one, else the latest one with cycles."""
    by_label = {year.label: year for year in years}
    if wanted and wanted in by_label:
        return by_label[wanted]
    current = by_label.get(label_for(today))
    if current is not None:
        return current
    started = [year for year in years if year.starts_on <= today]
    return started[0] if started else (years[-1] if years else None)


@dataclass(frozen=True)
class Report:
    year: SchoolYear | None
    years: list[SchoolYear]
    by_school: list[Total]
    by_partner: list[Total]
    by_kind: list[Total]
    by_year: list[Total]

    @property
    def hours(self) -> float:
        return sum(total.hours for total in self.by_kind)

    @property
    def entries(self) -> int:
        return sum(total.entries for total in self.by_kind)


def support_report(scope: Scope, wanted_year: str | None, today: date) -> Report:
    """Totals for the chosen year (per school, partner, kind) and per year for all years,
    each one GROUP BY query."""
    years = report_years(scope)
    year = choose_year(years, wanted_year, today)
    in_scope = scope.where()
    by_year = _by_year(in_scope)
    if year is None:
        return Report(None, years, [], [], [Total(k, 0, 0.0, 0) for k in KIND_ORDER], by_year)
    where = [*in_scope, Cycle.school_year_id == year.id]
    return Report(
        year=year,
        years=years,
        by_school=_by_school(where),
        by_partner=_by_partner(where, joins=True),
        by_kind=_by_kind(where, joins=True),
        by_year=by_year,
    )


def _by_school(where: list[Any]) -> list[Total]:
    rows = db.session.execute(
        sa.select(School.name, *_sums())
        .select_from(SupportActivity)
        .join(Cycle, Cycle.id == SupportActivity.cycle_id)
        .join(School, School.id == Cycle.school_id)
        .where(*where)
        .group_by(School.id, School.name)
        .order_by(School.name, School.id)
    )
    return [
        Total(name, int(entries), float(hours), int(people))
        for name, entries, hours, people in rows
    ]


def _by_year(where: list[Any]) -> list[Total]:
    count, hours, people = _sums()
    rows = db.session.execute(
        sa.select(
            SchoolYear.label, count, hours, people, sa.func.count(sa.distinct(Cycle.school_id))
        )
        .select_from(SupportActivity)
        .join(Cycle, Cycle.id == SupportActivity.cycle_id)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
        .where(*where)
        .group_by(SchoolYear.id, SchoolYear.label, SchoolYear.starts_on)
        .order_by(SchoolYear.starts_on)
    )
    return [
        Total(label, int(entries), float(total), int(participants), schools=int(schools))
        for label, entries, total, participants, schools in rows
    ]


# The entries behind the report, as CSV ----------------------------------------------------------

CSV_HEADER = [
    "school_year",
    "school_code",
    "school",
    "date",
    "kind",
    "hours",
    "participants",
    "topic",
    "provider",
    "organisation",
    "goal",
    "notes",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell's text, with a leading apostrophe when a spreadsheet would read a formula."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text
    text = str(getattr(value, "value", value))
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def report_rows(scope: Scope, year: SchoolYear) -> list[tuple[Any, ...]]:
    """Every entry behind the year's report (one query), by school then date."""
    rows = db.session.execute(
        sa.select(
            SchoolYear.label,
            School.code,
            School.name,
            SupportActivity.held_on,
            SupportActivity.kind,
            SupportActivity.hours,
            SupportActivity.participants,
            SupportActivity.topic,
            User.name,
            SupportActivity.provider_name,
            Goal.title,
            SupportActivity.notes,
        )
        .select_from(SupportActivity)
        .join(Cycle, Cycle.id == SupportActivity.cycle_id)
        .join(School, School.id == Cycle.school_id)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
        .outerjoin(User, User.id == SupportActivity.provider_id)
        .outerjoin(Goal, Goal.id == SupportActivity.goal_id)
        .where(*scope.where(), Cycle.school_year_id == year.id)
        .order_by(School.name, School.id, SupportActivity.held_on, SupportActivity.id)
    )
    return [tuple(row) for row in rows]


def to_csv(rows: Iterable[tuple[Any, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()
