"""The home page's school cycles: a lead teacher's work, a partner's schools and hours, staff's
counts for the year, and nothing for people outside the cycles."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import url_for

from fellowship.cycles import home_queries
from fellowship.cycles.models import CycleRole, CycleStage, PdsaDecision, ReviewStatus
from fellowship.db import utcnow
from fellowship.school_years import label_for
from tests.cycles.helpers import (
    CycleFactory,
    CycleMemberFactory,
    GoalFactory,
    ImprovementTestFactory,
    MeasurementFactory,
    ReviewFactory,
    SupportFactory,
    Team,
    cycle_with_team,
)
from tests.cycles.portfolio_helpers import (
    Shape,
    build_cycle,
    raise_goal,
    year,
)
from tests.factories import MembershipFactory, StaffFactory, UserFactory


def today():
    return utcnow().date()


def this_year():
    return year(label_for(today()))


def last_year():
    first = int(label_for(today())[:4]) - 1
    return year(f"{first}-{(first + 1) % 100:02d}")


def _work(team: Team) -> dict[str, int]:
    """Goals (one stale, one fresh, one never measured), reviews (one coming, one signed),
    tests (one open, one decided) in the team's cycle."""
    cycle = team.cycle
    stale = GoalFactory(cycle_id=cycle.id, title="Applicants from outside the zone")
    MeasurementFactory(goal_id=stale.id, measured_on=today() - timedelta(days=75), value=20)
    fresh = GoalFactory(cycle_id=cycle.id, title="Chronic absence")
    MeasurementFactory(goal_id=fresh.id, measured_on=today() - timedelta(days=10), value=20)
    never = GoalFactory(cycle_id=cycle.id, title="Families at the advisory council")
    coming = ReviewFactory(cycle_id=cycle.id, scheduled_for=today() + timedelta(days=21))
    ReviewFactory(
        cycle_id=cycle.id,
        scheduled_for=today() - timedelta(days=30),
        status=ReviewStatus.SIGNED,
        frozen_at=utcnow(),
    )
    open_test = ImprovementTestFactory(cycle_id=cycle.id, title="Open house in Spanish")
    ImprovementTestFactory(cycle_id=cycle.id, title="Bus stop flyer", decision=PdsaDecision.ADOPT)
    return {
        "stale": stale.id,
        "fresh": fresh.id,
        "never": never.id,
        "review": coming.id,
        "test": open_test.id,
    }


@pytest.fixture
def team():
    return cycle_with_team(school_year_id=this_year().id)


@pytest.mark.parametrize("role", ["lead", "member"])
def test_a_lead_teacher_or_team_member_sees_their_cycle_and_what_needs_doing(
    app, login_as, team, role
):
    ids = _work(team)
    html = login_as(getattr(team, role)).get("/").get_data(as_text=True)
    assert "Your school cycles" in html
    section = html[html.index("Your school cycles") : html.index("Your account")]
    with app.test_request_context():
        cycle_url = url_for("cycles.show", cycle_id=team.cycle.id)
        review_url = url_for("cycles.review_show", cycle_id=team.cycle.id, review_id=ids["review"])
        test_url = url_for("cycles.test_show", cycle_id=team.cycle.id, test_id=ids["test"])
        measure_url = url_for(
            "cycles.measurement_new", cycle_id=team.cycle.id, goal_id=ids["stale"]
        )
    assert f'href="{cycle_url}"' in section
    assert label_for(today()) in section
    assert "Implementing" in section
    # Needing a measurement: the stale goal and the one never measured, not the fresh one.
    assert "Applicants from outside the zone" in section
    assert "Families at the advisory council" in section
    assert "not measured yet" in section
    assert "Chronic absence" not in section
    assert f'href="{measure_url}"' in section
    # The next review (not the signed one) and the open test (not the decided one).
    assert f'href="{review_url}"' in section
    assert section.count("Goals review on") == 1
    assert f'href="{test_url}"' in section
    assert "Bus stop flyer" not in section
    assert "You are not in a cohort. Your school cycles are listed above." in html


