"""Demo integration data: ten school years of October 1 counts for the demo district's twenty
magnet schools, and their integration objectives.

Called at the end of `fellowship.demo.load_demo`, after the cycles demo made the schools;
idempotent (counts are added only when the first pilot school has none; objectives only for
schools without any). What it shows on purpose:

- a district around half minority, with schools of every status: a few isolated schools (more
  than 50 % minority), schools drifting up inside the watch band (20-50 % and rising), mostly
  white schools, and mixed ones;
- the three pilot schools isolated ten years ago and falling steadily below 50 %, their
  applicants and new students less isolated than their enrollment;
- small groups (American Indian or Alaska Native, Native Hawaiian or Pacific Islander,
  unknown: 0 to 9 students) so small-cell suppression shows on every page;
- every measure for every group, with applied-and-enrolled + new-not-applied + continuing =
  enrollment for each group; grade-level enrollment for two pilot schools' last two years;
- objectives of all four kinds, some changed over the years (so the history shows), one school
  without an objective yet.

The years are the ten ending with the one whose October 1 count is the latest by today
(`last_counted_year`); the numbers come from a fixed seed, so they are the same on every
machine and every day, only the year labels move on each October 1.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from fellowship.auth.services import find_user_by_email
from fellowship.cycles.demo import FIRST_YEAR, PILOTS
from fellowship.cycles.models import School, SchoolLevel
from fellowship.db import db, utcnow
from fellowship.integration import figures
from fellowship.integration.models import (
    INCOME_GROUPS,
    EnrollmentCount,
    Group,
    IntegrationObjective,
    Measure,
    ObjectiveKind,
)
from fellowship.school_years import SchoolYear, get_or_create

YEARS = 10
SEED = "integration-demo"

G = Group
# Minority groups split by weights; the two small groups get a few students each.
WEIGHTED = (G.HISPANIC_LATINO, G.BLACK, G.ASIAN, G.TWO_OR_MORE)

# Share of a school's students new each year, by level (a grade's worth plus moves).
NEW_RATE = {
    SchoolLevel.ELEMENTARY: 0.22,
    SchoolLevel.MIDDLE: 0.36,
    SchoolLevel.HIGH: 0.28,
    SchoolLevel.K8: 0.16,
}
GRADES_OF = {
    SchoolLevel.ELEMENTARY: ("K", "1", "2", "3", "4", "5"),
    SchoolLevel.HIGH: ("9", "10", "11", "12"),
}
GRADE_LEVEL_SCHOOLS = ("FL-13-0041", "FL-13-0262")  # grade rows for their last two years


@dataclass(frozen=True)
class Objective:
    kind: ObjectiveKind
    from_index: int  # 0 = the first demo year
    band_k: str = "0.15"
    note: str = ""


@dataclass(frozen=True)
class Profile:
    """How a school's minority share p moves over the ten years, and its make-up."""

    size: int  # students, the first year
    p: tuple[float, float]  # the first year's and the last year's
    mix: tuple[float, float, float, float]  # weights of WEIGHTED among its minority students
    small: tuple[int, int]  # typical American Indian / Pacific Islander students (0-9)
    applied: float = 0.9  # share of new students who applied (the rest came without applying)
    demand: float = 2.0  # applicants per seat filled by an applicant
    growth: float = 0.0  # enrollment change per year, a share of `size`
    income_offset: float = 0.0  # low-income share above (below) what p suggests
    pool: float = 0.0  # applicants' minority share above (below) the new students'
    unknown: tuple[int, int] = (0, 0)  # students of unknown race/ethnicity, from-to
    objectives: tuple[Objective, ...] = ()


A, R, AP, PV = (
    ObjectiveKind.ABSOLUTE,
    ObjectiveKind.RELATIVE_BAND,
    ObjectiveKind.APPLICANT_POOL,
    ObjectiveKind.PREVENT,
)

