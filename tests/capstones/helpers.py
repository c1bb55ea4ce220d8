"""Capstone factories: `capstone_with_version(...)` builds the usual shapes in one call."""

from __future__ import annotations

import factory

from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneStatus,
    CapstoneVersion,
    Recommendation,
    Review,
    ReviewAssignment,
    Rubric,
    RubricCriterion,
    RubricLevel,
    Stage,
)
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.factories import BaseFactory


class CapstoneFactory(BaseFactory):
    """`CapstoneFactory(cohort_id=c.id, fellow_id=u.id)`: a draft."""

    class Meta:
        model = Capstone

    cohort_id = 0
    fellow_id = 0
    title = factory.Sequence(lambda n: f"A school for everyone {n}")
    summary = "A K-8 school designed to be diverse from its first day."
    problem_md = "Schools in the district are more segregated than their neighbourhoods."
    community_md = "Families of the east side, across three neighbourhoods."
    topics = "enrollment, family engagement"
    status = CapstoneStatus.DRAFT


class VersionFactory(BaseFactory):
    """A submitted proposal version: `VersionFactory(capstone_id=c.id)`; pass
    `submitted_at=None` for the working draft."""

    class Meta:
        model = CapstoneVersion

    capstone_id = 0
    number = 1
    stage = Stage.PROPOSAL
    narrative_md = "## Why\n\nBecause integration works."
    submitted_at = factory.LazyFunction(utcnow)


class AssignmentFactory(BaseFactory):
    class Meta:
        model = ReviewAssignment

    version_id = 0
    reviewer_id = 0


class ReviewFactory(BaseFactory):
    """A submitted review recommending revision: `ReviewFactory(assignment_id=a.id)`."""

    class Meta:
        model = Review

    assignment_id = 0
    scores = factory.LazyFunction(dict)
    comments_md = "Strong problem statement; the enrollment plan needs numbers."
    recommendation = Recommendation.REVISE
    submitted_at = factory.LazyFunction(utcnow)


class DecisionFactory(BaseFactory):
    class Meta:
        model = CapstoneDecision

    version_id = 0
    outcome = Recommendation.REVISE
    message_md = "Please add the enrollment plan."


def rubric_for(cohort_id: int, criteria: int = 3, levels: int = 4) -> Rubric:
    """A rubric of `criteria` criteria scored 1..`levels`."""
    rubric = Rubric(cohort_id=cohort_id)
    db.session.add(rubric)
    db.session.flush()
    for position in range(criteria):
        criterion = RubricCriterion(
            rubric_id=rubric.id, position=position, name=f"Criterion {position + 1}"
        )
        db.session.add(criterion)
        db.session.flush()
        for score in range(1, levels + 1):
            db.session.add(
                RubricLevel(criterion_id=criterion.id, score=score, descriptor=f"Level {score}")
            )
    db.session.commit()
    return rubric
