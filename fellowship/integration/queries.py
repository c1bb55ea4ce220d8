"""Read-only selectors for the integration figures. Nothing here writes or suppresses: the
counts come out as they are stored, for `report.py` to compute and publish from.

Every selector is one query whatever the number of schools and years:

- `current_settings()`: the settings row (the defaults when there is none).
- `school_years()`: every school year, oldest first (a small table).
- `years_with_counts()`: the school years that have any all-grades count of an active school.
- `active_schools()`: the active schools as light rows (no ORM objects), by name.
- `counts_by_school(year_ids, measures)`: the all-grades counts of active schools, pivoted in
  SQL to one row per school, year and measure (ten group columns), then nested in dicts.
- `objectives_in_force(year_ids)`: for each school and year, the objective in force then.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from fellowship.cycles.models import School
from fellowship.db import db
from fellowship.integration.models import (
    DEFAULT_MINORITY,
    DEFAULT_THRESHOLD,
    EnrollmentCount,
    Group,
    IntegrationObjective,
    IntegrationSettings,
    Measure,
    ObjectiveKind,
)
from fellowship.school_years import SchoolYear

# {(year_id, measure): {school_id: {group: count}}}
CountsByYear = dict[tuple[int, Measure], dict[int, dict[str, int]]]


@dataclass(frozen=True)
class SettingsView:
    """The district's settings as the figures use them: the minority groups (in the order of
    MINORITY_CHOICES), the small-cell threshold N, and the row's version (0: no row yet)."""

    minority: tuple[Group, ...]
    threshold: int
    version: int


@dataclass(frozen=True, slots=True)
class YearRow:
    id: int
    label: str
    starts_on: date


@dataclass(frozen=True, slots=True)
class SchoolRow:
    id: int
    code: str
    name: str
    is_magnet: bool
    is_pilot: bool
    is_active: bool


@dataclass(frozen=True, slots=True)
class ObjectiveRow:
    """A school's objective as it applies to one year."""

    id: int
    school_id: int
    kind: ObjectiveKind
    band_k: Decimal
    effective_from_year_id: int
    effective_from_label: str
    note: str


def current_settings() -> SettingsView:
    row = db.session.execute(
        sa.select(
            IntegrationSettings.minority_groups,
            IntegrationSettings.suppression_threshold,
            IntegrationSettings.version,
        ).where(IntegrationSettings.id == 1)
    ).first()
    if row is None:
        return SettingsView(minority=DEFAULT_MINORITY, threshold=DEFAULT_THRESHOLD, version=0)
    # The model's `.minority` rule, without loading the ORM object.
    minority = IntegrationSettings(minority_groups=row.minority_groups).minority
    return SettingsView(
        minority=minority, threshold=int(row.suppression_threshold), version=int(row.version)
    )


def school_years() -> list[YearRow]:
    """Every school year, oldest first."""
    rows = db.session.execute(
        sa.select(SchoolYear.id, SchoolYear.label, SchoolYear.starts_on).order_by(
            SchoolYear.starts_on
        )
    )
    return [YearRow(row.id, row.label, row.starts_on) for row in rows]


def _active_count_rows() -> sa.Select[tuple[int]]:
    return (
        sa.select(EnrollmentCount.school_year_id)
        .join(School, School.id == EnrollmentCount.school_id)
        .where(School.is_active.is_(True), EnrollmentCount.grade.is_(None))
    )


def years_with_counts() -> list[YearRow]:
    """The school years with any all-grades count of an active school, oldest first."""
    has_counts = sa.exists(
        _active_count_rows().where(EnrollmentCount.school_year_id == SchoolYear.id)
    )
    rows = db.session.execute(
        sa.select(SchoolYear.id, SchoolYear.label, SchoolYear.starts_on)
        .where(has_counts)
        .order_by(SchoolYear.starts_on)
    )
    return [YearRow(row.id, row.label, row.starts_on) for row in rows]


def _school_row(row: sa.Row[tuple[int, str, str, bool, bool, bool]]) -> SchoolRow:
    return SchoolRow(
        id=row[0],
        code=row[1],
        name=row[2],
        is_magnet=bool(row[3]),
        is_pilot=bool(row[4]),
        is_active=bool(row[5]),
    )


_SCHOOL_COLUMNS = (
    School.id,
    School.code,
    School.name,
    School.is_magnet,
    School.is_pilot,
    School.is_active,
)


def active_schools() -> list[SchoolRow]:
    """The active schools, by name then code."""
    rows = db.session.execute(
        sa.select(*_SCHOOL_COLUMNS)
        .where(School.is_active.is_(True))
        .order_by(School.name, School.code)
    )
    return [_school_row(row) for row in rows]


def school_row(school_id: int) -> SchoolRow | None:
    row = db.session.execute(sa.select(*_SCHOOL_COLUMNS).where(School.id == school_id)).first()
    return _school_row(row) if row is not None else None


