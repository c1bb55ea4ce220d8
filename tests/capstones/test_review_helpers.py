"""Builders for the reviewer and rubric tests (no tests here): a cohort with a submitted
capstone version, two assigned reviewers, and everyone around them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import User
from fellowship.capstones.models import (
    Capstone,
    CapstoneStatus,
    CapstoneVersion,
    Recommendation,
    Review,
    ReviewAssignment,
    Rubric,
    RubricCriterion,
    RubricLevel,
)
from fellowship.cohorts.models import Cohort, CohortRole, MembershipStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.capstones.helpers import (
    AssignmentFactory,
    CapstoneFactory,
    ReviewFactory,
    VersionFactory,
    rubric_for,
)
from tests.conftest import csrf_token
from tests.factories import CoachAssignmentFactory, CohortFactory, MembershipFactory, UserFactory


def member(
    cohort: Cohort,
    role: CohortRole,
    name: str | None = None,
    status: MembershipStatus = MembershipStatus.ACTIVE,
) -> User:
    person = UserFactory(**({"name": name} if name else {}))
    MembershipFactory(cohort=cohort, user=person, role=role, status=status)
    return person


def submitted_capstone(
    cohort: Cohort, fellow: User, title: str = "The Crossroads School", **kwargs: Any
) -> tuple[Capstone, CapstoneVersion]:
    """A capstone with its proposal (version 1) submitted."""
    capstone = CapstoneFactory(
        cohort_id=cohort.id,
        fellow_id=fellow.id,
        title=title,
        status=CapstoneStatus.PROPOSAL_SUBMITTED,
        **kwargs,
    )
    version = VersionFactory(
        capstone_id=capstone.id,
        narrative_md="## Why\n\nBecause **integration** works. <script>alert(1)</script>",
    )
    return capstone, version


def assign(version: CapstoneVersion, reviewer: User, days_ago: float = 0) -> ReviewAssignment:
    return AssignmentFactory(
        version_id=version.id,
        reviewer_id=reviewer.id,
        assigned_at=utcnow() - timedelta(days=days_ago),
    )


def criteria_of(cohort: Cohort) -> list[RubricCriterion]:
    return list(
        db.session.scalars(
            sa.select(RubricCriterion)
            .join(Rubric, Rubric.id == RubricCriterion.rubric_id)
            .where(Rubric.cohort_id == cohort.id)
            .order_by(RubricCriterion.position)
        )
    )


def levels_of(criterion: RubricCriterion) -> dict[int, str]:
    rows = db.session.scalars(
        sa.select(RubricLevel).where(RubricLevel.criterion_id == criterion.id)
    )
    return {level.score: level.descriptor for level in rows}


@dataclass
class World:
    cohort: Cohort
    fellow: User
    other_fellow: User
    coach: User
    facilitator: User
    reviewer: User
    second_reviewer: User
    unassigned_reviewer: User
    capstone: Capstone
    version: CapstoneVersion
    assignment: ReviewAssignment
    second_assignment: ReviewAssignment
    criteria: list[RubricCriterion]


def world(*, rubric: bool = True, **settings: Any) -> World:
    """A cohort (with a rubric of 3 criteria scored 1-4 unless `rubric=False`), a fellow's
    submitted proposal, and two reviewers assigned to it."""
    cohort = CohortFactory(settings=dict(settings))
    fellow = member(cohort, CohortRole.FELLOW, "Felix Fellow")
    other_fellow = member(cohort, CohortRole.FELLOW, "Olga Otherfellow")
    coach = member(cohort, CohortRole.COACH, "Cora Coach")
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.id, coach_id=coach.id)
    facilitator = member(cohort, CohortRole.FACILITATOR, "Fay Facilitator")
    reviewer = member(cohort, CohortRole.REVIEWER, "Rita Reviewer")
    second_reviewer = member(cohort, CohortRole.REVIEWER, "Sam Secondreviewer")
    unassigned = member(cohort, CohortRole.REVIEWER, "Una Unassigned")
    capstone, version = submitted_capstone(cohort, fellow)
    first = assign(version, reviewer, days_ago=3)
    second = assign(version, second_reviewer, days_ago=2)
    if rubric:
        rubric_for(cohort.id, criteria=3, levels=4)
    return World(
        cohort=cohort,
        fellow=fellow,
        other_fellow=other_fellow,
        coach=coach,
        facilitator=facilitator,
        reviewer=reviewer,
        second_reviewer=second_reviewer,
        unassigned_reviewer=unassigned,
        capstone=capstone,
        version=version,
        assignment=first,
        second_assignment=second,
        criteria=criteria_of(cohort) if rubric else [],
    )


def full_scores(w: World, score: int = 3) -> dict[str, int]:
    return {str(c.id): score for c in w.criteria}


def submitted_review(
    assignment: ReviewAssignment,
    w: World,
    comments: str = "Strong problem statement.",
    recommendation: Recommendation = Recommendation.REVISE,
) -> Review:
    return ReviewFactory(
        assignment_id=assignment.id,
        scores=full_scores(w, 2),
        comments_md=comments,
        recommendation=recommendation,
    )


def reviews() -> list[Review]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Review).order_by(Review.id)))


def review_row(assignment: ReviewAssignment) -> Review | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Review).where(Review.assignment_id == assignment.id))


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def post(client: Any, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client), **data})


def review_form(w: World, scores: dict[int, int | str] | None = None, **extra: Any) -> dict:
    """The review page's fields: `scores` by criterion index (0, 1, 2)."""
    data: dict[str, Any] = {"version": "", "comments": "", "action": "draft"}
    for index, score in (scores or {}).items():
        data[f"score_{w.criteria[index].id}"] = str(score)
    data.update(extra)
    return data