PROFILES: dict[str, Profile] = {
    # The pilots: isolated ten years ago, falling steadily below 50 %.
    "FL-13-0041": Profile(
        size=520, p=(0.82, 0.47), mix=(0.55, 0.30, 0.05, 0.10), small=(3, 1), demand=3.1,
        growth=0.01, unknown=(0, 0),
        objectives=(Objective(A, 0, note="Set with the magnet grant: under 50% by year ten."),),
    ),
    "FL-13-0187": Profile(
        size=780, p=(0.76, 0.45), mix=(0.35, 0.48, 0.05, 0.12), small=(4, 2), demand=2.4,
        objectives=(
            Objective(R, 0, "0.15"),
            Objective(A, 6, note="The board moved every pilot to the 50% line."),
        ),
    ),
    "FL-13-0262": Profile(
        size=1450, p=(0.71, 0.46), mix=(0.42, 0.33, 0.13, 0.12), small=(6, 3), demand=2.8,
        growth=0.005, unknown=(10, 18),
        objectives=(
            Objective(AP, 0, note="Recruit so each year's applicants are less isolated."),
            Objective(R, 7, "0.10", "Close to the district now: keep within 10 points."),
        ),
    ),
    # Isolated, and staying so.
    "FL-13-0312": Profile(
        size=480, p=(0.86, 0.84), mix=(0.40, 0.50, 0.02, 0.08), small=(2, 0), applied=0.7,
        demand=1.2, income_offset=0.05, pool=0.02, objectives=(Objective(A, 3),),
    ),
    "FL-13-0644": Profile(
        size=720, p=(0.78, 0.81), mix=(0.30, 0.58, 0.03, 0.09), small=(5, 1), applied=0.75,
        demand=1.4, pool=0.02, objectives=(Objective(R, 0, "0.20"),),
    ),
    "FL-13-0857": Profile(
        size=850, p=(0.88, 0.86), mix=(0.86, 0.06, 0.01, 0.07), small=(8, 0), applied=0.6,
        demand=1.3, income_offset=0.08, pool=0.03,
        objectives=(Objective(AP, 5, note="Outreach to families countywide."),),
    ),
    # Drifting up inside the watch band.
    "FL-13-0421": Profile(
        size=380, p=(0.24, 0.43), mix=(0.45, 0.25, 0.15, 0.15), small=(1, 2), demand=3.5,
        objectives=(Objective(PV, 4),),
    ),
    "FL-13-0681": Profile(
        size=760, p=(0.28, 0.46), mix=(0.40, 0.35, 0.12, 0.13), small=(4, 1), demand=2.2,
        unknown=(10, 14), objectives=(Objective(PV, 0),),
    ),
    "FL-13-0752": Profile(
        size=450, p=(0.31, 0.47), mix=(0.48, 0.30, 0.10, 0.12), small=(2, 1), demand=1.9,
        objectives=(Objective(R, 0, "0.15"),),
    ),
    # Mostly white.
    "FL-13-0715": Profile(
        size=1600, p=(0.16, 0.19), mix=(0.35, 0.20, 0.30, 0.15), small=(3, 2), demand=2.6,
        income_offset=-0.05, unknown=(12, 22), objectives=(Objective(R, 2, "0.15"),),
    ),
    "FL-13-0788": Profile(
        size=820, p=(0.14, 0.18), mix=(0.40, 0.25, 0.20, 0.15), small=(2, 0), demand=1.8,
        income_offset=-0.04,
        objectives=(Objective(R, 0, "0.25", "A wide band while recruitment starts."),),
    ),
    "FL-13-0894": Profile(  # no objective yet
        size=420, p=(0.12, 0.15), mix=(0.45, 0.20, 0.20, 0.15), small=(1, 1), demand=1.6,
        income_offset=-0.06,
    ),
    # Mixed schools.
    "FL-13-0355": Profile(
        size=820, p=(0.58, 0.55), mix=(0.45, 0.38, 0.05, 0.12), small=(4, 1),
        objectives=(Objective(A, 0),),
    ),
    "FL-13-0398": Profile(
        size=560, p=(0.62, 0.60), mix=(0.78, 0.10, 0.04, 0.08), small=(2, 0), applied=0.8,
        demand=2.5, unknown=(2, 7), objectives=(Objective(R, 0, "0.15"),),
    ),
    "FL-13-0467": Profile(
        size=700, p=(0.35, 0.36), mix=(0.42, 0.30, 0.14, 0.14), small=(3, 1),
        objectives=(Objective(PV, 0),),
    ),
    "FL-13-0503": Profile(
        size=1350, p=(0.55, 0.52), mix=(0.46, 0.38, 0.06, 0.10), small=(7, 2), growth=-0.005,
        unknown=(10, 16), objectives=(Objective(R, 1, "0.10"),),
    ),
    "FL-13-0538": Profile(
        size=440, p=(0.48, 0.51), mix=(0.50, 0.30, 0.08, 0.12), small=(1, 0),
        objectives=(Objective(A, 0),),
    ),
    "FL-13-0572": Profile(
        size=900, p=(0.42, 0.40), mix=(0.55, 0.22, 0.08, 0.15), small=(9, 1),
        objectives=(Objective(PV, 2),),
    ),
    "FL-13-0609": Profile(
        size=1700, p=(0.45, 0.49), mix=(0.40, 0.30, 0.18, 0.12), small=(5, 3), demand=3.0,
        unknown=(11, 20), objectives=(Objective(AP, 0),),
    ),
    "FL-13-0823": Profile(
        size=740, p=(0.66, 0.60), mix=(0.38, 0.47, 0.04, 0.11), small=(3, 1),
        objectives=(
            Objective(A, 3),
            Objective(R, 8, "0.15", "Moved to the band after the zone change."),
        ),
    ),
}  # fmt: skip


