"""A hand-built district for the report, page and export tests, and a bulk one for query
counts.

The hand-built district, 2024-25 and 2025-26 (counts by race; income for 2025-26):

| school   | magnet | 2025-26 enrollment (minority / known)   | status 2025-26        |
|----------|--------|------------------------------------------|-----------------------|
| Alder    | yes    | 105 / 145 = 72.4 %                       | isolated              |
| Birch    | yes    | 35 / 115 = 30.4 % (was 25 / 110)         | watch band (rose)     |
| Cedar    | no     | 27 / 127 = 21.3 % (black 4: a small cell) | neither (fell)        |
| Dogwood  | no     | 3 / 8 (too few students to show a share) | watch band (3/8 > 2/8)|
| Elm      | yes    | none this year (30 / 60 in 2024-25)      | no data               |
| Fir      | no     | inactive: left out of everything         |                       |

Objectives: Alder applicant pool (from 2024-25), Birch absolute (2024-25) then relative band
k = 0.15 (2025-26), Elm prevent (2024-25).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from fellowship.cycles.models import School
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.integration.models import (
    EnrollmentCount,
    Group,
    IntegrationSettings,
    Measure,
    ObjectiveKind,
)
from tests.cycles.helpers import SchoolFactory
from tests.integration.helpers import ObjectiveFactory, add_counts, year

THIS, LAST = "2025-26", "2024-25"

ENROLLMENT = {
    THIS: {
        "Alder": {"black": 60, "hispanic_latino": 30, "asian": 15, "white": 40, "unknown": 12},
        "Birch": {"black": 20, "hispanic_latino": 15, "white": 80},
        "Cedar": {"white": 100, "black": 4, "asian": 12, "two_or_more": 11},
        "Dogwood": {"white": 5, "black": 3},
        "Fir": {"black": 50, "white": 50},
    },
    LAST: {
        "Alder": {"black": 55, "hispanic_latino": 30, "asian": 15, "white": 45},
        "Birch": {"black": 15, "hispanic_latino": 10, "white": 85},
        "Cedar": {"white": 100, "black": 4, "asian": 12, "two_or_more": 14},
        "Dogwood": {"white": 6, "black": 2},
        "Elm": {"black": 30, "white": 30},
        "Fir": {"black": 40, "white": 60},
    },
}
INCOME = {
    THIS: {
        "Alder": {"low_income": 90, "not_low_income": 58},
        "Birch": {"low_income": 40, "not_low_income": 75},
        "Cedar": {"low_income": 30, "not_low_income": 97},
        "Dogwood": {"low_income": 6, "not_low_income": 2},
    },
}
OTHER_MEASURES = {
    Measure.APPLICANTS: {
        "Alder": {"black": 20, "hispanic_latino": 10, "white": 30},
        "Birch": {"black": 12, "white": 30},
        "Cedar": {"white": 25, "asian": 11},
    },
    Measure.APPLIED_ENROLLED: {
        "Alder": {"black": 10, "white": 15},
        "Birch": {"black": 5, "white": 12},
    },
    Measure.NEW_NOT_APPLIED: {
        "Alder": {"black": 8, "hispanic_latino": 2},
        "Birch": {"black": 7, "white": 10},
    },
    Measure.CONTINUING: {
        "Alder": {"black": 42, "hispanic_latino": 28, "asian": 15, "white": 25},
        "Birch": {"black": 8, "hispanic_latino": 15, "white": 58},
    },
}
MAGNETS = {"Alder", "Birch", "Elm"}
# The small (1..9) counts the district publishes nowhere, as (year, measure, school, group).
SMALL = [
    (THIS, Measure.ENROLLMENT, "Cedar", "black", 4),
    (THIS, Measure.ENROLLMENT, "Dogwood", "black", 3),
    (THIS, Measure.ENROLLMENT, "Dogwood", "white", 5),
    (THIS, Measure.APPLIED_ENROLLED, "Birch", "black", 5),
    (THIS, Measure.NEW_NOT_APPLIED, "Alder", "hispanic_latino", 2),
    (THIS, Measure.NEW_NOT_APPLIED, "Birch", "black", 7),
    (THIS, Measure.CONTINUING, "Birch", "black", 8),
]


@dataclass
class District:
    """The schools' and years' ids by name and label (plain ints: usable after the app
    context that made them is gone)."""

    ids: dict[str, int]
    year_ids: dict[str, int]

    def id(self, name: str) -> int:
        return self.ids[name]


def build_district() -> District:
    years = {label: year(label) for label in (LAST, THIS)}
    names = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir"]
    schools = {
        name: SchoolFactory(
            name=f"{name} School",
            code=f"HD-{name[:3].upper()}",
            is_magnet=name in MAGNETS,
            magnet_theme="STEM" if name in MAGNETS else "",
            is_pilot=name == "Alder",
            is_active=name != "Fir",
        )
        for name in names
    }
    for label, by_school in ENROLLMENT.items():
        for name, counts in by_school.items():
            both = {**counts, **INCOME.get(label, {}).get(name, {})}
            add_counts(schools[name], years[label], both)
    for measure, by_school in OTHER_MEASURES.items():
        for name, counts in by_school.items():
            add_counts(schools[name], years[THIS], counts, measure=measure)
    ObjectiveFactory(
        school_id=schools["Alder"].id,
        kind=ObjectiveKind.APPLICANT_POOL,
        effective_from_year_id=years[LAST].id,
    )
    ObjectiveFactory(
        school_id=schools["Birch"].id,
        kind=ObjectiveKind.ABSOLUTE,
        effective_from_year_id=years[LAST].id,
    )
    ObjectiveFactory(
        school_id=schools["Birch"].id,
        kind=ObjectiveKind.RELATIVE_BAND,
        band_k=Decimal("0.150"),
        effective_from_year_id=years[THIS].id,
    )
    ObjectiveFactory(
        school_id=schools["Elm"].id,
        kind=ObjectiveKind.PREVENT,
        effective_from_year_id=years[LAST].id,
    )
    db.session.commit()
    return District(
        ids={name: school.id for name, school in schools.items()},
        year_ids={label: school_year.id for label, school_year in years.items()},
    )


def set_settings(minority: list[str], threshold: int = 10) -> None:
    """Write the district's settings row (as an admin's form would)."""
    row = db.session.get(IntegrationSettings, 1)
    if row is None:
        db.session.add(
            IntegrationSettings(
                id=1, minority_groups=",".join(minority), suppression_threshold=threshold
            )
        )
    else:
        row.minority_groups = ",".join(minority)
        row.suppression_threshold = threshold
    db.session.commit()


# A bulk district, for query counts ----------------------------------------------------------

RACE_MIX = [
    ("american_indian_alaska_native", 1),
    ("asian", 9),
    ("black", 23),
    ("hispanic_latino", 31),
    ("native_hawaiian_pacific_islander", 2),
    ("white", 40),
    ("two_or_more", 7),
    ("unknown", 3),
]


def bulk_district(schools: int, labels: list[str], *, start: int = 0) -> list[int]:
    """`schools` active schools (every fourth a magnet with an objective) with enrollment
    and applicant counts by race and enrollment by income, in every year of `labels`;
    inserted in bulk (codes from BK-<start>). Returns the new schools' ids."""
    years = [year(label) for label in labels]
    now = utcnow()
    db.session.execute(
        sa.insert(School),
        [
            {
                "code": f"BK-{i:05d}",
                "name": f"Bulk School {i:05d}",
                "level": "elementary",
                "is_magnet": i % 4 == 0,
                "magnet_theme": "STEM" if i % 4 == 0 else "",
                "is_pilot": i % 10 == 0,
                "region": "North",
                "is_active": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(start, start + schools)
        ],
    )
    codes = [f"BK-{i:05d}" for i in range(start, start + schools)]
    ids = list(
        db.session.scalars(sa.select(School.id).where(School.code.in_(codes)).order_by(School.id))
    )
    rows = []
    for y, school_year in enumerate(years):
        for n, school_id in enumerate(ids):
            for group, base in RACE_MIX:
                count = base + (n * 7 + y * 3 + len(group)) % 17
                rows.append((school_id, school_year.id, Measure.ENROLLMENT, group, count))
                rows.append((school_id, school_year.id, Measure.APPLICANTS, group, count // 2))
            rows.append((school_id, school_year.id, Measure.ENROLLMENT, "low_income", 50 + n % 30))
            rows.append((school_id, school_year.id, Measure.ENROLLMENT, "not_low_income", 60))
    db.session.execute(
        sa.insert(EnrollmentCount),
        [
            {
                "school_id": school_id,
                "school_year_id": year_id,
                "grade": None,
                "measure": measure,
                "group": Group(group),
                "count": count,
            }
            for school_id, year_id, measure, group, count in rows
        ],
    )
    for school_id in ids[::4]:
        ObjectiveFactory(
            school_id=school_id,
            kind=ObjectiveKind.ABSOLUTE,
            effective_from_year_id=years[0].id,
        )
    db.session.commit()
    return ids
