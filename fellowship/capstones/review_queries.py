"""Read-only selectors for reviewers: their queue, the neighbours of an assignment in it,
and what the review page shows beside the form (files, the other reviews of the version).
Each runs a fixed number of queries, whatever the number of assignments.

A reviewer's queue holds the assignments they can still open: in cohorts where they are a
reviewer whose membership is active or completed (a withdrawn reviewer's assignments leave
it, as the policy closes their pages). An assignment is "waiting" while its review is not
submitted and the reviewer can still write it (no decision yet, cohort not archived, an
active membership); everything else is done: submitted, or closed before they submitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneVersion,
    CapstoneVersionFile,
    Review,
    ReviewAssignment,
    Stage,
)
from fellowship.cohorts.models import (
    Cohort,
    CohortMembership,
    CohortRole,
    CohortStatus,
    MembershipStatus,
)
from fellowship.db import Page, db, paginate
from fellowship.uploads import StoredFile

OPEN_MEMBERSHIPS = (MembershipStatus.ACTIVE, MembershipStatus.COMPLETED)


def local_date(moment: datetime, zone: str | None) -> date:
    """The calendar day of an instant where the viewer is (UTC when the zone is unknown)."""
    try:
        return moment.astimezone(ZoneInfo(zone or "UTC")).date()
    except (ZoneInfoNotFoundError, ValueError):
        return moment.date()


# The queue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    assignment_id: int
    cohort_name: str
    capstone_title: str
    fellow_name: str
    version_number: int
    stage: Stage
    assigned_at: datetime
    waiting_days: int
    state: str  # not_started | draft | submitted | closed
    saved_at: datetime | None  # the draft's last save
    submitted_at: datetime | None


@dataclass(frozen=True)
class Queue:
    waiting: list[QueueRow]
    done: Page[QueueRow]

    @property
    def empty(self) -> bool:
        return not self.waiting and self.done.total == 0


def _writable() -> sa.ColumnElement[bool]:
    """Whether the reviewer can still write the review (the SQL form of `can_review`)."""
    return sa.and_(
        Review.submitted_at.is_(None),
        CapstoneDecision.id.is_(None),
        Cohort.status != CohortStatus.ARCHIVED,
        CohortMembership.status == MembershipStatus.ACTIVE,
    )


def _assignments(user_id: int) -> sa.Select[Any]:
    """The user's openable assignments with what a queue row shows (one row each)."""
    return (
        sa.select(
            ReviewAssignment.id,
            ReviewAssignment.assigned_at,
            Cohort.name,
            Capstone.title,
            User.name,
            CapstoneVersion.number,
            CapstoneVersion.stage,
            Review.id,
            Review.updated_at,
            Review.submitted_at,
        )
        .join(CapstoneVersion, CapstoneVersion.id == ReviewAssignment.version_id)
        .join(Capstone, Capstone.id == CapstoneVersion.capstone_id)
        .join(Cohort, Cohort.id == Capstone.cohort_id)
        .join(User, User.id == Capstone.fellow_id)
        .join(
            CohortMembership,
            sa.and_(
                CohortMembership.cohort_id == Capstone.cohort_id,
                CohortMembership.user_id == ReviewAssignment.reviewer_id,
                CohortMembership.role == CohortRole.REVIEWER,
                CohortMembership.status.in_(OPEN_MEMBERSHIPS),
            ),
        )
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .outerjoin(CapstoneDecision, CapstoneDecision.version_id == CapstoneVersion.id)
        .where(
            ReviewAssignment.reviewer_id == user_id,
            CapstoneVersion.submitted_at.is_not(None),
        )
    )


def _waiting_query(user_id: int) -> sa.Select[Any]:
    return (
        _assignments(user_id)
        .where(_writable())
        .order_by(ReviewAssignment.assigned_at, ReviewAssignment.id)
    )


def _done_query(user_id: int) -> sa.Select[Any]:
    finished = sa.func.coalesce(Review.submitted_at, CapstoneDecision.decided_at)
    return (
        _assignments(user_id)
        .where(sa.not_(_writable()))
        .order_by(finished.desc(), ReviewAssignment.assigned_at.desc(), ReviewAssignment.id.desc())
    )


