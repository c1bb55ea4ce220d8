"""Capstones: a fellow's project, its numbered versions and files, the cohort's rubric,
reviewer assignments and reviews, staff decisions, graduates' outcomes.

A submitted version never changes (`submitted_at` set once); a revision is a new version.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fellowship.db import Base, TimestampMixin, str_enum, utcnow


class CapstoneStatus(enum.StrEnum):
    DRAFT = "draft"
    PROPOSAL_SUBMITTED = "proposal_submitted"
    PROPOSAL_REVISIONS = "proposal_revisions"  # revisions requested after the proposal
    PROPOSAL_APPROVED = "proposal_approved"
    FINAL_SUBMITTED = "final_submitted"
    FINAL_REVISIONS = "final_revisions"  # revisions requested after the final
    APPROVED = "approved"


class Stage(enum.StrEnum):
    PROPOSAL = "proposal"
    FINAL = "final"


class SchoolLevel(enum.StrEnum):
    ELEMENTARY = "elementary"
    MIDDLE = "middle"
    HIGH = "high"
    K8 = "k8"
    K12 = "k12"
    OTHER = "other"


class Recommendation(enum.StrEnum):
    APPROVE = "approve"
    REVISE = "revise"


class OutcomeKind(enum.StrEnum):
    LAUNCHED_SCHOOL = "launched_school"
    LEADERSHIP_ROLE = "leadership_role"
    OTHER = "other"


class Capstone(TimestampMixin, Base):
    __tablename__ = "capstones"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    fellow_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    problem_md: Mapped[str] = mapped_column(sa.Text, default="")
    community_md: Mapped[str] = mapped_column(sa.Text, default="")
    strand_id: Mapped[int | None] = mapped_column(sa.ForeignKey("strands.id", ondelete="SET NULL"))
    school_level: Mapped[SchoolLevel | None] = mapped_column(
        str_enum(SchoolLevel, "capstone_school_level")
    )
    topics: Mapped[str] = mapped_column(sa.String(300), default="")  # comma-separated
    status: Mapped[CapstoneStatus] = mapped_column(
        str_enum(CapstoneStatus, "capstone_status"), default=CapstoneStatus.DRAFT
    )
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The practice library: published with the fellow's consent; withdrawing unpublishes.
    consent_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("cohort_id", "fellow_id"),
        sa.Index("ix_capstones_cohort_status", "cohort_id", "status"),
        sa.Index("ix_capstones_published", "published_at"),
    )

    def __repr__(self) -> str:
        return f"<Capstone {self.id} {self.title}>"


class CapstoneVersion(Base):
    """One numbered submission (or the working draft of the next one, `submitted_at` None).
    Once submitted it is never changed."""

    __tablename__ = "capstone_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    capstone_id: Mapped[int] = mapped_column(sa.ForeignKey("capstones.id", ondelete="CASCADE"))
    number: Mapped[int]
    stage: Mapped[Stage] = mapped_column(str_enum(Stage, "capstone_stage"))
    narrative_md: Mapped[str] = mapped_column(sa.Text, default="")
    # The capstone's summary, problem and community as they were when this version was
    # submitted: what its reviewers read and scored, whatever the fellow writes later.
    summary: Mapped[str | None] = mapped_column(sa.Text)
    problem_md: Mapped[str | None] = mapped_column(sa.Text)
    community_md: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("capstone_id", "number"),
        sa.CheckConstraint("number > 0", name="number_positive"),
    )

    def __repr__(self) -> str:
        return f"<CapstoneVersion {self.id} #{self.number} {self.stage}>"


class CapstoneVersionFile(Base):
    """A file attached to a version; `in_library` marks the files the fellow chose to
    publish with the capstone."""

    __tablename__ = "capstone_version_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("capstone_versions.id", ondelete="CASCADE"), index=True
    )
    stored_file_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    in_library: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.UniqueConstraint("version_id", "stored_file_id"),)

    def __repr__(self) -> str:
        return f"<CapstoneVersionFile version={self.version_id} file={self.stored_file_id}>"


class Rubric(Base):
    __tablename__ = "rubrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), unique=True
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Rubric {self.id} cohort={self.cohort_id}>"


class RubricCriterion(Base):
    __tablename__ = "rubric_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(sa.ForeignKey("rubrics.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (sa.Index("ix_rubric_criteria_rubric_position", "rubric_id", "position"),)

    def __repr__(self) -> str:
        return f"<RubricCriterion {self.id} {self.name}>"


class RubricLevel(Base):
    __tablename__ = "rubric_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("rubric_criteria.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[int]
    descriptor: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (sa.UniqueConstraint("criterion_id", "score"),)

    def __repr__(self) -> str:
        return f"<RubricLevel {self.id} score={self.score}>"


class ReviewAssignment(Base):
    __tablename__ = "review_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("capstone_versions.id", ondelete="CASCADE")
    )
    reviewer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    assigned_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("version_id", "reviewer_id"),)

    def __repr__(self) -> str:
        return f"<ReviewAssignment {self.id} version={self.version_id} reviewer={self.reviewer_id}>"


class Review(Base):
    """A reviewer's scores (criterion id → score), comments and recommendation; a draft
    until `submitted_at`."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("review_assignments.id", ondelete="CASCADE"), unique=True
    )
    scores: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    comments_md: Mapped[str] = mapped_column(sa.Text, default="")
    recommendation: Mapped[Recommendation | None] = mapped_column(
        str_enum(Recommendation, "review_recommendation")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Review {self.id} assignment={self.assignment_id}>"


class CapstoneDecision(Base):
    __tablename__ = "capstone_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("capstone_versions.id", ondelete="CASCADE"), unique=True
    )
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    outcome: Mapped[Recommendation] = mapped_column(
        str_enum(Recommendation, "capstone_decision_outcome")
    )
    message_md: Mapped[str] = mapped_column(sa.Text, default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<CapstoneDecision {self.id} {self.outcome}>"


class GraduateOutcome(TimestampMixin, Base):
    """What a graduate went on to do: the institute's evidence of diverse-by-design schools."""

    __tablename__ = "graduate_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    fellow_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[OutcomeKind] = mapped_column(str_enum(OutcomeKind, "graduate_outcome_kind"))
    school_name: Mapped[str] = mapped_column(sa.String(200), default="")
    opened_on: Mapped[date | None]
    diverse_by_design: Mapped[bool | None]
    role_title: Mapped[str] = mapped_column(sa.String(200), default="")
    url: Mapped[str | None] = mapped_column(sa.String(2000))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    __table_args__ = (sa.UniqueConstraint("cohort_id", "fellow_id"),)

    def __repr__(self) -> str:
        return f"<GraduateOutcome {self.id} {self.kind}>"
