"""Saving a review: drafts keep what is there, submitting needs everything, scores are levels
of the cohort's rubric, the optimistic lock, the locks after submission and after the
decision, and the audit row of a submission."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.capstones import review_services as services
from fellowship.capstones import rubric as rubrics
from fellowship.capstones.models import Recommendation, Review, Rubric
from fellowship.extensions import db
from tests.capstones.helpers import DecisionFactory, VersionFactory
from tests.capstones.test_review_helpers import (
    assign,
    audit_actions,
    criteria_of,
    full_scores,
    review_row,
    reviews,
    world,
)
from tests.conftest import rows_for_module

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def save(w, data: services.ReviewData, *, submit=False, expected=None, who=None, assignment=None):
    return services.save_review(
        who or w.reviewer, assignment or w.assignment, data, submit, expected
    )


def test_a_draft_keeps_partial_scores_comments_and_no_recommendation(w, ctx):
    first = w.criteria[0]
    review = save(w, services.ReviewData(scores={str(first.id): "3"}, comments=" Half a thought "))
    db.session.commit()
    assert review is not None
    saved = review_row(w.assignment)
    assert saved.scores == {str(first.id): 3}
    assert saved.comments_md == "Half a thought"
    assert saved.recommendation is None
    assert saved.submitted_at is None
    assert audit_actions() == []


def test_saving_a_draft_again_replaces_it_and_moves_the_version_on(w, ctx):
    review = save(w, services.ReviewData(scores={str(w.criteria[0].id): 1}))
    version = review.version
    save(
        w,
        services.ReviewData(scores={str(w.criteria[1].id): 4}, recommendation="approve"),
        expected=version,
    )
    saved = review_row(w.assignment)
    assert saved.scores == {str(w.criteria[1].id): 4}
    assert saved.recommendation == Recommendation.APPROVE
    assert saved.version == version + 1


def test_an_empty_draft_where_there_was_no_review_saves_nothing(w, ctx):
    assert save(w, services.ReviewData(scores={str(w.criteria[0].id): ""})) is None
    assert reviews() == []


def test_submitting_needs_every_criterion_and_a_recommendation_naming_each_missing_one(w, ctx):
    first, second, third = w.criteria
    with pytest.raises(services.ReviewError) as refused:
        save(w, services.ReviewData(scores={str(second.id): "2"}), submit=True)
    problems = dict(refused.value.problems)
    assert problems == {
        f"score_{first.id}": "Choose a score for “Criterion 1”.",
        f"score_{third.id}": "Choose a score for “Criterion 3”.",
        "recommendation": "Choose approve or request revisions before submitting.",
    }
    db.session.rollback()
    assert reviews() == []


def test_a_complete_submission_is_kept_locked_and_audited(w, ctx):
    review = save(
        w,
        services.ReviewData(scores=full_scores(w, 4), comments="Ready.", recommendation="approve"),
        submit=True,
    )
    db.session.commit()
    assert review.submitted_at is not None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "review_submitted"))
    assert event.actor_id == w.reviewer.id
    assert event.target_type == "Review"
    assert event.target_id == review.id
    assert event.details["recommendation"] == "approve"
    assert event.details["version_id"] == w.version.id
    assert event.details["scores"] == full_scores(w, 4)
    with pytest.raises(services.ReviewError) as refused:
        save(w, services.ReviewData(comments="Second thoughts"), expected=review.version)
    assert refused.value.message == str(services.ALREADY_SUBMITTED)
    db.session.rollback()
    assert review_row(w.assignment).comments_md == "Ready."


BAD = [
    # (what, scores, recommendation, comments, field, message)
    (
        "a score above the levels",
        {0: "5"},
        None,
        "",
        "score_0",
        "Choose one of this criterion's levels.",
    ),
    ("a score of zero", {0: "0"}, None, "", "score_0", "Choose one of this criterion's levels."),
    (
        "a word for a score",
        {1: "three"},
        None,
        "",
        "score_1",
        "Choose one of this criterion's levels.",
    ),
    ("a negative score", {1: "-1"}, None, "", "score_1", "Choose one of this criterion's levels."),
    (
        "a superscript digit",
        {2: "²"},
        None,
        "",
        "score_2",
        "Choose one of this criterion's levels.",
    ),
    (
        "an unknown criterion",
        {"999999": "2"},
        None,
        "",
        None,
        "a criterion you scored is no longer in it",
    ),
    (
        "a criterion of another cohort",
        {"other": "2"},
        None,
        "",
        None,
        "a criterion you scored is no longer in it",
    ),
    (
        "an unknown recommendation",
        {},
        "maybe",
        "",
        "recommendation",
        "Choose approve or request revisions.",
    ),
    (
        "comments of 20,001 characters",
        {},
        None,
        "x" * 20_001,
        "comments",
        "at most 20,000 characters",
    ),
]


@pytest.mark.parametrize(
    ("what", "scores", "recommendation", "comments", "field", "message"),
    BAD,
    ids=[row[0] for row in BAD],
)
@pytest.mark.parametrize("submit", [False, True], ids=["draft", "submit"])
def test_bad_input_is_refused_and_saves_nothing(
    w, ctx, what, scores, recommendation, comments, field, message, submit
):
    elsewhere = world()
    keys = {}
    for index, score in scores.items():
        if index == "other":
            keys[str(elsewhere.criteria[0].id)] = score
        elif isinstance(index, int):
            keys[str(w.criteria[index].id)] = score
        else:
            keys[index] = score
    with pytest.raises(services.ReviewError) as refused:
        save(
            w,
            services.ReviewData(scores=keys, comments=comments, recommendation=recommendation),
            submit=submit,
        )
    found = dict(refused.value.problems)
    expected_field = field
    if field and field.startswith("score_"):
        expected_field = f"score_{w.criteria[int(field[-1])].id}"
    assert any(message in text for text in found.values()), found
    assert expected_field in found or (field is None and None in found)
    db.session.rollback()
    assert reviews() == []
    assert audit_actions() == []


def test_a_comment_of_exactly_20000_characters_is_kept(w, ctx):
    save(w, services.ReviewData(comments="y" * 20_000))
    assert len(review_row(w.assignment).comments_md) == 20_000


@pytest.mark.parametrize("expected", [None, 0, 99])
def test_a_form_opened_before_another_save_is_stale(w, ctx, expected):
    save(w, services.ReviewData(comments="From the other tab"))
    db.session.commit()
    with pytest.raises(services.StaleReview):
        save(w, services.ReviewData(comments="From this tab"), expected=expected)
    db.session.rollback()
    assert review_row(w.assignment).comments_md == "From the other tab"


def test_a_form_expecting_a_review_that_does_not_exist_is_stale(w, ctx):
    with pytest.raises(services.StaleReview):
        save(w, services.ReviewData(comments="Hello"), expected=3)


@pytest.mark.parametrize("submit", [False, True])
def test_nobody_changes_a_review_once_the_decision_is_recorded(w, ctx, submit):
    draft = save(w, services.ReviewData(comments="Draft"))
    DecisionFactory(version_id=w.version.id)
    with pytest.raises(services.ReviewError) as refused:
        save(
            w,
            services.ReviewData(scores=full_scores(w), recommendation="revise"),
            submit=submit,
            expected=draft.version,
        )
    assert "reviews are closed" in refused.value.message
    db.session.rollback()
    assert review_row(w.assignment).comments_md == "Draft"


def test_only_the_assigned_reviewer_saves_through_the_service(w, ctx):
    with pytest.raises(services.ReviewError):
        save(w, services.ReviewData(comments="Not mine"), who=w.second_reviewer)
    assert reviews() == []


def test_a_working_draft_version_cannot_be_reviewed(w, ctx):
    draft = VersionFactory(capstone_id=w.capstone.id, number=2, submitted_at=None)
    assignment = assign(draft, w.reviewer)
    with pytest.raises(services.ReviewError):
        save(w, services.ReviewData(comments="Too early"), assignment=assignment)


def test_a_reviews_first_save_in_a_cohort_without_a_rubric_creates_the_default(ctx):
    w = world(rubric=False)
    assert db.session.scalar(sa.select(Rubric).where(Rubric.cohort_id == w.cohort.id)) is None
    save(w, services.ReviewData(scores={"new0": "4", "new2": "1"}))
    criteria = criteria_of(w.cohort)
    assert len(criteria) == len(rubrics.DEFAULT_RUBRIC)
    assert review_row(w.assignment).scores == {str(criteria[0].id): 4, str(criteria[2].id): 1}


def test_a_submission_against_the_default_names_the_missing_criteria_by_their_form_keys(ctx):
    w = world(rubric=False)
    with pytest.raises(services.ReviewError) as refused:
        save(w, services.ReviewData(scores={"new0": "4"}), submit=True)
    fields = [name for name, _m in refused.value.problems]
    assert fields[: len(rubrics.DEFAULT_RUBRIC) - 1] == [
        f"score_new{i}" for i in range(1, len(rubrics.DEFAULT_RUBRIC))
    ]
    db.session.rollback()
    stored = sa.select(sa.func.count(Rubric.id)).where(Rubric.cohort_id == w.cohort.id)
    assert db.session.scalar(stored) == 0


def test_default_keys_are_refused_once_the_cohort_has_a_rubric(w, ctx):
    with pytest.raises(services.ReviewError) as refused:
        save(w, services.ReviewData(scores={"new0": "2"}))
    assert "a criterion you scored is no longer in it" in refused.value.message


def test_each_reviewer_has_their_own_review(w, ctx):
    save(w, services.ReviewData(comments="Rita's"))
    save(
        w,
        services.ReviewData(comments="Sam's"),
        who=w.second_reviewer,
        assignment=w.second_assignment,
    )
    assert sorted(r.comments_md for r in reviews()) == ["Rita's", "Sam's"]
    assert db.session.scalar(sa.select(sa.func.count(Review.id))) == 2
