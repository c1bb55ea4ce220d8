"""Read-only selectors for the schools pages: the filtered list (a fixed number of queries for
any page size) and a school's cycles over the years."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from fellowship.cycles.models import Cycle, School
from fellowship.db import Page, db, paginate
from fellowship.school_years import SchoolYear

PER_PAGE = 25


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _flag(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@dataclass(frozen=True)
class SchoolFilters:
    text: str = ""
    pilot: str = ""  # "", "yes", "no"
    magnet: str = ""
    region: str = ""
    active: str = ""


def search_schools(
    filters: SchoolFilters, *, page: int = 1, per_page: int = PER_PAGE
) -> Page[School]:
    """Schools matching the filters, by name: two queries."""
    query = sa.select(School)
    text = filters.text.strip()
    if text:
        pattern = _like(text)
        query = query.where(
            sa.or_(
                sa.func.lower(School.name).like(pattern, escape="\\"),
                sa.func.lower(School.code).like(pattern, escape="\\"),
            )
        )
    for column, value in (
        (School.is_pilot, filters.pilot),
        (School.is_magnet, filters.magnet),
        (School.is_active, filters.active),
    ):
        flag = _flag(value)
        if flag is not None:
            query = query.where(column.is_(flag))
    if filters.region:
        query = query.where(School.region == filters.region)
    query = query.order_by(sa.func.lower(School.name), School.id)
    return paginate(query, page, per_page)


def regions() -> list[str]:
    """Every region a school is in, for the filter (one query)."""
    return list(
        db.session.scalars(
            sa.select(School.region).where(School.region != "").distinct().order_by(School.region)
        )
    )


def cycles_in_year(school_ids: list[int], label: str) -> dict[int, Cycle]:
    """{school_id: its cycle in the school year `label`} for these schools (one query)."""
    if not school_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Cycle)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
        .where(Cycle.school_id.in_(school_ids), SchoolYear.label == label)
    )
    return {cycle.school_id: cycle for cycle in rows}


def school_cycles(school_id: int) -> list[tuple[Cycle, SchoolYear]]:
    """The school's cycles with their years, the latest year first (one query)."""
    return [
        (cycle, year)
        for cycle, year in db.session.execute(
            sa.select(Cycle, SchoolYear)
            .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
            .where(Cycle.school_id == school_id)
            .order_by(SchoolYear.starts_on.desc())
        )
    ]
