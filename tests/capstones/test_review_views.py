"""The review page: who may open and write it (403s with nothing written), drafts and
submission through the form, messages next to each missing score with what was typed kept,
the stale form, the locks after submission and after the decision, the other reviews (hidden
until one's own is submitted when the cohort says so), and moving between assignments
without losing work."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from werkzeug.datastructures import FileStorage

from fellowship.capstones.models import CapstoneVersionFile, Recommendation
from fellowship.cohorts.models import CohortMembership, CohortRole, CohortStatus, MembershipStatus
from fellowship.extensions import db
from fellowship.uploads import store_file
from tests.capstones.helpers import DecisionFactory, ReviewFactory
from tests.capstones.test_review_helpers import (
    assign,
    audit_actions,
    member,
    page,
    post,
    review_form,
    review_row,
    reviews,
    submitted_capstone,
    submitted_review,
    text_of,
    world,
)
from tests.conftest import rows_for_module, sign_in
from tests.factories import AdminFactory, MembershipFactory, StaffFactory, UserFactory
from tests.upload_attacks import valid_pdf

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def path_of(assignment) -> str:
    return f"/reviews/{assignment.id}"


def withdrawn(w):
    membership = db.session.query(CohortMembership).filter_by(user_id=w.reviewer.id).one()
    membership.status = MembershipStatus.WITHDRAWN
    db.session.commit()
    return w.reviewer


def completed(w):
    membership = db.session.query(CohortMembership).filter_by(user_id=w.reviewer.id).one()
    membership.status = MembershipStatus.COMPLETED
    db.session.commit()
    return w.reviewer


PEOPLE = {
    "the assigned reviewer": lambda w: w.reviewer,
    "a reviewer assigned to the same version": lambda w: w.second_reviewer,
    "an unassigned reviewer": lambda w: w.unassigned_reviewer,
    "the fellow": lambda w: w.fellow,
    "another fellow": lambda w: w.other_fellow,
    "the fellow's coach": lambda w: w.coach,
    "a facilitator": lambda w: w.facilitator,
    "staff": lambda w: StaffFactory(),
    "an admin": lambda w: AdminFactory(),
    "the assigned reviewer, withdrawn": withdrawn,
    "the assigned reviewer, completed (alumni)": completed,
    "a member without membership": lambda w: UserFactory(),
}
# who: (GET status, form shown, may post)
ACCESS = {
    "the assigned reviewer": (200, True, True),
    "a reviewer assigned to the same version": (403, False, False),
    "an unassigned reviewer": (403, False, False),
    "the fellow": (403, False, False),
    "another fellow": (403, False, False),
    "the fellow's coach": (403, False, False),
    "a facilitator": (403, False, False),
    "staff": (403, False, False),
    "an admin": (403, False, False),
    "the assigned reviewer, withdrawn": (403, False, False),
    "the assigned reviewer, completed (alumni)": (200, False, False),
    "a member without membership": (403, False, False),
}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_who_may_open_and_write_a_review(w, client, who):
    status, form_shown, may_post = ACCESS[who]
    sign_in(client, PEOPLE[who](w))
    response = client.get(path_of(w.assignment))
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert ("Because <strong>integration</strong> works." in html) is (status == 200)
    assert ('name="action" value="submit"' in html) is form_shown
    events = audit_actions()
    response = post(
        client,
        path_of(w.assignment),
        review_form(
            w, {0: 3, 1: 3, 2: 3}, comments="Written", recommendation="approve", action="submit"
        ),
    )
    assert response.status_code == (302 if may_post else 403)
    if not may_post:
        assert reviews() == []
        assert audit_actions() == events


def test_a_reviewer_from_another_cohort_is_refused_and_nothing_is_written(w, client):
    elsewhere = world()
    sign_in(client, elsewhere.reviewer)
    page(client, path_of(w.assignment), 403)
    assert post(client, path_of(w.assignment), review_form(w, {0: 1})).status_code == 403
    assert reviews() == []


def test_an_unknown_assignment_is_not_found(client):
    sign_in(client, UserFactory())
    page(client, "/reviews/999999", 404)
    page(client, f"/reviews/{2**63}", 404)


def test_the_page_shows_the_submission_beside_the_rubric_form(w, client, app):
    with app.app_context():
        stored = store_file(FileStorage(BytesIO(valid_pdf()), filename="plan.pdf"), None, {"pdf"})
        db.session.commit()
        stored_id = stored.id
    link = CapstoneVersionFile(version_id=w.version.id, stored_file_id=stored_id)
    db.session.add(link)
    db.session.commit()
    sign_in(client, w.reviewer)
    html = page(client, path_of(w.assignment))
    assert html.count("<h1") == 1
    assert "Review of “The Crossroads School”" in html
    assert "By Felix Fellow" in html
    assert "Version 1 (proposal)" in html
    assert "&lt;script&gt;" in html
    assert "<script>alert" not in html
    assert f'href="/capstone-files/{link.id}"' in html
    assert "plan.pdf" in html
    assert "desktop:grid-col-7" in html
    assert "desktop:grid-col-5" in html
    for criterion in w.criteria:
        assert (
            f'<legend class="usa-legend capstone-review-criterion__name">{criterion.name}</legend>'
            in html
        )
        assert f'id="score_{criterion.id}-3"' in html
    assert "3 — Level 3" in html
    assert "Families of the east side" in html  # the community
    assert "Your review: not started" in text_of(html)


def test_a_draft_is_saved_and_shown_again(w, client):
    sign_in(client, w.reviewer)
    response = post(
        client, path_of(w.assignment), review_form(w, {1: 2}, comments="So far **good**")
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(path_of(w.assignment))
    saved = review_row(w.assignment)
    assert saved.scores == {str(w.criteria[1].id): 2}
    html = page(client, path_of(w.assignment))
    assert "Your draft review of “The Crossroads School” is saved." in html
    assert re.search(rf'id="score_{w.criteria[1].id}-2"[^>]*checked', html)
    assert "So far **good**" in html
    assert f'name="version" type="hidden" value="{saved.version}"' in html


def test_submitting_with_missing_scores_says_which_and_keeps_what_was_typed(w, client):
    sign_in(client, w.reviewer)
    response = post(
        client,
        path_of(w.assignment),
        review_form(w, {1: 4}, comments="My careful words", action="submit"),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for index in (0, 2):
        cid = w.criteria[index].id
        assert f'id="score_{cid}-error">Choose a score for “Criterion {index + 1}”.' in html
        assert f'href="#score_{cid}"' in html  # the summary links to the group
    assert (
        'id="recommendation-error">Choose approve or request revisions before submitting.' in html
    )
    assert "My careful words" in html
    assert re.search(rf'id="score_{w.criteria[1].id}-4"[^>]*checked', html)
    assert reviews() == []


def test_a_complete_submission_makes_the_review_read_only(w, client):
    sign_in(client, w.reviewer)
    response = post(
        client,
        path_of(w.assignment),
        review_form(
            w,
            {0: 4, 1: 3, 2: 2},
            comments="Ready to **go**.",
            recommendation="approve",
            action="submit",
        ),
    )
    assert response.status_code == 302
    assert "review_submitted" in audit_actions()
    html = page(client, path_of(w.assignment))
    assert "is submitted. It can no longer be changed" in html
    assert 'name="action"' not in html
    assert "Ready to <strong>go</strong>." in html
    assert "4 — Level 4" in text_of(html).replace("</strong>", "")
    assert "Approve" in html
    # A second tab posting afterwards changes nothing.
    response = post(
        client, path_of(w.assignment), review_form(w, {0: 1}, comments="Changed", version="2")
    )
    assert response.status_code == 200
    assert "You have submitted this review; it can no longer be changed." in response.get_data(
        as_text=True
    )
    assert review_row(w.assignment).comments_md == "Ready to **go**."


def test_a_stale_form_keeps_the_typed_text_and_says_someone_saved(w, client):
    ReviewFactory(assignment_id=w.assignment.id, submitted_at=None, comments_md="From my phone")
    sign_in(client, w.reviewer)
    response = post(
        client, path_of(w.assignment), review_form(w, {0: 2}, comments="From my laptop", version="")
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "saved somewhere else" in html
    assert "From my laptop" in html
    assert re.search(rf'id="score_{w.criteria[0].id}-2"[^>]*checked', html)
    assert 'name="version" type="hidden" value="1"' in html
    assert review_row(w.assignment).comments_md == "From my phone"


def test_after_the_decision_the_review_is_read_only_and_a_post_is_refused(w, client):
    ReviewFactory(assignment_id=w.assignment.id, submitted_at=None, comments_md="Unfinished")
    DecisionFactory(version_id=w.version.id, outcome=Recommendation.APPROVE)
    sign_in(client, w.reviewer)
    html = page(client, path_of(w.assignment))
    assert 'name="action"' not in html
    assert "closed: the decision was recorded before you submitted" in html
    assert "approved. Reviews of this version are closed." in html
    response = post(
        client, path_of(w.assignment), review_form(w, {0: 1}, comments="Late", version="1")
    )
    assert response.status_code == 403
    assert review_row(w.assignment).comments_md == "Unfinished"


def test_in_an_archived_cohort_the_review_is_read_only(w, client):
    w.cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    sign_in(client, w.reviewer)
    html = page(client, path_of(w.assignment))
    assert 'name="action"' not in html
    assert post(client, path_of(w.assignment), review_form(w, {0: 1})).status_code == 403
    assert reviews() == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_bad_version_field_or_garbage_scores_never_500(w, client, method):
    sign_in(client, w.reviewer)
    data = review_form(w, {0: "9" * 40, 1: "x"}, version="-1", recommendation="🙂", comments="\x00")
    response = (
        post(client, path_of(w.assignment), data)
        if method == "POST"
        else client.get(path_of(w.assignment) + "?version=abc")
    )
    # A NUL byte is refused before the view (400); everything else is a message, never a 500.
    assert response.status_code in (200, 302, 400)
    assert reviews() == []


# The other reviews --------------------------------------------------------------------------


@pytest.mark.parametrize("hide", [True, False], ids=["hidden until own", "always shown"])
def test_other_reviews_follow_the_cohorts_hide_until_own_setting(client, hide):
    w = world(hide_reviews_until_own=hide)
    submitted_review(w.second_assignment, w, comments="Sam thinks the plan is thin.")
    sign_in(client, w.reviewer)
    html = page(client, path_of(w.assignment))
    assert ("Sam thinks the plan is thin." in html) is not hide
    assert ("This cohort keeps reviews independent" in html) is hide
    assert ("Submitted; shown once you submit your review." in html) is hide
    post(
        client,
        path_of(w.assignment),
        review_form(w, {0: 1, 1: 1, 2: 1}, recommendation="revise", action="submit"),
    )
    html = page(client, path_of(w.assignment))
    assert "Sam thinks the plan is thin." in html
    assert "This cohort keeps reviews independent" not in html


def test_the_hidden_setting_defaults_to_hiding(client):
    w = world()  # no setting at all
    submitted_review(w.second_assignment, w, comments="Sam's secret view")
    sign_in(client, w.reviewer)
    assert "Sam's secret view" not in page(client, path_of(w.assignment))


def test_other_drafts_are_never_shown(client):
    w = world(hide_reviews_until_own=False)
    ReviewFactory(
        assignment_id=w.second_assignment.id, submitted_at=None, comments_md="Sam's draft"
    )
    sign_in(client, w.reviewer)
    html = page(client, path_of(w.assignment))
    assert "Sam's draft" not in html
    assert "Not submitted yet." in html


@pytest.mark.parametrize("names_visible", [True, False])
def test_reviewers_see_each_others_names_whatever_the_fellow_facing_setting(client, names_visible):
    """The policy shows reviewers' names to reviewers always (the setting is for the fellow
    and their coach), so the review page names the other reviewer either way."""
    w = world(reviewer_names_visible=names_visible, hide_reviews_until_own=False)
    submitted_review(w.second_assignment, w)
    sign_in(client, w.reviewer)
    html = page(client, path_of(w.assignment))
    assert '<h3 id="other-1">Sam Secondreviewer</h3>' in html
    assert "Scores given by Sam Secondreviewer" in html


def test_a_single_reviewer_is_told_they_are_the_only_one(w, client):
    db.session.delete(w.second_assignment)
    db.session.commit()
    sign_in(client, w.reviewer)
    assert "You are the only reviewer assigned to this version." in page(
        client, path_of(w.assignment)
    )


# Moving between assignments -----------------------------------------------------------------


def three_assignments(w):
    """The reviewer's queue: Ada's (oldest), then w's (3 days), then Bea's (newest)."""
    older_fellow = member(w.cohort, CohortRole.FELLOW, "Ada Older")
    newer_fellow = member(w.cohort, CohortRole.FELLOW, "Bea Newer")
    _c1, older_version = submitted_capstone(w.cohort, older_fellow, "Ada's Academy")
    _c2, newer_version = submitted_capstone(w.cohort, newer_fellow, "Bea's Bridge School")
    return assign(older_version, w.reviewer, days_ago=10), assign(
        newer_version, w.reviewer, days_ago=1
    )


@pytest.mark.parametrize(("go", "target"), [("next", 1), ("prev", 0)])
def test_save_and_go_saves_the_draft_then_opens_the_neighbour(w, client, go, target):
    neighbours = three_assignments(w)
    sign_in(client, w.reviewer)
    html = page(client, path_of(w.assignment))
    assert 'name="save_and_go" value="prev"' in html
    assert 'name="save_and_go" value="next"' in html
    # While there is work to lose, the neighbours are buttons of the form, not links.
    assert f'href="/reviews/{neighbours[0].id}"' not in html
    assert f'href="/reviews/{neighbours[1].id}"' not in html
    data = review_form(w, {0: 4}, comments="Keep this")
    del data["action"]
    data["save_and_go"] = go
    response = post(client, path_of(w.assignment), data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(path_of(neighbours[target]))
    saved = review_row(w.assignment)
    assert saved.comments_md == "Keep this"
    assert saved.submitted_at is None  # going on never submits
    assert "Your draft review of “The Crossroads School” is saved." in page(
        client, response.headers["Location"]
    )


def test_save_and_go_with_bad_input_stays_and_keeps_the_typing(w, client):
    three_assignments(w)
    sign_in(client, w.reviewer)
    data = review_form(w, {0: 7}, comments="Do not lose me")
    del data["action"]
    data["save_and_go"] = "next"
    response = post(client, path_of(w.assignment), data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Choose one of this criterion" in html
    assert "Do not lose me" in html
    assert reviews() == []


def test_the_last_assignment_has_no_next_and_save_and_go_stays(w, client):
    _older, newer = three_assignments(w)
    sign_in(client, w.reviewer)
    html = page(client, path_of(newer))
    assert 'value="prev"' in html
    assert 'value="next"' not in html
    data = review_form(w, comments="End of the line")
    data.update({"save_and_go": "next"})
    del data["action"]
    # A forged "next" from the last one saves and stays.
    response = post(client, path_of(newer), {**data, **{f"score_{w.criteria[0].id}": "1"}})
    assert response.headers["Location"].endswith(path_of(newer))
    assert "There is no other assignment in that direction." in page(client, path_of(newer))


def test_a_read_only_review_links_to_its_neighbours(w, client):
    submitted_review(w.assignment, w)
    other = world()  # another cohort, where the same person reviews too
    MembershipFactory(cohort=other.cohort, user=w.reviewer, role=CohortRole.REVIEWER)
    later = assign(other.version, w.reviewer, days_ago=20)
    submitted_review(later, other)  # submitted last: first among the done ones
    sign_in(client, w.reviewer)
    html = page(client, path_of(w.assignment))
    assert 'name="save_and_go"' not in html
    assert f'<a class="usa-link" href="/reviews/{later.id}">Previous assignment' in html
    assert "Next assignment" not in html


def test_a_get_writes_nothing(client):
    w = world(rubric=False)
    sign_in(client, w.reviewer)
    before = audit_actions()
    html = page(client, path_of(w.assignment))
    assert 'name="score_new0"' in html  # the default rubric, not yet created
    assert reviews() == []
    assert audit_actions() == before


def test_a_review_in_a_cohort_without_a_rubric_creates_the_default_on_saving(client):
    w = world(rubric=False)
    sign_in(client, w.reviewer)
    response = post(
        client, path_of(w.assignment), {"version": "", "score_new1": "3", "action": "draft"}
    )
    assert response.status_code == 302
    saved = review_row(w.assignment)
    assert list(saved.scores.values()) == [3]
