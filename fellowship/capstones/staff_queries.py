"""Read-only selectors for staff and facilitators: the capstone pipeline, the reviewers of a
version, the reviews a decision is based on, graduates' outcomes and the cohort's capstone
settings. Each runs a fixed number of queries, whatever the number of capstones.

Who is in the pipeline: every capstone of the cohort (whatever the fellow's membership status
now), and every active fellow who has not started one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneStatus,
    CapstoneVersion,
    GraduateOutcome,
    OutcomeKind,
    Recommendation,
    Review,
    ReviewAssignment,
    Stage,
)
from fellowship.cohorts.models import Cohort, CohortMembership, CohortRole, MembershipStatus
from fellowship.db import Page, db, paginate

NOT_STARTED = "not_started"  # the pipeline's name for "an active fellow without a capstone"
STATUS_KEYS = [NOT_STARTED, *(status.value for status in CapstoneStatus)]
WAITING_STATUSES = (CapstoneStatus.PROPOSAL_SUBMITTED, CapstoneStatus.FINAL_SUBMITTED)
WAITING_LIMIT_DAYS = 14  # a submission waiting longer than this is flagged

SORTS = ("fellow", "waiting")

# Settings kept in `Cohort.settings`, with their defaults (policy reads the same keys).
SETTING_DEFAULTS = {"reviewer_names_visible": False, "hide_reviews_until_own": True}


def local_date(moment: datetime, zone: str | None) -> date:
    """The calendar day of an instant where the viewer is (UTC when the zone is unknown)."""
    try:
        return moment.astimezone(ZoneInfo(zone or "UTC")).date()
    except (ZoneInfoNotFoundError, ValueError):
        return moment.date()


def names(user_ids: Sequence[int | None]) -> dict[int, str]:
    """{user_id: name} (one query; none without ids)."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


# The pipeline -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestVersion:
    """The latest submitted version of a capstone, its reviews and its decision."""

    id: int
    number: int
    stage: Stage
    submitted_at: datetime
    reviews_done: int
    reviews_assigned: int
    decision: Recommendation | None


@dataclass(frozen=True)
class PipelineRow:
    fellow_id: int
    fellow_name: str
    capstone: Capstone | None  # None: an active fellow who has not started
    latest: LatestVersion | None
    waiting_days: int | None  # days in the current status

    @property
    def status_key(self) -> str:
        return NOT_STARTED if self.capstone is None else self.capstone.status.value

    @property
    def waiting_too_long(self) -> bool:
        """A submission that has waited more than 14 days for its decision."""
        return (
            self.capstone is not None
            and self.capstone.status in WAITING_STATUSES
            and (self.waiting_days or 0) > WAITING_LIMIT_DAYS
        )

    @property
    def awaiting_decision(self) -> bool:
        """Submitted and not decided yet: reviewers can be assigned and a decision recorded."""
        return (
            self.capstone is not None
            and self.capstone.status in WAITING_STATUSES
            and self.latest is not None
            and self.latest.decision is None
        )


@dataclass
class Pipeline:
    page: Page[PipelineRow]
    counts: dict[str, int]  # {status key: rows}, every key present

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _people(cohort_id: int) -> sa.Select[tuple[int]]:
    """Ids of the people with a row: capstone holders, and active fellows."""
    holders = sa.select(Capstone.fellow_id).where(Capstone.cohort_id == cohort_id)
    active = sa.select(CohortMembership.user_id).where(
        CohortMembership.cohort_id == cohort_id,
        CohortMembership.role == CohortRole.FELLOW,
        CohortMembership.status == MembershipStatus.ACTIVE,
    )
    return sa.select(sa.union(holders, active).subquery().c[0])


def _pipeline_select(cohort_id: int, *columns: Any) -> sa.Select[Any]:
    """`columns` of each person with a row, joined to their capstone (None: not started)."""
    return (
        sa.select(*columns)
        .select_from(User)
        .outerjoin(
            Capstone, sa.and_(Capstone.cohort_id == cohort_id, Capstone.fellow_id == User.id)
        )
        .where(User.id.in_(_people(cohort_id)))
    )


