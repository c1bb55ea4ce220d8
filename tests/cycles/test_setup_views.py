"""Setup screens: the cycles list for a school year (scope, year choice, my role, pages,
query count), opening a cycle, the team page (add, change, remove, errors, other cycles'
memberships), and opening next year's cycles for one school and for all; who may use each and
that nothing changes when they may not."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.cycles import setup_views
from fellowship.cycles.models import Cycle, CycleMembership, CycleRole, CycleStage, Goal, School
from fellowship.extensions import db
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.cycles.helpers import (
    CycleFactory,
    CycleMemberFactory,
    ProposedGoalFactory,
    SchoolFactory,
    cycle_with_team,
)
from tests.cycles.school_helpers import text_of
from tests.cycles.setup_helpers import (
    carry_world,
    frozen_review,
    rival_opens,
    signed_review,
    snapshot,
    year,
)
from tests.factories import AdminFactory, MembershipFactory, StaffFactory, UserFactory

shared_team = rows_for_module(cycle_with_team)


@pytest.fixture
def team(shared_team, request):
    """What most tests here start from, built once for the module."""
    return shared_team.thaw_for(request)


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def post(client, path: str, fields: dict | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client), **(fields or {})})


@pytest.fixture
def this_year(monkeypatch):
    """Pin "today's" school year to 2026-27 for the pages that default to it."""
    monkeypatch.setattr(setup_views, "label_for", lambda day: "2026-27")


def membership_of(cycle: Cycle, user) -> CycleMembership:
    return db.session.scalar(
        sa.select(CycleMembership).where(
            CycleMembership.cycle_id == cycle.id, CycleMembership.user_id == user.id
        )
    )


# The list -----------------------------------------------------------------------------------


def test_staff_see_every_cycle_of_the_year_with_their_links(client, this_year):
    a = CycleFactory(
        school_id=SchoolFactory(name="Bayside").id, initiative_title="Every family chooses us"
    )
    b = CycleFactory(
        school_id=SchoolFactory(name="Alder").id,
        initiative_title="",
        stage=CycleStage.PLANNING,
    )
    CycleFactory(school_id=a.school_id, school_year_id=year("2025-26").id)
    sign_in(client, StaffFactory())
    html = page(client, "/cycles/")
    text = text_of(html)
    assert html.count("<h1") == 1
    assert "Cycles 2026-27" in text
    assert "2 cycles in 2026-27" in text
    assert text.index("Alder") < text.index("Bayside")
    assert "Every family chooses us" in text
    assert "Cycle 2026-27 (no title yet)" in text
    assert f'href="/cycles/{a.id}"' in html
    assert f'href="/cycles/{b.id}"' in html
    assert f'href="/schools/{a.school_id}"' in html
    assert "Planning" in text
    assert "Implementing" in text
    assert 'href="/portfolio' in html or "portfolio" in html
    assert 'href="/schools/"' in html
    assert 'href="/cycles/open-next-year?year=2026-27"' in html
    assert 'href="/cycles/new?year=2026-27"' in html
    assert "My role" not in text
    # The years with cycles can be chosen.
    assert '<option value="2025-26">' in html
    assert '<option selected value="2026-27">' in html


def test_a_member_sees_their_schools_cycles_with_their_role_and_no_staff_links(
    team, client, this_year
):
    CycleFactory(school_id=SchoolFactory(name="Not my school").id)
    sign_in(client, team.partner)
    html = page(client, "/cycles/")
    text = text_of(html)
    assert "1 cycle in 2026-27" in text
    assert "Not my school" not in text
    assert "My role" in text
    assert "Partner" in text
    assert "/cycles/new" not in html
    assert "/cycles/open-next-year" not in html
    assert 'href="/schools/"' not in html


def test_last_years_lead_teacher_sees_this_years_cycle_of_the_school_without_a_role(
    team, client, this_year
):
    old = CycleFactory(school_id=team.cycle.school_id, school_year_id=year("2025-26").id)
    former = UserFactory()
    CycleMemberFactory(cycle_id=old.id, user_id=former.id, role=CycleRole.LEAD_TEACHER)
    sign_in(client, former)
    text = text_of(page(client, "/cycles/"))
    assert "1 cycle in 2026-27" in text
    assert "—" in text
    text = text_of(page(client, "/cycles/?year=2025-26"))
    assert "Lead teacher" in text


def test_an_unknown_year_shows_this_year(client, this_year):
    CycleFactory()
    sign_in(client, StaffFactory())
    for query in ("?year=1999-00", "?year=%3Cscript%3E", "?year="):
        assert "Cycles 2026-27" in text_of(page(client, f"/cycles/{query}"))


def test_a_year_without_cycles_says_so(client, this_year):
    sign_in(client, StaffFactory())
    html = page(client, "/cycles/")
    assert "No cycles in 2026-27." in html
    assert "open next year's cycles for every school from last year's" in text_of(html)


@pytest.mark.parametrize("who", ["fellow", "coach", "member"])
def test_people_without_a_cycle_cannot_list_cycles(client, who):
    if who == "member":
        person = UserFactory()
    else:
        role = CohortRole.FELLOW if who == "fellow" else CohortRole.COACH
        person = db.session.get(User, MembershipFactory(role=role).user_id)
    sign_in(client, person)
    page(client, "/cycles/", 403)


def test_the_list_is_paginated(client, this_year):
    for n in range(27):
        CycleFactory(school_id=SchoolFactory(name=f"School {n:02d}").id)
    sign_in(client, StaffFactory())
    html = page(client, "/cycles/")
    assert "27 cycles in 2026-27" in text_of(html)
    assert html.count('data-label="School"') == 25
    assert "page=2" in html
    assert page(client, "/cycles/?page=2").count('data-label="School"') == 2


@pytest.mark.parametrize("who", ["staff", "lead teacher"])
def test_the_list_runs_the_same_number_of_queries_for_2_and_20_cycles(
    client, count_queries, this_year, who
):
    counts = []
    for size in (2, 20):
        label = f"20{40 + size}-{41 + size}"
        person = StaffFactory() if who == "staff" else UserFactory()
        for _n in range(size):
            cycle = CycleFactory(school_id=SchoolFactory().id, school_year_id=year(label).id)
            if who != "staff":
                CycleMemberFactory(cycle_id=cycle.id, user_id=person.id)
        sign_in(client, person)
        db.session.expire_all()
        with count_queries() as counter:
            html = page(client, f"/cycles/?year={label}")
        assert html.count('data-label="School"') == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 15


# Opening a cycle ----------------------------------------------------------------------------


def test_the_new_cycle_form_offers_active_schools_and_fills_in_the_asked_year(client):
    school = SchoolFactory(name="Hillside", code="NC-1")
    SchoolFactory(name="Closed Academy", is_active=False)
    sign_in(client, StaffFactory())
    html = page(client, f"/cycles/new?school_id={school.id}&year=2027-28")
    assert f'<option selected value="{school.id}">Hillside (NC-1)</option>' in html
    assert "Closed Academy" not in html
    assert 'value="2027-28"' in html


def test_staff_open_a_cycle_and_go_on_to_its_team(client):
    school = SchoolFactory(name="Hillside")
    staff = StaffFactory()
    sign_in(client, staff)
    response = post(client, "/cycles/new", {"school": str(school.id), "school_year": "2027-28"})
    assert response.status_code == 302
    cycle = db.session.scalar(sa.select(Cycle).where(Cycle.school_id == school.id))
    assert response.headers["Location"].endswith(f"/cycles/{cycle.id}/members")
    assert cycle.stage == CycleStage.PLANNING
    assert "The 2027-28 cycle of Hillside is open. Now add its team." in page(
        client, f"/cycles/{cycle.id}/members"
    )


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"school_year": "2026-27"}, "school_year", "Hillside already has a cycle for 2026-27."),
        ({"school_year": "2026/27"}, "school_year", "Enter the school year like 2026-27."),
        ({"school_year": ""}, "school_year", "Enter the school year like 2026-27."),
        ({"school_year": "9" * 40}, "school_year", "Enter the school year like 2026-27."),
        ({"school": ""}, "school", "Choose the school."),
        ({"school": "99999999999"}, "school", "Choose the school."),
        ({"school": "inactive"}, "school", "Choose the school."),
    ],
)
def test_a_refused_cycle_is_shown_again_with_the_reason_and_what_was_typed(
    client, fields, field_id, message
):
    school = SchoolFactory(name="Hillside")
    CycleFactory(school_id=school.id)  # 2026-27
    inactive = SchoolFactory(is_active=False)
    sign_in(client, StaffFactory())
    data = {"school": str(school.id), "school_year": "2027-28", **fields}
    if data["school"] == "inactive":
        data["school"] = str(inactive.id)
    before = snapshot()
    response = post(client, "/cycles/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in text_of(html)
    assert f'id="{field_id}-error"' in html
    if data["school_year"] and len(data["school_year"]) < 17:
        assert f'value="{data["school_year"]}"' in html
    assert snapshot() == before


def test_a_double_click_opens_the_cycle_once_and_the_second_says_where_it_is(client):
    school = SchoolFactory(name="Hillside")
    sign_in(client, StaffFactory())
    fields = {"school": str(school.id), "school_year": "2027-28"}
    assert post(client, "/cycles/new", fields).status_code == 302
    made = db.session.scalar(sa.select(Cycle).where(Cycle.school_id == school.id))
    response = post(client, "/cycles/new", fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hillside already has a cycle for 2027-28." in text_of(html)
    assert f'href="/cycles/{made.id}"' in html
    assert (
        db.session.scalar(sa.select(sa.func.count(Cycle.id)).where(Cycle.school_id == school.id))
        == 1
    )


def test_a_cycle_opened_by_someone_else_at_the_same_moment_is_refused_not_an_error_page(
    client,
):
    school = SchoolFactory(name="Hillside")
    sign_in(client, StaffFactory())
    with rival_opens(school.id, "2027-28") as rival:
        response = post(client, "/cycles/new", {"school": str(school.id), "school_year": "2027-28"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hillside already has a cycle for 2027-28." in text_of(html)
    assert 'id="school_year-error"' in html
    assert f'href="/cycles/{rival[0]}"' in html
    assert not db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "cycle.opened")
    )


def test_only_staff_open_cycles(team, client):
    school = SchoolFactory()
    before = snapshot()
    for person in (team.lead, team.liaison, UserFactory()):
        sign_in(client, person)
        page(client, "/cycles/new", 403)
        response = post(client, "/cycles/new", {"school": str(school.id), "school_year": "2027-28"})
        assert response.status_code == 403
    assert snapshot() == before


# The team -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["lead", "member", "partner", "liaison"])
def test_the_team_page_lists_everyone_for_the_schools_members_without_forms(team, client, who):
    sign_in(client, getattr(team, who))
    html = page(client, f"/cycles/{team.cycle.id}/members")
    text = text_of(html)
    assert html.count("<h1") == 1
    for person in (team.lead, team.member, team.partner, team.liaison):
        assert person.name in text
    assert "Bridges Collaborative" in text
    assert text.index("Lead teacher") < text.index("Staff liaison")
    assert 'aria-current="page"' in html  # the Team tab
    assert "Add a person" not in text
    assert "/remove" not in html
    assert team.partner.email not in html  # addresses are for staff


def test_staff_see_the_forms_and_addresses(team, client):
    sign_in(client, StaffFactory())
    html = page(client, f"/cycles/{team.cycle.id}/members")
    assert "Add a person" in html
    assert team.partner.email in html
    assert html.count("/remove") == 4
    assert html.count("Change role") == 4


def test_other_schools_members_and_other_people_cannot_see_a_team(team, client):
    other = cycle_with_team()
    for person in (other.lead, other.partner, UserFactory()):
        sign_in(client, person)
        page(client, f"/cycles/{team.cycle.id}/members", 403)
    sign_in(client, StaffFactory())
    page(client, "/cycles/999999/members", 404)


def test_staff_add_a_person_to_the_team(team, client):
    newcomer = UserFactory(email="rosa@example.org", name="Rosa Diaz")
    sign_in(client, StaffFactory())
    response = post(
        client,
        f"/cycles/{team.cycle.id}/members",
        {"email": "Rosa@Example.org", "role": "partner", "organisation": "Parents United"},
    )
    assert response.status_code == 302
    membership = membership_of(team.cycle, newcomer)
    assert (membership.role, membership.organisation) == (CycleRole.PARTNER, "Parents United")
    html = page(client, f"/cycles/{team.cycle.id}/members")
    assert "rosa@example.org has been added to the team as Partner." in html


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"email": "nobody@example.org"}, "email", "No account has the address nobody@example.org"),
        ({"email": "not an address"}, "email", "Enter an email address"),
        ({"organisation": ""}, "organisation", "Enter the partner's organisation."),
        ({"organisation": "o" * 201}, "organisation", "Keep the organisation to 200"),
        ({"role": "principal"}, "role", "Not a valid choice"),
        ({"email": "TAKEN"}, "email", "is already on this cycle's team"),
    ],
)
def test_a_refused_addition_shows_the_reason_and_keeps_what_was_typed(
    team, client, fields, field_id, message
):
    UserFactory(email="rosa@example.org")
    sign_in(client, StaffFactory())
    data = {"email": "rosa@example.org", "role": "partner", "organisation": "Parents United"}
    data.update(fields)
    if data["email"] == "TAKEN":
        data["email"] = team.member.email
    before = snapshot()
    response = post(client, f"/cycles/{team.cycle.id}/members", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in text_of(html)
    assert f'id="{field_id}-error"' in html
    assert f'value="{data["email"]}"' in html
    assert snapshot() == before


def test_staff_change_a_role_and_a_partners_organisation(team, client):
    membership = membership_of(team.cycle, team.member)
    sign_in(client, StaffFactory())
    response = post(
        client,
        f"/cycles/{team.cycle.id}/members/{membership.id}",
        {"role": "partner", "organisation": "District office"},
    )
    assert response.status_code == 302
    db.session.refresh(membership)
    assert (membership.role, membership.organisation) == (CycleRole.PARTNER, "District office")
    assert "The role has been changed." in page(client, f"/cycles/{team.cycle.id}/members")


def test_a_refused_role_change_opens_that_row_with_the_message_and_what_was_typed(team, client):
    membership = membership_of(team.cycle, team.member)
    sign_in(client, StaffFactory())
    before = snapshot()
    response = post(
        client,
        f"/cycles/{team.cycle.id}/members/{membership.id}",
        {"role": "partner", "organisation": "   "},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter the partner's organisation." in text_of(html)
    assert f'id="organisation-{membership.id}-error"' in html
    row = html[html.index(f'id="member-{membership.id}"') :]
    assert row.index("<details open>") < row.index("</tr>")
    assert '<option selected value="partner">' in row[: row.index("</tr>")]
    assert snapshot() == before


def test_staff_take_someone_off_the_team(team, client):
    membership_id = membership_of(team.cycle, team.partner).id
    sign_in(client, StaffFactory())
    response = post(client, f"/cycles/{team.cycle.id}/members/{membership_id}/remove")
    assert response.status_code == 302
    assert membership_of(team.cycle, team.partner) is None
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "cycle.member_removed")
    )
    assert event.target_id == team.partner.id


def test_a_membership_of_another_cycle_is_404_and_nothing_changes(team, client):
    other = cycle_with_team()
    foreign = membership_of(other.cycle, other.lead)
    sign_in(client, StaffFactory())
    before = snapshot()
    base = f"/cycles/{team.cycle.id}/members/{foreign.id}"
    assert post(client, base, {"role": "team_member"}).status_code == 404
    assert post(client, f"{base}/remove").status_code == 404
    assert post(client, f"/cycles/{team.cycle.id}/members/99999999999/remove").status_code == 404
    assert snapshot() == before


def test_members_cannot_change_the_team_and_nothing_changes(team, client):
    membership = membership_of(team.cycle, team.member)
    before = snapshot()
    for person in (team.lead, team.liaison, UserFactory()):
        sign_in(client, person)
        path = f"/cycles/{team.cycle.id}/members"
        assert post(client, path, {"email": person.email, "role": "partner"}).status_code == 403
        assert post(client, f"{path}/{membership.id}", {"role": "partner"}).status_code == 403
        assert post(client, f"{path}/{membership.id}/remove").status_code == 403
    assert snapshot() == before


def test_adding_without_the_csrf_token_is_refused(team, client):
    UserFactory(email="rosa@example.org")
    sign_in(client, StaffFactory())
    before = snapshot()
    response = client.post(
        f"/cycles/{team.cycle.id}/members", data={"email": "rosa@example.org", "role": "partner"}
    )
    assert response.status_code == 400
    assert snapshot() == before


# Opening next year ---------------------------------------------------------------------------


def test_the_open_next_preview_shows_what_the_new_cycle_gets(client):
    w = carry_world()
    review = frozen_review(w.cycle.id, date(2027, 5, 21))
    ProposedGoalFactory(review_id=review.id, goal_id=w.measured.id, title="Applicants, again")
    sign_in(client, StaffFactory())
    before = snapshot()
    html = page(client, f"/cycles/{w.cycle.id}/open-next")
    text = text_of(html)
    assert html.count("<h1") == 1
    assert "Open 2027-28 from this cycle" in text
    assert "next year's goals agreed in the goals review of May 20, 2027" in text
    assert "Applicants, again" in text
    assert "24 %" in text
    assert "latest measurement" in text
    assert "the driver diagram (3 nodes)" in text
    assert "the team (4 people)" in text
    assert w.team.partner.name in text
    assert "Open the 2027-28 cycle" in text
    assert snapshot() == before  # GET writes nothing


def test_staff_open_next_years_cycle_and_land_on_it(client):
    w = carry_world()
    sign_in(client, StaffFactory())
    response = post(client, f"/cycles/{w.cycle.id}/open-next")
    assert response.status_code == 302
    made = db.session.scalar(sa.select(Cycle).where(Cycle.previous_cycle_id == w.cycle.id))
    assert response.headers["Location"].endswith(f"/cycles/{made.id}")
    assert db.session.scalar(sa.select(sa.func.count(Goal.id)).where(Goal.cycle_id == made.id)) == 3
    # The team carried over can see the new cycle at once.
    sign_in(client, w.team.lead)
    page(client, f"/cycles/{made.id}/members")


def test_next_year_already_open_is_shown_and_a_post_is_refused_without_changes(client):
    w = carry_world()
    existing = CycleFactory(school_id=w.cycle.school_id, school_year_id=year("2027-28").id)
    sign_in(client, StaffFactory())
    html = page(client, f"/cycles/{w.cycle.id}/open-next")
    assert "already has a cycle for 2027-28" in html
    assert f'href="/cycles/{existing.id}"' in html
    assert "Open the 2027-28 cycle" not in html
    before = snapshot()
    response = post(client, f"/cycles/{w.cycle.id}/open-next")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("already has a cycle for 2027-28") == 1  # said once, with its link
    assert f'href="/cycles/{existing.id}"' in html
    assert snapshot() == before


def test_the_preview_shows_the_baseline_signed_goals_left_out_and_people_not_carried(client):
    w = carry_world()
    signed_review(
        w.cycle.id,
        date(2027, 5, 21),
        [
            {"goal_id": w.measured.id, "title": "Applicants, again", "target_value": 40.0},
            {"goal_id": w.undated.id, "title": "Family nights, met", "target_value": 4.0},
            {
                "title": "Due long ago",
                "baseline_value": 5.0,
                "baseline_on": date(2027, 5, 1),
                "target_value": 10.0,
                "due_on": date(1960, 1, 1),
            },
        ],
    )
    w.team.partner.is_active = False
    db.session.commit()
    sign_in(client, StaffFactory())
    before = snapshot()
    html = page(client, f"/cycles/{w.cycle.id}/open-next")
    text = text_of(html)
    assert "latest measurement when the review was signed" in text
    assert "Goals left out" in text
    assert "Family nights, met Met last year (5, the target was 4)" in text
    assert "“Due long ago” was due on January 1, 1960" in text
    assert "the team (3 people)" in text
    assert (
        "their account is deactivated (reactivate it, then add them to the new team): "
        f"{w.team.partner.name} — Partner"
    ) in text
    assert "Open the 2027-28 cycle" in text  # the rest still opens
    assert snapshot() == before


def test_an_inactive_schools_next_cycle_is_refused_with_the_reason(client):
    w = carry_world()
    school = db.session.get(School, w.cycle.school_id)
    school.is_active = False
    db.session.commit()
    sign_in(client, StaffFactory())
    reason = f"{school.name} is not active: make it active before opening a cycle."
    html = page(client, f"/cycles/{w.cycle.id}/open-next")
    assert reason in text_of(html)
    assert "Open the 2027-28 cycle" not in html
    before = snapshot()
    response = post(client, f"/cycles/{w.cycle.id}/open-next")
    assert response.status_code == 200
    assert reason in text_of(response.get_data(as_text=True))
    assert snapshot() == before


@pytest.mark.parametrize("label", ["2199-00", "2200-01"])
def test_the_last_school_year_has_no_next_cycle_and_no_error_page(client, label):
    cycle = CycleFactory(school_id=SchoolFactory().id, school_year_id=year(label).id)
    sign_in(client, StaffFactory())
    reason = f"{label} is the last school year cycles can have"
    assert reason in text_of(page(client, f"/cycles/{cycle.id}/open-next"))
    before = snapshot()
    response = post(client, f"/cycles/{cycle.id}/open-next")
    assert response.status_code == 200
    assert reason in text_of(response.get_data(as_text=True))
    assert reason in text_of(page(client, f"/cycles/open-next-year?year={label}"))
    response = post(client, "/cycles/open-next-year", {"year": label})
    assert response.status_code in (200, 302)
    assert snapshot() == before


def test_next_years_cycle_opened_by_someone_else_meanwhile_is_shown_not_an_error_page(client):
    w = carry_world()
    sign_in(client, StaffFactory())
    with rival_opens(w.cycle.school_id, "2027-28") as rival:
        response = post(client, f"/cycles/{w.cycle.id}/open-next")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "already has a cycle for 2027-28." in text_of(html)
    assert f'href="/cycles/{rival[0]}"' in html
    assert not db.session.scalars(
        sa.select(Cycle.id).where(Cycle.previous_cycle_id == w.cycle.id)
    ).all()


def test_every_school_at_once_with_one_opened_meanwhile_opens_nothing_and_says_why(
    client, this_year
):
    ready = carry_world()
    sign_in(client, StaffFactory())
    with rival_opens(ready.cycle.school_id, "2027-28"):
        response = post(client, "/cycles/open-next-year", {"year": "2026-27"})
    assert response.status_code == 200
    assert "already has a cycle for 2027-28." in text_of(response.get_data(as_text=True))
    assert not db.session.scalars(
        sa.select(Cycle.id).where(Cycle.previous_cycle_id == ready.cycle.id)
    ).all()


def test_a_review_goal_without_a_baseline_is_explained_and_blocks_opening(client):
    w = carry_world()
    review = frozen_review(w.cycle.id, date(2027, 5, 21))
    ProposedGoalFactory(review_id=review.id, title="Brand new, no baseline")
    sign_in(client, StaffFactory())
    html = page(client, f"/cycles/{w.cycle.id}/open-next")
    assert "This cycle cannot be carried forward yet" in html
    assert "Open the 2027-28 cycle" not in html


def test_only_staff_open_next_year_and_nothing_changes(client):
    w = carry_world()
    before = snapshot()
    for person in (w.team.lead, w.team.liaison, UserFactory()):
        sign_in(client, person)
        page(client, f"/cycles/{w.cycle.id}/open-next", 403)
        assert post(client, f"/cycles/{w.cycle.id}/open-next").status_code == 403
        page(client, "/cycles/open-next-year", 403)
        assert post(client, "/cycles/open-next-year", {"year": "2026-27"}).status_code == 403
    assert snapshot() == before
    sign_in(client, StaffFactory())
    page(client, "/cycles/999999/open-next", 404)


def test_the_every_school_preview_lists_what_would_open_and_what_is_skipped(client, this_year):
    ready = carry_world()
    done = carry_world()
    CycleFactory(school_id=done.cycle.school_id, school_year_id=year("2027-28").id)
    idle = SchoolFactory(name="Quiet Elementary")
    sign_in(client, AdminFactory())
    before = snapshot()
    html = page(client, "/cycles/open-next-year")
    text = text_of(html)
    assert html.count("<h1") == 1
    assert "1 cycles to open" in text
    assert "1 schools skipped" in text
    assert "1 active schools with no cycle in 2026-27" in text
    school_name = db.session.get(type(idle), ready.cycle.school_id).name
    assert school_name in text
    assert "already has a cycle for 2027-28" in text
    assert "Quiet Elementary" in text
    assert "No cycle in 2026-27." in text
    assert "Open 1 cycle for 2027-28" in text
    assert snapshot() == before


def test_staff_open_next_year_for_every_school_in_one_step(client, this_year):
    ready = [carry_world() for _n in range(2)]
    carry_world()  # a third whose next cycle exists already
    last = db.session.scalar(sa.select(Cycle).order_by(Cycle.id.desc()))
    CycleFactory(school_id=last.school_id, school_year_id=year("2027-28").id)
    sign_in(client, StaffFactory())
    response = post(client, "/cycles/open-next-year", {"year": "2026-27"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/cycles/?year=2027-28")
    opened = set(
        db.session.scalars(
            sa.select(Cycle.previous_cycle_id).where(Cycle.previous_cycle_id.is_not(None))
        )
    )
    assert opened == {w.cycle.id for w in ready}
    html = page(client, "/cycles/?year=2027-28")
    assert "Opened 2 cycles for 2027-28. Skipped: 1 schools" in html


def test_a_bad_year_posted_to_every_school_opens_nothing(client, this_year):
    carry_world()
    sign_in(client, StaffFactory())
    before = snapshot()
    response = post(client, "/cycles/open-next-year", {"year": "next"})
    assert response.status_code == 200
    assert "Choose the school year" in response.get_data(as_text=True)
    assert snapshot() == before