def last_counted_year(today: date) -> str:
    """The school year of the latest October 1 on or before `today`."""
    year = today.year if (today.month, today.day) >= (10, 1) else today.year - 1
    return f"{year}-{(year + 1) % 100:02d}"


def demo_year_labels(today: date) -> list[str]:
    last = int(last_counted_year(today)[:4])
    return [f"{y}-{(y + 1) % 100:02d}" for y in range(last - YEARS + 1, last + 1)]


# Splitting counts --------------------------------------------------------------------------------


def allocate(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainders): the parts sum to `total`,
    and a part is never above its weight when the weights are counts summing to at least
    `total`."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    whole = sum(weights)
    if whole <= 0:
        return [total] + [0] * (len(weights) - 1)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (exact[i] - parts[i], -i), reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def school_counts(
    rng: random.Random, profile: Profile, level: SchoolLevel
) -> list[dict[Measure, dict[Group, int]]]:
    """The ten years of counts of one school, the first year first."""
    years: list[dict[Measure, dict[Group, int]]] = []
    p_first, p_last = profile.p
    step = (p_last - p_first) / (YEARS - 1)
    new_rate = NEW_RATE[level]
    mix = list(profile.mix)
    for t in range(YEARS):
        p = _clamp(p_first + step * t + rng.uniform(-0.006, 0.006), 0.02, 0.98)
        total = round(profile.size * (1 + profile.growth * t) * rng.uniform(0.985, 1.015))
        unknown = rng.randint(*profile.unknown)
        known = total - unknown
        minority = round(p * known)
        white = known - minority
        aian = max(0, profile.small[0] + rng.randint(-2, 2))
        nhpi = max(0, profile.small[1] + rng.randint(-1, 1))
        weights = [w * rng.uniform(0.93, 1.07) for w in mix]
        split = allocate(minority - aian - nhpi, weights)
        enrollment = {
            **dict(zip(WEIGHTED, split, strict=True)),
            G.AMERICAN_INDIAN_ALASKA_NATIVE: aian,
            G.NATIVE_HAWAIIAN_PACIFIC_ISLANDER: nhpi,
            G.WHITE: white,
            G.UNKNOWN: unknown,
        }
        low_share = _clamp(0.12 + 0.72 * p + profile.income_offset + rng.uniform(-0.02, 0.02),
                           0.04, 0.96)  # fmt: skip
        low = round(low_share * total)
        enrollment[G.LOW_INCOME] = low
        enrollment[G.NOT_LOW_INCOME] = total - low

        # This year's new students: less (more) isolated than the school when p is falling
        # (rising), so the trend comes from who arrives.
        new_total = round(total * new_rate * rng.uniform(0.95, 1.05))
        p_new = _clamp(p + step / new_rate * 0.8 + rng.uniform(-0.02, 0.02), 0.01, 0.99)
        new_unknown = min(unknown, round(unknown * new_rate))
        new_known = new_total - new_unknown
        new_minority = min(minority, round(p_new * new_known))
        new_white = min(white, new_known - new_minority)
        new_minority = new_known - new_white
        minority_groups = [
            *WEIGHTED,
            G.AMERICAN_INDIAN_ALASKA_NATIVE,
            G.NATIVE_HAWAIIAN_PACIFIC_ISLANDER,
        ]
        new = dict(
            zip(
                minority_groups,
                allocate(new_minority, [enrollment[g] for g in minority_groups]),
                strict=True,
            )
        )
        new[G.WHITE] = new_white
        new[G.UNKNOWN] = new_unknown
        new_low = min(low, round(low_share * new_total))
        new[G.LOW_INCOME] = new_low
        new[G.NOT_LOW_INCOME] = new_total - new_low

        # Who of them applied: one total, split over the race groups and over income.
        applied_total = round(new_total * _clamp(profile.applied + rng.uniform(-0.03, 0.03), 0, 1))
        race = [*minority_groups, G.WHITE, G.UNKNOWN]
        applied = dict(zip(race, allocate(applied_total, [new[g] for g in race]), strict=True))
        applied.update(
            zip(
                INCOME_GROUPS, allocate(applied_total, [new[g] for g in INCOME_GROUPS]), strict=True
            )
        )

        # Applicants: those who enrolled and those who did not, the pool's minority share a
        # close to the new students'.
        applicants_total = round(applied_total * profile.demand * rng.uniform(0.9, 1.1))
        extra = applicants_total - applied_total
        a = _clamp(p_new + profile.pool + rng.uniform(-0.03, 0.03), 0.01, 0.99)
        extra_unknown = round(extra * unknown / max(total, 1))
        extra_known = extra - extra_unknown
        applied_known = sum(applied[g] for g in race if g != G.UNKNOWN)
        applied_minority = sum(applied[g] for g in minority_groups)
        extra_minority = round(
            _clamp(a * (applied_known + extra_known) - applied_minority, 0, extra_known)
        )
        extra_race = dict(
            zip(
                minority_groups,
                allocate(extra_minority, [max(enrollment[g], 0.5) for g in minority_groups]),
                strict=True,
            )
        )
        extra_race[G.WHITE] = extra_known - extra_minority
        extra_race[G.UNKNOWN] = extra_unknown
        extra_low = round(extra * _clamp(low_share + 0.03, 0, 1))
        extra_race[G.LOW_INCOME] = extra_low
        extra_race[G.NOT_LOW_INCOME] = extra - extra_low

        groups = [*race, *INCOME_GROUPS]
        years.append(
            {
                Measure.ENROLLMENT: {g: enrollment[g] for g in groups},
                Measure.APPLICANTS: {g: applied[g] + extra_race[g] for g in groups},
                Measure.APPLIED_ENROLLED: {g: applied[g] for g in groups},
                Measure.NEW_NOT_APPLIED: {g: new[g] - applied[g] for g in groups},
                Measure.CONTINUING: {g: enrollment[g] - new[g] for g in groups},
            }
        )
    return years