def _latest_versions(capstone_ids: list[int]) -> dict[int, LatestVersion]:
    """{capstone_id: its latest submitted version with review counts and decision} (one
    query; none without ids)."""
    if not capstone_ids:
        return {}
    latest = (
        sa.select(
            CapstoneVersion.capstone_id.label("capstone_id"),
            sa.func.max(CapstoneVersion.number).label("number"),
        )
        .where(
            CapstoneVersion.capstone_id.in_(capstone_ids),
            CapstoneVersion.submitted_at.is_not(None),
        )
        .group_by(CapstoneVersion.capstone_id)
        .subquery()
    )
    assigned = (
        sa.select(sa.func.count(ReviewAssignment.id))
        .where(ReviewAssignment.version_id == CapstoneVersion.id)
        .scalar_subquery()
    )
    done = (
        sa.select(sa.func.count(Review.id))
        .join(ReviewAssignment, ReviewAssignment.id == Review.assignment_id)
        .where(ReviewAssignment.version_id == CapstoneVersion.id, Review.submitted_at.is_not(None))
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(
            CapstoneVersion.id,
            CapstoneVersion.capstone_id,
            CapstoneVersion.number,
            CapstoneVersion.stage,
            CapstoneVersion.submitted_at,
            done,
            assigned,
            CapstoneDecision.outcome,
        )
        .join(
            latest,
            sa.and_(
                latest.c.capstone_id == CapstoneVersion.capstone_id,
                latest.c.number == CapstoneVersion.number,
            ),
        )
        .outerjoin(CapstoneDecision, CapstoneDecision.version_id == CapstoneVersion.id)
    )
    return {
        capstone_id: LatestVersion(
            version_id, number, stage, submitted_at, int(done or 0), int(assigned or 0), outcome
        )
        for version_id, capstone_id, number, stage, submitted_at, done, assigned, outcome in rows
    }


def status_counts(cohort_id: int) -> dict[str, int]:
    """{status key: rows} over the whole pipeline, every key present (one query)."""
    counts = dict.fromkeys(STATUS_KEYS, 0)
    rows = db.session.execute(
        _pipeline_select(cohort_id, Capstone.status, sa.func.count()).group_by(Capstone.status)
    )
    for status, count in rows:
        counts[NOT_STARTED if status is None else status.value] = int(count)
    return counts


def pipeline(
    cohort_id: int,
    *,
    status: str | None,
    sort: str,
    page: int,
    per_page: int,
    today: date,
    zone: str | None,
) -> Pipeline:
    """One page of the pipeline, filtered by a status key and sorted by fellow (name) or by
    waiting time (the longest in their status first, those not started last), with the
    counts by status of the whole cohort (four queries)."""
    query = _pipeline_select(cohort_id, User.id, User.name, Capstone)
    if status == NOT_STARTED:
        query = query.where(Capstone.id.is_(None))
    elif status in STATUS_KEYS:
        query = query.where(Capstone.status == CapstoneStatus(status))
    by_name = (sa.func.lower(User.name), User.id)
    if sort == "waiting":
        query = query.order_by(
            sa.case((Capstone.id.is_(None), 1), else_=0), Capstone.status_changed_at, *by_name
        )
    else:
        query = query.order_by(*by_name)
    found = paginate(query, page, per_page)
    capstones = [capstone for _id, _name, capstone in found.items if capstone is not None]
    latest = _latest_versions([capstone.id for capstone in capstones])
    rows = [
        PipelineRow(
            fellow_id=fellow_id,
            fellow_name=name,
            capstone=capstone,
            latest=latest.get(capstone.id) if capstone is not None else None,
            waiting_days=(
                max(0, (today - local_date(capstone.status_changed_at, zone)).days)
                if capstone is not None
                else None
            ),
        )
        for fellow_id, name, capstone in found.items
    ]
    return Pipeline(
        page=Page(rows, found.page, found.per_page, found.total),
        counts=status_counts(cohort_id),
    )


# Reviewers of a version -----------------------------------------------------------------


@dataclass(frozen=True)
class ReviewerOption:
    """A reviewer who may be assigned to the version, or who already is."""

    id: int
    name: str
    active: bool  # an active reviewer of the cohort now
    assignment_id: int | None
    review_started: bool
    submitted_at: datetime | None
    recommendation: Recommendation | None

    @property
    def assigned(self) -> bool:
        return self.assignment_id is not None

    @property
    def state(self) -> str:
        """not_assigned | not_started | draft | submitted"""
        if self.assignment_id is None:
            return "not_assigned"
        if self.submitted_at is not None:
            return "submitted"
        return "draft" if self.review_started else "not_started"


def active_reviewer_ids(cohort_id: int) -> set[int]:
    """The cohort's active reviewers (one query)."""
    return set(
        db.session.scalars(
            sa.select(CohortMembership.user_id).where(
                CohortMembership.cohort_id == cohort_id,
                CohortMembership.role == CohortRole.REVIEWER,
                CohortMembership.status == MembershipStatus.ACTIVE,
            )
        )
    )


