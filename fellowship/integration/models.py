"""Integration data: aggregate enrollment counts per school, school year, grade, measure and
student group; each magnet school's integration objective; and the district's settings (which
groups count as "minority", the small-cell threshold).

Counts are aggregates only - never a student-level record. The figures computed from them live
in `metrics.py` (pure functions) and are published through `suppression.py`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fellowship.db import Base, TimestampMixin, str_enum, utcnow


class Measure(enum.StrEnum):
    ENROLLMENT = "enrollment"  # as of October 1
    APPLICANTS = "applicants"
    APPLIED_ENROLLED = "applied_enrolled"
    NEW_NOT_APPLIED = "new_not_applied"
    CONTINUING = "continuing"


class Group(enum.StrEnum):
    AMERICAN_INDIAN_ALASKA_NATIVE = "american_indian_alaska_native"
    ASIAN = "asian"
    BLACK = "black"
    HISPANIC_LATINO = "hispanic_latino"
    NATIVE_HAWAIIAN_PACIFIC_ISLANDER = "native_hawaiian_pacific_islander"
    WHITE = "white"
    TWO_OR_MORE = "two_or_more"
    UNKNOWN = "unknown"
    LOW_INCOME = "low_income"
    NOT_LOW_INCOME = "not_low_income"


RACE_GROUPS: tuple[Group, ...] = (
    Group.AMERICAN_INDIAN_ALASKA_NATIVE,
    Group.ASIAN,
    Group.BLACK,
    Group.HISPANIC_LATINO,
    Group.NATIVE_HAWAIIAN_PACIFIC_ISLANDER,
    Group.WHITE,
    Group.TWO_OR_MORE,
    Group.UNKNOWN,
)
# The seven known race/ethnicity groups: `unknown` is left out of every numerator and
# denominator.
KNOWN_RACE_GROUPS: tuple[Group, ...] = tuple(g for g in RACE_GROUPS if g != Group.UNKNOWN)
INCOME_GROUPS: tuple[Group, ...] = (Group.LOW_INCOME, Group.NOT_LOW_INCOME)
# Groups a district may count as "minority": any known group but white (the indices compare
# the minority groups with white students).
MINORITY_CHOICES: tuple[Group, ...] = tuple(g for g in KNOWN_RACE_GROUPS if g != Group.WHITE)
DEFAULT_MINORITY: tuple[Group, ...] = MINORITY_CHOICES

# Grades a count may be for; a count with no grade (NULL) is for all grades.
GRADES: tuple[str, ...] = ("PK", "K", *(str(n) for n in range(1, 13)))

DEFAULT_THRESHOLD = 10
THRESHOLD_MIN = 5  # below 5, "<N" pins some small counts to one value (see suppression.py)
THRESHOLD_MAX = 100


class ObjectiveKind(enum.StrEnum):
    ABSOLUTE = "absolute"  # p_s <= 0.50
    RELATIVE_BAND = "relative_band"  # |p_s - P| <= k
    APPLICANT_POOL = "applicant_pool"  # a_s < p_s
    PREVENT = "prevent"  # in the watch band and not rising


DEFAULT_BAND_K = Decimal("0.15")


class EnrollmentCount(Base):
    """One aggregate count: school × school year × grade (NULL = all grades) × measure ×
    group. Re-importing a school-year replaces all of its rows at once."""

    __tablename__ = "enrollment_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"))
    school_year_id: Mapped[int] = mapped_column(
        sa.ForeignKey("school_years.id", ondelete="RESTRICT")
    )
    grade: Mapped[str | None] = mapped_column(sa.String(4))
    measure: Mapped[Measure] = mapped_column(str_enum(Measure, "enrollment_measure"))
    group: Mapped[Group] = mapped_column("student_group", str_enum(Group, "student_group"))
    count: Mapped[int]

    __table_args__ = (
        sa.CheckConstraint("count >= 0", name="count_not_negative"),
        # One count per key. A NULL grade means "all grades", and NULLs are distinct in a
        # plain unique index, so the all-grades rows get an index of their own.
        sa.Index(
            "uq_enrollment_counts_grade",
            "school_id",
            "school_year_id",
            "grade",
            "measure",
            "student_group",
            unique=True,
            sqlite_where=sa.text("grade IS NOT NULL"),
            postgresql_where=sa.text("grade IS NOT NULL"),
        ),
        sa.Index(
            "uq_enrollment_counts_all_grades",
            "school_id",
            "school_year_id",
            "measure",
            "student_group",
            unique=True,
            sqlite_where=sa.text("grade IS NULL"),
            postgresql_where=sa.text("grade IS NULL"),
        ),
        sa.Index("ix_enrollment_counts_year_measure", "school_year_id", "measure"),
    )

    def __repr__(self) -> str:
        return (
            f"<EnrollmentCount s{self.school_id} y{self.school_year_id} {self.grade or 'all'} "
            f"{self.measure} {self.group}={self.count}>"
        )


class IntegrationObjective(TimestampMixin, Base):
    """A magnet school's integration objective from a school year on; the objective for a
    year is the one with the latest `effective_from` year not after it."""

    __tablename__ = "integration_objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"))
    kind: Mapped[ObjectiveKind] = mapped_column(str_enum(ObjectiveKind, "objective_kind"))
    band_k: Mapped[Decimal] = mapped_column(sa.Numeric(4, 3), default=DEFAULT_BAND_K)
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    effective_from_year_id: Mapped[int] = mapped_column(
        sa.ForeignKey("school_years.id", ondelete="RESTRICT")
    )
    note: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (
        sa.UniqueConstraint("school_id", "effective_from_year_id"),
        sa.CheckConstraint("band_k > 0 AND band_k <= 0.5", name="band_k_range"),
    )

    def __repr__(self) -> str:
        return (
            f"<IntegrationObjective s{self.school_id} {self.kind} "
            f"from y{self.effective_from_year_id}>"
        )


class IntegrationSettings(Base):
    """The district's one row of settings (id 1); absent means the defaults."""

    __tablename__ = "integration_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Comma-separated Group values, e.g. "asian,black,hispanic_latino".
    minority_groups: Mapped[str] = mapped_column(sa.String(400))
    suppression_threshold: Mapped[int] = mapped_column(default=DEFAULT_THRESHOLD)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint(
            f"suppression_threshold BETWEEN {THRESHOLD_MIN} AND {THRESHOLD_MAX}",
            name="threshold_range",
        ),
    )

    @property
    def minority(self) -> tuple[Group, ...]:
        chosen = {value for value in self.minority_groups.split(",") if value}
        return tuple(g for g in MINORITY_CHOICES if g.value in chosen)


