"""Staff and facilitators' rules: assigning reviewers to a submitted version, recording the
decision on it, and the cohort's capstone settings.

Services flush, audit and notify; the view commits. Each new assignment notifies the
reviewer once, each decision the fellow (in the app, and by email in their language as
their preferences say). A version gets one decision, ever: the decision moves the capstone
on (approve: proposal submitted → proposal approved, final submitted → approved; revise: →
revisions requested at that stage), and the fellow's next working draft is made when they
next edit.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit
from fellowship.auth.models import User
from fellowship.capstones import queries, staff_queries
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneStatus,
    CapstoneVersion,
    Recommendation,
    Review,
    ReviewAssignment,
    Stage,
)
from fellowship.cohorts.models import Cohort
from fellowship.db import db, utcnow
from fellowship.notifications.services import app_path, notify

MAX_MESSAGE = 20_000

CHOOSE_REVIEWER = _l("Choose at least one reviewer.")
NOT_A_REVIEWER = _l("Choose among the cohort's active reviewers.")
ALREADY_ASSIGNED = _l("Everyone you chose is already assigned to this version.")
NOT_OPEN = _l(
    "This version is not waiting for reviews: it is not submitted, or its decision is recorded."
)
REVIEW_SUBMITTED = _l(
    "This reviewer has submitted their review, so they stay assigned: the review is part of "
    "the record."
)
CHOOSE_OUTCOME = _l("Choose approve or request revisions.")
MESSAGE_NEEDED = _l("Write a message to the fellow before recording the decision.")
MESSAGE_TOO_LONG = _l("The message can be at most 20,000 characters.")
NOT_WAITING = _l(
    "This capstone is not waiting for a decision on this version, so none can be recorded."
)
ALREADY_DECIDED = _l(
    "The decision on this version is already recorded; a version gets one decision. Yours was "
    "not recorded: your message is still in the box below."
)
STALE_DECISION = _l(
    "Someone else recorded a decision on this capstone while you were writing yours. Yours was "
    "not recorded: your message is still in the box below."
)
STALE_SETTINGS = _l(
    "Someone else changed this cohort while you were editing. The settings were not saved: "
    "check the current values below and save again."
)

# (status while waiting, outcome) → the status after the decision.
TRANSITIONS: dict[tuple[CapstoneStatus, Recommendation], CapstoneStatus] = {
    (CapstoneStatus.PROPOSAL_SUBMITTED, Recommendation.APPROVE): CapstoneStatus.PROPOSAL_APPROVED,
    (CapstoneStatus.PROPOSAL_SUBMITTED, Recommendation.REVISE): CapstoneStatus.PROPOSAL_REVISIONS,
    (CapstoneStatus.FINAL_SUBMITTED, Recommendation.APPROVE): CapstoneStatus.APPROVED,
    (CapstoneStatus.FINAL_SUBMITTED, Recommendation.REVISE): CapstoneStatus.FINAL_REVISIONS,
}
# The status a capstone has while a version of this stage waits for its decision.
WAITING_FOR = {
    Stage.PROPOSAL: CapstoneStatus.PROPOSAL_SUBMITTED,
    Stage.FINAL: CapstoneStatus.FINAL_SUBMITTED,
}


class CapstoneStaffError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class AlreadyDecided(CapstoneStaffError):
    """The version has its decision (a double submit, or someone else was quicker)."""


class StaleEdit(CapstoneStaffError):
    """The capstone or cohort changed after the form was opened."""


def _open_for_review(version: CapstoneVersion) -> None:
    if version.submitted_at is None or queries.decision_for(version.id) is not None:
        raise CapstoneStaffError("reviewers", str(NOT_OPEN))


# Reviewers --------------------------------------------------------------------------------


def assign_reviewers(
    actor: User, version: CapstoneVersion, capstone: Capstone, reviewer_ids: Iterable[int]
) -> list[ReviewAssignment]:
    """Assign each of `reviewer_ids` (active reviewers of the cohort) to a submitted version
    without a decision. Those already assigned are left as they are; any other id refuses the
    whole request. Each new reviewer is notified once."""
    wanted = list(dict.fromkeys(reviewer_ids))
    if not wanted:
        raise CapstoneStaffError("reviewers", str(CHOOSE_REVIEWER))
    _open_for_review(version)
    allowed = staff_queries.active_reviewer_ids(capstone.cohort_id)
    if any(reviewer_id not in allowed for reviewer_id in wanted):
        raise CapstoneStaffError("reviewers", str(NOT_A_REVIEWER))
    already = staff_queries.assigned_reviewer_ids(version.id)
    new = [reviewer_id for reviewer_id in wanted if reviewer_id not in already]
    if not new:
        raise CapstoneStaffError("reviewers", str(ALREADY_ASSIGNED))
    return [_assign(actor, version, capstone, reviewer_id) for reviewer_id in new]


def _assign(
    actor: User, version: CapstoneVersion, capstone: Capstone, reviewer_id: int
) -> ReviewAssignment:
    assignment = ReviewAssignment(
        version_id=version.id, reviewer_id=reviewer_id, assigned_by_id=actor.id
    )
    db.session.add(assignment)
    db.session.flush()
    audit.record(
        actor,
        "reviewer_assigned",
        assignment,
        details={
            "cohort_id": capstone.cohort_id,
            "capstone_id": capstone.id,
            "fellow_id": capstone.fellow_id,
            "version_id": version.id,
            "version_number": version.number,
            "reviewer_id": reviewer_id,
        },
    )
    reviewer = db.session.get(User, reviewer_id)
    fellow = db.session.get(User, capstone.fellow_id)
    cohort = db.session.get(Cohort, capstone.cohort_id)
    assert reviewer is not None
    assert fellow is not None
    assert cohort is not None
    notify(
        reviewer,
        "capstones/reviewer_assigned",
        # Ids can be reused after an unassignment (SQLite takes the highest free one): the
        # version, the reviewer and the moment of assignment name this one for good.
        key=f"capstone-reviewer-assigned-{version.id}-{reviewer_id}-"
        f"{assignment.assigned_at.timestamp():.6f}",
        link=app_path("capstones.review", assignment_id=assignment.id),
        assigned_by=actor.name,
        fellow=fellow.name,
        title=capstone.title,
        cohort=cohort.name,
        number=version.number,
        final=version.stage == Stage.FINAL,
        submitted_at=version.submitted_at,
    )
    return assignment


def unassign_reviewer(
    actor: User, assignment: ReviewAssignment, version: CapstoneVersion, capstone: Capstone
) -> None:
    """Take a reviewer off a version before they submit; their draft review, if any, goes
    with the assignment."""
    _open_for_review(version)
    review = db.session.scalar(sa.select(Review).where(Review.assignment_id == assignment.id))
    if review is not None and review.submitted_at is not None:
        raise CapstoneStaffError(None, str(REVIEW_SUBMITTED))
    audit.record(
        actor,
        "reviewer_unassigned",
        assignment,
        details={
            "cohort_id": capstone.cohort_id,
            "capstone_id": capstone.id,
            "fellow_id": capstone.fellow_id,
            "version_id": version.id,
            "version_number": version.number,
            "reviewer_id": assignment.reviewer_id,
            "draft_discarded": review is not None,
        },
    )
    if review is not None:
        db.session.delete(review)
    db.session.delete(assignment)
    db.session.flush()


# Decisions --------------------------------------------------------------------------------


def check_decision(outcome: str | None, message: str) -> Recommendation:
    """The decision's own fields (raises CapstoneStaffError)."""
    try:
        chosen = Recommendation(outcome or "")
    except ValueError as error:
        raise CapstoneStaffError("outcome", str(CHOOSE_OUTCOME)) from error
    if not message:
        raise CapstoneStaffError("message", str(MESSAGE_NEEDED))
    if len(message) > MAX_MESSAGE:
        raise CapstoneStaffError("message", str(MESSAGE_TOO_LONG))
    return chosen


