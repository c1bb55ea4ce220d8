"""Cohorts, their strands, memberships and coach assignments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fellowship.db import Base, TimestampMixin, str_enum, utcnow
from fellowship.school_years import SchoolYear


class CohortStatus(enum.StrEnum):
    PLANNING = "planning"
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


# Forward through the life of a cohort; a step back is allowed to correct a mistake.
STATUS_ORDER = [
    CohortStatus.PLANNING,
    CohortStatus.ACTIVE,
    CohortStatus.COMPLETED,
    CohortStatus.ARCHIVED,
]


class CohortRole(enum.StrEnum):
    FELLOW = "fellow"
    COACH = "coach"
    FACILITATOR = "facilitator"
    REVIEWER = "reviewer"


class MembershipStatus(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


# The institute's "four corners".
DEFAULT_STRANDS = (
    "The school model",
    "Foundational leadership skills",
    "Coalition building",
    "Personal development",
)


class Cohort(TimestampMixin, Base):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    school_year_id: Mapped[int] = mapped_column(sa.ForeignKey("school_years.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[CohortStatus] = mapped_column(
        str_enum(CohortStatus, "cohort_status"), default=CohortStatus.PLANNING
    )
    checkin_rhythm_days: Mapped[int] = mapped_column(default=14)
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    version: Mapped[int] = mapped_column(default=1)

    school_year: Mapped[SchoolYear] = relationship(lazy="joined")
    strands: Mapped[list[Strand]] = relationship(
        back_populates="cohort",
        order_by="Strand.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        sa.CheckConstraint("checkin_rhythm_days > 0", name="rhythm_positive"),
    )

    def __repr__(self) -> str:
        return f"<Cohort {self.id} {self.name}>"


class Strand(Base):
    __tablename__ = "strands"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int]

    cohort: Mapped[Cohort] = relationship(back_populates="strands", lazy="raise")

    def __repr__(self) -> str:
        return f"<Strand {self.id} {self.name}>"


class CohortMembership(TimestampMixin, Base):
    """A person's one role in one cohort (a person may hold other roles in other cohorts)."""

    __tablename__ = "cohort_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[CohortRole] = mapped_column(str_enum(CohortRole, "cohort_role"))
    status: Mapped[MembershipStatus] = mapped_column(
        str_enum(MembershipStatus, "membership_status"), default=MembershipStatus.ACTIVE
    )
    joined_on: Mapped[date] = mapped_column(default=lambda: utcnow().date())

    __table_args__ = (
        sa.UniqueConstraint("cohort_id", "user_id"),
        sa.Index("ix_cohort_memberships_cohort_role", "cohort_id", "role"),
    )

    def __repr__(self) -> str:
        return f"<CohortMembership {self.id} {self.role} user={self.user_id}>"


class CoachAssignment(Base):
    """Who coached whom, from when to when. History is rows; the open row is the current one."""

    __tablename__ = "coach_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    fellow_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    coach_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    assigned_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.Index("ix_coach_assignments_cohort_fellow", "cohort_id", "fellow_id"),
        # At most one current coach per fellow per cohort.
        sa.Index(
            "uq_coach_assignments_current",
            "cohort_id",
            "fellow_id",
            unique=True,
            sqlite_where=sa.text("ends_on IS NULL"),
            postgresql_where=sa.text("ends_on IS NULL"),
        ),
    )

    def __repr__(self) -> str:
        return f"<CoachAssignment {self.id} fellow={self.fellow_id} coach={self.coach_id}>"
