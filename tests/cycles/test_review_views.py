"""The goals review in the browser: who sees and changes what (lead teacher, team member,
partner, staff liaison, another school's lead, staff, admin, fellow), the review page, bad
input, two people at once, signing and amending."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from fellowship.cycles import review_services as services
from fellowship.cycles.models import GoalRating, GoalsReview, ProposedGoal, ReviewStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.conftest import rows_for_module, sign_in
from tests.cycles.helpers import MeasurementFactory, ProposedGoalFactory, ReviewFactory
from tests.cycles.review_helpers import (
    audit_actions,
    base,
    fresh,
    next_goal_form,
    post,
    rate_all,
    review_state,
    review_url,
    text_of,
    world,
)

shared_world = rows_for_module(world)


@pytest.fixture
def w(shared_world, request):
    """The world most tests here read, built once for the module."""
    return shared_world.thaw_for(request)


READERS = {"lead teacher", "team member", "partner", "staff liaison", "staff", "admin"}
RECORDERS = {"lead teacher", "staff", "admin"}
PEOPLE = [
    "lead teacher",
    "team member",
    "partner",
    "staff liaison",
    "other school's lead",
    "staff",
    "admin",
    "fellow",
]


def _ratings(w, rating="met"):
    data = {"version": str(fresh(w.review).version)}
    for goal in w.goals:
        data[f"rating_{goal.id}"] = rating
        data[f"comment_{goal.id}"] = f"About {goal.title}"
    return data


# Who sees -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("page", ["list", "review", "pdf"])
def test_who_may_read_the_reviews(w, client, who, page):
    sign_in(client, w.person(who))
    url = {
        "list": base(w.cycle),
        "review": review_url(w.review),
        "pdf": review_url(w.review, "/packet.pdf"),
    }[page]
    response = client.get(url)
    assert response.status_code == (200 if who in READERS else 403)


@pytest.mark.parametrize("who", PEOPLE)
def test_only_staff_open_the_scheduling_form(w, client, who):
    sign_in(client, w.person(who))
    response = client.get(f"{base(w.cycle)}/new")
    assert response.status_code == (200 if who in {"staff", "admin"} else 403)


def test_a_review_is_only_reachable_through_its_own_cycle(w, client):
    sign_in(client, w.staff)
    assert client.get(f"/cycles/{w.other_cycle.id}/reviews/{w.review.id}").status_code == 404
    assert client.get(f"/cycles/{w.cycle.id}/reviews/999999").status_code == 404
    other = ReviewFactory(cycle_id=w.cycle.id)
    proposed = ProposedGoalFactory(review_id=other.id)
    url = review_url(w.review, f"/next-goals/{proposed.id}/edit")
    assert client.get(url).status_code == 404


# Who changes ----------------------------------------------------------------------------------

ACTIONS = {
    "ratings": lambda w: (review_url(w.review, "/ratings"), _ratings(w)),
    "notes": lambda w: (
        review_url(w.review, "/notes"),
        {"notes": "We agreed.", "version": str(w.review.version)},
    ),
    "next goal": lambda w: (review_url(w.review, "/next-goals/new"), next_goal_form()),
    "meeting details": lambda w: (
        review_url(w.review, "/edit"),
        {"scheduled_for": "2027-06-03", "location": "Gym", "version": str(w.review.version)},
    ),
    "remove next goal": lambda w: (
        review_url(w.review, f"/next-goals/{ProposedGoalFactory(review_id=w.review.id).id}/delete"),
        {},
    ),
}


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_who_may_record_the_meeting(w, client, who, action):
    url, data = ACTIONS[action](w)
    sign_in(client, w.person(who))
    before = review_state()
    response = post(client, url, data)
    if who in RECORDERS:
        assert response.status_code == 302, text_of(response.get_data(as_text=True))[:2000]
        assert review_state() != before
    else:
        assert response.status_code == 403
        assert review_state() == before


@pytest.mark.parametrize("who", PEOPLE)
def test_who_may_schedule_a_review(w, client, who):
    db.session.delete(w.review)
    db.session.commit()
    sign_in(client, w.person(who))
    before = review_state()
    response = post(
        client,
        f"{base(w.cycle)}/new",
        {"scheduled_for": "2027-05-20", "location": "Room 204", "participants": "Luis\nSam"},
    )
    if who in {"staff", "admin"}:
        assert response.status_code == 302
        review = db.session.scalars(sa.select(GoalsReview)).one()
        assert response.headers["Location"].endswith(review_url(review))
        assert review.scheduled_for == date(2027, 5, 20)
    else:
        assert response.status_code == 403
        assert review_state() == before


def test_scheduling_twice_makes_one_review_and_the_second_click_is_told(w, client):
    db.session.delete(w.review)
    db.session.commit()
    sign_in(client, w.staff)
    form = {"scheduled_for": "2027-05-20", "location": "Room 204", "participants": "Luis"}
    assert post(client, f"{base(w.cycle)}/new", form).status_code == 302
    again = post(client, f"{base(w.cycle)}/new", form)
    assert again.status_code == 200
    error = re.search(r'id="scheduled_for-error">([^<]*)<', again.get_data(as_text=True))
    assert error
    assert "This cycle already has its yearly review (on May 20, 2027)." in text_of(error.group(1))
    assert len(db.session.scalars(sa.select(GoalsReview)).all()) == 1


def test_amending_twice_opens_one_amendment_and_the_second_click_is_told(w, client):
    rate_all(w.review, w.goals)
    db.session.commit()
    services.sign_review(w.lead, w.review, "lead", w.review.version, notify=False)
    services.sign_review(w.staff, w.review, "staff", w.review.version, notify=False)
    db.session.commit()
    sign_in(client, w.staff)
    assert post(client, review_url(w.review, "/amend")).status_code == 302
    again = post(client, review_url(w.review, "/amend"), follow_redirects=True)
    assert "An amendment of this review is already open. Continue that one" in text_of(
        again.get_data(as_text=True)
    )
    amendments = db.session.scalars(
        sa.select(GoalsReview).where(GoalsReview.amends_review_id == w.review.id)
    ).all()
    assert len(amendments) == 1


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize("side", ["lead", "staff"])
def test_who_may_sign_for_which_side(w, client, who, side):
    rate_all(w.review, w.goals)
    sign_in(client, w.person(who))
    before = review_state()
    response = post(
        client, review_url(w.review, "/sign"), {"side": side, "version": str(w.review.version)}
    )
    allowed = who == "lead teacher" if side == "lead" else who in {"staff", "admin"}
    if allowed:
        assert response.status_code == 302
        assert getattr(fresh(w.review), f"{side}_signed_at") is not None
    else:
        assert response.status_code == 403
        assert review_state() == before


@pytest.mark.parametrize("who", ["lead teacher", "staff", "admin"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_nobody_changes_a_frozen_review(w, client, who, action):
    url, data = ACTIONS[action](w)
    review = fresh(w.review)
    review.frozen_at = utcnow()
    review.status = ReviewStatus.SIGNED
    review.snapshot = {"packet": {"goals": []}}
    db.session.commit()
    sign_in(client, w.person(who))
    before = review_state()
    assert post(client, url, data).status_code == 403
    assert review_state() == before


@pytest.mark.parametrize("who", PEOPLE)
def test_who_may_start_an_amendment(w, client, who):
    rate_all(w.review, w.goals)
    review = fresh(w.review)
    review.lead_signed_by_id, review.lead_signed_at = w.lead.id, utcnow()
    review.staff_signed_by_id, review.staff_signed_at = w.staff.id, utcnow()
    review.frozen_at, review.status = utcnow(), ReviewStatus.SIGNED
    review.snapshot = {"packet": {"goals": []}}
    db.session.commit()
    sign_in(client, w.person(who))
    before = review_state()
    response = post(client, review_url(w.review, "/amend"))
    if who in RECORDERS:
        assert response.status_code == 302
        amendment = db.session.scalars(
            sa.select(GoalsReview).where(GoalsReview.amends_review_id == w.review.id)
        ).one()
        assert response.headers["Location"].endswith(review_url(amendment))
    else:
        assert response.status_code == 403
        assert review_state() == before


# The page -------------------------------------------------------------------------------------


def test_the_review_page_shows_the_packet_and_the_lead_teachers_forms(w, client):
    sign_in(client, w.lead)
    html = client.get(review_url(w.review)).get_data(as_text=True)
    plain = text_of(html)
    assert html.count("<h1") == 1
    assert "Yearly goals review, May 20, 2027" in plain
    for expected in [
        "Goal number 1",
        "Goal number 2",
        "At risk",
        "set by hand; the rule says",
        "The spring count is not in yet.",
        "Improving",
        "Library open house",
        "Open houses in Spanish",
        "Adapt",
        "Families want bus routes",
        "Bridges Collaborative",
        "6.5",
        "No enrollment counts of this school for this school year: no integration figures.",
        "Save the ratings",
        "Save the notes",
        "Add a goal for next year",
        "Sign as the lead teacher",
        "Every goal needs a rating before anyone signs",
    ]:
        assert expected in plain, expected
    assert "Sign as the staff reviewer" not in plain
    assert 'role="img"' in html
    assert "Measurements of “Goal number 1”</caption>" in html


@pytest.mark.parametrize("who", ["team member", "partner"])
def test_team_members_and_partners_read_the_review_without_any_form(w, client, who):
    rate_all(w.review, w.goals)
    sign_in(client, w.person(who))
    html = client.get(review_url(w.review)).get_data(as_text=True)
    assert "Goal number 1" in html
    assert "<form" not in html.split('id="main-content"')[1].split("</main>")[0]
    assert "Progressing" in text_of(html)
    assert "Download the packet (PDF)" in html


def test_the_list_shows_each_review_with_status_and_signatures_and_the_amendment_chain(w, client):
    rate_all(w.review, w.goals)
    review = fresh(w.review)
    review.lead_signed_by_id, review.lead_signed_at = w.lead.id, utcnow()
    review.staff_signed_by_id, review.staff_signed_at = w.staff.id, utcnow()
    review.frozen_at, review.status = utcnow(), ReviewStatus.AMENDED
    review.snapshot = {"packet": {"goals": []}}
    amendment = ReviewFactory(
        cycle_id=w.cycle.id,
        amends_review_id=review.id,
        scheduled_for=date(2027, 6, 10),
        status=ReviewStatus.IN_MEETING,
    )
    db.session.commit()
    sign_in(client, w.staff)
    html = client.get(base(w.cycle)).get_data(as_text=True)
    plain = text_of(html)
    assert "Schedule the yearly review" not in plain  # it has one; corrections are amendments
    assert "Amended" in plain
    assert "In the meeting" in plain
    assert "Luis Lead," in plain
    assert "Sam Staff," in plain
    assert "Corrects the review of May 20, 2027" in plain
    assert review_url(amendment) in html
    # Both pages link the chain.
    page = text_of(client.get(review_url(review)).get_data(as_text=True))
    assert "An amendment is open: the amendment of June 10, 2027" in page
    page = text_of(client.get(review_url(amendment)).get_data(as_text=True))
    assert "This amendment corrects the review of May 20, 2027" in page


def test_the_list_says_when_nothing_is_scheduled(w, client):
    db.session.delete(w.review)
    db.session.commit()
    sign_in(client, w.lead)
    plain = text_of(client.get(base(w.cycle)).get_data(as_text=True))
    assert "No review is scheduled for this cycle yet. Staff schedule the yearly review." in plain
    sign_in(client, w.staff)
    html = client.get(base(w.cycle)).get_data(as_text=True)
    assert f'href="{base(w.cycle)}/new">Schedule the yearly review</a>' in html


# Scheduling -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("scheduled_for", "", "Enter the date, like 2026-09-15."),
        ("scheduled_for", "next tuesday", "Enter the date, like 2026-09-15."),
        ("scheduled_for", "2300-01-01", "Enter a date between 1950 and 2200."),
        ("scheduled_for", "1900-05-01", "Enter a date between 1950 and 2200."),
        ("location", "x" * 201, "Use at most 200 characters."),
        ("participants", "x" * 5001, "Use at most 5,000 characters."),
    ],
)
def test_bad_scheduling_input_is_refused_next_to_the_field(w, client, field, value, message):
    db.session.delete(w.review)
    db.session.commit()
    sign_in(client, w.staff)
    data = {"scheduled_for": "2027-05-20", "location": "Gym", "participants": "Luis"}
    data[field] = value
    response = post(client, f"{base(w.cycle)}/new", data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error
    assert message in text_of(error.group(1))
    assert db.session.scalars(sa.select(GoalsReview)).all() == []
    if field != "scheduled_for":
        assert "Gym" in html or "Luis" in html  # what was typed is kept


def test_scheduling_emails_the_lead_teachers(w, client):
    db.session.delete(w.review)
    db.session.commit()
    sign_in(client, w.staff)
    response = post(client, f"{base(w.cycle)}/new", {"scheduled_for": "2027-05-20"})
    assert response.status_code == 302
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.to == w.lead.email
    assert "scheduled for May 20, 2027" in message.subject
    assert "cycle.review_scheduled" in audit_actions()


def test_the_scheduling_form_suggests_the_lead_teachers_and_the_scheduler(w, client):
    sign_in(client, w.staff)
    html = client.get(f"{base(w.cycle)}/new").get_data(as_text=True)
    assert "Luis Lead\nSam Staff</textarea>" in html


# Recording ------------------------------------------------------------------------------------


def test_ratings_naming_another_cycles_goal_change_nothing(w, client):
    sign_in(client, w.lead)
    data = _ratings(w)
    data[f"rating_{w.other_goal.id}"] = "met"
    before = review_state()
    response = post(client, review_url(w.review, "/ratings"), data)
    assert response.status_code == 200
    assert "not one of this cycle's goals" in text_of(response.get_data(as_text=True))
    assert review_state() == before


def test_a_ratings_form_that_leaves_a_goal_out_leaves_its_rating_alone(w, client):
    rate_all(w.review, w.goals[1:])
    sign_in(client, w.lead)
    first = w.goals[0]
    data = {
        "version": str(fresh(w.review).version),
        f"rating_{first.id}": "not_met",
        f"comment_{first.id}": "",
    }
    assert post(client, review_url(w.review, "/ratings"), data).status_code == 302
    ratings = dict(
        db.session.execute(
            sa.select(GoalRating.goal_id, GoalRating.rating).where(
                GoalRating.review_id == w.review.id
            )
        ).all()
    )
    assert {goal_id: rating.value for goal_id, rating in ratings.items()} == {
        first.id: "not_met",
        w.goals[1].id: "progressing",
    }


def test_a_comment_without_a_rating_is_refused_next_to_the_goal_and_kept(w, client):
    sign_in(client, w.lead)
    data = _ratings(w)
    goal = w.goals[1]
    data[f"rating_{goal.id}"] = ""
    data[f"comment_{goal.id}"] = "Halfway there, honestly"
    response = post(client, review_url(w.review, "/ratings"), data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="rating_{goal.id}-error">Choose a rating for this goal' in html
    assert "Halfway there, honestly</textarea>" in html
    assert db.session.scalars(sa.select(GoalRating)).all() == []


def test_two_people_editing_the_notes_the_second_is_told_and_keeps_their_text(w, app):
    first, second = app.test_client(), app.test_client()
    sign_in(first, w.lead)
    sign_in(second, w.staff)
    opened = str(fresh(w.review).version)  # both open the page at this version
    saved = post(
        first, review_url(w.review, "/notes"), {"notes": "Lead's notes", "version": opened}
    )
    assert saved.status_code == 302
    response = post(
        second, review_url(w.review, "/notes"), {"notes": "Staff's own notes", "version": opened}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Someone changed this review while you were editing it" in html
    assert "Staff&#39;s own notes</textarea>" in html  # their text, still in the form
    plain = text_of(html)
    assert "The saved notes now" in plain
    assert "Lead's notes" in plain.split("The saved notes now")[1]
    assert fresh(w.review).notes_md == "Lead's notes"
    # Saving again is a deliberate choice: the form now carries the current version.
    notes_form = html.split('id="notes-heading"')[1]
    current = re.search(r'name="version" value="(\d+)"', notes_form).group(1)
    again = post(
        second, review_url(w.review, "/notes"), {"notes": "Staff's own notes", "version": current}
    )
    assert again.status_code == 302
    assert fresh(w.review).notes_md == "Staff's own notes"


def test_a_change_after_the_lead_signed_withdraws_the_signature_and_says_so(w, client):
    rate_all(w.review, w.goals)
    sign_in(client, w.lead)
    post(client, review_url(w.review, "/sign"), {"side": "lead", "version": str(w.review.version)})
    page = text_of(client.get(review_url(w.review)).get_data(as_text=True))
    assert "Luis Lead signed as the lead teacher." in page
    assert (
        "changing a rating, the notes, next year's goals or the meeting details withdraws it, "
        "and so does a change to a goal or a measurement in the packet before the other side "
        "signs." in page
    )
    sign_in(client, w.staff)
    response = post(
        client,
        review_url(w.review, "/notes"),
        {"notes": "One more thing.", "version": str(fresh(w.review).version)},
        follow_redirects=True,
    )
    plain = text_of(response.get_data(as_text=True))
    assert (
        "Luis Lead's signature was withdrawn because the record changed; both need to sign again."
        in plain
    )
    assert fresh(w.review).lead_signed_at is None


def test_a_measurement_added_after_the_lead_signed_stops_the_staff_signature_and_says_why(
    w, client
):
    rate_all(w.review, w.goals)
    sign_in(client, w.lead)
    post(client, review_url(w.review, "/sign"), {"side": "lead", "version": str(w.review.version)})
    assert fresh(w.review).lead_signed_at is not None
    MeasurementFactory(goal_id=w.goals[0].id, measured_on=date(2027, 3, 1), value=5.0)
    db.session.commit()
    sign_in(client, w.staff)
    response = post(
        client,
        review_url(w.review, "/sign"),
        {"side": "staff", "version": str(fresh(w.review).version)},
        follow_redirects=True,
    )
    plain = text_of(response.get_data(as_text=True))
    assert (
        "The packet changed since Luis Lead signed (a goal or measurement was updated). Their "
        "signature was withdrawn: both need to sign again." in plain
    )
    assert "Both have signed" not in plain
    assert "Your signature is recorded" not in plain
    review = fresh(w.review)
    assert review.frozen_at is None
    assert (review.lead_signed_at, review.staff_signed_at) == (None, None)
    assert "cycle.review_signature_withdrawn" in audit_actions()


def test_signing_before_every_goal_is_rated_says_which_goals_are_missing(w, client):
    rate_all(w.review, w.goals[:1])
    sign_in(client, w.lead)
    before = review_state()
    response = post(
        client, review_url(w.review, "/sign"), {"side": "lead", "version": str(w.review.version)}
    )
    assert response.status_code == 200
    assert "Rate every goal before signing. Not rated yet: “Goal number 2”" in text_of(
        response.get_data(as_text=True)
    )
    assert review_state() == before


def test_signing_a_record_that_changed_since_it_was_opened_is_refused(w, client):
    rate_all(w.review, w.goals)
    opened = str(w.review.version)
    sign_in(client, w.staff)
    post(client, review_url(w.review, "/notes"), {"notes": "Late change", "version": opened})
    sign_in(client, w.lead)
    response = post(client, review_url(w.review, "/sign"), {"side": "lead", "version": opened})
    assert response.status_code == 200
    assert "The record changed since you opened it: read it again and sign." in text_of(
        response.get_data(as_text=True)
    )
    assert fresh(w.review).lead_signed_at is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("target_value", "", "Enter a number, like 12.5."),
        ("target_value", "lots", "Enter a number, like 12.5."),
        ("target_value", "nan", "Enter a number, like 12.5."),
        ("target_value", "inf", "Enter a number, like 12.5."),
        ("target_value", "1e13", "Enter a number, like 12.5."),
        ("target_value", "10000000000000", "Enter a number between"),
        ("baseline_value", "-99999999999999", "Enter a number between"),
        ("baseline_on", "2300-01-01", "Enter a date between 1950 and 2200."),
        ("due_on", "31/12/2027", "Enter the date, like 2026-09-15."),
        ("title", "", "Name the goal."),
        ("title", "x" * 201, "Use at most 200 characters."),
        ("category", "happiness", "Choose one of the options."),
        ("direction", "sideways", "Choose one of the options."),
        ("continues", "OTHER", "Choose one of this cycle's goals, or none."),
        ("continues", "abc", "Choose one of this cycle's goals, or none."),
        ("baseline_value", "", "Enter the baseline value measured on that date."),
        ("target_value", "10", "To raise the value, the target must be above the baseline (24)."),
        ("due_on", "1960-01-01", "Choose a due date from July 1, 2027 to June 30, 2029"),
    ],
)
def test_bad_input_for_next_years_goal_is_refused_next_to_the_field(
    w, client, field, value, message
):
    sign_in(client, w.lead)
    if value == "OTHER":
        value = str(w.other_goal.id)
    form = next_goal_form(**{field: value})
    if field == "continues":
        form.update(baseline_value="", baseline_on="")
    response = post(client, review_url(w.review, "/next-goals/new"), form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error
    assert message in text_of(error.group(1))
    assert db.session.scalars(sa.select(ProposedGoal)).all() == []
    assert "Half the new class from outside the zone" in html or field == "title"
    if field in {"target_value", "due_on"}:  # what was typed is kept
        assert f'value="{value}"' in html


def test_a_next_years_goal_can_start_from_this_years_goal(w, client):
    sign_in(client, w.lead)
    goal = w.goals[1]
    html = client.get(review_url(w.review, f"/next-goals/new?continues={goal.id}")).get_data(
        as_text=True
    )
    assert f'<option selected value="{goal.id}">' in html
    assert 'value="Goal number 2"' in html
    assert "Next year's baseline: 25 %, measured on January 15, 2027." in text_of(html)
    form = next_goal_form(continues=str(goal.id), baseline_value="", baseline_on="")
    response = post(client, review_url(w.review, "/next-goals/new"), form)
    assert response.status_code == 302
    proposed = db.session.scalars(sa.select(ProposedGoal)).one()
    assert proposed.goal_id == goal.id
    assert proposed.baseline_value is None
    page = text_of(client.get(review_url(w.review)).get_data(as_text=True))
    assert "Continues “Goal number 2”" in page
    assert "this year's latest value" in page


def test_editing_next_years_goal_from_a_stale_form_keeps_what_was_typed(w, client):
    proposed = ProposedGoalFactory(review_id=w.review.id, title="Old title")
    sign_in(client, w.lead)
    url = review_url(w.review, f"/next-goals/{proposed.id}/edit")
    html = client.get(url).get_data(as_text=True)
    assert 'value="Old title"' in html
    assert 'value="35"' in html
    opened = str(w.review.version)
    post(client, review_url(w.review, "/notes"), {"notes": "Meanwhile", "version": opened})
    form = next_goal_form(title="My new title", version=opened)
    response = post(client, url, form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Someone changed this review while you were editing it" in html
    assert 'value="My new title"' in html
    assert db.session.get(ProposedGoal, proposed.id).title == "Old title"


def test_the_meeting_recorded_and_signed_in_the_browser_freezes_the_review(w, client):
    sign_in(client, w.lead)
    assert (
        post(client, review_url(w.review, "/ratings"), _ratings(w, "progressing")).status_code
        == 302
    )
    assert fresh(w.review).status == ReviewStatus.IN_MEETING
    version = str(fresh(w.review).version)
    post(client, review_url(w.review, "/notes"), {"notes": "**Good** year.", "version": version})
    post(client, review_url(w.review, "/next-goals/new"), next_goal_form())
    version = str(fresh(w.review).version)
    assert (
        post(
            client, review_url(w.review, "/sign"), {"side": "lead", "version": version}
        ).status_code
        == 302
    )
    sign_in(client, w.staff)
    response = post(
        client,
        review_url(w.review, "/sign"),
        {"side": "staff", "version": str(fresh(w.review).version)},
        follow_redirects=True,
    )
    plain = text_of(response.get_data(as_text=True))
    assert "Both have signed. The review is frozen" in plain
    assert "Signed by both and frozen on" in plain
    assert "Half the new class from outside the zone" in plain
    assert "Save the ratings" not in plain
    assert "Sign as" not in plain
    assert "Start an amendment" in plain
    review = fresh(w.review)
    assert review.status == ReviewStatus.SIGNED
    assert review.snapshot["notes_md"] == "**Good** year."
    assert "<strong>Good</strong>" in response.get_data(as_text=True)