def year_by_label(label: str) -> YearRow | None:
    row = db.session.execute(
        sa.select(SchoolYear.id, SchoolYear.label, SchoolYear.starts_on).where(
            SchoolYear.label == label.strip()
        )
    ).first()
    return YearRow(row.id, row.label, row.starts_on) if row is not None else None


# Counts ----------------------------------------------------------------------------------

_GROUPS: tuple[Group, ...] = tuple(Group)


def counts_by_school(
    year_ids: Collection[int],
    measures: Collection[Measure],
    *,
    applicant_pool_only: bool = False,
) -> CountsByYear:
    """The all-grades counts of active schools for these years and measures, in one query:
    `{(year_id, measure): {school_id: {group: count}}}`. A school with no row for a year and
    measure is absent; a group with no row is absent (read it as 0). With
    `applicant_pool_only`, only the schools that have an applicant-pool objective (in any
    year) are loaded.

    The query pivots in SQL (one row per school, year and measure, a column per group), so a
    district of 5,000 schools sends a tenth of the rows it stores."""
    result: CountsByYear = {(year_id, measure): {} for year_id in year_ids for measure in measures}
    if not year_ids or not measures:
        return result
    group_column = EnrollmentCount.__table__.c.student_group
    columns = [
        sa.func.sum(sa.case((group_column == group.value, EnrollmentCount.count))).label(
            group.value
        )
        for group in _GROUPS
    ]
    query = (
        sa.select(
            EnrollmentCount.school_year_id,
            EnrollmentCount.measure,
            EnrollmentCount.school_id,
            *columns,
        )
        .join(School, School.id == EnrollmentCount.school_id)
        .where(
            School.is_active.is_(True),
            EnrollmentCount.grade.is_(None),
            EnrollmentCount.school_year_id.in_(sorted(set(year_ids))),
            EnrollmentCount.measure.in_(sorted({Measure(m) for m in measures})),
        )
        .group_by(
            EnrollmentCount.school_year_id, EnrollmentCount.measure, EnrollmentCount.school_id
        )
    )
    if applicant_pool_only:
        query = query.where(
            EnrollmentCount.school_id.in_(
                sa.select(IntegrationObjective.school_id).where(
                    IntegrationObjective.kind == ObjectiveKind.APPLICANT_POOL
                )
            )
        )
    values = [group.value for group in _GROUPS]
    # A Core execution (no ORM result machinery): up to 50,000 rows for a district's decade.
    for year_id, measure, school_id, *counts in db.session.connection().execute(query):
        result[(year_id, Measure(measure))][school_id] = {
            value: count
            for value, count in zip(values, counts, strict=True)
            if count is not None  # a stored 0 stays: the school has data, and it is 0
        }
    return result


# Objectives ------------------------------------------------------------------------------


def objectives_in_force(year_ids: Iterable[int]) -> dict[tuple[int, int], ObjectiveRow]:
    """`{(school_id, year_id): objective}`: for each school and each of these years, the
    objective with the latest `effective_from` year not after that year. One query (every
    objective with its year's start, and the asked years' starts), resolved here: a district
    has at most a few objectives per magnet school."""
    ids = sorted(set(year_ids))
    if not ids:
        return {}
    effective = aliased(SchoolYear)
    rows = db.session.execute(
        sa.select(
            IntegrationObjective.id,
            IntegrationObjective.school_id,
            IntegrationObjective.kind,
            IntegrationObjective.band_k,
            IntegrationObjective.effective_from_year_id,
            effective.label,
            effective.starts_on,
            IntegrationObjective.note,
        )
        .join(effective, effective.id == IntegrationObjective.effective_from_year_id)
        .union_all(
            # The asked years, as rows with no objective (school_id NULL): their starts.
            sa.select(
                sa.null(),
                sa.null(),
                sa.null(),
                sa.null(),
                SchoolYear.id,
                SchoolYear.label,
                SchoolYear.starts_on,
                sa.null(),
            ).where(SchoolYear.id.in_(ids))
        )
    ).all()
    targets = sorted((row.starts_on, row.effective_from_year_id) for row in rows if row.id is None)
    by_school: dict[int, list[tuple[date, ObjectiveRow]]] = {}
    for row in rows:
        if row.id is None:
            continue
        by_school.setdefault(row.school_id, []).append(
            (
                row.starts_on,
                ObjectiveRow(
                    id=row.id,
                    school_id=row.school_id,
                    kind=ObjectiveKind(row.kind),
                    band_k=Decimal(row.band_k),
                    effective_from_year_id=row.effective_from_year_id,
                    effective_from_label=row.label,
                    note=row.note,
                ),
            )
        )
    found: dict[tuple[int, int], ObjectiveRow] = {}
    for school_id, objectives in by_school.items():
        objectives.sort(key=lambda entry: entry[0])
        for starts_on, year_id in targets:
            in_force = None
            for effective_on, objective in objectives:
                if effective_on > starts_on:
                    break
                in_force = objective
            if in_force is not None:
                found[(school_id, year_id)] = in_force
    return found
