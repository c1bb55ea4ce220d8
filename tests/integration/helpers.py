"""Builders for the integration tests: counts, objectives, settings."""

from __future__ import annotations

from collections.abc import Mapping

import factory

from fellowship.cycles.models import School
from fellowship.extensions import db
from fellowship.integration.models import (
    DEFAULT_BAND_K,
    EnrollmentCount,
    Group,
    IntegrationObjective,
    Measure,
    ObjectiveKind,
)
from fellowship.school_years import SchoolYear, parse_label
from tests.cycles.helpers import SchoolFactory
from tests.factories import BaseFactory, SchoolYearFactory


def year(label: str) -> SchoolYear:
    """The school year with this label ("2025-26"), made when missing."""
    bounds = parse_label(label)
    assert bounds is not None, label
    return SchoolYearFactory(label=label, starts_on=bounds[0], ends_on=bounds[1])


def add_counts(
    school: School,
    school_year: SchoolYear,
    counts: Mapping[str, int],
    *,
    measure: Measure = Measure.ENROLLMENT,
    grade: str | None = None,
) -> None:
    """One all-grades (or one grade's) count per group for a school and year."""
    db.session.add_all(
        EnrollmentCount(
            school_id=school.id,
            school_year_id=school_year.id,
            grade=grade,
            measure=measure,
            group=Group(group),
            count=count,
        )
        for group, count in counts.items()
    )
    db.session.flush()


class ObjectiveFactory(BaseFactory):
    """`ObjectiveFactory(school_id=..., effective_from_year_id=...)`; a new magnet school and
    2025-26 when not given."""

    class Meta:
        model = IntegrationObjective

    school_id = factory.LazyFunction(lambda: SchoolFactory(is_magnet=True).id)
    kind = ObjectiveKind.ABSOLUTE
    band_k = DEFAULT_BAND_K
    effective_from_year_id = factory.LazyFunction(lambda: year("2025-26").id)
    note = ""