def test_the_lead_teacher_sees_this_years_cycle_not_last_years_closed_one(login_as, team):
    old = CycleFactory(
        school_id=team.cycle.school_id,
        school_year_id=last_year().id,
        stage=CycleStage.CLOSED,
    )
    CycleMemberFactory(cycle_id=old.id, user_id=team.lead.id, role=CycleRole.LEAD_TEACHER)
    GoalFactory(cycle_id=old.id, title="Last year's goal")
    html = login_as(team.lead).get("/").get_data(as_text=True)
    assert label_for(today()) in html
    assert "Last year's goal" not in html


def test_a_lead_teacher_of_two_schools_sees_which_school_each_item_belongs_to(login_as, team):
    second = CycleFactory(school_year_id=this_year().id)
    CycleMemberFactory(cycle_id=second.id, user_id=team.lead.id, role=CycleRole.LEAD_TEACHER)
    GoalFactory(cycle_id=second.id, title="Second school goal")
    GoalFactory(cycle_id=team.cycle.id, title="First school goal")
    html = login_as(team.lead).get("/").get_data(as_text=True)
    assert re.search(r"Second school goal</a>\s*\(Riverside Magnet School \d+\)", html)


def test_a_partner_sees_the_schools_they_support_with_their_own_hours(app, login_as, team):
    other_cycle = CycleFactory(school_year_id=this_year().id)
    CycleMemberFactory(
        cycle_id=other_cycle.id,
        user_id=team.partner.id,
        role=CycleRole.PARTNER,
        organisation="University Center for Equity in Schools",
    )
    SupportFactory(cycle_id=team.cycle.id, provider_id=team.partner.id, hours=2.5)
    SupportFactory(cycle_id=team.cycle.id, provider_id=team.partner.id, hours=1.5)
    SupportFactory(cycle_id=team.cycle.id, recorded_by_id=team.partner.id, hours=1.0)
    SupportFactory(cycle_id=team.cycle.id, provider_id=UserFactory().id, hours=9.0)  # not theirs
    SupportFactory(cycle_id=other_cycle.id, provider_id=team.partner.id, hours=3.0)
    # Last year's school, supported then, is not "this year".
    old = CycleFactory(school_year_id=last_year().id, stage=CycleStage.CLOSED)
    CycleMemberFactory(cycle_id=old.id, user_id=team.partner.id, role=CycleRole.PARTNER)
    SupportFactory(cycle_id=old.id, provider_id=team.partner.id, hours=40.0)

    home = home_queries.cycle_home(team.partner.id, today())
    assert home is not None
    assert not home.team_cycles
    hours = {entry.cycle.id: entry.hours for entry in home.supported}
    assert hours == {team.cycle.id: 5.0, other_cycle.id: 3.0}
    assert home.partner_hours == 8.0

    html = login_as(team.partner).get("/").get_data(as_text=True)
    assert "Schools you support this year" in html
    assert "University Center for Equity in Schools" in html
    assert "Bridges Collaborative" in html
    with app.test_request_context():
        log_url = url_for("cycles.support_new", cycle_id=team.cycle.id)
    assert f'href="{log_url}"' in html
    assert re.search(r"<strong>8</strong>", html)
    assert "Goals that need a measurement" not in html


def test_a_partner_cannot_log_support_in_a_closed_cycle_from_home(app, login_as, team):
    team.cycle.stage = CycleStage.CLOSED
    from fellowship.extensions import db

    db.session.commit()
    html = login_as(team.partner).get("/").get_data(as_text=True)
    assert "Schools you support this year" in html
    assert "Log support" not in html


