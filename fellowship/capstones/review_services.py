"""Reviewing a capstone version: a reviewer's draft and submitted review.

A review belongs to one assignment (a version × a reviewer). It is a draft until submitted:
drafts keep whatever is there (some scores, half the comments); submitting needs a score for
every criterion of the cohort's rubric and a recommendation, and then the review never
changes. Once the decision on the version is recorded, nobody changes a review. Scores are
levels of the cohort's rubric criteria ({criterion id as str: score}); anything else is
refused. Reviews carry an optimistic lock (`version`): a form opened before another save is
told so and keeps what was typed. Submitting is audited as `review_submitted` and tells the
people who decide on the capstone (`tell_deciders`).

Services flush, audit and notify; the view commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit, policy
from fellowship.auth.models import User
from fellowship.capstones import rubric as rubrics
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneVersion,
    Recommendation,
    Review,
    ReviewAssignment,
    Stage,
)
from fellowship.cohorts.models import Cohort, CohortMembership, CohortRole, MembershipStatus
from fellowship.db import db, utcnow
from fellowship.notifications.services import Entry, app_path, notify_many

MAX_COMMENTS = 20_000

COMMENTS_TOO_LONG = _l("Comments can be at most 20,000 characters.")
CHOOSE_RECOMMENDATION = _l("Choose approve or request revisions before submitting.")
UNKNOWN_RECOMMENDATION = _l("Choose approve or request revisions.")
UNKNOWN_SCORE = _l("Choose one of this criterion's levels.")
UNKNOWN_CRITERION = _l(
    "The rubric changed since you opened this page: a criterion you scored is no longer in "
    "it. Check your scores below and save again."
)
NOT_YOURS = _l("Only the reviewer this submission is assigned to can write its review.")
NOT_SUBMITTED = _l("This version is the fellow's working draft; it cannot be reviewed yet.")
DECIDED = _l(
    "The decision on this version is recorded, so reviews are closed and can no longer be changed."
)
ALREADY_SUBMITTED = _l("You have submitted this review; it can no longer be changed.")
STALE_REVIEW = _l(
    "This review was saved somewhere else (another tab or device) after you opened this page. "
    "What you typed was not saved: it is still in the form. The saved review is now what the "
    "form was opened from; save again to replace it with yours."
)


class ReviewError(Exception):
    """A rule refused the save; `field` names the form field the message belongs to, and
    `problems` holds every (field, message) found, the first one included."""

    def __init__(
        self, field: str | None, message: str, more: Iterable[tuple[str | None, str]] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.problems: list[tuple[str | None, str]] = [(field, message), *more]


class StaleReview(ReviewError):
    """The review was saved after the form was opened."""


@dataclass
class ReviewData:
    """What the form says. `scores` maps a criterion's form key (its id, or "new<position>"
    for the default rubric before it had rows) to the chosen score as sent ("" or None: not
    scored)."""

    scores: dict[str, str | int | None] = field(default_factory=dict)
    comments: str = ""
    recommendation: str | None = None


def score_field(key: str) -> str:
    """The form field of a criterion's score."""
    return f"score_{key}"


def review_of(assignment: ReviewAssignment) -> Review | None:
    return db.session.scalar(sa.select(Review).where(Review.assignment_id == assignment.id))


def is_decided(version_id: int) -> bool:
    found = db.session.scalar(
        sa.select(CapstoneDecision.id).where(CapstoneDecision.version_id == version_id)
    )
    return found is not None


