"""The decision page: what staff read before deciding, bad input, a double submit, two people
deciding at once, and the one email through a real SMTP server."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneStatus,
    Recommendation,
)
from fellowship.cohorts.models import CohortRole
from fellowship.extensions import db
from tests.capstones.helpers import AssignmentFactory, rubric_for
from tests.capstones.test_staff_helpers import (
    audit_actions,
    capstone_tables,
    member,
    review,
    world,
)
from tests.conftest import body_of, csrf_token, sign_in
from tests.factories import StaffFactory


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def decision_url(version) -> str:
    return f"/capstone-versions/{version.id}/decision"


def post_decision(client, version, outcome="approve", message="Well argued.", version_no=None):
    data = {"csrf_token": csrf_token(client), "message": message}
    if outcome is not None:
        data["outcome"] = outcome
    data["version"] = str(version_no) if version_no is not None else ""
    return client.post(decision_url(version), data=data)


def decisions() -> list[CapstoneDecision]:
    return list(db.session.scalars(sa.select(CapstoneDecision)))


def status_of(capstone) -> CapstoneStatus:
    db.session.expire_all()
    return db.session.get(Capstone, capstone.id).status


def test_the_page_shows_the_submission_every_submitted_review_with_names_and_the_counts(client):
    w = world()
    rubric = rubric_for(w.cohort.id, criteria=2, levels=4)
    criteria = sorted(rubric_criteria_ids(rubric.id))
    review(
        w.assignment,
        scores={str(criteria[0]): 3, str(criteria[1]): 2},
        comments_md="The **budget** needs work.",
        recommendation=Recommendation.REVISE,
    )
    drafting = AssignmentFactory(version_id=w.version.id, reviewer_id=w.second_reviewer.id)
    review(drafting, submitted_days=None, comments_md="Half-written secret thoughts")
    third = member(w.cohort, CohortRole.REVIEWER, "Nadia Notyet")
    AssignmentFactory(version_id=w.version.id, reviewer_id=third.id)
    sign_in(client, w.facilitator)
    response = client.get(decision_url(w.version))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    plain = text_of(html)
    assert html.count("<h1") == 1
    assert "Decision on “The Commons School”, version 1" in plain
    assert "Felix Fellow" in plain
    assert "Proposal submitted" in plain
    assert f'href="/capstone-versions/{w.version.id}"' in html
    assert "1 of 3 reviews submitted" in plain
    assert "2 reviews are missing. You can record the decision without them" in plain
    assert "Review by Rita Reviewer" in plain
    assert "Recommends revisions" in plain
    assert "The <strong>budget</strong> needs work." in html
    assert "Criterion 1 3 of 4 Level 3" in plain
    assert "Criterion 2 2 of 4 Level 2" in plain
    assert "<caption" in html
    assert "Half-written secret thoughts" not in html  # drafts are the reviewer's own
    assert "Raul Reviewer" not in html
    assert 'name="outcome"' in html
    assert 'name="message"' in html
    assert f'name="version" type="hidden" value="{w.capstone.version}"' in html


def rubric_criteria_ids(rubric_id: int) -> list[int]:
    from fellowship.capstones.models import RubricCriterion

    return list(
        db.session.scalars(
            sa.select(RubricCriterion.id).where(RubricCriterion.rubric_id == rubric_id)
        )
    )


def test_without_reviewers_the_page_says_so_and_deciding_is_still_possible(client):
    w = world()
    db.session.delete(w.assignment)
    db.session.commit()
    sign_in(client, StaffFactory())
    plain = text_of(client.get(decision_url(w.version)).get_data(as_text=True))
    assert "0 of 0 reviews submitted" in plain
    assert "nobody was assigned to review this version" in plain
    response = post_decision(client, w.version, "approve", "Clear.", w.capstone.version)
    assert response.status_code == 302
    assert status_of(w.capstone) == CapstoneStatus.PROPOSAL_APPROVED


@pytest.mark.parametrize(
    ("outcome", "message", "shown"),
    [
        (None, "A kept message", "Choose approve or request revisions."),
        ("sideways", "A kept message", "Choose approve or request revisions."),
        ("approve", "", "Write a message to the fellow before recording the decision."),
        ("revise", "x" * 20_001, "The message can be at most 20,000 characters."),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_nothing_is_recorded(
    client, outcome, message, shown
):
    w = world()
    sign_in(client, StaffFactory())
    before = capstone_tables()
    response = post_decision(client, w.version, outcome, message, w.capstone.version)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert shown in html
    assert 'id="error-summary"' in html
    if message:
        assert message[:50] in html  # what was typed is kept
    assert capstone_tables() == before


def test_recording_the_decision_moves_the_capstone_on_and_goes_back_to_the_pipeline(client):
    w = world()
    sign_in(client, w.facilitator)
    response = post_decision(client, w.version, "revise", "Add the plan.", w.capstone.version)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/{w.cohort.id}/capstones")
    assert status_of(w.capstone) == CapstoneStatus.PROPOSAL_REVISIONS
    [decision] = decisions()
    assert (decision.outcome, decision.message_md, decision.decided_by_id) == (
        Recommendation.REVISE,
        "Add the plan.",
        w.facilitator.id,
    )
    assert audit_actions().count("capstone_decided") == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The decision on “The Commons School” is recorded." in page
    # The decision page now shows the decision, read-only.
    html = client.get(decision_url(w.version)).get_data(as_text=True)
    assert 'name="message"' not in html
    assert "recorded by Fay Facilitator" in text_of(html)


def test_a_double_submit_records_one_decision_and_keeps_the_second_text(client, smtp_server):
    w = world()
    sign_in(client, StaffFactory())
    opened = w.capstone.version
    with post_decision(client, w.version, "approve", "First.", opened) as first:
        assert first.status_code == 302
    with post_decision(client, w.version, "approve", "First, again.", opened) as again:
        assert again.status_code == 200
        html = again.get_data(as_text=True)
    assert "already recorded" in html
    assert "First, again." in html  # kept, to copy
    assert len(decisions()) == 1
    assert len(smtp_server.messages) == 1


def test_two_staff_deciding_at_once_one_wins_and_the_other_is_told(client, app):
    w = world()
    first, second = StaffFactory(name="Sam First"), StaffFactory(name="Sue Second")
    opened = w.capstone.version  # both open the form at this version
    sign_in(client, first)
    assert post_decision(client, w.version, "approve", "Approved.", opened).status_code == 302
    other = app.test_client()
    sign_in(other, second)
    response = post_decision(other, w.version, "revise", "My revision notes.", opened)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    plain = text_of(html)
    assert "Not recorded: a decision was recorded in the meantime" in plain
    assert "My revision notes." in html
    assert "recorded by Sam First" in plain
    [decision] = decisions()
    assert decision.outcome == Recommendation.APPROVE
    assert status_of(w.capstone) == CapstoneStatus.PROPOSAL_APPROVED


def test_a_capstone_changed_since_the_form_opened_is_refused_with_the_text_kept(client):
    w = world()
    opened = w.capstone.version
    w.capstone.summary = "Changed meanwhile."
    db.session.commit()
    sign_in(client, StaffFactory())
    response = post_decision(client, w.version, "approve", "Typed with care.", opened)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Someone else recorded a decision" in html
    assert "Typed with care." in html
    assert f'name="version" type="hidden" value="{opened + 1}"' in html  # saving again is a choice
    assert decisions() == []
    assert (
        post_decision(client, w.version, "approve", "Typed with care.", opened + 1).status_code
        == 302
    )


def test_the_fellow_gets_exactly_one_email_in_their_language_with_the_message_and_a_link(
    client, smtp_server
):
    w = world()
    w.fellow.locale = "es"
    db.session.commit()
    sign_in(client, w.facilitator)
    with post_decision(client, w.version, "revise", "Añade el **plan**.", w.capstone.version) as r:
        assert r.status_code == 302
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == w.fellow.email
    assert message["X-Envelope-To"] == w.fellow.email
    link = f"http://localhost/capstones/{w.capstone.id}"
    text = body_of(message, "plain")
    html = body_of(message, "html")
    assert link in text
    assert f'href="{link}"' in html
    assert '<html lang="es">' in html
    assert "Añade el **plan**." in text
    assert "<strong>plan</strong>" in html
    assert "Fay Facilitator" in text