def grade_counts(
    rng: random.Random, enrollment: dict[Group, int], grades: tuple[str, ...]
) -> dict[str, dict[Group, int]]:
    """One year's enrollment split over grades: each group's grade counts sum to its
    all-grades count."""
    weights = [rng.uniform(0.9, 1.1) for _ in grades]
    by_grade: dict[str, dict[Group, int]] = {grade: {} for grade in grades}
    for group, count in enrollment.items():
        for grade, part in zip(grades, allocate(count, weights), strict=True):
            by_grade[grade][group] = part
    return by_grade


# Loading ---------------------------------------------------------------------------------------


def load_integration_demo(today: date | None = None) -> None:
    """Add the demo counts and objectives that are missing (idempotent); flushes, never
    commits."""
    codes = [spec.code for spec in (*PILOTS, *FIRST_YEAR)]
    schools = {
        school.code: school
        for school in db.session.scalars(sa.select(School).where(School.code.in_(codes)))
    }
    if not schools:
        return
    today = today or utcnow().date()
    labels = demo_year_labels(today)
    years = [get_or_create(label) for label in labels]
    first_pilot = schools.get(PILOTS[0].code)
    has_counts = first_pilot is not None and db.session.scalar(
        sa.select(EnrollmentCount.id).where(EnrollmentCount.school_id == first_pilot.id).limit(1)
    )
    if not has_counts:
        _load_counts(schools, years)
        figures.counts_changed(year.id for year in years)
    _load_objectives(schools, years)
    db.session.flush()