def _parse_score(value: str | int | None) -> int | None:
    """The score as a number, None when not scored; ValueError when it is not a number."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise ValueError(text)
    return int(text)


def _is_scored(value: str | int | None) -> bool:
    try:
        return _parse_score(value) is not None
    except ValueError:
        return True


def _clean_scores(
    cohort: Cohort, created: bool, data: ReviewData
) -> tuple[dict[str, int], list[tuple[str | None, str]], list[int]]:
    """({criterion id: score}, problems, ids of criteria left unscored), checked against the
    cohort's rubric (which exists by now)."""
    view = rubrics.rubric_view(cohort.id)
    criteria = {c.id: c for c in view.criteria if c.id is not None}
    keys = {str(cid): cid for cid in criteria}
    if created:
        keys.update({f"{rubrics.NEW_PREFIX}{c.position}": cid for cid, c in criteria.items()})
    scores: dict[str, int] = {}
    problems: list[tuple[str | None, str]] = []
    for key, value in data.scores.items():
        criterion_id = keys.get(str(key))
        if criterion_id is None:
            if _is_scored(value):
                problems.append((None, str(UNKNOWN_CRITERION)))
            continue
        try:
            score = _parse_score(value)
        except ValueError:
            score = -1
        if score is None:
            continue
        if score not in {level.score for level in criteria[criterion_id].levels}:
            problems.append((score_field(str(key)), str(UNKNOWN_SCORE)))
            continue
        scores[str(criterion_id)] = score
    unscored = [cid for cid in criteria if str(cid) not in scores]
    # One message for a removed criterion is enough.
    deduped = list(dict.fromkeys(problems))
    return scores, deduped, unscored


def save_review(
    reviewer: User,
    assignment: ReviewAssignment,
    data: ReviewData,
    submit: bool,
    expected_version: int | None,
) -> Review | None:
    """Save `reviewer`'s review of the assigned version as a draft, or submit it.

    `expected_version` is the review's version the form was opened at (None or 0: there was
    no review yet). Returns the review, or None when a draft with nothing in it was "saved"
    where no review existed (nothing to keep). Raises StaleReview when the review was saved
    since, ReviewError for anything the rules refuse (every problem in `problems`).
    """
    if reviewer.id != assignment.reviewer_id:
        raise ReviewError(None, str(NOT_YOURS))
    version = db.session.get(CapstoneVersion, assignment.version_id)
    assert version is not None
    if version.submitted_at is None:
        raise ReviewError(None, str(NOT_SUBMITTED))
    if is_decided(version.id):
        raise ReviewError(None, str(DECIDED))
    review = review_of(assignment)
    if review is not None and review.submitted_at is not None:
        raise ReviewError(None, str(ALREADY_SUBMITTED))
    if (review.version if review is not None else None) != (expected_version or None):
        raise StaleReview(None, str(STALE_REVIEW))

    capstone = db.session.get(Capstone, version.capstone_id)
    assert capstone is not None
    cohort = db.session.get(Cohort, capstone.cohort_id)
    assert cohort is not None

    comments = (data.comments or "").strip()
    recommendation = (data.recommendation or "").strip() or None
    problems: list[tuple[str | None, str]] = []
    if len(comments) > MAX_COMMENTS:
        problems.append(("comments", str(COMMENTS_TOO_LONG)))
    if recommendation is not None and recommendation not in {r.value for r in Recommendation}:
        problems.append(("recommendation", str(UNKNOWN_RECOMMENDATION)))
        recommendation = None

    nothing = (
        not comments
        and recommendation is None
        and not any(_is_scored(value) for value in data.scores.values())
    )
    if review is None and not submit and nothing and not problems:
        return None  # an empty draft: nothing to keep, and no rubric needs creating

    created = rubrics.rubric_of(cohort.id) is None
    rubrics.ensure_rubric(cohort)
    scores, score_problems, unscored = _clean_scores(cohort, created, data)
    problems = score_problems + problems
    if submit and not problems:
        view = rubrics.rubric_view(cohort.id)
        names = {c.id: c for c in view.criteria}
        for criterion_id in unscored:
            problems.append(
                (
                    score_field(_form_key(created, criterion_id, names[criterion_id].position)),
                    _("Choose a score for “%(name)s”.", name=names[criterion_id].name),
                )
            )
        if recommendation is None:
            problems.append(("recommendation", str(CHOOSE_RECOMMENDATION)))
    if problems:
        first, *more = problems
        raise ReviewError(first[0], first[1], more)

    if review is None:
        review = Review(assignment_id=assignment.id)
        db.session.add(review)
    review.scores = scores
    review.comments_md = comments
    review.recommendation = Recommendation(recommendation) if recommendation else None
    review.updated_at = utcnow()  # always an UPDATE, so the version moves on
    if submit:
        review.submitted_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError as error:  # a save committed between our read and our write
        raise StaleReview(None, str(STALE_REVIEW)) from error
    if submit:
        audit.record(
            reviewer,
            "review_submitted",
            review,
            details={
                "cohort_id": cohort.id,
                "capstone_id": capstone.id,
                "version_id": version.id,
                "version_number": version.number,
                "assignment_id": assignment.id,
                "recommendation": recommendation,
                "scores": scores,
            },
        )
        tell_deciders(reviewer, review, assignment, version, capstone, cohort)
    return review


