"""Equity improvement cycles: schools, a school's yearly cycle and its members, the
initiative's driver diagram, goals and their measurements, improvement tests (PDSA), the
support and engagement logs, and the yearly goals review with its ratings, next year's
goals, sign-offs and frozen snapshot.

A signed review never changes: its `snapshot` is written once, when the second person signs,
and a correction is a new review that `amends_review_id` the old one.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fellowship.capstones.models import SchoolLevel
from fellowship.db import Base, TimestampMixin, str_enum, utcnow

__all__ = ["SchoolLevel"]


class CycleStage(enum.StrEnum):
    PLANNING = "planning"
    IMPLEMENTING = "implementing"
    YEARLY_REVIEW = "yearly_review"
    CLOSED = "closed"


class CycleRole(enum.StrEnum):
    LEAD_TEACHER = "lead_teacher"
    TEAM_MEMBER = "team_member"
    PARTNER = "partner"
    STAFF_LIAISON = "staff_liaison"


class DriverKind(enum.StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    CHANGE_IDEA = "change_idea"


class GoalCategory(enum.StrEnum):
    ENROLLMENT_DIVERSITY = "enrollment_diversity"
    ACHIEVEMENT = "achievement"
    CLIMATE = "climate"
    FAMILY_ENGAGEMENT = "family_engagement"
    OTHER = "other"


class GoalDirection(enum.StrEnum):
    RAISE = "raise"
    LOWER = "lower"
    HOLD = "hold"


class GoalStatus(enum.StrEnum):
    MET = "met"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"


class PdsaDecision(enum.StrEnum):
    ADOPT = "adopt"
    ADAPT = "adapt"
    ABANDON = "abandon"


class SupportKind(enum.StrEnum):
    TECHNICAL_ASSISTANCE = "technical_assistance"
    PROFESSIONAL_DEVELOPMENT = "professional_development"
    COACHING = "coaching"


class EngagementGroup(enum.StrEnum):
    ADVISORY_COUNCIL = "advisory_council"
    FAMILIES = "families"
    STUDENTS = "students"
    STAFF = "staff"
    COMMUNITY = "community"


class ReviewStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # a date is set; nothing recorded yet
    IN_MEETING = "in_meeting"  # ratings, notes or next year's goals are being recorded
    SIGNED = "signed"  # both signed: frozen
    AMENDED = "amended"  # signed, and a later signed amendment corrects it


class Rating(enum.StrEnum):
    MET = "met"
    PROGRESSING = "progressing"
    NOT_MET = "not_met"


class School(TimestampMixin, Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)  # the state code
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[SchoolLevel] = mapped_column(str_enum(SchoolLevel, "school_level"))
    is_magnet: Mapped[bool] = mapped_column(default=False)
    magnet_theme: Mapped[str] = mapped_column(sa.String(120), default="")
    is_pilot: Mapped[bool] = mapped_column(default=False)
    region: Mapped[str] = mapped_column(sa.String(80), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (sa.Index("ix_schools_name", "name"),)

    def __repr__(self) -> str:
        return f"<School {self.id} {self.code} {self.name}>"


class Cycle(TimestampMixin, Base):
    """One school's improvement cycle in one school year."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"))
    school_year_id: Mapped[int] = mapped_column(
        sa.ForeignKey("school_years.id", ondelete="RESTRICT"), index=True
    )
    stage: Mapped[CycleStage] = mapped_column(
        str_enum(CycleStage, "cycle_stage"), default=CycleStage.PLANNING
    )
    initiative_title: Mapped[str] = mapped_column(sa.String(200), default="")
    equity_challenge_md: Mapped[str] = mapped_column(sa.Text, default="")
    root_causes_md: Mapped[str] = mapped_column(sa.Text, default="")
    aim_md: Mapped[str] = mapped_column(sa.Text, default="")
    previous_cycle_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cycles.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (sa.UniqueConstraint("school_id", "school_year_id"),)

    def __repr__(self) -> str:
        return f"<Cycle {self.id} school={self.school_id} year={self.school_year_id}>"


class CycleMembership(Base):
    __tablename__ = "cycle_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(sa.ForeignKey("cycles.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[CycleRole] = mapped_column(str_enum(CycleRole, "cycle_role"))
    organisation: Mapped[str] = mapped_column(sa.String(200), default="")  # a partner's
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("cycle_id", "user_id"),)

    def __repr__(self) -> str:
        return f"<CycleMembership {self.id} cycle={self.cycle_id} {self.role}>"


class Driver(TimestampMixin, Base):
    """A node of the driver diagram: primary drivers (parent None) hold secondary drivers
    and change ideas; secondary drivers hold change ideas."""

    __tablename__ = "drivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("drivers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[DriverKind] = mapped_column(str_enum(DriverKind, "driver_kind"))
    text: Mapped[str] = mapped_column(sa.String(500))
    position: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Driver {self.id} {self.kind} {self.text[:30]}>"


