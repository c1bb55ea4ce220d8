"""The review queue: only the signed-in reviewer's own assignments, grouped waiting /
submitted, with the fellow, title, version, dates and waiting time; a friendly empty page;
pagination of what is done; a fixed number of queries whatever the number of assignments."""

from __future__ import annotations

import re

import pytest

from fellowship.cohorts.models import CohortRole, CohortStatus, MembershipStatus
from fellowship.extensions import db
from tests.capstones.helpers import DecisionFactory, ReviewFactory, VersionFactory
from tests.capstones.test_review_helpers import (
    assign,
    member,
    page,
    submitted_capstone,
    submitted_review,
    text_of,
    world,
)
from tests.conftest import sign_in
from tests.factories import CohortFactory, UserFactory


def section(html: str, heading: str) -> str:
    """The rows of the table under the heading."""
    part = html.split(f">{heading}</h2>", 1)[1].split("</section>", 1)[0]
    body = part.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in part else ""
    return body


def rows(html: str, heading: str) -> list[str]:
    return [text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", section(html, heading), re.S)]


def test_a_reviewer_sees_only_their_own_assignments_grouped(client):
    w = world()
    _other_fellow_capstone, other_version = submitted_capstone(
        w.cohort, w.other_fellow, "The Bridge School"
    )
    assign(other_version, w.second_reviewer, days_ago=5)  # someone else's assignment
    finished = assign(other_version, w.reviewer, days_ago=9)
    submitted_review(finished, w)
    sign_in(client, w.reviewer)
    html = page(client, "/reviews")
    assert html.count("<h1") == 1
    waiting = rows(html, "Waiting for your review")
    done = rows(html, "Submitted")
    assert len(waiting) == 1
    assert "The Crossroads School" in waiting[0]
    assert "Felix Fellow" in waiting[0]
    assert "Version 1 (proposal)" in waiting[0]
    assert "waiting 3 days" in waiting[0]
    assert "Not started" in waiting[0]
    assert len(done) == 1
    assert "The Bridge School" in done[0]
    assert "Olga Otherfellow" in done[0]
    assert "Submitted" in done[0]
    assert f'href="/reviews/{w.assignment.id}"' in html
    assert f'href="/reviews/{w.second_assignment.id}"' not in html


def test_a_reviewer_never_sees_another_reviewers_assignments(client):
    w = world()
    sign_in(client, w.second_reviewer)
    html = page(client, "/reviews")
    assert f'href="/reviews/{w.second_assignment.id}"' in html
    assert f'href="/reviews/{w.assignment.id}"' not in html
    sign_in(client, w.unassigned_reviewer)
    html = page(client, "/reviews")
    assert "Nothing is assigned to you" in html
    assert "The Crossroads School" not in html


def test_a_draft_is_waiting_and_says_so(client):
    w = world()
    ReviewFactory(assignment_id=w.assignment.id, submitted_at=None)
    sign_in(client, w.reviewer)
    waiting = rows(page(client, "/reviews"), "Waiting for your review")
    assert "Draft saved" in waiting[0]
    assert "Continue the review" in waiting[0]


def test_the_queue_spans_cohorts_and_shows_each_cohorts_name(client):
    w = world()
    other = CohortFactory(name="Cohort of the Hills")
    fellow = member(other, CohortRole.FELLOW, "Hana Hills")
    from tests.factories import MembershipFactory

    MembershipFactory(cohort=other, user=w.reviewer, role=CohortRole.REVIEWER)
    _capstone, version = submitted_capstone(other, fellow, "Hilltop Commons")
    assign(version, w.reviewer, days_ago=1)
    sign_in(client, w.reviewer)
    waiting = rows(page(client, "/reviews"), "Waiting for your review")
    assert len(waiting) == 2
    assert "The Crossroads School" in waiting[0]  # the one assigned longest ago first
    assert "Hilltop Commons" in waiting[1]
    assert "Cohort of the Hills" in waiting[1]
    assert "waiting 1 day" in waiting[1]


@pytest.mark.parametrize(
    ("situation", "listed_as"),
    [
        ("the decision was recorded before they submitted", "closed"),
        ("the cohort is archived", "closed"),
        ("their membership is completed", "closed"),
        ("their membership is withdrawn", None),
        ("the version is a working draft", None),
    ],
)
def test_what_leaves_the_waiting_list(client, situation, listed_as):
    w = world()
    assignment = w.assignment
    if situation.startswith("the decision"):
        DecisionFactory(version_id=w.version.id)
    elif situation == "the cohort is archived":
        w.cohort.status = CohortStatus.ARCHIVED
    elif situation.startswith("their membership"):
        from fellowship.cohorts.models import CohortMembership

        membership = db.session.query(CohortMembership).filter_by(user_id=w.reviewer.id).one()
        membership.status = (
            MembershipStatus.COMPLETED if "completed" in situation else MembershipStatus.WITHDRAWN
        )
    else:
        draft = VersionFactory(capstone_id=w.capstone.id, number=2, submitted_at=None)
        db.session.delete(w.assignment)
        db.session.commit()
        assignment = assign(draft, w.reviewer)
    db.session.commit()
    sign_in(client, w.reviewer)
    html = page(client, "/reviews")
    if listed_as is None:
        assert "Nothing is assigned to you" in html
        assert f'href="/reviews/{assignment.id}"' not in html
    else:
        done = rows(html, "Submitted")
        assert len(done) == 1
        assert "Closed before you submitted" in done[0]
        assert "Nothing is waiting for you" in html


def test_someone_with_no_assignments_gets_a_friendly_empty_page(client):
    sign_in(client, UserFactory())
    html = page(client, "/reviews")
    assert "Nothing is assigned to you" in html
    assert "When staff or a facilitator asks you to review" in html
    assert "<table" not in html


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/reviews")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def many(w, count: int, submitted: bool) -> None:
    """`count` more assignments of the reviewer, half of them done."""
    for n in range(count):
        fellow = member(w.cohort, CohortRole.FELLOW, f"Fellow {n:02d}")
        _capstone, version = submitted_capstone(w.cohort, fellow, f"School {n:02d}")
        assignment = assign(version, w.reviewer, days_ago=n)
        if submitted and n % 2 == 0:
            submitted_review(assignment, w)


def test_the_queue_loads_in_the_same_number_of_queries_for_2_or_20_assignments(
    client, count_queries
):
    counts = []
    for size in (2, 20):
        w = world()
        many(w, size, submitted=True)
        sign_in(client, w.reviewer)
        client.get("/reviews")  # warm up (session, caches)
        with count_queries() as counter:
            html = page(client, "/reviews")
        assert f"School {size - 1:02d}" in html
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 10


def test_the_done_list_is_paginated(client):
    w = world()
    for n in range(23):
        fellow = member(w.cohort, CohortRole.FELLOW, f"Fellow {n:02d}")
        _capstone, version = submitted_capstone(w.cohort, fellow, f"School {n:02d}")
        submitted_review(assign(version, w.reviewer, days_ago=30), w)
    sign_in(client, w.reviewer)
    first = page(client, "/reviews")
    assert len(rows(first, "Submitted")) == 20
    assert len(rows(first, "Waiting for your review")) == 1
    second = page(client, "/reviews?page=2")
    assert len(rows(second, "Submitted")) == 3
    assert len(rows(page(client, "/reviews?page=abc"), "Submitted")) == 20