def deciders(
    assignment: ReviewAssignment, version: CapstoneVersion, capstone: Capstone
) -> list[User]:
    """Who is told that a review came in: the people who record the decision on this version
    and are close to it — the cohort's active facilitators, and the person who assigned this
    reviewer (usually the staff member running the review). Recording the decision is
    `policy.can_decide_capstone` (staff and the cohort's facilitators); each candidate is
    checked against it, so nobody who cannot act on the review is told. Staff who did not
    assign this reviewer are not told: they are many, and the review is on the capstone page
    they decide from."""
    candidates = list(
        db.session.scalars(
            sa.select(User)
            .join(CohortMembership, CohortMembership.user_id == User.id)
            .where(
                CohortMembership.cohort_id == capstone.cohort_id,
                CohortMembership.role == CohortRole.FACILITATOR,
                CohortMembership.status == MembershipStatus.ACTIVE,
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )
    if assignment.assigned_by_id is not None:
        assigner = db.session.get(User, assignment.assigned_by_id)
        if assigner is not None and all(person.id != assigner.id for person in candidates):
            candidates.append(assigner)
    return [
        person
        for person in candidates
        if person.id != assignment.reviewer_id
        and policy.can_decide_capstone(person, version, capstone)
    ]


def tell_deciders(
    reviewer: User,
    review: Review,
    assignment: ReviewAssignment,
    version: CapstoneVersion,
    capstone: Capstone,
    cohort: Cohort,
) -> int:
    """Notify `deciders` of a submitted review, once per review and person; returns how
    many were told."""
    fellow = db.session.get(User, capstone.fellow_id)
    assert fellow is not None
    done, assigned = db.session.execute(
        sa.select(
            sa.func.count(Review.id).filter(Review.submitted_at.is_not(None)),
            sa.func.count(ReviewAssignment.id),
        )
        .select_from(ReviewAssignment)
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .where(ReviewAssignment.version_id == version.id)
    ).one()
    context = {
        "reviewer": reviewer.name,
        "fellow": fellow.name,
        "title": capstone.title,
        "cohort": cohort.name,
        "number": version.number,
        "final": version.stage == Stage.FINAL,
        "approve": review.recommendation == Recommendation.APPROVE,
        "submitted_at": review.submitted_at,
        "done": int(done),
        "assigned": int(assigned),
    }
    link = app_path("capstones.decide", version_id=version.id)
    created = notify_many(
        "capstones/review_submitted",
        [
            Entry(
                person,
                f"capstones/review_submitted:review={review.id}:to={person.id}",
                link,
                context,
            )
            for person in deciders(assignment, version, capstone)
        ],
    )
    return len(created)


def _form_key(created: bool, criterion_id: int, position: int) -> str:
    """The key the form used for a criterion: its id, or "new<position>" when the form
    showed the default rubric (created by this save, which the refusal rolls back)."""
    return f"{rubrics.NEW_PREFIX}{position}" if created else str(criterion_id)
