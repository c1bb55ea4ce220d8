"""One version's page: narrative, files, decision and the reviews the reader may see; a
submitted version never changes, whatever is posted; earlier versions stay readable."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship.capstones.models import (
    CapstoneDecision,
    CapstoneStatus,
    CapstoneVersion,
    Recommendation,
    ReviewAssignment,
    RubricCriterion,
    Stage,
)
from fellowship.cohorts.models import CohortRole
from fellowship.extensions import db
from tests.capstones.helpers import ReviewFactory, rubric_for
from tests.capstones.test_fellow_helpers import (
    assign,
    attach,
    capstone,
    decide,
    files_of,
    revisions_world,
    stored_file,
    version,
    versions_of,
    world,
)
from tests.conftest import csrf_token, sign_in
from tests.factories import MembershipFactory, UserFactory
from tests.upload_attacks import valid_pdf


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def reviewed(app: Flask, *, decided: bool = True, names: bool = False):
    """Version 1 with two submitted reviews scored on a 2-criterion rubric of 4 levels;
    revisions requested unless `decided` is False."""
    w, cap, v1, link = revisions_world(app)  # assigns w.reviewer and decides (revise)
    if not decided:
        db.session.execute(sa.delete(CapstoneDecision))
        db.session.commit()
    if names:
        w.cohort.settings = {"reviewer_names_visible": True}
        db.session.commit()
    rubric = rubric_for(w.cohort.id, criteria=2, levels=4)
    criteria = db.session.scalars(
        sa.select(RubricCriterion)
        .where(RubricCriterion.rubric_id == rubric.id)
        .order_by(RubricCriterion.position)
    ).all()
    first = db.session.scalar(
        sa.select(ReviewAssignment).where(ReviewAssignment.version_id == v1.id)
    )
    ReviewFactory(
        assignment_id=first.id,
        scores={str(criteria[0].id): 3, str(criteria[1].id): 2},
        comments_md="Strong problem statement; **add numbers**.",
        recommendation=Recommendation.REVISE,
    )
    second = assign(v1, w.other_reviewer)
    ReviewFactory(
        assignment_id=second.id,
        scores={str(criteria[0].id): 4},
        comments_md="Ready soon.",
        recommendation=Recommendation.APPROVE,
    )
    return w, cap, v1, link


def test_a_version_page_shows_narrative_files_and_decision(client, app: Flask):
    w, _cap, v1, link = revisions_world(app)
    sign_in(client, w.fellow)
    html = page(client, f"/capstone-versions/{v1.id}")
    assert html.count("<h1") == 1
    assert "Version 1 of “A school for everyone”" in html
    assert "<h4>Why</h4>" in html  # "## Why", shifted under the page's h2
    assert "Version one text." in html
    assert f'href="/capstone-files/{link.id}"' in html
    assert "plan.pdf" in html
    assert "PDF" in html
    assert "Decision: Revisions requested" in html
    assert "Please add the enrollment plan." in html
    assert "A submitted version does not change." in html


def test_the_fellow_reads_the_reviews_once_decided_with_scores_and_descriptors(client, app: Flask):
    w, _cap, v1, _ = reviewed(app)
    sign_in(client, w.fellow)
    html = page(client, f"/capstone-versions/{v1.id}")
    assert "Reviewer 1" in html
    assert "Reviewer 2" in html
    assert "Rosa Reviewer" not in html
    assert "Raj Otherreviewer" not in html
    assert "<caption>Scores of Reviewer 1</caption>" in html
    assert "3 of 4" in html
    assert "Level 3" in html  # the descriptor of the score
    assert "Not scored" in html  # reviewer 2 left criterion 2 out
    assert "<strong>add numbers</strong>" in html
    assert "Recommendation: Request revisions." in html
    assert "Recommendation: Approve." in html


def test_reviewer_names_show_when_the_cohort_says_so(client, app: Flask):
    w, _cap, v1, _ = reviewed(app, names=True)
    sign_in(client, w.fellow)
    html = page(client, f"/capstone-versions/{v1.id}")
    assert "Rosa Reviewer" in html
    assert "Raj Otherreviewer" in html


def test_the_fellow_sees_no_review_before_the_decision(client, app: Flask):
    w, _cap, v1, _ = reviewed(app, decided=False)
    sign_in(client, w.fellow)
    html = page(client, f"/capstone-versions/{v1.id}")
    assert "Strong problem statement" not in html
    assert "The reviews are shown here once staff record the decision." in html
    sign_in(client, w.staff)
    html = page(client, f"/capstone-versions/{v1.id}")
    assert "Strong problem statement" in html
    assert "Rosa Reviewer" in html  # staff always see names


def test_earlier_versions_stay_readable_after_a_new_one_is_submitted(client, app: Flask):
    w, cap, v1, _link = revisions_world(app)
    v2 = version(cap, 2, narrative_md="Second version text")
    cap.status = CapstoneStatus.PROPOSAL_SUBMITTED
    db.session.commit()
    sign_in(client, w.fellow)
    assert "Version one text." in page(client, f"/capstone-versions/{v1.id}")
    assert "Second version text" in page(client, f"/capstone-versions/{v2.id}")
    html = page(client, f"/capstones/{cap.id}")
    assert "<caption>2 submitted versions, newest first</caption>" in html


def test_the_working_draft_page_says_only_the_fellow_sees_it(client):
    w = world()
    cap = capstone(w)
    draft = version(cap, 1, draft=True, narrative_md="Half done")
    sign_in(client, w.fellow)
    html = page(client, f"/capstone-versions/{draft.id}")
    assert "only you can see it until you submit it" in html
    assert "Half done" in html
    assert "Reviews" not in html


def test_the_version_page_loads_in_the_same_number_of_queries_for_1_and_4_reviews(
    client, app: Flask, count_queries
):
    counts = []
    for reviewers in (1, 4):
        w = world()
        cap = capstone(w, CapstoneStatus.PROPOSAL_SUBMITTED)
        v1 = version(cap, 1)
        rubric_for(w.cohort.id, criteria=3, levels=4)
        for _ in range(reviewers):
            person = UserFactory()
            MembershipFactory(cohort=w.cohort, user=person, role=CohortRole.REVIEWER)
            ReviewFactory(assignment_id=assign(v1, person).id)
        for number in range(3):
            attach(
                v1, stored_file(app, f"f{number}.pdf", valid_pdf(f"{reviewers}-{number}")), number
            )
        sign_in(client, w.staff)
        client.get(f"/capstone-versions/{v1.id}")
        with count_queries() as counter:
            response = client.get(f"/capstone-versions/{v1.id}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("capstone-fellow-review") == reviewers
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


# A submitted version never changes -----------------------------------------------------------


def frozen(v: CapstoneVersion) -> tuple[object, ...]:
    db.session.expire_all()
    again = db.session.get(CapstoneVersion, v.id)
    return (again.narrative_md, again.submitted_at, again.stage, again.version, files_of(again))


@pytest.mark.parametrize("status", list(CapstoneStatus))
def test_no_route_changes_a_submitted_versions_narrative_or_files(client, app: Flask, status):
    """Whatever the capstone's state, every fellow route that writes leaves version 1 as
    it was submitted: edits and uploads go to the working draft, removals too."""
    w, cap, v1, link = revisions_world(app)
    cap.status = status
    db.session.commit()
    before = frozen(v1)
    sign_in(client, w.fellow)
    token = csrf_token(client)
    edit = {
        "csrf_token": token,
        "title": "Changed",
        "narrative": "Changed narrative",
        "version": str(cap.version),
    }
    client.post(f"/capstones/{cap.id}/edit", data=edit)
    client.post(
        f"/capstones/{cap.id}/files",
        data={"csrf_token": token, "file": (io.BytesIO(valid_pdf("new")), "new.pdf", "")},
        content_type="multipart/form-data",
    )
    client.post(f"/capstone-files/{link.id}/delete", data={"csrf_token": token})
    client.post(f"/capstones/{cap.id}/submit", data={"csrf_token": token, "draft": str(v1.id)})
    assert frozen(v1) == before
    # Where the fellow could write, the writing went to version 2 (which then kept its copy
    # of plan.pdf: version 1's link cannot be removed once version 2 exists).
    if status in EDITABLE:
        _v1, v2 = versions_of(cap)
        assert v2.narrative_md == "Changed narrative"
        assert [name for _, name in files_of(v2)] == ["plan.pdf", "new.pdf"]
        assert v2.stage == EDITABLE[status]
    else:
        assert len(versions_of(cap)) == 1


EDITABLE = {
    CapstoneStatus.DRAFT: Stage.PROPOSAL,
    CapstoneStatus.PROPOSAL_REVISIONS: Stage.PROPOSAL,
    CapstoneStatus.PROPOSAL_APPROVED: Stage.FINAL,
    CapstoneStatus.FINAL_REVISIONS: Stage.FINAL,
}


# Downloads -------------------------------------------------------------------------------


DOWNLOADERS = {
    "the fellow": 200,
    "another fellow": 403,
    "the fellow's coach": 200,
    "another coach": 403,
    "facilitator": 200,
    "assigned reviewer": 200,
    "unassigned reviewer": 403,
    "staff": 200,
    "member without membership": 403,
}


@pytest.mark.parametrize(("who", "expected"), DOWNLOADERS.items())
def test_a_submitted_file_downloads_only_for_those_who_see_its_version(
    client, app: Flask, who, expected
):
    w, _cap, _v1, link = revisions_world(app)
    sign_in(client, w.person(who))
    response = client.get(f"/capstone-files/{link.id}")
    response.close()
    assert response.status_code == expected


def test_a_reviewer_of_another_version_cannot_download_this_ones_files(client, app: Flask):
    w, cap, v1, link = revisions_world(app)
    v2 = version(cap, 2)
    assign(v2, w.other_reviewer)
    link2 = attach(v2, stored_file(app, "v2.pdf", valid_pdf("v2")))
    sign_in(client, w.other_reviewer)
    first = client.get(f"/capstone-files/{link.id}")
    first.close()
    second = client.get(f"/capstone-files/{link2.id}")
    second.close()
    assert (first.status_code, second.status_code) == (403, 200)
    assert client.get(f"/capstone-versions/{v1.id}").status_code == 403


def test_an_assigned_reviewer_is_led_to_their_review_until_the_decision(client, app: Flask):
    w = world()
    cap = capstone(w, CapstoneStatus.PROPOSAL_SUBMITTED)
    v1 = version(cap, 1)
    assignment = assign(v1, w.reviewer)
    sign_in(client, w.reviewer)
    html = page(client, f"/capstone-versions/{v1.id}")
    assert f'href="/reviews/{assignment.id}"' in html
    decide(v1)
    html = page(client, f"/capstone-versions/{v1.id}")
    assert f'href="/reviews/{assignment.id}"' not in html