def record_decision(
    actor: User,
    version: CapstoneVersion,
    capstone: Capstone,
    outcome: str | None,
    message: str,
    expected_version: int | None,
) -> CapstoneDecision:
    """Record the one decision on a submitted version, opened with the capstone at
    `expected_version`; move the capstone on and tell the fellow.

    Raises AlreadyDecided when the version has its decision, StaleEdit when the capstone
    changed since the form was opened, CapstoneStaffError for anything else refused.
    """
    message = (message or "").strip()
    chosen = check_decision(outcome, message)
    if version.submitted_at is None or version.capstone_id != capstone.id:
        raise CapstoneStaffError(None, str(NOT_WAITING))
    if queries.decision_for(version.id) is not None:
        raise AlreadyDecided(None, str(ALREADY_DECIDED))
    if expected_version != capstone.version:
        raise StaleEdit(None, str(STALE_DECISION))
    before = capstone.status
    latest = queries.latest_submitted(capstone.id)
    if WAITING_FOR[version.stage] != before or latest is None or latest.id != version.id:
        raise CapstoneStaffError(None, str(NOT_WAITING))
    after = TRANSITIONS[(before, chosen)]
    reviews = queries.reviews_of(version.id)
    done = sum(1 for row in reviews if row.review and row.review.submitted_at is not None)
    decision = CapstoneDecision(
        version_id=version.id,
        decided_by_id=actor.id,
        outcome=chosen,
        message_md=message,
        decided_at=utcnow(),
    )
    db.session.add(decision)
    capstone.status = after
    capstone.status_changed_at = decision.decided_at
    try:
        db.session.flush()
    except StaleDataError as error:  # a decision committed between our read and our write
        raise StaleEdit(None, str(STALE_DECISION)) from error
    except sa.exc.IntegrityError as error:  # the same version decided at the same moment
        raise AlreadyDecided(None, str(ALREADY_DECIDED)) from error
    audit.record(
        actor,
        "capstone_decided",
        decision,
        details={
            "cohort_id": capstone.cohort_id,
            "capstone_id": capstone.id,
            "fellow_id": capstone.fellow_id,
            "version_id": version.id,
            "version_number": version.number,
            "outcome": chosen.value,
            "from": before.value,
            "to": after.value,
            "reviews_submitted": done,
            "reviewers_assigned": len(reviews),
        },
    )
    fellow = db.session.get(User, capstone.fellow_id)
    assert fellow is not None
    notify(
        fellow,
        "capstones/decision",
        key=f"capstone-decision-{version.id}",
        link=app_path("capstones.detail", capstone_id=capstone.id),
        decided_by=actor.name,
        title=capstone.title,
        number=version.number,
        final=version.stage == Stage.FINAL,
        approved=chosen == Recommendation.APPROVE,
        status=after.value,
        message=message,
    )
    return decision


# Settings ---------------------------------------------------------------------------------


def update_capstone_settings(
    actor: User,
    cohort: Cohort,
    *,
    reviewer_names_visible: bool,
    hide_reviews_until_own: bool,
    expected_version: int | None,
) -> bool:
    """Save the cohort's capstone settings, opened with the cohort at `expected_version`.
    Returns False (and writes nothing) when nothing changed."""
    if expected_version != cohort.version:
        raise StaleEdit(None, str(STALE_SETTINGS))
    before = staff_queries.capstone_settings(cohort)
    after = {
        "reviewer_names_visible": bool(reviewer_names_visible),
        "hide_reviews_until_own": bool(hide_reviews_until_own),
    }
    if after == before:
        return False
    # A new dict, so the JSON column is seen as changed (and the cohort's version moves on).
    cohort.settings = {**(cohort.settings or {}), **after}
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None, str(STALE_SETTINGS)) from error
    audit.record(
        actor,
        "capstone_settings_changed",
        cohort,
        details={
            "cohort_id": cohort.id,
            "from": {key: before[key] for key in after if before[key] != after[key]},
            "to": {key: after[key] for key in after if before[key] != after[key]},
        },
    )
    return True
