"""The demo school cycles: three pilots over two years, seventeen first-year schools."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from fellowship.auth.services import find_user_by_email
from fellowship.cycles import home_queries, portfolio_queries, queries
from fellowship.cycles.demo import FIRST_YEAR, OVERRIDE_REASON, PILOTS, load_cycles_demo
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    CycleRole,
    CycleStage,
    Driver,
    DriverKind,
    EngagementSession,
    Goal,
    GoalRating,
    GoalsReview,
    GoalStatus,
    ImprovementTest,
    ProposedGoal,
    ReviewStatus,
    School,
    SupportActivity,
)
from fellowship.db import utcnow
from fellowship.demo import load_demo
from fellowship.extensions import db
from fellowship.school_years import SchoolYear, label_for
from tests.conftest import rows_for_module, sign_in


def _load_cycles_demo() -> None:
    """The cycles part of the demo (it makes the demo people it needs; nobody signs in with
    a password here, so the slow password hashing is skipped)."""
    load_cycles_demo(password_hash="not-a-real-hash")


demo = rows_for_module(_load_cycles_demo)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_demo_loads_on_an_empty_database_and_again_without_changing(ctx):
    from fellowship.mail import OutboxMessage, OutboxStatus
    from fellowship.notifications.models import Announcement, Notification

    models = (School, Cycle, Goal, GoalsReview, Notification, Announcement, OutboxMessage)
    load_demo()
    db.session.commit()
    before = {model.__name__: count(model) for model in models}
    load_demo()
    db.session.commit()
    after = {model.__name__: count(model) for model in models}
    assert after == before
    assert (after["School"], after["Cycle"]) == (20, 23)
    # Notifications: the demo fellow has unread ones (an announcement, a shared check-in,
    # feedback), reminders were computed, and the outbox shows one bounced email.
    fellow = find_user_by_email("fellow@example.org")
    kinds = set(
        db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == fellow.id))
    )
    assert {"coaching/checkin_shared", "curriculum/feedback_given"} <= kinds
    assert "notifications/announcement" in kinds
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.kind.like("%overdue%") | Notification.kind.like("%stale%"))
    )
    failed = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    ).all()
    assert len(failed) == 1
    assert "550" in (failed[0].last_error or "")


def test_the_cycles_demo_loads_on_its_own_too(ctx):
    load_cycles_demo()
    assert count(School) == 20
    assert find_user_by_email("staff@example.org") is not None


def test_three_pilots_have_two_years_and_seventeen_schools_their_first(ctx, demo):
    this_label = label_for(utcnow().date())
    rows = db.session.execute(
        sa.select(School, Cycle, SchoolYear)
        .join(Cycle, Cycle.school_id == School.id)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
    ).all()
    years = Counter(year.label for _, _, year in rows)
    first = int(this_label[:4]) - 1
    assert years == {this_label: 20, f"{first}-{(first + 1) % 100:02d}": 3}
    pilots = {school.code for school, _, _ in rows if school.is_pilot}
    assert pilots == {spec.code for spec in PILOTS}
    assert {school.magnet_theme for school, _, _ in rows if school.is_pilot} == {
        "STEM",
        "Arts",
        "International Baccalaureate",
    }
    assert all(school.is_magnet for school, _, _ in rows)
    assert {school.region for school, _, _ in rows} == {"North", "Central", "South"}
    stages = Counter(
        cycle.stage
        for _, cycle, year in rows
        if year.label == this_label and not cycle.previous_cycle_id
    )
    assert set(stages) == {CycleStage.PLANNING, CycleStage.IMPLEMENTING}
    assert sum(stages.values()) == len(FIRST_YEAR)
    for _, cycle, year in rows:
        if year.label != this_label:
            assert cycle.stage == CycleStage.CLOSED


def test_last_years_reviews_are_signed_by_both_and_this_years_goals_came_from_them(ctx, demo):
    signed = db.session.scalars(
        sa.select(GoalsReview).where(GoalsReview.status == ReviewStatus.SIGNED)
    ).all()
    assert len(signed) == 3
    for review in signed:
        assert review.frozen_at is not None
        assert review.snapshot
        assert review.lead_signed_by_id
        assert review.staff_signed_by_id
        assert review.lead_signed_by_id != review.staff_signed_by_id
        assert review.notes_md
        goals = db.session.scalars(sa.select(Goal.id).where(Goal.cycle_id == review.cycle_id)).all()
        rated = db.session.scalars(
            sa.select(GoalRating.goal_id).where(GoalRating.review_id == review.id)
        ).all()
        assert sorted(goals) == sorted(rated)  # every goal rated
        proposed = db.session.scalars(
            sa.select(ProposedGoal).where(ProposedGoal.review_id == review.id)
        ).all()
        following = db.session.scalar(
            sa.select(Cycle).where(Cycle.previous_cycle_id == review.cycle_id)
        )
        assert following is not None
        assert following.stage == CycleStage.IMPLEMENTING
        new_goals = db.session.scalars(
            sa.select(Goal).where(Goal.cycle_id == following.id).order_by(Goal.position)
        ).all()
        assert [goal.title for goal in new_goals] == [
            agreed.title for agreed in sorted(proposed, key=lambda p: p.position)
        ]
        assert [goal.carried_from_goal_id for goal in new_goals] == [
            agreed.goal_id for agreed in sorted(proposed, key=lambda p: p.position)
        ]


def test_one_review_is_scheduled_in_the_next_weeks_at_the_demo_lead_teachers_school(ctx, demo):
    [review] = db.session.scalars(
        sa.select(GoalsReview).where(GoalsReview.status == ReviewStatus.SCHEDULED)
    ).all()
    today = utcnow().date()
    assert today < review.scheduled_for <= today + timedelta(days=42)
    lead = find_user_by_email("lead@example.org")
    assert lead is not None
    roles = db.session.scalars(
        sa.select(CycleMembership.role).where(
            CycleMembership.cycle_id == review.cycle_id, CycleMembership.user_id == lead.id
        )
    ).all()
    assert roles == [CycleRole.LEAD_TEACHER]


def test_every_status_shows_somewhere_with_one_set_by_hand_and_one_goal_gone_stale(ctx, demo):
    today = utcnow().date()
    open_cycles = {
        cycle.id: cycle
        for cycle in db.session.scalars(sa.select(Cycle))
        if cycle.stage != CycleStage.CLOSED
    }
    summaries = [s for goals in queries.goal_summaries(open_cycles, today).values() for s in goals]
    assert {summary.status for summary in summaries} == set(GoalStatus)
    overridden = [s for s in summaries if s.overridden]
    assert len(overridden) == 1
    assert overridden[0].goal.override_reason == OVERRIDE_REASON
    assert overridden[0].status != overridden[0].computed
    measured_but_stale = [s for s in summaries if s.stale and s.latest is not None]
    assert len(measured_but_stale) == 1
    # The portfolio counts the same statuses.
    data = portfolio_queries.portfolio({}, today)
    totals = dict(zip(portfolio_queries.STATUS_ORDER, data.status_totals, strict=True))
    assert totals == Counter(summary.status for summary in summaries)


def test_each_cycle_has_an_initiative_a_driver_diagram_and_two_to_four_goals(ctx, demo):
    for cycle in db.session.scalars(sa.select(Cycle)):
        assert cycle.initiative_title
        assert cycle.equity_challenge_md
        assert cycle.aim_md
        kinds = Counter(
            db.session.scalars(sa.select(Driver.kind).where(Driver.cycle_id == cycle.id))
        )
        assert 2 <= kinds[DriverKind.PRIMARY] <= 3
        assert kinds[DriverKind.SECONDARY] >= 1
        assert kinds[DriverKind.CHANGE_IDEA] >= 2
        goals = db.session.scalar(
            sa.select(sa.func.count(Goal.id)).where(Goal.cycle_id == cycle.id)
        )
        assert 2 <= goals <= 4


def test_tests_engagement_and_partner_support_are_logged(ctx, demo):
    decisions = Counter(db.session.scalars(sa.select(ImprovementTest.decision)))
    assert decisions[None] >= 1
    assert len(decisions) == 4
    assert count(EngagementSession) >= 20
    partners = db.session.execute(
        sa.select(SupportActivity.provider_name, sa.func.sum(SupportActivity.hours)).group_by(
            SupportActivity.provider_name
        )
    ).all()
    assert {name for name, _ in partners} == {
        "Bridges Collaborative",
        "University Center for Equity in Schools",
    }


def test_the_demo_people_see_their_cycles_at_home(ctx, demo):
    today = utcnow().date()
    lead = find_user_by_email("lead@example.org")
    partner = find_user_by_email("partner@example.org")
    staff = find_user_by_email("staff@example.org")
    assert lead is not None
    assert partner is not None
    assert staff is not None
    lead_home = home_queries.cycle_home(lead.id, today)
    assert lead_home is not None
    assert [c.school for c in lead_home.team_cycles] == ["Coral Ridge STEM Magnet Elementary"]
    assert len(lead_home.reviews) == 1
    assert lead_home.open_tests
    partner_home = home_queries.cycle_home(partner.id, today)
    assert partner_home is not None
    assert partner_home.partner_hours > 0
    assert len(partner_home.supported) >= 5
    staff_home = home_queries.cycle_home(staff.id, today, staff_counts=True)
    assert staff_home is not None
    assert {c.role for c in staff_home.team_cycles} == {CycleRole.STAFF_LIAISON}
    assert len(staff_home.team_cycles) == 3
    assert staff_home.staff is not None
    assert staff_home.staff.cycles == 20


def test_the_portfolio_and_year_over_year_show_the_demo(app, client, demo):
    with app.app_context():
        staff = find_user_by_email("staff@example.org")
        assert staff is not None
        years = portfolio_queries.years_overview(utcnow().date())
        assert [(y.cycles, y.pilots) for y in years] == [(3, 3), (20, 3)]
        assert years[0].reviews_signed == 3
    sign_in(client, staff)
    page = client.get("/portfolio/")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('<th scope="row">') == 20
    assert client.get("/portfolio/years").status_code == 200