def assigned_reviewer_ids(version_id: int) -> set[int]:
    """Who is assigned to review the version (one query)."""
    return set(
        db.session.scalars(
            sa.select(ReviewAssignment.reviewer_id).where(ReviewAssignment.version_id == version_id)
        )
    )


def reviewer_options(cohort_id: int, version_id: int) -> list[ReviewerOption]:
    """The cohort's active reviewers and whoever is assigned to the version, by name, with the
    state of their review (one query)."""
    active = sa.select(CohortMembership.user_id).where(
        CohortMembership.cohort_id == cohort_id,
        CohortMembership.role == CohortRole.REVIEWER,
        CohortMembership.status == MembershipStatus.ACTIVE,
    )
    assigned = sa.select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.version_id == version_id
    )
    is_active = (
        sa.select(CohortMembership.id)
        .where(
            CohortMembership.cohort_id == cohort_id,
            CohortMembership.user_id == User.id,
            CohortMembership.role == CohortRole.REVIEWER,
            CohortMembership.status == MembershipStatus.ACTIVE,
        )
        .exists()
    )
    rows = db.session.execute(
        sa.select(
            User.id,
            User.name,
            is_active,
            ReviewAssignment.id,
            Review.id,
            Review.submitted_at,
            Review.recommendation,
        )
        .select_from(User)
        .outerjoin(
            ReviewAssignment,
            sa.and_(
                ReviewAssignment.version_id == version_id, ReviewAssignment.reviewer_id == User.id
            ),
        )
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(User.id.in_(sa.union(active, assigned).subquery().select()))
        .order_by(sa.func.lower(User.name), User.id)
    )
    return [
        ReviewerOption(
            id=row[0],
            name=row[1],
            active=bool(row[2]),
            assignment_id=row[3],
            review_started=row[4] is not None,
            submitted_at=row[5],
            recommendation=row[6],
        )
        for row in rows
    ]


def previous_version(capstone_id: int, number: int) -> CapstoneVersion | None:
    """The submitted version before version `number` (one query)."""
    return db.session.scalar(
        sa.select(CapstoneVersion)
        .where(
            CapstoneVersion.capstone_id == capstone_id,
            CapstoneVersion.number < number,
            CapstoneVersion.submitted_at.is_not(None),
        )
        .order_by(CapstoneVersion.number.desc())
        .limit(1)
    )


# Graduates' outcomes ----------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeRow:
    fellow_id: int
    fellow_name: str
    graduate: bool  # the fellow's membership is completed
    outcome: GraduateOutcome | None


@dataclass
class Outcomes:
    rows: list[OutcomeRow]
    graduates: int
    recorded: int
    schools_launched: int
    diverse_by_design: int


def outcomes(cohort_id: int) -> Outcomes:
    """Graduates (fellows whose membership is completed) and everyone with an outcome recorded
    in the cohort, by name, each outcome on its own row, with the headline counts (one
    query)."""
    graduates = sa.select(CohortMembership.user_id).where(
        CohortMembership.cohort_id == cohort_id,
        CohortMembership.role == CohortRole.FELLOW,
        CohortMembership.status == MembershipStatus.COMPLETED,
    )
    recorded = sa.select(GraduateOutcome.fellow_id).where(GraduateOutcome.cohort_id == cohort_id)
    is_graduate = User.id.in_(graduates)
    rows = db.session.execute(
        sa.select(User.id, User.name, is_graduate, GraduateOutcome)
        .select_from(User)
        .outerjoin(
            GraduateOutcome,
            sa.and_(GraduateOutcome.cohort_id == cohort_id, GraduateOutcome.fellow_id == User.id),
        )
        .where(User.id.in_(sa.union(graduates, recorded).subquery().select()))
        .order_by(sa.func.lower(User.name), User.id, GraduateOutcome.id)
    ).all()
    result = [
        OutcomeRow(user_id, name, bool(graduate), outcome)
        for user_id, name, graduate, outcome in rows
    ]
    recorded_rows = [row.outcome for row in result if row.outcome is not None]
    launched = [o for o in recorded_rows if o.kind == OutcomeKind.LAUNCHED_SCHOOL]
    return Outcomes(
        rows=result,
        graduates=len({row.fellow_id for row in result if row.graduate}),
        recorded=len(recorded_rows),
        schools_launched=len(launched),
        diverse_by_design=sum(1 for o in launched if o.diverse_by_design),
    )


# Settings ---------------------------------------------------------------------------------


def capstone_settings(cohort: Cohort) -> dict[str, bool]:
    """The cohort's capstone settings, defaults filled in (no query)."""
    stored: dict[str, Any] = dict(cohort.settings or {})
    return {key: bool(stored.get(key, default)) for key, default in SETTING_DEFAULTS.items()}