def _row(values: Any, today: date, zone: str | None, writable: bool) -> QueueRow:
    (
        assignment_id,
        assigned_at,
        cohort_name,
        title,
        fellow_name,
        number,
        stage,
        review_id,
        saved_at,
        submitted_at,
    ) = values
    if submitted_at is not None:
        state = "submitted"
    elif not writable:
        state = "closed"
    else:
        state = "draft" if review_id is not None else "not_started"
    return QueueRow(
        assignment_id=assignment_id,
        cohort_name=cohort_name,
        capstone_title=title,
        fellow_name=fellow_name,
        version_number=number,
        stage=stage,
        assigned_at=assigned_at,
        waiting_days=max(0, (today - local_date(assigned_at, zone)).days),
        state=state,
        saved_at=saved_at if review_id is not None else None,
        submitted_at=submitted_at,
    )


def queue(user_id: int, *, today: date, zone: str | None, page: int, per_page: int) -> Queue:
    """The reviewer's waiting assignments (all, the longest waiting first) and one page of
    the done ones (the latest first): three queries."""
    waiting = [_row(r, today, zone, True) for r in db.session.execute(_waiting_query(user_id))]
    found = paginate(_done_query(user_id), page, per_page)
    done = [_row(r, today, zone, False) for r in found.items]
    return Queue(waiting, Page(done, found.page, found.per_page, found.total))


@dataclass(frozen=True)
class Neighbour:
    assignment_id: int
    capstone_title: str
    fellow_name: str


def neighbours(user_id: int, assignment_id: int) -> tuple[Neighbour | None, Neighbour | None]:
    """The assignments before and after this one in its part of the reviewer's queue (the
    waiting ones while it waits, the done ones after): one or two queries."""
    waiting = db.session.execute(_waiting_query(user_id)).all()
    group = waiting
    if not any(row[0] == assignment_id for row in waiting):
        group = db.session.execute(_done_query(user_id)).all()
    ids = [row[0] for row in group]
    if assignment_id not in ids:
        return None, None
    index = ids.index(assignment_id)

    def _at(i: int) -> Neighbour | None:
        if not 0 <= i < len(group):
            return None
        row = group[i]
        return Neighbour(assignment_id=row[0], capstone_title=row[3], fellow_name=row[4])

    return _at(index - 1), _at(index + 1)


# The review page --------------------------------------------------------------------------


def version_files(version_id: int) -> list[tuple[CapstoneVersionFile, StoredFile]]:
    """The version's files in order, each with its stored file (one query)."""
    rows = db.session.execute(
        sa.select(CapstoneVersionFile, StoredFile)
        .join(StoredFile, StoredFile.id == CapstoneVersionFile.stored_file_id)
        .where(CapstoneVersionFile.version_id == version_id)
        .order_by(CapstoneVersionFile.position, CapstoneVersionFile.id)
    )
    return [(version_file, stored) for version_file, stored in rows]


@dataclass(frozen=True)
class OtherReview:
    assignment: ReviewAssignment
    review: Review | None
    reviewer_name: str


def other_reviews(assignment: ReviewAssignment) -> list[OtherReview]:
    """The other assignments of the same version with their reviews, in the order reviewers
    were assigned (one query). Who may read which is the policy's: see the view."""
    rows = db.session.execute(
        sa.select(ReviewAssignment, Review, User.name)
        .join(User, User.id == ReviewAssignment.reviewer_id)
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(
            ReviewAssignment.version_id == assignment.version_id,
            ReviewAssignment.id != assignment.id,
        )
        .order_by(ReviewAssignment.assigned_at, ReviewAssignment.id)
    )
    return [OtherReview(other, review, name) for other, review, name in rows]


def decision_for(version_id: int) -> CapstoneDecision | None:
    return db.session.scalar(
        sa.select(CapstoneDecision).where(CapstoneDecision.version_id == version_id)
    )


def names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """{user_id: name} (one query; none without ids)."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}
