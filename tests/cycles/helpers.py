"""Cycle factories: schools, cycles with members, goals with measurements, logs, reviews.

`cycle_with_team()` builds the usual shape in one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import factory

from fellowship.auth.models import User
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    CycleRole,
    CycleStage,
    Driver,
    DriverKind,
    EngagementGroup,
    EngagementSession,
    Goal,
    GoalCategory,
    GoalDirection,
    GoalRating,
    GoalsReview,
    ImprovementTest,
    Measurement,
    ProposedGoal,
    Rating,
    School,
    SchoolLevel,
    SupportActivity,
    SupportKind,
)
from tests.factories import BaseFactory, SchoolYearFactory, UserFactory


class SchoolFactory(BaseFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"SC{n:04d}")
    name = factory.Sequence(lambda n: f"Riverside Magnet School {n}")
    level = SchoolLevel.ELEMENTARY
    is_magnet = True
    magnet_theme = "STEM"
    is_pilot = False
    region = "North"
    is_active = True


class CycleFactory(BaseFactory):
    """`CycleFactory()`: a planning cycle of a new school in 2026-27."""

    class Meta:
        model = Cycle

    school_id = factory.LazyFunction(lambda: SchoolFactory().id)
    school_year_id = factory.LazyFunction(lambda: SchoolYearFactory().id)
    stage = CycleStage.IMPLEMENTING
    initiative_title = "Every family chooses us"
    equity_challenge_md = "Our enrollment is 82% one group while the district is mixed."
    root_causes_md = "Recruitment reaches the same neighbourhoods every year."
    aim_md = "By June 2027, no group is more than 50% of our new kindergarten class."


class CycleMemberFactory(BaseFactory):
    class Meta:
        model = CycleMembership

    cycle_id = 0
    user_id = factory.LazyFunction(lambda: UserFactory().id)
    role = CycleRole.LEAD_TEACHER
    organisation = ""


class DriverFactory(BaseFactory):
    class Meta:
        model = Driver

    cycle_id = 0
    parent_id = None
    kind = DriverKind.PRIMARY
    text = factory.Sequence(lambda n: f"Families across the district know the school {n}")
    position = factory.Sequence(lambda n: n)


class GoalFactory(BaseFactory):
    """A goal to raise a share from 18 to 30 (%) by the end of the school year."""

    class Meta:
        model = Goal

    cycle_id = 0
    title = factory.Sequence(lambda n: f"More diverse applicant pool {n}")
    category = GoalCategory.ENROLLMENT_DIVERSITY
    metric = "Share of applicants from outside the attendance zone"
    unit = "%"
    baseline_value = 18.0
    baseline_on = date(2026, 8, 15)
    target_value = 30.0
    direction = GoalDirection.RAISE
    due_on = date(2027, 6, 1)
    position = factory.Sequence(lambda n: n)


class MeasurementFactory(BaseFactory):
    class Meta:
        model = Measurement

    goal_id = 0
    measured_on = date(2026, 10, 1)
    value = 21.0
    note = ""
    evidence_url = ""
    recorded_by_id = None


class ImprovementTestFactory(BaseFactory):
    class Meta:
        model = ImprovementTest

    cycle_id = 0
    driver_id = None
    title = factory.Sequence(lambda n: f"Open house in Spanish {n}")
    plan_md = "Hold one open house in Spanish at the library."
    prediction_md = "Twenty families come; eight apply."
    started_on = date(2026, 10, 1)


class SupportFactory(BaseFactory):
    class Meta:
        model = SupportActivity

    cycle_id = 0
    provider_id = None
    provider_name = "Bridges Collaborative"
    kind = SupportKind.TECHNICAL_ASSISTANCE
    held_on = date(2026, 10, 10)
    hours = 2.5
    participants = 6
    topic = "Reading the enrollment data together"
    recorded_by_id = None


class EngagementFactory(BaseFactory):
    class Meta:
        model = EngagementSession

    cycle_id = 0
    held_on = date(2026, 11, 5)
    group = EngagementGroup.FAMILIES
    participants = 24
    heard_md = "Families want bus routes that reach the east side."
    changed_md = "We asked the district for a second stop."


class ReviewFactory(BaseFactory):
    class Meta:
        model = GoalsReview

    cycle_id = 0
    scheduled_for = date(2027, 5, 20)
    location = "District office, room 204"
    participants = "Lead teacher\nDistrict staff reviewer"


class RatingFactory(BaseFactory):
    class Meta:
        model = GoalRating

    review_id = 0
    goal_id = 0
    rating = Rating.PROGRESSING
    comment = "Moving, not there yet."


class ProposedGoalFactory(BaseFactory):
    class Meta:
        model = ProposedGoal

    review_id = 0
    goal_id = None
    title = factory.Sequence(lambda n: f"Next year's goal {n}")
    category = GoalCategory.ENROLLMENT_DIVERSITY
    metric = "Share of applicants from outside the attendance zone"
    unit = "%"
    target_value = 35.0
    direction = GoalDirection.RAISE


@dataclass
class Team:
    """A cycle with one person in each cycle role."""

    cycle: Cycle
    lead: User
    member: User
    partner: User
    liaison: User


def cycle_with_team(**cycle_fields: object) -> Team:
    cycle = CycleFactory(**cycle_fields)
    people = {}
    for role in CycleRole:
        membership = CycleMemberFactory(
            cycle_id=cycle.id,
            role=role,
            organisation="Bridges Collaborative" if role == CycleRole.PARTNER else "",
        )
        people[role] = membership.user_id
    from fellowship.extensions import db

    return Team(
        cycle=cycle,
        lead=db.session.get(User, people[CycleRole.LEAD_TEACHER]),
        member=db.session.get(User, people[CycleRole.TEAM_MEMBER]),
        partner=db.session.get(User, people[CycleRole.PARTNER]),
        liaison=db.session.get(User, people[CycleRole.STAFF_LIAISON]),
    )