class IntegrationCountsVersion(Base):
    """How many times a school year's counts have changed. Whatever changes counts (the
    import, the demo loader) bumps the year's row in the same transaction
    (`figures.counts_changed`), so the figures store can tell its figures of that year - and
    of the year after, whose year-over-year changes use them - are out of date."""

    __tablename__ = "integration_counts_versions"

    school_year_id: Mapped[int] = mapped_column(
        sa.ForeignKey("school_years.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(default=1)

    def __repr__(self) -> str:
        return f"<IntegrationCountsVersion y{self.school_year_id} v{self.version}>"


class IntegrationFigures(Base):
    """The figures store: a school year's published figures as every output shows them,
    computed once by `report.year_report` and kept (see `figures.py`).

    A derived cache: deleting its rows loses nothing, the next read computes them again. One
    row per school year for the district (`school_id` NULL) and one per active school. Every
    row of a year carries the fingerprint of what the figures were computed from; a row whose
    fingerprint is not the current one is out of date. Only published figures are kept: a
    count only when it is shown, a share only when it is shown, otherwise the mark of why
    not - never a hidden count."""

    __tablename__ = "integration_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_year_id: Mapped[int] = mapped_column(
        sa.ForeignKey("school_years.id", ondelete="CASCADE")
    )
    school_id: Mapped[int | None] = mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    # The school's status that year (isolated / watch / neither / no_data); NULL for the
    # district's row.
    status: Mapped[str | None] = mapped_column(sa.String(16))
    # The school's place in the report's order (by name), and on the dashboard's list (by
    # status, then name); 0 for the district's row.
    position: Mapped[int] = mapped_column(default=0)
    list_position: Mapped[int] = mapped_column(default=0)
    # The figures (see `figures.py` for the shape): indicators, status, objective; for the
    # district's row its indices and summary.
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # The published counts by measure (the federal table, a school's composition).
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # The district's row only: the magnet schools' objectives in force that year and their
    # results (the dashboard's table), read for one year at a time.
    objectives: Mapped[list[Any] | None] = mapped_column(sa.JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # One row per school year and school, and one district row per school year: NULLs are
        # distinct in a plain unique index, so the district's rows get an index of their own.
        sa.Index(
            "uq_integration_figures_school",
            "school_id",
            "school_year_id",
            unique=True,
            sqlite_where=sa.text("school_id IS NOT NULL"),
            postgresql_where=sa.text("school_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_integration_figures_district",
            "school_year_id",
            unique=True,
            sqlite_where=sa.text("school_id IS NULL"),
            postgresql_where=sa.text("school_id IS NULL"),
        ),
        sa.Index("ix_integration_figures_position", "school_year_id", "position"),
        sa.Index("ix_integration_figures_list", "school_year_id", "list_position"),
        sa.Index("ix_integration_figures_status", "school_year_id", "status", "list_position"),
    )

    def __repr__(self) -> str:
        return f"<IntegrationFigures y{self.school_year_id} s{self.school_id or 'district'}>"