def test_staff_see_this_years_counts_and_links_to_the_portfolio(login_as):
    baseline = today() - timedelta(days=120)
    off_track = raise_goal([(30, 17.0)])
    build_cycle(
        Shape(
            "Oak",
            goals=(off_track, off_track, raise_goal([(60, 31.0)])),
            review=ReviewStatus.SCHEDULED,
        ),
        this_year(),
        baseline,
    )
    build_cycle(
        Shape("Pine", goals=(off_track,), review=ReviewStatus.SIGNED), this_year(), baseline
    )
    build_cycle(Shape("Old", goals=(off_track,)), last_year(), baseline - timedelta(days=365))
    html = login_as(StaffFactory()).get("/").get_data(as_text=True)
    block = html[html.index('id="cycles-staff-heading"') : html.index("Your account")]
    counts = re.findall(r'<span class="stat-number">(\d+)</span>\s*([^<]+)</li>', block)
    assert [(int(n), text.strip()) for n, text in counts] == [
        (2, f"school cycles in {label_for(today())}"),
        (1, "goals review scheduled"),
        (1, "goals review signed"),
    ]
    assert 'href="/portfolio/?year=' in block
    assert 'href="/portfolio/years"' in block
    assert "Your school cycles" not in html


def test_a_staff_liaison_who_is_staff_sees_both_their_cycle_and_the_counts(login_as, team):
    staff = StaffFactory()
    CycleMemberFactory(
        cycle_id=CycleFactory(school_year_id=this_year().id).id,
        user_id=staff.id,
        role=CycleRole.STAFF_LIAISON,
    )
    html = login_as(staff).get("/").get_data(as_text=True)
    assert "Your school cycles" in html
    assert "you are the staff liaison" in html
    assert 'id="cycles-staff-heading"' in html


def test_a_member_outside_the_cycles_sees_nothing_about_them(login_as, team):
    html = login_as(UserFactory()).get("/").get_data(as_text=True)
    assert "Your school cycles" not in html
    assert 'id="cycles-staff-heading"' not in html
    assert "You are not in a cohort or a school cycle yet" in html


def test_a_fellow_sees_nothing_about_cycles(login_as, team):
    from fellowship.auth.models import User
    from fellowship.extensions import db

    fellow = db.session.get(User, MembershipFactory().user_id)
    html = login_as(fellow).get("/").get_data(as_text=True)
    assert "Your school cycles" not in html
    assert 'id="cycles-staff-heading"' not in html
    assert home_queries.cycle_home(fellow.id, today()) is None


def _lead_with(cycles: int) -> int:
    lead = UserFactory()
    for i in range(cycles):
        team = cycle_with_team(school_year_id=this_year().id)
        CycleMemberFactory(cycle_id=team.cycle.id, user_id=lead.id, role=CycleRole.TEAM_MEMBER)
        _work(team)
        partner_cycle = CycleFactory(school_year_id=this_year().id)
        CycleMemberFactory(cycle_id=partner_cycle.id, user_id=lead.id, role=CycleRole.PARTNER)
        SupportFactory(cycle_id=partner_cycle.id, provider_id=lead.id, hours=1.0 + i)
    return lead.id


def test_the_home_takes_the_same_queries_with_one_or_five_cycles(login_as, count_queries):
    from fellowship.auth.models import User
    from fellowship.extensions import db

    counts = []
    for size in (1, 5):
        client = login_as(db.session.get(User, _lead_with(size)))
        client.get("/")
        with count_queries() as counter:
            response = client.get("/")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("Goals review on") == size
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 15, counts


def test_the_staff_home_takes_the_same_queries_at_2_and_20_cycles(login_as, count_queries):
    client = login_as(StaffFactory())
    counts = []
    for size in (2, 20):
        for i in range(size - (2 if counts else 0)):
            build_cycle(
                Shape(
                    f"S{size}-{i}", goals=(raise_goal([(30, 17.0)]),), review=ReviewStatus.SCHEDULED
                ),
                this_year(),
                today() - timedelta(days=100),
            )
        client.get("/")
        with count_queries() as counter:
            client.get("/")
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 15, counts


def test_cycle_home_is_none_for_a_person_in_no_cycle(ctx):
    assert home_queries.cycle_home(UserFactory().id, today()) is None
    assert home_queries.cycle_home(UserFactory().id, today(), staff_counts=True) is not None