def _load_counts(schools: dict[str, School], years: list[SchoolYear]) -> None:
    rng = random.Random(SEED)  # noqa: S311 - demo content
    rows: list[dict[str, object]] = []
    for code, profile in PROFILES.items():
        school = schools.get(code)
        if school is None:
            continue
        history = school_counts(rng, profile, school.level)
        for year, by_measure in zip(years, history, strict=True):
            for measure, by_group in by_measure.items():
                rows.extend(
                    {
                        "school_id": school.id,
                        "school_year_id": year.id,
                        "grade": None,
                        "measure": measure,
                        "group": group,
                        "count": count,
                    }
                    for group, count in by_group.items()
                )
        if code in GRADE_LEVEL_SCHOOLS:
            for year, by_measure in list(zip(years, history, strict=True))[-2:]:
                split = grade_counts(rng, by_measure[Measure.ENROLLMENT], GRADES_OF[school.level])
                for grade, by_group in split.items():
                    rows.extend(
                        {
                            "school_id": school.id,
                            "school_year_id": year.id,
                            "grade": grade,
                            "measure": Measure.ENROLLMENT,
                            "group": group,
                            "count": count,
                        }
                        for group, count in by_group.items()
                    )
    if rows:
        db.session.execute(sa.insert(EnrollmentCount), rows)


def _load_objectives(schools: dict[str, School], years: list[SchoolYear]) -> None:
    have = set(
        db.session.scalars(
            sa.select(IntegrationObjective.school_id).where(
                IntegrationObjective.school_id.in_([s.id for s in schools.values()])
            )
        )
    )
    staff = find_user_by_email("staff@example.org")
    admin = find_user_by_email("admin@example.org")
    setters = [person.id for person in (staff, admin) if person is not None]
    for n, (code, profile) in enumerate(PROFILES.items()):
        school = schools.get(code)
        if school is None or school.id in have or not school.is_magnet:
            continue
        for objective in profile.objectives:
            year = years[objective.from_index]
            when = datetime.combine(
                year.starts_on + timedelta(days=60 + n), time(15, 30), tzinfo=UTC
            )
            db.session.add(
                IntegrationObjective(
                    school_id=school.id,
                    kind=objective.kind,
                    band_k=Decimal(objective.band_k),
                    set_by_id=setters[(n + objective.from_index) % len(setters)]
                    if setters
                    else None,
                    effective_from_year_id=year.id,
                    note=objective.note,
                    created_at=when,
                    updated_at=when,
                )
            )
