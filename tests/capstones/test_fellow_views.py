"""The fellow's screens: start (and "My capstone"), the capstone page with what happens next
and the versions, editing details and the working draft, and submitting (once)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship.audit import AuditEvent
from fellowship.capstones.models import (
    Capstone,
    CapstoneStatus,
    Recommendation,
    ReviewAssignment,
    Stage,
)
from fellowship.cohorts.models import CohortStatus
from fellowship.extensions import db
from tests.capstones.helpers import ReviewFactory
from tests.capstones.test_fellow_helpers import (
    assign,
    attach,
    capstone,
    count,
    decide,
    revisions_world,
    snapshot,
    stored_file,
    version,
    versions_of,
    world,
)
from tests.conftest import csrf_token, rows_for_module, sign_in

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def start_form(client, path: str, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "csrf_token": csrf_token(client),
        "title": "A school for everyone",
        "summary": "A K-8 school designed to be diverse from its first day.",
        "problem_md": "Segregated schools.",
        "community_md": "The east side.",
        "strand": "",
        "school_level": "",
        "topics": "enrollment, family engagement",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def edit_form(client, cap: Capstone, **overrides: object) -> dict[str, object]:
    path = f"/capstones/{cap.id}/edit"
    values = start_form(client, path)
    values.update({"narrative": "## Plan\n\nOur plan.", "version": str(cap.version)})
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


# Starting --------------------------------------------------------------------------------


def test_my_capstone_leads_to_the_start_form_then_to_the_capstone(w, client):
    sign_in(client, w.fellow)
    response = client.get(f"/cohorts/{w.cohort.id}/capstone")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/{w.cohort.id}/capstone/new")
    cap = capstone(w)
    response = client.get(f"/cohorts/{w.cohort.id}/capstone")
    assert response.headers["Location"].endswith(f"/capstones/{cap.id}")


def test_the_cohort_page_links_a_fellow_to_their_capstone(w, client):
    sign_in(client, w.fellow)
    html = page(client, f"/cohorts/{w.cohort.id}")
    assert f'href="/cohorts/{w.cohort.id}/capstone"' in html
    assert "My capstone" in html
    sign_in(client, w.coach)
    assert f'href="/cohorts/{w.cohort.id}/capstone"' not in page(client, f"/cohorts/{w.cohort.id}")


def test_the_start_form_asks_for_the_details_with_the_cohorts_strands(w, client):
    sign_in(client, w.fellow)
    html = page(client, f"/cohorts/{w.cohort.id}/capstone/new")
    assert html.count("<h1") == 1
    assert "Start your capstone" in html
    for label in ("Title", "Summary", "The problem it addresses", "The community it serves"):
        assert label in html
    for strand in w.cohort.strands:
        assert strand.name in html
    assert "K–8" in html
    assert 'name="topics"' in html
    assert 'name="narrative"' not in html


def test_starting_a_capstone_saves_it_and_shows_what_to_do_next(w, client):
    sign_in(client, w.fellow)
    path = f"/cohorts/{w.cohort.id}/capstone/new"
    strand = w.cohort.strands[1]
    response = client.post(
        path,
        data=start_form(
            client,
            path,
            strand=str(strand.id),
            school_level="middle",
            topics=" Busing ,enrollment,, busing",
        ),
    )
    assert response.status_code == 302
    cap = db.session.scalar(sa.select(Capstone))
    assert response.headers["Location"].endswith(f"/capstones/{cap.id}")
    assert (cap.title, cap.strand_id, cap.topics) == (
        "A school for everyone",
        strand.id,
        "Busing, enrollment",
    )
    html = page(client, f"/capstones/{cap.id}")
    assert "is started" in html
    assert "Write your proposal" in html
    assert "submit it as version 1" in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "Enter a title for your capstone."),
        ({"title": "x" * 201}, "Keep the title to 200 characters or fewer."),
        ({"topics": "t" * 301}, "Keep the topics to 300 characters"),
        ({"strand": "999999"}, "Choose one of this cohort&#39;s strands."),
        ({"strand": "²"}, "Choose one of this cohort&#39;s strands."),
        ({"school_level": "college"}, "Choose one of the school levels."),
        ({"summary": "s" * 2001}, "Keep the summary to 2,000 characters or fewer."),
    ],
)
def test_bad_input_on_the_start_form_is_shown_next_to_the_field_and_kept(
    w, client, overrides, message
):
    sign_in(client, w.fellow)
    path = f"/cohorts/{w.cohort.id}/capstone/new"
    data = start_form(client, path, **{"summary": "Typed summary", **overrides})
    response = client.post(path, data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert 'class="usa-error-message"' in html
    assert "Typed summary" in html or "summary" in overrides
    assert count(Capstone) == 0


def test_a_second_start_goes_to_the_capstone_already_there(w, client):
    cap = capstone(w)
    sign_in(client, w.fellow)
    path = f"/cohorts/{w.cohort.id}/capstone/new"
    assert client.get(path).headers["Location"].endswith(f"/capstones/{cap.id}")
    token = csrf_token(client)
    response = client.post(path, data={"csrf_token": token, "title": "Second"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/capstones/{cap.id}")
    assert count(Capstone) == 1


@pytest.mark.parametrize("who", ["the fellow's coach", "staff", "facilitator", "another fellow"])
def test_only_a_fellow_starts_their_own_capstone(w, client, who):
    person = w.person(who)
    sign_in(client, person)
    expected = 200 if who == "another fellow" else 403
    assert client.get(f"/cohorts/{w.cohort.id}/capstone/new").status_code == expected


def test_no_capstone_is_started_in_an_archived_cohort(client):
    w = world(status=CohortStatus.ARCHIVED)
    sign_in(client, w.fellow)
    assert client.get(f"/cohorts/{w.cohort.id}/capstone/new").status_code == 403
    # "My capstone" says there is none instead of a 403 page.
    response = client.get(f"/cohorts/{w.cohort.id}/capstone", follow_redirects=True)
    assert "You have no capstone in this cohort." in response.get_data(as_text=True)


# The capstone page -------------------------------------------------------------------------

NEXT_FOR_THE_FELLOW = [
    (CapstoneStatus.DRAFT, "Draft", "Write your proposal"),
    (
        CapstoneStatus.PROPOSAL_SUBMITTED,
        "Proposal submitted",
        "Reviewers are reading your proposal; you'll get an email when staff record the decision",
    ),
    (
        CapstoneStatus.PROPOSAL_REVISIONS,
        "Proposal: revisions requested",
        "Read the reviews, revise, and submit version 2.",
    ),
    (
        CapstoneStatus.PROPOSAL_APPROVED,
        "Proposal approved",
        "Write your final capstone and submit it as version 2.",
    ),
    (CapstoneStatus.FINAL_SUBMITTED, "Final submitted", "Reviewers are reading your final"),
    (
        CapstoneStatus.FINAL_REVISIONS,
        "Final: revisions requested",
        "revise your final capstone, and submit version 2.",
    ),
    (CapstoneStatus.APPROVED, "Approved", "You can publish it in the practice library"),
]


@pytest.mark.parametrize(("status", "words", "next_step"), NEXT_FOR_THE_FELLOW)
def test_the_capstone_page_says_the_status_in_words_and_what_happens_next(
    w, client, status, words, next_step
):
    cap = capstone(w, status)
    if status != CapstoneStatus.DRAFT:
        version(cap, 1)
    sign_in(client, w.fellow)
    html = page(client, f"/capstones/{cap.id}")
    text = text_of(html)
    assert html.count("<h1") == 1
    assert f'<span class="usa-tag margin-left-1">{words}</span>' in html
    assert "What happens next" in html
    assert next_step in text


def test_others_read_what_happens_next_about_the_fellow(w, client):
    cap = capstone(w, CapstoneStatus.PROPOSAL_REVISIONS)
    version(cap, 1)
    sign_in(client, w.coach)
    text = text_of(page(client, f"/capstones/{cap.id}"))
    assert "Revisions were requested; Fatima Fellow is writing version 2." in text
    assert "The capstone of Fatima Fellow" in text


def test_the_page_lists_submitted_versions_with_their_decisions_and_the_draft(client, app: Flask):
    w, cap, v1, _link = revisions_world(app)
    v2 = version(cap, 2, draft=True, narrative_md="Second *draft* text")
    attach(v2, stored_file(app, "budget.pdf"))
    sign_in(client, w.fellow)
    html = page(client, f"/capstones/{cap.id}")
    text = text_of(html)
    assert "<caption>1 submitted version, newest first</caption>" in html
    assert f'href="/capstone-versions/{v1.id}"' in html
    assert "Revisions requested" in text
    assert "Please add the enrollment plan." in text
    assert "Your working draft: version 2 (proposal)" in text
    assert "Second draft text" in text
    assert f'href="/capstone-versions/{v2.id}"' in html
    assert "budget.pdf" in html
    assert f'href="/capstones/{cap.id}/submit"' in html
    assert "Submit version 2" in html
    assert f'href="/capstones/{cap.id}/edit"' in html


def test_nobody_but_the_fellow_sees_the_working_draft_on_the_page(client, app: Flask):
    w, cap, _v1, _link = revisions_world(app)
    v2 = version(cap, 2, draft=True, narrative_md="Private draft words")
    for person in (w.coach, w.staff, w.facilitator, w.reviewer):
        sign_in(client, person)
        html = page(client, f"/capstones/{cap.id}")
        assert "Private draft words" not in html
        assert f'href="/capstone-versions/{v2.id}"' not in html
        assert f'href="/capstones/{cap.id}/edit"' not in html


def test_staff_see_links_to_assign_reviewers_and_decide_on_the_latest_version(w, client):
    cap = capstone(w, CapstoneStatus.PROPOSAL_SUBMITTED)
    v1 = version(cap, 1)
    for person in (w.staff, w.facilitator):
        sign_in(client, person)
        html = page(client, f"/capstones/{cap.id}")
        assert f'href="/capstone-versions/{v1.id}/reviewers"' in html
        assert f'href="/capstone-versions/{v1.id}/decision"' in html
    for person in (w.fellow, w.coach, w.reviewer):
        sign_in(client, person)
        html = page(client, f"/capstones/{cap.id}", 403 if person is w.reviewer else 200)
        assert f'href="/capstone-versions/{v1.id}/decision"' not in html


def test_a_reviewer_sees_only_the_versions_assigned_to_them(w, client):
    cap = capstone(w, CapstoneStatus.PROPOSAL_SUBMITTED)
    v1 = version(cap, 1)
    v2 = version(cap, 2)
    assign(v2, w.reviewer)
    sign_in(client, w.reviewer)
    html = page(client, f"/capstones/{cap.id}")
    assert f'href="/capstone-versions/{v2.id}"' in html
    assert f'href="/capstone-versions/{v1.id}"' not in html


def test_the_capstone_page_loads_in_the_same_number_of_queries_for_2_and_8_versions(
    client, app: Flask, count_queries
):
    counts = []
    for versions in (2, 8):
        w = world()
        cap = capstone(w, CapstoneStatus.PROPOSAL_REVISIONS)
        for number in range(1, versions + 1):
            v = version(cap, number)
            decide(v, Recommendation.REVISE)
            assign(v, w.reviewer)
            attach(v, stored_file(app, f"v{number}.pdf"))
        version(cap, versions + 1, draft=True, narrative_md="draft")
        for person in (w.fellow, w.staff):
            sign_in(client, person)
            client.get(f"/capstones/{cap.id}")  # warm caches
            with count_queries() as counter:
                response = client.get(f"/capstones/{cap.id}")
            assert response.status_code == 200
            counts.append((person is w.staff, counter.count))
    by_person: dict[bool, set[int]] = {}
    for staff, value in counts:
        by_person.setdefault(staff, set()).add(value)
    assert all(len(values) == 1 for values in by_person.values()), counts
    assert max(value for _, value in counts) <= 20, counts


# Editing ---------------------------------------------------------------------------------


def test_the_edit_page_shows_the_latest_text_and_makes_no_draft(client, app: Flask):
    w, cap, _v1, link = revisions_world(app)
    sign_in(client, w.fellow)
    before = snapshot()
    html = page(client, f"/capstones/{cap.id}/edit")
    assert snapshot() == before
    assert html.count("<h1") == 1
    assert "Version one text." in html
    assert "You are writing version 2 (proposal)" in html
    assert "It starts as a copy of version 1" in html
    assert "plan.pdf" in html
    assert f'action="/capstone-files/{link.id}/delete"' in html
    assert f'name="version" type="hidden" value="{cap.version}"' in html


def test_saving_the_edit_form_writes_the_details_and_version_2(client, app: Flask):
    w, cap, _v1, _link = revisions_world(app)
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/edit"
    response = client.post(
        path, data=edit_form(client, cap, title="Renamed school", narrative="New text v2")
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/capstones/{cap.id}")
    v1_again, v2 = versions_of(cap)
    assert (v2.number, v2.stage, v2.submitted_at, v2.narrative_md) == (
        2,
        Stage.PROPOSAL,
        None,
        "New text v2",
    )
    assert v1_again.narrative_md == "## Why\n\nVersion one text."
    assert db.session.get(Capstone, cap.id).title == "Renamed school"
    assert "Your changes are saved in version 2" in page(client, f"/capstones/{cap.id}")


def test_a_stale_edit_form_is_refused_with_what_was_typed_kept(w, client):
    cap = capstone(w, title="Original")
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/edit"
    opened = edit_form(client, cap)
    first = client.post(path, data={**opened, "title": "From tab one", "narrative": "Tab one"})
    assert first.status_code == 302
    second = client.post(
        path, data={**opened, "title": "From tab two", "narrative": "Typed in tab two"}
    )
    assert second.status_code == 200
    html = second.get_data(as_text=True)
    assert "Not saved: your capstone was changed elsewhere" in html
    assert "Typed in tab two" in html
    assert 'value="From tab two"' in html
    assert "From tab one" in html  # the saved capstone, shown above
    db.session.expire_all()
    assert db.session.get(Capstone, cap.id).title == "From tab one"
    # Saving again is a deliberate choice now, and works.
    new_version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    third = client.post(
        path, data={**opened, "title": "From tab two", "narrative": "x", "version": new_version}
    )
    assert third.status_code == 302


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"narrative": "x" * 100_001}, "Keep the narrative to 100,000 characters or fewer."),
        ({"title": "  "}, "Enter a title for your capstone."),
        ({"version": "not a number"}, "Your capstone was saved in another tab"),
    ],
)
def test_bad_input_on_the_edit_form_changes_nothing(w, client, overrides, message):
    cap = capstone(w)
    sign_in(client, w.fellow)
    before = snapshot()
    response = client.post(f"/capstones/{cap.id}/edit", data=edit_form(client, cap, **overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize(
    "status",
    [CapstoneStatus.PROPOSAL_SUBMITTED, CapstoneStatus.FINAL_SUBMITTED, CapstoneStatus.APPROVED],
)
def test_the_capstone_cannot_be_edited_while_it_is_with_the_reviewers_or_approved(
    w, client, status
):
    cap = capstone(w, status)
    version(cap, 1)
    sign_in(client, w.fellow)
    assert client.get(f"/capstones/{cap.id}/edit").status_code == 403
    html = page(client, f"/capstones/{cap.id}")
    assert f'href="/capstones/{cap.id}/edit"' not in html


# Submitting ------------------------------------------------------------------------------


def test_the_confirm_page_shows_what_will_be_submitted(client, app: Flask):
    w, cap, _v1, _link = revisions_world(app)
    v2 = version(cap, 2, draft=True, narrative_md="Four words of text")
    attach(v2, stored_file(app, "budget.pdf"))
    sign_in(client, w.fellow)
    before = snapshot()
    html = page(client, f"/capstones/{cap.id}/submit")
    assert snapshot() == before
    text = text_of(html)
    assert "Submit version 2?" in text
    assert "as your proposal" in text
    assert "cannot be changed" in text
    assert "A narrative of 4 words." in text
    assert "budget.pdf" in text
    assert f'name="draft" type="hidden" value="{v2.id}"' in html


def test_the_confirm_page_says_there_is_nothing_to_submit_before_a_draft(client, app: Flask):
    w, cap, _v1, _link = revisions_world(app)
    sign_in(client, w.fellow)
    html = page(client, f"/capstones/{cap.id}/submit")
    assert "There is no new version to submit yet" in html
    assert "write version 2" in html
    assert 'name="draft"' not in html


def test_submitting_makes_one_submission_and_a_second_click_is_told(w, client):
    cap = capstone(w)
    draft = version(cap, 1, draft=True, narrative_md="Ready")
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/submit"
    data = {"csrf_token": csrf_token(client), "draft": str(draft.id)}
    first = client.post(path, data=data)
    assert first.status_code == 302
    assert "Version 1 (proposal) is submitted" in page(client, f"/capstones/{cap.id}")
    second = client.post(path, data=data)
    assert second.status_code == 302
    assert second.headers["Location"].endswith(f"/capstones/{cap.id}")
    html = page(client, f"/capstones/{cap.id}")
    assert "This version has already been submitted" in html
    db.session.expire_all()
    assert db.session.get(Capstone, cap.id).status == CapstoneStatus.PROPOSAL_SUBMITTED
    assert len(versions_of(cap)) == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "capstone_submitted")
        )
        == 1
    )


def test_a_confirm_page_left_open_in_another_tab_cannot_submit_again(w, client):
    cap = capstone(w, CapstoneStatus.PROPOSAL_REVISIONS)
    v1 = version(cap, 1)
    decide(v1)
    v2 = version(cap, 2, draft=True, narrative_md="v2")
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/submit"
    stale = {"csrf_token": csrf_token(client), "draft": str(v1.id)}
    response = client.post(path, data=stale)
    assert response.status_code == 302
    assert "already been submitted" in page(client, f"/capstones/{cap.id}")
    db.session.expire_all()
    assert versions_of(cap)[1].submitted_at is None
    assert v2.id == versions_of(cap)[1].id


def test_an_empty_narrative_is_not_submitted_and_the_page_says_why(w, client):
    cap = capstone(w)
    draft = version(cap, 1, draft=True, narrative_md="")
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/submit"
    html = page(client, path)
    assert "Write the narrative before submitting" in html
    assert 'name="draft"' not in html  # no button while it cannot be submitted
    before = snapshot()
    response = client.post(path, data={"csrf_token": csrf_token(client), "draft": str(draft.id)})
    assert response.status_code == 302
    assert snapshot() == before
    assert "Write the narrative before submitting" in page(client, path)


def test_others_cannot_submit_for_the_fellow(w, client):
    cap = capstone(w)
    draft = version(cap, 1, draft=True, narrative_md="Ready")
    for person in (w.staff, w.coach, w.facilitator, w.other_fellow):
        sign_in(client, person)
        token = csrf_token(client)
        response = client.post(
            f"/capstones/{cap.id}/submit", data={"csrf_token": token, "draft": str(draft.id)}
        )
        assert response.status_code == 403
    assert versions_of(cap)[0].submitted_at is None


def test_reviews_of_a_decided_version_are_reached_from_the_capstone_page(client, app: Flask):
    w, _cap, v1, _link = revisions_world(app)
    assignment = db.session.scalar(sa.select(ReviewAssignment))
    ReviewFactory(assignment_id=assignment.id, comments_md="Add the enrollment numbers.")
    sign_in(client, w.fellow)
    html = page(client, f"/capstone-versions/{v1.id}")
    assert "Add the enrollment numbers." in html
