"""Assigning reviewers to a submitted version and taking them off: who can be chosen, the
page's checkboxes and review states, crafted ids, the same reviewers again on a revision, the
audit rows, and one email per new reviewer through a real SMTP server."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from html import unescape

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.capstones import staff_services as services
from fellowship.capstones.models import CapstoneVersion, Review, ReviewAssignment
from fellowship.cohorts.models import CohortMembership, CohortRole, MembershipStatus
from fellowship.extensions import db
from fellowship.notifications.models import Notification
from tests.capstones.helpers import AssignmentFactory, DecisionFactory
from tests.capstones.test_staff_helpers import (
    audit_actions,
    capstone_tables,
    member,
    outbox,
    review,
    running_cohort,
    submitted,
    world,
)
from tests.conftest import body_of, csrf_token, rows_for_module, sign_in
from tests.factories import StaffFactory

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def reviewers_url(version) -> str:
    return f"/capstone-versions/{version.id}/reviewers"


def post_assign(client, version, *ids: object):
    data = {"csrf_token": csrf_token(client), "reviewers": [str(i) for i in ids]}
    return client.post(reviewers_url(version), data=data)


def post_unassign(client, assignment):
    data = {"csrf_token": csrf_token(client)}
    return client.post(f"/review-assignments/{assignment.id}/delete", data=data)


def assigned_to(version) -> set[int]:
    db.session.expire_all()
    return set(
        db.session.scalars(
            sa.select(ReviewAssignment.reviewer_id).where(ReviewAssignment.version_id == version.id)
        )
    )


def checkbox(html: str, user) -> str:
    match = re.search(rf'<input[^>]*id="reviewers-{user.id}"[^>]*>', html)
    assert match, f"no checkbox for {user.name}"
    return match.group(0)


# The page --------------------------------------------------------------------------------


def test_active_reviewers_are_checkboxes_and_assigned_ones_are_checked_disabled_with_state(
    w, client
):
    review(w.assignment, submitted_days=None)  # Rita has a draft
    member(w.cohort, CohortRole.REVIEWER, "Wes Withdrawn", MembershipStatus.WITHDRAWN)
    member(running_cohort(), CohortRole.REVIEWER, "Elsa Elsewhere")
    sign_in(client, w.facilitator)
    response = client.get(reviewers_url(w.version))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    plain = text_of(html)
    assert html.count("<h1") == 1
    assert "Reviewers of “The Commons School”, version 1" in plain
    rita = checkbox(html, w.reviewer)
    assert "checked" in rita
    assert "disabled" in rita
    assert 'name="reviewers"' not in rita  # a disabled box is never sent
    assert "Assigned: Draft saved, not submitted" in plain
    raul = checkbox(html, w.second_reviewer)
    assert 'name="reviewers"' in raul
    assert "checked" not in raul
    assert "disabled" not in raul
    assert "Wes Withdrawn" not in html
    assert "Elsa Elsewhere" not in html
    assert "Felix Fellow" in plain  # whose submission it is
    assert f'name="reviewers" value="{w.fellow.id}"' not in html  # a fellow is no reviewer
    assert "<legend" in html
    # The unassign button says exactly what it does.
    assert "Unassign : take Rita Reviewer off this version and delete their draft review" in (plain)


def test_a_submitted_review_cannot_be_unassigned_and_shows_the_recommendation(w, client):
    review(w.assignment)
    sign_in(client, StaffFactory())
    html = client.get(reviewers_url(w.version)).get_data(as_text=True)
    assert "Review submitted" in text_of(html)
    assert "Recommends revisions" in text_of(html)
    assert f"/review-assignments/{w.assignment.id}/delete" not in html


# Assigning --------------------------------------------------------------------------------


def test_assigning_reviewers_audits_and_sends_each_one_email_with_their_link(
    w, client, smtp_server
):
    third = member(w.cohort, CohortRole.REVIEWER, "Nadia Nueva", locale="es")
    sign_in(client, w.facilitator)
    with post_assign(client, w.version, w.second_reviewer.id, third.id) as response:
        assert response.status_code == 302
        assert response.headers["Location"].endswith(reviewers_url(w.version))
    assert assigned_to(w.version) == {w.reviewer.id, w.second_reviewer.id, third.id}
    new = {
        a.reviewer_id: a
        for a in db.session.scalars(
            sa.select(ReviewAssignment).where(ReviewAssignment.version_id == w.version.id)
        )
    }
    assert new[third.id].assigned_by_id == w.facilitator.id
    events = list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "reviewer_assigned"))
    )
    assert sorted(e.details["reviewer_id"] for e in events) == sorted(
        [w.second_reviewer.id, third.id]
    )
    assert all(e.actor_id == w.facilitator.id for e in events)
    assert len(smtp_server.messages) == 2
    by_recipient = {m["X-Envelope-To"]: m for m in smtp_server.messages}
    assert set(by_recipient) == {w.second_reviewer.email, third.email}
    for person in (w.second_reviewer, third):
        message = by_recipient[person.email]
        link = f"http://localhost/reviews/{new[person.id].id}"
        assert link in body_of(message, "plain")
        assert f'href="{link}"' in body_of(message, "html")
        assert "The Commons School" in subject_of(message)
        assert "Felix Fellow" in subject_of(message)
    assert '<html lang="es">' in body_of(by_recipient[third.email], "html")
    assert '<html lang="en">' in body_of(by_recipient[w.second_reviewer.email], "html")
    flashed = client.get(reviewers_url(w.version)).get_data(as_text=True)
    assert "Raul Reviewer, Nadia Nueva are assigned" in flashed


@pytest.mark.parametrize(
    "who",
    [
        "the fellow",
        "a coach",
        "a withdrawn reviewer",
        "a reviewer of another cohort",
        "a staff member",
        "nobody",
        "not a number",
    ],
)
def test_a_crafted_reviewer_id_is_refused_and_nothing_is_written(w, client, who):
    ids = {
        "the fellow": lambda: w.fellow.id,
        "a coach": lambda: w.coach.id,
        "a withdrawn reviewer": lambda: (
            member(w.cohort, CohortRole.REVIEWER, status=MembershipStatus.WITHDRAWN).id
        ),
        "a reviewer of another cohort": lambda: member(running_cohort(), CohortRole.REVIEWER).id,
        "a staff member": lambda: StaffFactory().id,
        "nobody": lambda: 987654,
        "not a number": lambda: "12abc",
    }
    crafted = ids[who]()
    sign_in(client, StaffFactory())
    before = capstone_tables()
    # A good id alongside does not get the crafted one through either.
    response = post_assign(client, w.version, w.second_reviewer.id, crafted)
    assert response.status_code == 200
    assert "Choose among the cohort's active reviewers." in text_of(response.get_data(as_text=True))
    assert capstone_tables() == before


def test_choosing_nobody_or_only_assigned_reviewers_is_explained(w, client):
    sign_in(client, StaffFactory())
    before = capstone_tables()
    nobody = post_assign(client, w.version)
    assert nobody.status_code == 200
    assert "Choose at least one reviewer." in nobody.get_data(as_text=True)
    again = post_assign(client, w.version, w.reviewer.id)
    assert again.status_code == 200
    assert "Everyone you chose is already assigned" in again.get_data(as_text=True)
    assert capstone_tables() == before


def test_the_service_assigns_only_the_new_reviewers_once_each(w, ctx):
    staff = StaffFactory()
    made = services.assign_reviewers(
        staff,
        w.version,
        w.capstone,
        [w.second_reviewer.id, w.reviewer.id, w.second_reviewer.id],
    )
    assert [a.reviewer_id for a in made] == [w.second_reviewer.id]
    [message] = outbox()
    [notification] = db.session.scalars(sa.select(Notification)).all()
    assert notification.user_id == w.second_reviewer.id
    assert notification.dedupe_key.startswith(
        f"capstone-reviewer-assigned-{w.version.id}-{w.second_reviewer.id}-"
    )
    assert message.dedupe_key == f"notification-{notification.id}"
    assert message.template == "capstones/reviewer_assigned"
    assert audit_actions() == ["reviewer_assigned"]


def test_no_reviewer_can_be_assigned_once_the_decision_is_recorded(w, client):
    DecisionFactory(version_id=w.version.id)
    sign_in(client, StaffFactory())
    html = client.get(reviewers_url(w.version)).get_data(as_text=True)
    assert "The decision on this version is recorded" in html
    assert 'name="reviewers"' not in html
    assert "/delete" not in html
    before = capstone_tables()
    assert post_assign(client, w.version, w.second_reviewer.id).status_code == 403
    assert post_unassign(client, w.assignment).status_code == 403
    assert capstone_tables() == before
    with pytest.raises(services.CapstoneStaffError):
        services.assign_reviewers(StaffFactory(), w.version, w.capstone, [w.second_reviewer.id])


# The same reviewers on a revision -------------------------------------------------------------


def test_same_reviewers_as_the_previous_version_preselects_those_still_active(client):
    cohort = running_cohort()
    fellow = member(cohort, CohortRole.FELLOW, "Felix Fellow")
    rita = member(cohort, CohortRole.REVIEWER, "Rita Reviewer")
    raul = member(cohort, CohortRole.REVIEWER, "Raul Reviewer")
    wes = member(cohort, CohortRole.REVIEWER, "Wes Withdrawn")
    nadia = member(cohort, CohortRole.REVIEWER, "Nadia Newcomer")
    capstone, second = submitted(cohort, fellow, number=2)
    first = db.session.scalar(
        sa.select(CapstoneVersion).where(
            CapstoneVersion.capstone_id == capstone.id, CapstoneVersion.number == 1
        )
    )
    for person in (rita, raul, wes):
        AssignmentFactory(version_id=first.id, reviewer_id=person.id)
    db.session.execute(
        sa.update(CohortMembership)
        .where(CohortMembership.user_id == wes.id)
        .values(status=MembershipStatus.WITHDRAWN)
    )
    db.session.commit()
    AssignmentFactory(version_id=second.id, reviewer_id=raul.id)  # already on version 2
    sign_in(client, StaffFactory())
    plain_page = client.get(reviewers_url(second)).get_data(as_text=True)
    assert "Same reviewers as the previous version" in plain_page
    assert "checked" not in checkbox(plain_page, rita)  # nothing preselected by default
    html = client.get(reviewers_url(second) + "?previous=1").get_data(as_text=True)
    assert "checked" in checkbox(html, rita)
    assert "disabled" in checkbox(html, raul)
    assert "checked" not in checkbox(html, nadia)
    assert "Wes Withdrawn" not in html


def test_a_first_version_offers_no_previous_reviewers(w, client):
    sign_in(client, StaffFactory())
    html = client.get(reviewers_url(w.version) + "?previous=1").get_data(as_text=True)
    assert "Same reviewers as the previous version" not in html
    assert "checked" not in checkbox(html, w.second_reviewer)


# Unassigning ------------------------------------------------------------------------------


def test_unassigning_before_the_review_is_submitted_removes_the_draft_and_audits(w, client):
    draft_id = review(w.assignment, submitted_days=None).id
    assignment_id = w.assignment.id
    sign_in(client, w.facilitator)
    response = post_unassign(client, w.assignment)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(reviewers_url(w.version))
    assert assigned_to(w.version) == set()
    assert db.session.get(Review, draft_id) is None
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "reviewer_unassigned")
    )
    assert event.details["reviewer_id"] == w.reviewer.id
    assert event.details["draft_discarded"] is True
    assert (event.target_type, event.target_id) == ("ReviewAssignment", assignment_id)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Rita Reviewer no longer reviews version 1." in html


def test_a_reviewer_who_submitted_stays_assigned(w, client):
    review(w.assignment)
    sign_in(client, StaffFactory())
    before = capstone_tables()
    response = post_unassign(client, w.assignment)
    assert response.status_code == 302
    assert capstone_tables() == before
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "they stay assigned" in html


def test_unassigning_without_a_csrf_token_changes_nothing(w, client):
    sign_in(client, StaffFactory())
    before = capstone_tables()
    response = client.post(f"/review-assignments/{w.assignment.id}/delete")
    assert response.status_code in (302, 400)
    assert capstone_tables() == before


def test_a_reviewer_assigned_after_an_unassignment_still_gets_their_email(w, client):
    """SQLite may give the new assignment the id of the removed one: the email's dedupe key
    must not collide with the removed assignment's."""
    sign_in(client, w.facilitator)
    assert post_assign(client, w.version, w.second_reviewer.id).status_code == 302
    first = db.session.scalar(
        sa.select(ReviewAssignment).where(ReviewAssignment.reviewer_id == w.second_reviewer.id)
    )
    assert post_unassign(client, first).status_code == 302
    third = member(w.cohort, CohortRole.REVIEWER, "Tia Third")
    assert post_assign(client, w.version, third.id).status_code == 302
    recipients = [message.to for message in outbox()]
    assert recipients.count(third.email) == 1
    assert recipients.count(w.second_reviewer.email) == 1
