"""The demo capstones: every state, reviews in draft and submitted, decisions, files, one
capstone in the practice library, dates that make sense, and a second load adds nothing."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from fellowship.auth.models import Role, User
from fellowship.auth.services import find_user_by_email
from fellowship.capstones.demo import load_demo_capstones
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneStatus,
    CapstoneVersion,
    CapstoneVersionFile,
    GraduateOutcome,
    Recommendation,
    Review,
    ReviewAssignment,
    Rubric,
    RubricCriterion,
    RubricLevel,
    Stage,
)
from fellowship.cohorts.models import Cohort, CohortRole
from fellowship.db import utcnow
from fellowship.demo import DEMO_COHORT_NAME, load_demo
from fellowship.extensions import db
from fellowship.uploads import StoredFile, stored_path
from tests.conftest import rows_for_module, sign_in
from tests.factories import CohortFactory, MembershipFactory, UserFactory

MODELS = (
    Capstone,
    CapstoneVersion,
    CapstoneVersionFile,
    ReviewAssignment,
    Review,
    CapstoneDecision,
    Rubric,
    RubricCriterion,
    RubricLevel,
    GraduateOutcome,
    StoredFile,
)


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        for model in MODELS
    }


demo_rows = rows_for_module(load_demo)


def _demo_cohort() -> Cohort:
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == DEMO_COHORT_NAME))
    assert cohort is not None
    return cohort


def _capstones(cohort: Cohort) -> list[Capstone]:
    return list(
        db.session.scalars(
            sa.select(Capstone).where(Capstone.cohort_id == cohort.id).order_by(Capstone.id)
        )
    )


def _versions(capstone: Capstone) -> list[CapstoneVersion]:
    return list(
        db.session.scalars(
            sa.select(CapstoneVersion)
            .where(CapstoneVersion.capstone_id == capstone.id)
            .order_by(CapstoneVersion.number)
        )
    )


def _decision(version: CapstoneVersion) -> CapstoneDecision | None:
    return db.session.scalar(
        sa.select(CapstoneDecision).where(CapstoneDecision.version_id == version.id)
    )


def _reviews(cohort: Cohort) -> list[tuple[ReviewAssignment, Review | None, CapstoneVersion]]:
    rows = db.session.execute(
        sa.select(ReviewAssignment, Review, CapstoneVersion)
        .join(CapstoneVersion, CapstoneVersion.id == ReviewAssignment.version_id)
        .join(Capstone, Capstone.id == CapstoneVersion.capstone_id)
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(Capstone.cohort_id == cohort.id)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


# The real demo ----------------------------------------------------------------------------


def test_the_demo_has_a_capstone_in_every_state(demo_rows, ctx):
    cohort = _demo_cohort()
    statuses = Counter(capstone.status for capstone in _capstones(cohort))
    assert set(statuses) == set(CapstoneStatus)
    assert sum(statuses.values()) == 11  # one of the twelve fellows has not started


def test_each_capstones_history_matches_its_state(demo_rows, ctx):
    cohort = _demo_cohort()
    for capstone in _capstones(cohort):
        versions = _versions(capstone)
        assert [v.number for v in versions] == list(range(1, len(versions) + 1))
        submitted = [v for v in versions if v.submitted_at is not None]
        drafts = [v for v in versions if v.submitted_at is None]
        assert len(drafts) <= 1
        assert not drafts or versions[-1] is drafts[0]
        decisions = [_decision(v) for v in submitted]
        assert all(d is not None for d in decisions[:-1]), capstone.title
        last = decisions[-1] if decisions else None
        expected = {
            (None, None): CapstoneStatus.DRAFT,
            (Stage.PROPOSAL, None): CapstoneStatus.PROPOSAL_SUBMITTED,
            (Stage.PROPOSAL, Recommendation.REVISE): CapstoneStatus.PROPOSAL_REVISIONS,
            (Stage.PROPOSAL, Recommendation.APPROVE): CapstoneStatus.PROPOSAL_APPROVED,
            (Stage.FINAL, None): CapstoneStatus.FINAL_SUBMITTED,
            (Stage.FINAL, Recommendation.REVISE): CapstoneStatus.FINAL_REVISIONS,
            (Stage.FINAL, Recommendation.APPROVE): CapstoneStatus.APPROVED,
        }[(submitted[-1].stage if submitted else None, last.outcome if last else None)]
        assert capstone.status == expected, capstone.title
        approved_proposal = any(
            v.stage == Stage.PROPOSAL and d is not None and d.outcome == Recommendation.APPROVE
            for v, d in zip(submitted, decisions, strict=True)
        )
        assert approved_proposal or all(v.stage == Stage.PROPOSAL for v in versions)
        for draft in drafts:
            assert draft.stage == (Stage.FINAL if approved_proposal else Stage.PROPOSAL)


def test_the_demo_fellow_has_revisions_requested_on_version_2(demo_rows, ctx):
    cohort = _demo_cohort()
    fellow = find_user_by_email("fellow@example.org")
    assert fellow is not None
    capstone = next(c for c in _capstones(cohort) if c.fellow_id == fellow.id)
    assert capstone.status == CapstoneStatus.FINAL_REVISIONS
    versions = _versions(capstone)
    assert [(v.number, v.stage) for v in versions] == [(1, Stage.PROPOSAL), (2, Stage.FINAL)]
    decision = _decision(versions[1])
    assert decision is not None
    assert decision.outcome == Recommendation.REVISE
    assert "Femi" in decision.message_md
    facilitator = find_user_by_email("facilitator@example.org")
    assert facilitator is not None
    assert decision.decided_by_id == facilitator.id
    reviews = [r for a, r, v in _reviews(cohort) if v.id == versions[1].id]
    assert len(reviews) == 2
    assert all(r is not None and r.submitted_at for r in reviews)


def test_reviews_are_in_draft_and_submitted_and_score_every_criterion(demo_rows, ctx):
    cohort = _demo_cohort()
    criteria = set(
        db.session.scalars(
            sa.select(RubricCriterion.id)
            .join(Rubric, Rubric.id == RubricCriterion.rubric_id)
            .where(Rubric.cohort_id == cohort.id)
        )
    )
    assert len(criteria) >= 3
    rows = _reviews(cohort)
    drafts = [r for _, r, _ in rows if r is not None and r.submitted_at is None]
    submitted = [r for _, r, _ in rows if r is not None and r.submitted_at is not None]
    not_started = [a for a, r, _ in rows if r is None]
    assert drafts
    assert submitted
    assert not_started
    for review in submitted:
        assert {int(key) for key in review.scores} == criteria
        assert all(1 <= score <= 4 for score in review.scores.values())
        assert review.recommendation is not None
        assert review.comments_md
    for review in drafts:
        assert review.recommendation is None
        assert {int(key) for key in review.scores} < criteria
    # Every submission with a decision was reviewed first.
    decided = {v.id for _, _, v in rows if _decision(v) is not None}
    assert decided


def test_the_demo_reviewer_has_open_work_and_the_other_reviewer_too(demo_rows, ctx):
    cohort = _demo_cohort()
    open_by: Counter[str] = Counter()
    for assignment, review, version in _reviews(cohort):
        if _decision(version) is None and (review is None or review.submitted_at is None):
            reviewer = db.session.get(User, assignment.reviewer_id)
            assert reviewer is not None
            open_by[reviewer.email] += 1
    assert open_by["reviewer@example.org"] >= 3
    reviewers = {
        db.session.get(User, a.reviewer_id).email  # type: ignore[union-attr]
        for a, _, _ in _reviews(cohort)
    }
    assert reviewers == {"reviewer@example.org", "james.whitfield@example.org"}


def test_decisions_are_by_the_demo_facilitators_and_staff(demo_rows, ctx):
    cohort = _demo_cohort()
    deciders = set(
        db.session.scalars(
            sa.select(User.email)
            .join(CapstoneDecision, CapstoneDecision.decided_by_id == User.id)
            .join(CapstoneVersion, CapstoneVersion.id == CapstoneDecision.version_id)
            .join(Capstone, Capstone.id == CapstoneVersion.capstone_id)
            .where(Capstone.cohort_id == cohort.id)
        )
    )
    assert deciders == {
        "facilitator@example.org",
        "elena.petrova@example.org",
        "staff@example.org",
    }
    staff = find_user_by_email("staff@example.org")
    assert staff is not None
    assert staff.role == Role.STAFF


def test_every_submitted_version_carries_a_real_pdf_and_files_follow_the_versions(demo_rows, ctx):
    cohort = _demo_cohort()
    for capstone in _capstones(cohort):
        for version in _versions(capstone):
            links = list(
                db.session.scalars(
                    sa.select(CapstoneVersionFile).where(
                        CapstoneVersionFile.version_id == version.id
                    )
                )
            )
            if version.submitted_at is not None:
                assert links, (capstone.title, version.number)
            for link in links:
                stored = db.session.get(StoredFile, link.stored_file_id)
                assert stored is not None
                assert stored.content_type == "application/pdf"
                data = stored_path(stored).read_bytes()
                assert data.startswith(b"%PDF-1.4")
                assert data.rstrip().endswith(b"%%EOF")
                assert hashlib.sha256(data).hexdigest() == stored.sha256
                assert stored.original_name.endswith(".pdf")


def test_narratives_are_markdown_and_no_two_capstones_say_the_same(demo_rows, ctx):
    cohort = _demo_cohort()
    capstones = _capstones(cohort)
    assert len({c.title for c in capstones}) == len(capstones)
    assert len({c.summary for c in capstones}) == len(capstones)
    narratives = [v.narrative_md for c in capstones for v in _versions(c)]
    assert all(text.startswith("## ") for text in narratives)
    assert len(set(narratives)) == len(narratives)
    assert all(c.school_level is not None and c.strand_id and c.topics for c in capstones)


def test_one_published_capstone_is_in_the_library_with_a_file_to_download(demo_rows, app, client):
    with app.test_request_context():
        cohort = _demo_cohort()
    published = [c for c in _capstones(cohort) if c.published_at is not None]
    assert len(published) == 1
    capstone = published[0]
    assert capstone.status == CapstoneStatus.APPROVED
    assert capstone.consent_at is not None
    final = _versions(capstone)[-1]
    links = list(
        db.session.scalars(
            sa.select(CapstoneVersionFile).where(CapstoneVersionFile.version_id == final.id)
        )
    )
    chosen = [link for link in links if link.in_library]
    assert chosen
    assert len(chosen) < len(links)
    # Another fellow finds it.
    reader = find_user_by_email("hannah.kim@example.org")
    assert reader is not None
    sign_in(client, reader)
    listing = client.get("/library").get_data(as_text=True)
    assert capstone.title in listing
    entry = client.get(f"/library/{capstone.id}")
    assert entry.status_code == 200
    assert f"/library/{capstone.id}/files/{chosen[0].id}" in entry.get_data(as_text=True)
    download = client.get(f"/library/{capstone.id}/files/{chosen[0].id}")
    assert download.status_code == 200
    assert download.get_data().startswith(b"%PDF")
    download.close()


def test_loading_the_demo_twice_creates_nothing_new(demo_rows, ctx):
    _demo_cohort()
    before = _counts()
    assert before["Capstone"] == 11
    assert before["GraduateOutcome"] == 0
    load_demo()
    db.session.commit()
    assert _counts() == before
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == DEMO_COHORT_NAME))
    assert load_demo_capstones(cohort, [], [], []) == []
    assert _counts() == before


# Dates ------------------------------------------------------------------------------------


def _cast(cohort: Cohort) -> tuple[list[User], list[User], list[User]]:
    fellows = [UserFactory(name=f"Fellow {n} Person") for n in range(12)]
    reviewers = [UserFactory(name="Rev One"), UserFactory(name="Rev Two")]
    facilitators = [UserFactory(name="Fac One"), UserFactory(name="Fac Two")]
    for role, people in (
        (CohortRole.FELLOW, fellows),
        (CohortRole.REVIEWER, reviewers),
        (CohortRole.FACILITATOR, facilitators),
    ):
        for person in people:
            MembershipFactory(cohort=cohort, user=person, role=role)
    return fellows, reviewers, facilitators


def _timeline_problems(cohort: Cohort, now: datetime) -> list[str]:
    problems: list[str] = []
    for capstone in _capstones(cohort):
        last = capstone.created_at
        for version in _versions(capstone):
            if version.created_at < capstone.created_at:
                problems.append(f"{capstone.title}: v{version.number} before the capstone")
            if version.submitted_at is None:
                if version.updated_at < last:
                    problems.append(f"{capstone.title}: draft saved before the last decision")
                continue
            if not version.created_at <= version.submitted_at or version.submitted_at < last:
                problems.append(f"{capstone.title}: v{version.number} submitted out of order")
            last = version.submitted_at
            reviewed = [last]
            for assignment, review, of in _reviews(cohort):
                if of.id != version.id:
                    continue
                if assignment.assigned_at < version.submitted_at:
                    problems.append(f"{capstone.title}: assigned before submission")
                if review is not None and review.updated_at < assignment.assigned_at:
                    problems.append(f"{capstone.title}: reviewed before assignment")
                if review is not None:
                    reviewed.append(review.updated_at)
            decision = _decision(version)
            if decision is not None:
                if decision.decided_at < max(reviewed):
                    problems.append(f"{capstone.title}: decided before the reviews")
                last = decision.decided_at
        if capstone.published_at is not None and capstone.published_at < last:
            problems.append(f"{capstone.title}: published before approval")
        stamps = [capstone.created_at, capstone.status_changed_at, capstone.updated_at]
        if any(stamp > now for stamp in stamps) or last > now:
            problems.append(f"{capstone.title}: in the future")
    return problems


@pytest.mark.parametrize("cohort_age_days", [-20, 0, 10, 30, 60, 100, 200])
def test_the_stories_keep_their_order_and_stay_in_the_past(ctx, cohort_age_days):
    today = date(2027, 2, 15)
    cohort = CohortFactory(
        starts_on=today - timedelta(days=cohort_age_days),
        ends_on=today + timedelta(days=120),
    )
    fellows, reviewers, facilitators = _cast(cohort)
    created = load_demo_capstones(cohort, fellows, reviewers, facilitators, today=today)
    db.session.commit()
    assert len(created) == 11
    now = datetime.combine(today, time(12), tzinfo=UTC)
    assert _timeline_problems(cohort, now) == []
    if cohort_age_days >= 100:
        earliest = min(c.created_at for c in created)
        assert earliest.date() >= cohort.starts_on


def test_a_cohort_without_reviewers_or_facilitators_still_gets_capstones(ctx):
    cohort = CohortFactory()
    fellows = [UserFactory() for _ in range(3)]
    created = load_demo_capstones(cohort, fellows, [], [], today=utcnow().date())
    assert len(created) == 3
    assignments = (
        sa.select(sa.func.count())
        .select_from(ReviewAssignment)
        .join(CapstoneVersion, CapstoneVersion.id == ReviewAssignment.version_id)
        .where(CapstoneVersion.capstone_id.in_([c.id for c in created]))
    )
    assert db.session.scalar(assignments) == 0
