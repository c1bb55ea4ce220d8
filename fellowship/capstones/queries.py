"""Read-only selectors for a fellow's capstone: its versions, their files, decisions and
reviews, the cohort's rubric, and a graduate's outcome.

Each returns what a page shows in a fixed number of queries, whatever the number of
versions, files or reviews. Nothing here writes; who may see what is `policy`'s question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneVersion,
    CapstoneVersionFile,
    GraduateOutcome,
    Recommendation,
    Review,
    ReviewAssignment,
    Rubric,
    RubricCriterion,
    RubricLevel,
    Stage,
)
from fellowship.cohorts.models import CohortMembership, CohortRole, MembershipStatus
from fellowship.db import db
from fellowship.uploads import StoredFile


def capstone_for(cohort_id: int, fellow_id: int) -> Capstone | None:
    """The fellow's capstone in the cohort (there is at most one)."""
    return db.session.scalar(
        sa.select(Capstone).where(Capstone.cohort_id == cohort_id, Capstone.fellow_id == fellow_id)
    )


def draft_of(capstone_id: int) -> CapstoneVersion | None:
    """The working draft of the next submission, if the fellow has started it."""
    return db.session.scalar(
        sa.select(CapstoneVersion).where(
            CapstoneVersion.capstone_id == capstone_id,
            CapstoneVersion.submitted_at.is_(None),
        )
    )


def latest_submitted(capstone_id: int) -> CapstoneVersion | None:
    return db.session.scalar(
        sa.select(CapstoneVersion)
        .where(
            CapstoneVersion.capstone_id == capstone_id,
            CapstoneVersion.submitted_at.is_not(None),
        )
        .order_by(CapstoneVersion.number.desc())
        .limit(1)
    )


@dataclass
class VersionRow:
    """A submitted version with its decision (if recorded) and how many files it has."""

    version: CapstoneVersion
    decision: CapstoneDecision | None
    files: int


def history(capstone_id: int) -> list[VersionRow]:
    """The capstone's submitted versions, newest first, with decisions (one query)."""
    file_count = (
        sa.select(sa.func.count(CapstoneVersionFile.id))
        .where(CapstoneVersionFile.version_id == CapstoneVersion.id)
        .correlate(CapstoneVersion)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(CapstoneVersion, CapstoneDecision, file_count)
        .outerjoin(CapstoneDecision, CapstoneDecision.version_id == CapstoneVersion.id)
        .where(
            CapstoneVersion.capstone_id == capstone_id,
            CapstoneVersion.submitted_at.is_not(None),
        )
        .order_by(CapstoneVersion.number.desc())
    )
    return [VersionRow(version, decision, int(count or 0)) for version, decision, count in rows]


def decision_for(version_id: int) -> CapstoneDecision | None:
    return db.session.scalar(
        sa.select(CapstoneDecision).where(CapstoneDecision.version_id == version_id)
    )


@dataclass
class AttachedFile:
    """A file of a version: the link row and the stored file it points to."""

    link: CapstoneVersionFile
    stored: StoredFile

    @property
    def id(self) -> int:
        return self.link.id


def files_of(version_ids: Iterable[int]) -> dict[int, list[AttachedFile]]:
    """{version_id: its files in order} for the versions (one query)."""
    ids = list(dict.fromkeys(version_ids))
    found: dict[int, list[AttachedFile]] = {version_id: [] for version_id in ids}
    if not ids:
        return found
    rows = db.session.execute(
        sa.select(CapstoneVersionFile, StoredFile)
        .join(StoredFile, StoredFile.id == CapstoneVersionFile.stored_file_id)
        .where(CapstoneVersionFile.version_id.in_(ids))
        .order_by(
            CapstoneVersionFile.version_id,
            CapstoneVersionFile.position,
            CapstoneVersionFile.id,
        )
    )
    for link, stored in rows:
        found[link.version_id].append(AttachedFile(link, stored))
    return found


def file_count(version_id: int) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count(CapstoneVersionFile.id)).where(
                CapstoneVersionFile.version_id == version_id
            )
        )
        or 0
    )


def approved_final(capstone_id: int) -> CapstoneVersion | None:
    """The final version staff approved (the one the library shows), if there is one."""
    return db.session.scalar(
        sa.select(CapstoneVersion)
        .join(CapstoneDecision, CapstoneDecision.version_id == CapstoneVersion.id)
        .where(
            CapstoneVersion.capstone_id == capstone_id,
            CapstoneVersion.stage == Stage.FINAL,
            CapstoneVersion.submitted_at.is_not(None),
            CapstoneDecision.outcome == Recommendation.APPROVE,
        )
        .order_by(CapstoneVersion.number.desc())
        .limit(1)
    )


# Reviews and the rubric ------------------------------------------------------------------


@dataclass
class ReviewRow:
    """One reviewer's assignment on a version, with their review (None until they start)."""

    assignment: ReviewAssignment
    review: Review | None
    reviewer: User
    number: int  # 1, 2, … in the order reviewers were assigned: "Reviewer 1"


def reviews_of(version_id: int) -> list[ReviewRow]:
    """Every assignment of the version with its review and reviewer (one query)."""
    rows = db.session.execute(
        sa.select(ReviewAssignment, Review, User)
        .join(User, User.id == ReviewAssignment.reviewer_id)
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(ReviewAssignment.version_id == version_id)
        .order_by(ReviewAssignment.assigned_at, ReviewAssignment.id)
    )
    return [
        ReviewRow(assignment, review, reviewer, number)
        for number, (assignment, review, reviewer) in enumerate(rows, start=1)
    ]


@dataclass
class Criterion:
    criterion: RubricCriterion
    levels: dict[int, RubricLevel] = field(default_factory=dict)  # score → level


def rubric_of(cohort_id: int) -> list[Criterion]:
    """The cohort's rubric criteria in order, each with its levels by score (two queries)."""
    criteria = list(
        db.session.scalars(
            sa.select(RubricCriterion)
            .join(Rubric, Rubric.id == RubricCriterion.rubric_id)
            .where(Rubric.cohort_id == cohort_id)
            .order_by(RubricCriterion.position, RubricCriterion.id)
        )
    )
    if not criteria:
        return []
    by_id = {criterion.id: Criterion(criterion) for criterion in criteria}
    levels = db.session.scalars(
        sa.select(RubricLevel).where(RubricLevel.criterion_id.in_(list(by_id)))
    )
    for level in levels:
        by_id[level.criterion_id].levels[level.score] = level
    return list(by_id.values())


# Outcomes and memberships ----------------------------------------------------------------


def outcome_of(cohort_id: int, fellow_id: int) -> GraduateOutcome | None:
    return db.session.scalar(
        sa.select(GraduateOutcome)
        .where(GraduateOutcome.cohort_id == cohort_id, GraduateOutcome.fellow_id == fellow_id)
        .order_by(GraduateOutcome.id)
        .limit(1)
    )


def fellow_of_cohort(cohort_id: int, user_id: int) -> User | None:
    """The person when they are (or were, to completion) a fellow of the cohort."""
    return db.session.scalar(
        sa.select(User)
        .join(CohortMembership, CohortMembership.user_id == User.id)
        .where(
            CohortMembership.cohort_id == cohort_id,
            CohortMembership.user_id == user_id,
            CohortMembership.role == CohortRole.FELLOW,
            CohortMembership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.COMPLETED]),
        )
    )
