"""The demo integration data: ten years of counts for the twenty demo schools that add up,
the pilot schools' isolation falling year after year, objectives of every kind; loading it
again changes nothing."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import pairwise

import pytest
import sqlalchemy as sa

from fellowship.cycles.demo import FIRST_YEAR, PILOTS, load_cycles_demo
from fellowship.cycles.models import School
from fellowship.extensions import db
from fellowship.integration import metrics
from fellowship.integration.demo import PROFILES, last_counted_year, load_integration_demo
from fellowship.integration.models import (
    DEFAULT_MINORITY,
    EnrollmentCount,
    IntegrationObjective,
    Measure,
    ObjectiveKind,
)
from fellowship.school_years import SchoolYear
from tests.conftest import rows_for_module

TODAY = date(2026, 11, 29)
LABELS = [f"{y}-{(y + 1) % 100:02d}" for y in range(2017, 2027)]
MINORITY = [g.value for g in DEFAULT_MINORITY]


def _load_demo() -> None:
    """The schools of the cycles demo, then the integration demo (no real password hash)."""
    load_cycles_demo(password_hash="not-a-real-hash")
    load_integration_demo(TODAY)


built_demo = rows_for_module(_load_demo)


@pytest.fixture
def demo(built_demo, ctx):
    return None


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def enrollment_by_school_and_year() -> dict[tuple[str, str], dict[str, int]]:
    rows = db.session.execute(
        sa.select(School.code, SchoolYear.label, EnrollmentCount.group, EnrollmentCount.count)
        .join(School, School.id == EnrollmentCount.school_id)
        .join(SchoolYear, SchoolYear.id == EnrollmentCount.school_year_id)
        .where(EnrollmentCount.measure == Measure.ENROLLMENT, EnrollmentCount.grade.is_(None))
    )
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for code, label, group, value in rows:
        counts[(code, label)][group.value] = value
    return counts


def test_the_demo_loads_ten_years_for_every_school_and_again_without_changing(demo):
    all_grades = 20 * 10 * len(Measure) * 10  # schools, years, measures, groups
    grade_rows = (6 + 4) * 2 * 10  # two schools: their grades, last two years, groups
    objectives = sum(len(profile.objectives) for profile in PROFILES.values())
    assert count(EnrollmentCount) == all_grades + grade_rows
    assert count(IntegrationObjective) == objectives
    labels = db.session.scalars(
        sa.select(SchoolYear.label)
        .join(EnrollmentCount, EnrollmentCount.school_year_id == SchoolYear.id)
        .distinct()
        .order_by(SchoolYear.label)
    ).all()
    assert labels == LABELS
    load_integration_demo(TODAY)
    load_cycles_demo(password_hash="not-a-real-hash")
    db.session.commit()
    assert (count(EnrollmentCount), count(IntegrationObjective)) == (
        all_grades + grade_rows,
        objectives,
    )


def test_the_pilot_schools_fall_every_year_from_isolated_to_below_half(demo):
    counts = enrollment_by_school_and_year()
    for spec in PILOTS:
        shares = [metrics.minority_share(counts[(spec.code, label)], MINORITY) for label in LABELS]
        assert all(share is not None for share in shares)
        assert all(later < earlier for earlier, later in pairwise(shares))
        assert shares[0] > 0.65
        assert shares[-1] < 0.5


def test_the_district_is_about_half_minority_with_isolated_watch_band_and_small_groups(demo):
    counts = enrollment_by_school_and_year()
    last, before = LABELS[-1], LABELS[-2]
    district = metrics.race_indices([counts[(code, last)] for code in PROFILES], MINORITY).share
    assert district is not None
    assert 0.45 <= district <= 0.55
    shares = {code: metrics.minority_share(counts[(code, last)], MINORITY) for code in PROFILES}
    previous = {code: metrics.minority_share(counts[(code, before)], MINORITY) for code in PROFILES}
    assert sum(metrics.is_isolated(p) for p in shares.values()) >= 3
    assert sum(metrics.in_watch_band(shares[c], previous[c]) for c in PROFILES) >= 3
    small = sum(1 for group_counts in counts.values() for n in group_counts.values() if 1 <= n <= 9)
    assert small >= 100


def test_every_groups_new_and_continuing_students_add_up_to_its_enrollment(demo):
    rows = db.session.execute(
        sa.select(
            EnrollmentCount.school_id,
            EnrollmentCount.school_year_id,
            EnrollmentCount.grade,
            EnrollmentCount.measure,
            EnrollmentCount.group,
            EnrollmentCount.count,
        )
    ).all()
    table = {(s, y, g, m, grp): n for s, y, g, m, grp, n in rows}
    grade_sums: dict[tuple, int] = defaultdict(int)
    for (school, year, grade, measure, group), n in table.items():
        if grade is not None:
            grade_sums[(school, year, measure, group)] += n
            continue
        if measure != Measure.ENROLLMENT:
            continue
        parts = [
            table[(school, year, None, m, group)]
            for m in (Measure.APPLIED_ENROLLED, Measure.NEW_NOT_APPLIED, Measure.CONTINUING)
        ]
        assert sum(parts) == n
        assert table[(school, year, None, Measure.APPLICANTS, group)] >= parts[0]
    assert grade_sums
    for (school, year, measure, group), total in grade_sums.items():
        assert total == table[(school, year, None, measure, group)]


def test_magnet_schools_have_objectives_of_every_kind_and_some_a_history(demo):
    rows = db.session.execute(
        sa.select(School.code, IntegrationObjective.kind, IntegrationObjective.set_by_id).join(
            School, School.id == IntegrationObjective.school_id
        )
    ).all()
    assert {kind for _, kind, _ in rows} == set(ObjectiveKind)
    per_school = defaultdict(int)
    for code, _, _ in rows:
        per_school[code] += 1
    assert len(per_school) == 19  # one school has no objective yet
    assert sum(1 for n in per_school.values() if n > 1) >= 3
    assert all(set_by is not None for _, _, set_by in rows)
    assert {spec.code for spec in (*PILOTS, *FIRST_YEAR)} == set(PROFILES)


@pytest.mark.parametrize(
    ("today", "label"),
    [
        (date(2026, 9, 30), "2025-26"),
        (date(2026, 10, 1), "2026-27"),
        (date(2027, 6, 30), "2026-27"),
    ],
)
def test_the_latest_counted_year_is_the_one_of_the_latest_october_first(today, label):
    assert last_counted_year(today) == label
