"""Helpers of the goals review tests: a cycle with a full packet, the people around it,
posting forms, and reading pages and the database back."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.cycles.models import (
    Cycle,
    DriverKind,
    Goal,
    GoalDirection,
    GoalRating,
    GoalsReview,
    GoalStatus,
    PdsaDecision,
    ProposedGoal,
    Rating,
    SupportKind,
)
from fellowship.extensions import db
from tests.conftest import csrf_token
from tests.cycles.helpers import (
    DriverFactory,
    EngagementFactory,
    GoalFactory,
    ImprovementTestFactory,
    MeasurementFactory,
    RatingFactory,
    ReviewFactory,
    SchoolFactory,
    SupportFactory,
    cycle_with_team,
)
from tests.factories import AdminFactory, MembershipFactory, StaffFactory, UserFactory


@dataclass
class World:
    cycle: Cycle
    lead: User
    member: User
    partner: User
    liaison: User
    staff: User
    admin: User
    other_lead: User
    fellow: User
    goals: list[Goal]
    review: GoalsReview
    other_cycle: Cycle
    other_goal: Goal

    def person(self, who: str) -> User:
        return {
            "lead teacher": self.lead,
            "team member": self.member,
            "partner": self.partner,
            "staff liaison": self.liaison,
            "staff": self.staff,
            "admin": self.admin,
            "other school's lead": self.other_lead,
            "fellow": self.fellow,
        }[who]


def world(goals: int = 2, school_name: str | None = None, **review: Any) -> World:
    """A cycle with a full packet: goals with measurements (one set by hand), support by a
    partner and by staff, a PDSA test on a change idea, an engagement session; and a
    scheduled review (scheduled by staff). Another school's cycle with its own lead."""
    school = SchoolFactory(**({"name": school_name} if school_name else {}))
    team = cycle_with_team(school_id=school.id)
    cycle = team.cycle
    staff = StaffFactory(name="Sam Staff")
    team.lead.name = "Luis Lead"
    db.session.commit()
    made = []
    for n in range(goals):
        goal = GoalFactory(cycle_id=cycle.id, title=f"Goal number {n + 1}")
        MeasurementFactory(goal_id=goal.id, measured_on=date(2026, 10, 1), value=21.0 + n)
        MeasurementFactory(goal_id=goal.id, measured_on=date(2027, 1, 15), value=24.0 + n)
        made.append(goal)
    if made:
        made[0].status_override = GoalStatus.AT_RISK
        made[0].override_reason = "The spring count is not in yet."
        db.session.commit()
    primary = DriverFactory(cycle_id=cycle.id)
    idea = DriverFactory(
        cycle_id=cycle.id,
        parent_id=primary.id,
        kind=DriverKind.CHANGE_IDEA,
        text="Open houses in Spanish",
    )
    ImprovementTestFactory(
        cycle_id=cycle.id,
        driver_id=idea.id,
        title="Library open house",
        decision=PdsaDecision.ADAPT,
        ended_on=date(2026, 11, 1),
    )
    SupportFactory(
        cycle_id=cycle.id,
        provider_id=team.partner.id,
        recorded_by_id=team.partner.id,
        hours=3.5,
    )
    SupportFactory(
        cycle_id=cycle.id,
        provider_id=team.partner.id,
        recorded_by_id=team.partner.id,
        kind=SupportKind.COACHING,
        hours=2,
    )
    SupportFactory(
        cycle_id=cycle.id, provider_name="District office", recorded_by_id=staff.id, hours=1
    )
    EngagementFactory(cycle_id=cycle.id)
    the_review = ReviewFactory(cycle_id=cycle.id, scheduled_by_id=staff.id, **review)
    other = cycle_with_team(school_id=SchoolFactory().id)
    other_goal = GoalFactory(cycle_id=other.cycle.id, title="Another school's goal")
    fellow = MembershipFactory(role=CohortRole.FELLOW).user_id
    return World(
        cycle=cycle,
        lead=team.lead,
        member=team.member,
        partner=team.partner,
        liaison=team.liaison,
        staff=staff,
        admin=AdminFactory(),
        other_lead=other.lead,
        fellow=db.session.get(User, fellow),
        goals=made,
        review=the_review,
        other_cycle=other.cycle,
        other_goal=other_goal,
    )


def rate_all(review: GoalsReview, goals: list[Goal], rating: Rating = Rating.PROGRESSING) -> None:
    for goal in goals:
        RatingFactory(review_id=review.id, goal_id=goal.id, rating=rating)


def fresh(review: GoalsReview) -> GoalsReview:
    db.session.expire_all()
    found = db.session.get(GoalsReview, review.id)
    assert found is not None
    return found


def post(client: Any, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    payload = {"csrf_token": csrf_token(client), **(data or {})}
    return client.post(url, data=payload, **kwargs)


def base(cycle: Cycle) -> str:
    return f"/cycles/{cycle.id}/reviews"


def review_url(review: GoalsReview, tail: str = "") -> str:
    return f"/cycles/{review.cycle_id}/reviews/{review.id}{tail}"


def text_of(page: str) -> str:
    """The words of a page, tags dropped and entities read (&#39; is ')."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def review_state() -> list[tuple[Any, ...]]:
    """Everything a review request could change, for "nothing changed" checks."""
    db.session.expire_all()
    reviews = db.session.execute(
        sa.select(
            GoalsReview.id,
            GoalsReview.status,
            GoalsReview.version,
            GoalsReview.notes_md,
            GoalsReview.scheduled_for,
            GoalsReview.lead_signed_at,
            GoalsReview.staff_signed_at,
            GoalsReview.frozen_at,
        ).order_by(GoalsReview.id)
    ).all()
    ratings = db.session.execute(
        sa.select(
            GoalRating.review_id, GoalRating.goal_id, GoalRating.rating, GoalRating.comment
        ).order_by(GoalRating.id)
    ).all()
    proposed = db.session.execute(
        sa.select(ProposedGoal.id, ProposedGoal.title, ProposedGoal.target_value).order_by(
            ProposedGoal.id
        )
    ).all()
    events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    return [*map(tuple, reviews), *map(tuple, ratings), *map(tuple, proposed), (events,)]


def next_goal_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "continues": "",
        "title": "Half the new class from outside the zone",
        "category": "enrollment_diversity",
        "metric": "Share of new kindergarten students from outside the zone",
        "unit": "%",
        "baseline_value": "24",
        "baseline_on": "2027-05-01",
        "target_value": "35",
        "direction": GoalDirection.RAISE.value,
        "due_on": "2028-06-01",
    }
    data.update(overrides)
    return data


def new_user(name: str = "Someone") -> User:
    return UserFactory(name=name)