class Goal(TimestampMixin, Base):
    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[GoalCategory] = mapped_column(str_enum(GoalCategory, "goal_category"))
    metric: Mapped[str] = mapped_column(sa.String(300))  # what is measured, and how
    unit: Mapped[str] = mapped_column(sa.String(40), default="")  # "%", "students", "days"
    baseline_value: Mapped[float]
    baseline_on: Mapped[date]
    target_value: Mapped[float]
    direction: Mapped[GoalDirection] = mapped_column(str_enum(GoalDirection, "goal_direction"))
    due_on: Mapped[date | None]
    status_override: Mapped[GoalStatus | None] = mapped_column(str_enum(GoalStatus, "goal_status"))
    override_reason: Mapped[str] = mapped_column(sa.Text, default="")
    override_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    override_at: Mapped[datetime | None]
    carried_from_goal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("goals.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Goal {self.id} {self.title}>"


class Measurement(Base):
    __tablename__ = "measurements"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="CASCADE"))
    measured_on: Mapped[date]
    value: Mapped[float]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    evidence_file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="SET NULL")
    )
    evidence_url: Mapped[str] = mapped_column(sa.String(2000), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.Index("ix_measurements_goal_measured_on", "goal_id", "measured_on"),)

    def __repr__(self) -> str:
        return f"<Measurement {self.id} goal={self.goal_id} {self.measured_on} {self.value}>"


class ImprovementTest(TimestampMixin, Base):
    """A Plan-Do-Study-Act test of a change idea."""

    __tablename__ = "improvement_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True
    )
    driver_id: Mapped[int | None] = mapped_column(sa.ForeignKey("drivers.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    plan_md: Mapped[str] = mapped_column(sa.Text, default="")
    prediction_md: Mapped[str] = mapped_column(sa.Text, default="")
    do_md: Mapped[str] = mapped_column(sa.Text, default="")
    study_md: Mapped[str] = mapped_column(sa.Text, default="")
    decision: Mapped[PdsaDecision | None] = mapped_column(str_enum(PdsaDecision, "pdsa_decision"))
    started_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<ImprovementTest {self.id} {self.title}>"


class SupportActivity(TimestampMixin, Base):
    """Technical assistance, professional development or coaching given to the school."""

    __tablename__ = "support_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    provider_name: Mapped[str] = mapped_column(sa.String(200), default="")  # the organisation
    kind: Mapped[SupportKind] = mapped_column(str_enum(SupportKind, "support_kind"))
    held_on: Mapped[date]
    hours: Mapped[float]
    participants: Mapped[int] = mapped_column(default=0)
    topic: Mapped[str] = mapped_column(sa.String(300))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    goal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("goals.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (
        sa.CheckConstraint("hours > 0", name="hours_positive"),
        sa.CheckConstraint("participants >= 0", name="participants_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<SupportActivity {self.id} {self.kind} {self.hours}h>"


class EngagementSession(TimestampMixin, Base):
    __tablename__ = "engagement_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date]
    group: Mapped[EngagementGroup] = mapped_column(str_enum(EngagementGroup, "engagement_group"))
    participants: Mapped[int] = mapped_column(default=0)
    heard_md: Mapped[str] = mapped_column(sa.Text, default="")
    changed_md: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (sa.CheckConstraint("participants >= 0", name="participants_not_negative"),)

    def __repr__(self) -> str:
        return f"<EngagementSession {self.id} {self.group} {self.held_on}>"


class GoalsReview(TimestampMixin, Base):
    """The yearly goals review of a cycle, or an amendment of a signed one."""

    __tablename__ = "goals_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cycles.id", ondelete="CASCADE"), index=True
    )
    scheduled_for: Mapped[date]
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    participants: Mapped[str] = mapped_column(sa.Text, default="")  # who attends, one a line
    status: Mapped[ReviewStatus] = mapped_column(
        str_enum(ReviewStatus, "goals_review_status"), default=ReviewStatus.SCHEDULED
    )
    notes_md: Mapped[str] = mapped_column(sa.Text, default="")
    scheduled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    lead_signed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    lead_signed_at: Mapped[datetime | None]
    staff_signed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    staff_signed_at: Mapped[datetime | None]
    # sha256 of the packet as the first signer saw it: the second signature only freezes the
    # review when the packet is still the same (else the first signature is withdrawn).
    signed_digest: Mapped[str | None] = mapped_column(sa.String(64))
    # Written once, when the second signature lands: the packet, ratings, notes and next
    # year's goals as they were signed. Nothing changes it afterwards.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    frozen_at: Mapped[datetime | None]
    amends_review_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("goals_reviews.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<GoalsReview {self.id} cycle={self.cycle_id} {self.status}>"


class GoalRating(Base):
    __tablename__ = "goal_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("goals_reviews.id", ondelete="CASCADE"))
    goal_id: Mapped[int] = mapped_column(sa.ForeignKey("goals.id", ondelete="CASCADE"))
    rating: Mapped[Rating] = mapped_column(str_enum(Rating, "goal_rating"))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    rated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("review_id", "goal_id"),)

    def __repr__(self) -> str:
        return f"<GoalRating {self.id} goal={self.goal_id} {self.rating}>"


class ProposedGoal(Base):
    """A goal agreed in the review for next year; `goal_id` when it continues this year's
    goal (next year's baseline is then that goal's latest value)."""

    __tablename__ = "proposed_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        sa.ForeignKey("goals_reviews.id", ondelete="CASCADE"), index=True
    )
    goal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("goals.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[GoalCategory] = mapped_column(str_enum(GoalCategory, "goal_category"))
    metric: Mapped[str] = mapped_column(sa.String(300))
    unit: Mapped[str] = mapped_column(sa.String(40), default="")
    baseline_value: Mapped[float | None]
    baseline_on: Mapped[date | None]
    target_value: Mapped[float]
    direction: Mapped[GoalDirection] = mapped_column(str_enum(GoalDirection, "goal_direction"))
    due_on: Mapped[date | None]
    position: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<ProposedGoal {self.id} {self.title}>"
