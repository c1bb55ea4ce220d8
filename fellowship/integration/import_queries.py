"""Read-only selectors of the admin raw-data screen: the counts of one school and year exactly
as stored (every grade, no suppression). Each is one query."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from fellowship.cycles.models import School
from fellowship.db import db
from fellowship.integration.models import GRADES, EnrollmentCount, Group, Measure
from fellowship.school_years import SchoolYear

# Rows of a measure's table: None (all grades) first, then the grades in school order.
GRADE_ORDER: dict[str | None, int] = {None: -1, **{grade: n for n, grade in enumerate(GRADES)}}


@dataclass(frozen=True)
class RawTable:
    """One measure's counts: rows are grades (None = all grades), columns are groups."""

    measure: Measure
    grades: list[str | None]
    cells: dict[tuple[str | None, Group], int]

    def cell(self, grade: str | None, group: Group) -> int | None:
        return self.cells.get((grade, group))


def school_options() -> list[tuple[int, str, str, bool]]:
    """(id, code, name, is_active) of every school, by name."""
    return [
        (row.id, row.code, row.name, bool(row.is_active))
        for row in db.session.execute(
            sa.select(School.id, School.code, School.name, School.is_active).order_by(
                School.name, School.code
            )
        )
    ]


def year_options() -> list[tuple[int, str]]:
    """(id, label) of every school year, latest first."""
    return [
        (row.id, row.label)
        for row in db.session.execute(
            sa.select(SchoolYear.id, SchoolYear.label).order_by(SchoolYear.starts_on.desc())
        )
    ]


def school_id_for_code(code: str) -> int | None:
    return db.session.scalar(sa.select(School.id).where(School.code == code.strip()))


def latest_year_with_counts(school_id: int) -> int | None:
    """The id of the latest school year holding any count of this school."""
    return db.session.scalar(
        sa.select(SchoolYear.id)
        .where(
            sa.exists().where(
                EnrollmentCount.school_id == school_id,
                EnrollmentCount.school_year_id == SchoolYear.id,
            )
        )
        .order_by(SchoolYear.starts_on.desc())
        .limit(1)
    )


def raw_tables(school_id: int, year_id: int) -> list[RawTable]:
    """The school's counts for the year, one table per measure that has any (in the order of
    `Measure`), grades in school order."""
    by_measure: dict[Measure, dict[tuple[str | None, Group], int]] = {}
    for grade, measure, group, count in db.session.execute(
        sa.select(
            EnrollmentCount.grade,
            EnrollmentCount.measure,
            EnrollmentCount.group,
            EnrollmentCount.count,
        ).where(EnrollmentCount.school_id == school_id, EnrollmentCount.school_year_id == year_id)
    ):
        by_measure.setdefault(Measure(measure), {})[(grade, Group(group))] = count
    tables = []
    for measure in Measure:
        cells = by_measure.get(measure)
        if not cells:
            continue
        grades = sorted({grade for grade, _group in cells}, key=lambda g: GRADE_ORDER.get(g, 99))
        tables.append(RawTable(measure=measure, grades=grades, cells=cells))
    return tables
