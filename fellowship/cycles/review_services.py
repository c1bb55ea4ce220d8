"""The yearly goals review: scheduling it, recording the meeting, signing it off, freezing
it, and correcting a signed review with an amendment.

The rules:

- Staff schedule one yearly review per cycle (a date, where, who attends); the lead teacher
  of the cycle, told by email in their language, and staff change the date while it is open.
- Recording anything — a goal's rating, the notes, next year's goals — moves the review from
  *scheduled* to *in the meeting*. Every change bumps the review's version (optimistic lock):
  a form opened before another save is refused with a clear message, keeping what was typed.
- A signature is on a specific content. When one party has signed and the record changes, the
  signature is withdrawn (audited) and both need to sign again. The packet is covered too:
  the first signature stores its digest (`signed_digest`), and when the second signer finds
  a different packet (a goal or measurement updated in between), the first signature is
  withdrawn instead of freezing a packet its signer never saw.
- Signing needs every goal rated and the version the signer read. When the second signature
  lands, the snapshot (`meeting_record`, packet included) is written once, `frozen_at` is set
  and the status is *signed*: nobody changes it again.
- A correction is an amendment: a new review of the same cycle that copies the signed one's
  ratings, notes and next year's goals, is edited and signed the same way, and when frozen
  marks the review it corrects *amended* (whose snapshot never changes). One open amendment
  per review; a review already corrected is amended through its latest amendment.
- Either party can send the packet to the other ("the packet is ready to read"): each
  person is told once per packet content, and again only when the packet changed.

Services flush, audit and notify; the view commits once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit
from fellowship.auth.models import User
from fellowship.cycles import review_queries as queries
from fellowship.cycles.goal_services import DUE_NOT_AFTER_BASELINE, direction_problem
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    CycleRole,
    GoalCategory,
    GoalDirection,
    GoalRating,
    GoalsReview,
    ProposedGoal,
    Rating,
    ReviewStatus,
)
from fellowship.cycles.plan_services import _lock_cycle
from fellowship.cycles.review_forms import RATING_LABELS
from fellowship.db import db, utcnow
from fellowship.forms import EARLIEST_DATE, LATEST_DATE
from fellowship.notifications.services import Entry, app_path, notify_many
from fellowship.school_years import SchoolYear

LEAD = "lead"
STAFF = "staff"
SIDES = (LEAD, STAFF)

STALE_REVIEW = _l(
    "Someone changed this review while you were editing it. Your changes were not saved. "
    "The form below still has what you typed, and the saved record is shown on the page. "
    "Save again to replace it with yours."
)
STALE_SIGNATURE = _l("The record changed since you opened it: read it again and sign.")
FROZEN = _l("This review is signed and frozen: it can no longer be changed.")
ALREADY_SCHEDULED = _l(
    "This cycle already has its yearly review (on %(date)s). Change that review's date "
    "instead, or amend it once it is signed."
)
DATE_RANGE = _l("Enter a date between 1950 and 2200.")
NOT_THIS_CYCLE_GOAL = _l(
    "A rating was sent for a goal that is not one of this cycle's goals. Reload the page "
    "and rate again."
)
UNKNOWN_RATING = _l("Choose met, progressing or not met.")
COMMENT_NEEDS_RATING = _l("Choose a rating for this goal, or clear its comment.")
CHOOSE_GOAL_OF_CYCLE = _l("Choose one of this cycle's goals, or none.")
BASELINE_NEEDED = _l("Enter the baseline value, or choose a goal this one continues.")
BASELINE_DATE_NEEDED = _l("Enter the date of the baseline value.")
BASELINE_VALUE_NEEDED = _l("Enter the baseline value measured on that date.")
BASELINE_FROM_GOAL = _l(
    "This goal continues this year's goal, so its baseline is that goal's latest value. "
    "Leave the baseline empty, or choose no goal to continue."
)
UNKNOWN_SIDE = _l("Sign as the lead teacher or as the staff reviewer.")
SIDE_SIGNED = _l("This side has already signed.")
SAME_PERSON = _l("The lead teacher and the staff reviewer must be two different people.")
RATE_EVERY_GOAL = _l(
    "Rate every goal before signing. Not rated yet: %(titles)s. Rate them in “Ratings” above."
)
NOT_FROZEN = _l("Only a signed review can be amended.")
OPEN_AMENDMENT = _l(
    "An amendment of this review is already open. Continue that one: only one amendment at a time."
)
ALREADY_AMENDED = _l(
    "This review was already corrected by a signed amendment. Amend the latest amendment instead."
)
GONE = _l("That goal for next year was deleted in the meantime.")
NEXT_DUE_OUT_OF_RANGE = _l(
    "Choose a due date from %(first)s to %(last)s: within next school year, or up to a year "
    "after it ends."
)
NEXT_BASELINE_AFTER_YEAR = _l(
    "The baseline date must be before the goal is due: the end of next school year "
    "(%(day)s), or the due date you give."
)
NEXT_GOAL_OFF_RULE = _l(
    "Next year's goal “%(title)s” no longer fits its baseline: %(problem)s Change its target "
    "in “Next year's goals” before signing."
)
REMOVED_GOAL_RATINGS = _l("Ratings signed for goals since removed from the cycle:")
REMOVED_GOAL_RATING = _l("“%(title)s”: %(rating)s")
PACKET_CHANGED = _l(
    "The packet changed since %(name)s signed (a goal or measurement was updated). Their "
    "signature was withdrawn: both need to sign again."
)


class ReviewError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleReview(ReviewError):
    """The review changed after the form was opened."""


# Data from the forms ---------------------------------------------------------------------------


@dataclass
class ScheduleData:
    scheduled_for: date
    location: str = ""
    participants: str = ""


@dataclass
class ProposedGoalData:
    title: str
    category: str
    metric: str
    target_value: float
    direction: str
    unit: str = ""
    goal_id: int | None = None
    baseline_value: float | None = None
    baseline_on: date | None = None
    due_on: date | None = None


@dataclass
class Change:
    """What a change to the meeting record did: whose signature it withdrew (their names)."""

    withdrawn: list[str] = field(default_factory=list)


@dataclass
class Signed:
    """What a signature did: `frozen` when it was the second one. When the packet changed
    since the first signature, nothing is signed: `withdrawn` names whose signature was
    withdrawn and `message` tells the signer why."""

    review: GoalsReview
    frozen: bool
    withdrawn: list[str] = field(default_factory=list)
    message: str | None = None


# Helpers ------------------------------------------------------------------------------------


def _check_open(review: GoalsReview) -> None:
    if review.frozen_at is not None:
        raise ReviewError(None, str(FROZEN))


def _check_version(review: GoalsReview, version: int | None, message: Any = STALE_REVIEW) -> None:
    if version is None or version != review.version:
        raise StaleReview(None, str(message))


def _flush(message: Any = STALE_REVIEW) -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleReview(None, str(message)) from error


def _name_of(user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = db.session.get(User, user_id)
    return user.name if user is not None else ""


def _withdraw_signature(actor: User, review: GoalsReview, reason: str = "record") -> list[str]:
    """Clear a lone signature (the content it was given on changed — the meeting `record`,
    or the `packet`) and the packet digest it was given on; the signers' names."""
    withdrawn = []
    review.signed_digest = None
    for side in SIDES:
        if getattr(review, f"{side}_signed_at") is None:
            continue
        signer_id = getattr(review, f"{side}_signed_by_id")
        withdrawn.append(_name_of(signer_id))
        setattr(review, f"{side}_signed_by_id", None)
        setattr(review, f"{side}_signed_at", None)
        audit.record(
            actor,
            "cycle.review_signature_withdrawn",
            review,
            details={"side": side, "signed_by": signer_id, "reason": reason},
        )
    return withdrawn


def _record_changed(actor: User, review: GoalsReview) -> Change:
    """The meeting record changed: scheduled → in the meeting, a lone signature withdrawn,
    and the review's version moved on (so an open sign button or form is now stale)."""
    if review.status == ReviewStatus.SCHEDULED:
        review.status = ReviewStatus.IN_MEETING
    change = Change(withdrawn=_withdraw_signature(actor, review))
    review.updated_at = utcnow()  # always an UPDATE, so the version moves on
    return change


def _text(value: str | None) -> str:
    return (value or "").strip()


# Scheduling ----------------------------------------------------------------------------------


def _check_schedule(data: ScheduleData) -> ScheduleData:
    if not EARLIEST_DATE <= data.scheduled_for <= LATEST_DATE:
        raise ReviewError("scheduled_for", str(DATE_RANGE))
    location = _text(data.location)
    if len(location) > 200:
        raise ReviewError("location", str(_l("Use at most 200 characters.")))
    participants = "\n".join(queries.participant_lines(data.participants))
    if len(participants) > 5_000:
        raise ReviewError("participants", str(_l("Use at most 5,000 characters.")))
    return ScheduleData(data.scheduled_for, location, participants)


def schedule_review(
    actor: User, cycle: Cycle, data: ScheduleData, *, notify: bool = True
) -> GoalsReview:
    """Schedule the cycle's yearly review (one per cycle); tell its lead teachers."""
    cleaned = _check_schedule(data)
    # Two clicks (or two staff) at once: the second waits here for the first to commit, then
    # finds its review below instead of inserting a second one.
    _lock_cycle(cycle.id)
    existing = queries.open_review_of_cycle(cycle.id)
    if existing is not None:
        raise ReviewError(
            "scheduled_for",
            str(ALREADY_SCHEDULED) % {"date": format_date(existing.scheduled_for, "long")},
        )
    review = GoalsReview(
        cycle_id=cycle.id,
        scheduled_for=cleaned.scheduled_for,
        location=cleaned.location,
        participants=cleaned.participants,
        status=ReviewStatus.SCHEDULED,
        scheduled_by_id=actor.id,
    )
    db.session.add(review)
    db.session.flush()
    audit.record(
        actor,
        "cycle.review_scheduled",
        review,
        details={"cycle_id": cycle.id, "on": cleaned.scheduled_for.isoformat()},
    )
    if notify:
        _tell_leads_scheduled(actor, cycle, review)
    return review


def _tell_leads_scheduled(actor: User, cycle: Cycle, review: GoalsReview) -> None:
    ctx = queries.load_cycle(cycle.id)
    link = app_path("cycles.review_show", cycle_id=cycle.id, review_id=review.id)
    context = {
        "school": ctx.school.name,
        "year": ctx.year.label,
        "on": review.scheduled_for,
        "location": review.location,
        "participants": queries.participant_lines(review.participants),
        "scheduled_by": actor.name,
    }
    notify_many(
        "cycles/review_scheduled",
        [
            Entry(lead, f"cycle-review-scheduled:{review.id}:{lead.id}", link, context)
            for lead in queries.lead_teachers(cycle.id)
        ],
    )


def update_schedule(
    actor: User, review: GoalsReview, data: ScheduleData, *, version: int | None
) -> Change:
    """Change the date, place or participants of an open review. They are part of what is
    signed, so a lone signature is withdrawn."""
    _check_open(review)
    _check_version(review, version)
    cleaned = _check_schedule(data)
    unchanged = (
        cleaned.scheduled_for == review.scheduled_for
        and cleaned.location == review.location
        and cleaned.participants == review.participants
    )
    if unchanged:
        return Change()
    before = review.scheduled_for
    review.scheduled_for = cleaned.scheduled_for
    review.location = cleaned.location
    review.participants = cleaned.participants
    change = Change(withdrawn=_withdraw_signature(actor, review))
    review.updated_at = utcnow()
    _flush()
    audit.record(
        actor,
        "cycle.review_rescheduled",
        review,
        details={"from": before.isoformat(), "to": cleaned.scheduled_for.isoformat()},
    )
    return change


# The meeting record -------------------------------------------------------------------------


def save_ratings(
    actor: User,
    review: GoalsReview,
    ratings: dict[int, tuple[str | None, str]],
    *,
    version: int | None,
) -> Change:
    """Rate the cycle's goals: {goal id: (met|progressing|not_met or None, comment)}.
    A goal left without a rating and comment has none; any id that is not one of this
    cycle's goals refuses the whole form."""
    _check_open(review)
    _check_version(review, version)
    goals = queries.cycle_goal_ids(review.cycle_id)
    wanted: dict[int, tuple[Rating | None, str]] = {}
    for goal_id, (value, comment) in ratings.items():
        if goal_id not in goals:
            raise ReviewError(None, str(NOT_THIS_CYCLE_GOAL))
        comment = _text(comment)
        if len(comment) > 4_000:
            raise ReviewError(f"comment_{goal_id}", str(_l("Use at most 4,000 characters.")))
        if value in (None, ""):
            if comment:
                raise ReviewError(f"rating_{goal_id}", str(COMMENT_NEEDS_RATING))
            wanted[goal_id] = (None, "")
            continue
        try:
            wanted[goal_id] = (Rating(value), comment)
        except ValueError as error:
            raise ReviewError(f"rating_{goal_id}", str(UNKNOWN_RATING)) from error
    existing = {rating.goal_id: rating for rating in queries.ratings_of(review.id)}
    changed = False
    for goal_id, (value, comment) in wanted.items():
        current = existing.get(goal_id)
        if value is None:
            if current is not None:
                db.session.delete(current)
                changed = True
            continue
        if current is None:
            db.session.add(
                GoalRating(
                    review_id=review.id,
                    goal_id=goal_id,
                    rating=value,
                    comment=comment,
                    rated_by_id=actor.id,
                )
            )
            changed = True
        elif current.rating != value or current.comment != comment:
            current.rating = value
            current.comment = comment
            current.rated_by_id = actor.id
            changed = True
    if not changed:
        return Change()
    change = _record_changed(actor, review)
    _flush()
    return change


def save_notes(actor: User, review: GoalsReview, notes_md: str, *, version: int | None) -> Change:
    _check_open(review)
    _check_version(review, version)
    notes = (notes_md or "").strip()
    if len(notes) > 20_000:
        raise ReviewError("notes", str(_l("Use at most 20,000 characters.")))
    if notes == review.notes_md:
        return Change()
    review.notes_md = notes
    change = _record_changed(actor, review)
    _flush()
    return change


def _check_proposed(review: GoalsReview, data: ProposedGoalData) -> ProposedGoalData:
    title, metric, unit = _text(data.title), _text(data.metric), _text(data.unit)
    if not title:
        raise ReviewError("title", str(_l("Name the goal.")))
    if len(title) > 200:
        raise ReviewError("title", str(_l("Use at most 200 characters.")))
    if not metric:
        raise ReviewError("metric", str(_l("Say what is measured.")))
    if len(metric) > 300:
        raise ReviewError("metric", str(_l("Use at most 300 characters.")))
    if len(unit) > 40:
        raise ReviewError("unit", str(_l("Use at most 40 characters.")))
    try:
        GoalCategory(data.category)
    except ValueError as error:
        raise ReviewError("category", str(_l("Choose one of the options."))) from error
    try:
        GoalDirection(data.direction)
    except ValueError as error:
        raise ReviewError("direction", str(_l("Choose one of the options."))) from error
    if data.goal_id is not None and data.goal_id not in queries.cycle_goal_ids(review.cycle_id):
        raise ReviewError("continues", str(CHOOSE_GOAL_OF_CYCLE))
    for name, day in (("baseline_on", data.baseline_on), ("due_on", data.due_on)):
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            raise ReviewError(name, str(DATE_RANGE))
    if data.goal_id is not None:
        if data.baseline_value is not None or data.baseline_on is not None:
            raise ReviewError("baseline_value", str(BASELINE_FROM_GOAL))
    elif data.baseline_value is None and data.baseline_on is None:
        raise ReviewError("baseline_value", str(BASELINE_NEEDED))
    elif data.baseline_on is None:
        raise ReviewError("baseline_on", str(BASELINE_DATE_NEEDED))
    elif data.baseline_value is None:
        raise ReviewError("baseline_value", str(BASELINE_VALUE_NEEDED))
    _check_goal_rules(review, data)
    return ProposedGoalData(
        title=title,
        category=data.category,
        metric=metric,
        unit=unit,
        target_value=float(data.target_value),
        direction=data.direction,
        goal_id=data.goal_id,
        baseline_value=data.baseline_value,
        baseline_on=data.baseline_on,
        due_on=data.due_on,
    )


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day + timedelta(days=365 * years)


def next_year_due_range(year: SchoolYear) -> tuple[date, date, date]:
    """For a cycle of `year`: when next school year starts and ends, and the last due date a
    goal for next year may have — its school year and a year after, the way goal_services
    allows the goals of a cycle of that year."""
    starts = year.ends_on + timedelta(days=1)
    ends = _years_later(year.ends_on, 1)
    return starts, ends, _years_later(ends, 1)


def _check_goal_rules(review: GoalsReview, data: ProposedGoalData) -> None:
    """The goal rules of goal_services, for next year: the target lies in the goal's
    direction from its baseline (the one given, or the continued goal's latest value) and
    the due date falls within next school year (or up to a year after it)."""
    if data.goal_id is not None:
        known = queries.next_year_baseline(review.cycle_id, data.goal_id, utcnow().date())
        baseline, baseline_on = known if known is not None else (None, None)
    else:
        baseline, baseline_on = data.baseline_value, data.baseline_on
    if baseline is not None:
        problem = direction_problem(
            GoalDirection(data.direction), float(baseline), float(data.target_value)
        )
        if problem:
            raise ReviewError("target_value", problem)
    starts, ends, last_due = next_year_due_range(queries.load_cycle(review.cycle_id).year)
    if data.due_on is not None:
        if not starts <= data.due_on <= last_due:
            raise ReviewError(
                "due_on",
                str(NEXT_DUE_OUT_OF_RANGE)
                % {"first": format_date(starts, "long"), "last": format_date(last_due, "long")},
            )
        if baseline_on is not None and data.due_on <= baseline_on:
            raise ReviewError("due_on", str(DUE_NOT_AFTER_BASELINE))
    elif data.baseline_on is not None and data.baseline_on >= ends:
        raise ReviewError(
            "baseline_on", str(NEXT_BASELINE_AFTER_YEAR) % {"day": format_date(ends, "long")}
        )


def _apply_proposed(proposed: ProposedGoal, data: ProposedGoalData) -> None:
    proposed.goal_id = data.goal_id
    proposed.title = data.title
    proposed.category = GoalCategory(data.category)
    proposed.metric = data.metric
    proposed.unit = data.unit
    proposed.baseline_value = data.baseline_value
    proposed.baseline_on = data.baseline_on
    proposed.target_value = data.target_value
    proposed.direction = GoalDirection(data.direction)
    proposed.due_on = data.due_on


def add_proposed_goal(
    actor: User, review: GoalsReview, data: ProposedGoalData
) -> tuple[ProposedGoal, Change]:
    _check_open(review)
    cleaned = _check_proposed(review, data)
    last = db.session.scalar(
        sa.select(sa.func.max(ProposedGoal.position)).where(ProposedGoal.review_id == review.id)
    )
    proposed = ProposedGoal(review_id=review.id, position=(last or 0) + 1)
    _apply_proposed(proposed, cleaned)
    db.session.add(proposed)
    change = _record_changed(actor, review)
    _flush()
    return proposed, change


def update_proposed_goal(
    actor: User,
    review: GoalsReview,
    proposed: ProposedGoal,
    data: ProposedGoalData,
    *,
    version: int | None,
) -> Change:
    _check_open(review)
    _check_version(review, version)
    cleaned = _check_proposed(review, data)
    _apply_proposed(proposed, cleaned)
    if not db.session.is_modified(proposed):
        return Change()
    change = _record_changed(actor, review)
    _flush()
    return change


def delete_proposed_goal(actor: User, review: GoalsReview, proposed: ProposedGoal) -> Change:
    _check_open(review)
    db.session.delete(proposed)
    change = _record_changed(actor, review)
    try:
        db.session.flush()
    except StaleDataError as error:
        raise ReviewError(None, str(GONE)) from error
    return change


# Signing ---------------------------------------------------------------------------------------


def build_snapshot(review: GoalsReview, today: date | None = None) -> dict[str, Any]:
    """The review as signed: the packet of its cycle as it stands `today` (by default the
    day in UTC), the ratings, notes, next year's goals, the meeting and both signatures."""
    packet = queries.assemble_packet(review.cycle_id, today or utcnow().date())
    row = queries.review_row(review)
    return queries.meeting_record(review, packet, lead=row.lead, staff=row.staff)


def packet_digest(cycle_id: int, day: date) -> str:
    """sha256 of the cycle's packet as assembled on `day` (canonical JSON: sorted keys, no
    spaces). Both signatures compute it for the same day — the first signature's, in UTC —
    so it changes only when the content changes (a goal, a measurement, support hours…),
    never because a day passed between the two signatures."""
    return _digest_of(queries.assemble_packet(cycle_id, day))


def _digest_of(packet: dict[str, Any]) -> str:
    canonical = json.dumps(packet, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_next_goals_fit(review: GoalsReview, packet: dict[str, Any]) -> None:
    """Next year's goals as they would be signed still keep the direction rule: a goal that
    continues this year's goal takes its latest value as baseline, which may have moved
    since the goal was proposed."""
    record = queries.meeting_record(review, packet, lead=None, staff=None)
    for entry in record["next_goals"]:
        baseline = entry["baseline"]
        if baseline is None:
            continue
        problem = direction_problem(
            GoalDirection(entry["direction"]), float(baseline["value"]), float(entry["target"])
        )
        if problem:
            raise ReviewError(
                None, str(NEXT_GOAL_OFF_RULE) % {"title": entry["title"], "problem": problem}
            )


def _signing_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def unrated_goals(review: GoalsReview) -> list[str]:
    """Titles of the cycle's goals without a rating in this review."""
    goals = queries.cycle_goal_ids(review.cycle_id)
    rated = {rating.goal_id for rating in queries.ratings_of(review.id)}
    return [title for goal_id, title in goals.items() if goal_id not in rated]


def sign_review(
    actor: User,
    review: GoalsReview,
    side: str,
    version: int | None,
    *,
    today: date | None = None,
    notify: bool = True,
) -> Signed:
    """Sign the review as the lead teacher (`side="lead"`) or the staff reviewer ("staff"),
    having read it at `version`. Who may sign is the policy's question (the view asks it).

    The first signature stores the digest of the packet it was given on. The second one
    recomputes it: when a goal, a measurement or anything else in the packet changed in
    between (or no digest was stored), the first signature is withdrawn (audited), nothing
    is signed and `Signed.message` says so — both read the packet again and sign. Otherwise
    the second signature freezes the review with its snapshot, in the same transaction."""
    _check_open(review)
    if side not in SIDES:
        raise ReviewError("side", str(UNKNOWN_SIDE))
    _check_version(review, version, STALE_SIGNATURE)
    if getattr(review, f"{side}_signed_at") is not None:
        raise ReviewError("side", str(SIDE_SIGNED))
    other = STAFF if side == LEAD else LEAD
    if getattr(review, f"{other}_signed_by_id") == actor.id:
        raise ReviewError("side", str(SAME_PERSON))
    missing = unrated_goals(review)
    if missing:
        titles = ", ".join(f"“{title}”" for title in missing)
        raise ReviewError(None, str(RATE_EVERY_GOAL) % {"titles": titles})
    now = utcnow()
    first_signed_at = getattr(review, f"{other}_signed_at")
    packet = queries.assemble_packet(review.cycle_id, _signing_day(first_signed_at or now))
    digest = _digest_of(packet)
    if first_signed_at is not None and review.signed_digest != digest:
        withdrawn = _withdraw_signature(actor, review, reason="packet")
        review.updated_at = utcnow()  # the version moves on: open sign buttons are stale
        _flush(STALE_SIGNATURE)
        names = ", ".join(name for name in withdrawn if name) or str(_l("the other party"))
        return Signed(
            review=review,
            frozen=False,
            withdrawn=withdrawn,
            message=str(PACKET_CHANGED) % {"name": names},
        )
    _check_next_goals_fit(review, packet)
    review.signed_digest = digest
    setattr(review, f"{side}_signed_by_id", actor.id)
    setattr(review, f"{side}_signed_at", now)
    if review.status == ReviewStatus.SCHEDULED:
        review.status = ReviewStatus.IN_MEETING
    frozen = review.lead_signed_at is not None and review.staff_signed_at is not None
    _flush(STALE_SIGNATURE)
    if frozen:
        review.snapshot = build_snapshot(review, today)
        review.frozen_at = now
        review.status = ReviewStatus.SIGNED
        if review.amends_review_id is not None:
            corrected = db.session.get(GoalsReview, review.amends_review_id)
            if corrected is not None:
                corrected.status = ReviewStatus.AMENDED
        _flush(STALE_SIGNATURE)
    audit.record(
        actor,
        "cycle.review_signed",
        review,
        details={"side": side, "frozen": frozen, "version": review.version},
    )
    if notify and not frozen:
        _tell_other_side(actor, review, side)
    return Signed(review=review, frozen=frozen)


def _tell_other_side(actor: User, review: GoalsReview, side: str) -> None:
    """One party signed: ask the other to read and sign (the lead teachers, or the staff
    side: `staff_side`)."""
    people = queries.lead_teachers(review.cycle_id) if side == STAFF else staff_side(review)
    if not people:
        return
    ctx = queries.load_cycle(review.cycle_id)
    link = app_path("cycles.review_show", cycle_id=review.cycle_id, review_id=review.id)
    context = {
        "school": ctx.school.name,
        "year": ctx.year.label,
        "signer": actor.name,
        "as_lead": side == LEAD,
    }
    notify_many(
        "cycles/review_signed",
        [
            Entry(
                person,
                f"cycle-review-signed:{review.id}:{review.version}:{side}:{person.id}",
                link,
                context,
            )
            for person in people
            if person.id != actor.id
        ],
    )


# Sending the packet --------------------------------------------------------------------------


@dataclass(frozen=True)
class PacketSent:
    """What "send the packet" did: `told` people were notified now, out of the `recipients`
    on the other side (0 told of some recipients: they already have this very packet)."""

    told: int
    recipients: int


def staff_side(review: GoalsReview) -> list[User]:
    """The review's staff party: the staff member who scheduled it and, when someone else
    signed as the staff reviewer, that person too (active accounts only)."""
    ids = [i for i in dict.fromkeys((review.scheduled_by_id, review.staff_signed_by_id)) if i]
    if not ids:
        return []
    found = {
        person.id: person
        for person in db.session.scalars(
            sa.select(User).where(User.id.in_(ids), User.is_active.is_(True))
        )
    }
    return [found[i] for i in ids if i in found]


def _other_party(actor: User, review: GoalsReview) -> tuple[bool, list[User]]:
    """(whether `actor` sends as a lead teacher, the people of the other party)."""
    # One query for both sides: the cycle's active lead teachers and the staff party.
    staff_ids = [i for i in dict.fromkeys((review.scheduled_by_id, review.staff_signed_by_id)) if i]
    is_lead = sa.exists().where(
        CycleMembership.user_id == User.id,
        CycleMembership.cycle_id == review.cycle_id,
        CycleMembership.role == CycleRole.LEAD_TEACHER,
    )
    rows = db.session.execute(
        sa.select(User, is_lead)
        .where(User.is_active.is_(True), sa.or_(is_lead, User.id.in_(staff_ids)))
        .order_by(User.id)
    ).all()
    leads = [person for person, lead in rows if lead]
    staff = {person.id: person for person, _ in rows}
    as_lead = any(lead.id == actor.id for lead in leads)
    people = [staff[i] for i in staff_ids if i in staff] if as_lead else leads
    return as_lead, [person for person in people if person.id != actor.id]


def packet_recipients(actor: User, review: GoalsReview) -> list[User]:
    """Who "send the packet" tells: the other party of the review. A lead teacher of the
    cycle sends it to the staff side (`staff_side`); anyone else who may record the review
    (staff) sends it to the cycle's active lead teachers. Never the sender."""
    return _other_party(actor, review)[1]


def packet_key(review: GoalsReview, digest: str, person: User) -> str:
    return f"cycles/packet_ready:review={review.id}:packet={digest}:to={person.id}"


def send_packet(actor: User, review: GoalsReview) -> PacketSent:
    """Tell the other party (`packet_recipients`) that the review packet is ready to read.

    Each recipient is told once per packet: the key holds the packet's digest
    (`packet_digest`), assembled for the meeting day so that a day passing changes nothing.
    Sending an unchanged packet again tells nobody; once a goal, a measurement, support
    hours or the meeting date change, the packet is new and can be sent again."""
    _check_open(review)
    as_lead, people = _other_party(actor, review)
    if not people:
        return PacketSent(told=0, recipients=0)
    digest = packet_digest(review.cycle_id, review.scheduled_for)
    ctx = queries.load_cycle(review.cycle_id)
    link = app_path(
        "cycles.review_show", cycle_id=review.cycle_id, review_id=review.id, _anchor="packet"
    )
    context = {
        "school": ctx.school.name,
        "year": ctx.year.label,
        "on": review.scheduled_for,
        "sender": actor.name,
        "as_lead": as_lead,
    }
    created = notify_many(
        "cycles/packet_ready",
        [Entry(person, packet_key(review, digest, person), link, context) for person in people],
    )
    if created:
        audit.record(
            actor,
            "cycle.review_packet_sent",
            review,
            details={"cycle_id": review.cycle_id, "packet": digest, "told": len(created)},
        )
    return PacketSent(told=len(created), recipients=len(people))


# Amendments --------------------------------------------------------------------------------


def start_amendment(actor: User, review: GoalsReview, *, today: date | None = None) -> GoalsReview:
    """A new review of the same cycle correcting the signed `review`, in the meeting, to be
    signed again by both. It starts from what was signed — the frozen snapshot, not today's
    rows: the meeting, the notes, the ratings and next year's goals.

    - A rating of a goal still in the cycle becomes a rating of the amendment. A rating of a
      goal deleted since cannot (a rating belongs to a goal): it is kept in the amendment's
      notes, in a short list headed "Ratings signed for goals since removed".
    - Next year's goals are recreated as rows. One that continues a goal still in the cycle
      continues it again (its baseline is that goal's latest value when the amendment is
      signed); one whose continued goal was deleted keeps the baseline value and date that
      were signed, as its own baseline.
    """
    # One amendment at a time: a second click waits for the first to commit, then finds it.
    _lock_cycle(review.cycle_id)
    db.session.refresh(review)
    if review.frozen_at is None:
        raise ReviewError(None, str(NOT_FROZEN))
    if review.status == ReviewStatus.AMENDED:
        raise ReviewError(None, str(ALREADY_AMENDED))
    if queries.open_amendment_of(review.id) is not None:
        raise ReviewError(None, str(OPEN_AMENDMENT))
    record = queries.normalise_record(review.snapshot)
    meeting = record["meeting"]
    live_goals = queries.cycle_goal_ids(review.cycle_id)
    ratings, removed = _ratings_from_snapshot(record["ratings"], live_goals)
    amendment = GoalsReview(
        cycle_id=review.cycle_id,
        scheduled_for=today or utcnow().date(),
        location=str(meeting.get("location") or review.location or ""),
        participants="\n".join(str(name) for name in meeting["participants"])
        or review.participants,
        status=ReviewStatus.IN_MEETING,
        notes_md=_notes_with_removed(record["notes_md"], removed),
        scheduled_by_id=actor.id,
        amends_review_id=review.id,
    )
    db.session.add(amendment)
    db.session.flush()
    rated_by = {rating.goal_id: rating.rated_by_id for rating in queries.ratings_of(review.id)}
    for goal_id, (value, comment) in ratings.items():
        db.session.add(
            GoalRating(
                review_id=amendment.id,
                goal_id=goal_id,
                rating=value,
                comment=comment,
                rated_by_id=rated_by.get(goal_id),
            )
        )
    for position, entry in enumerate(record["next_goals"], start=1):
        proposed = _proposed_from_snapshot(entry, live_goals)
        if proposed is not None:
            proposed.review_id = amendment.id
            proposed.position = position
            db.session.add(proposed)
    db.session.flush()
    audit.record(
        actor,
        "cycle.review_amendment_started",
        amendment,
        details={
            "amends": review.id,
            "cycle_id": review.cycle_id,
            "ratings_of_removed_goals": len(removed),
        },
    )
    return amendment


def _ratings_from_snapshot(
    entries: list[Any], live_goals: dict[int, str]
) -> tuple[dict[int, tuple[Rating, str]], list[dict[str, Any]]]:
    """The signed ratings: {goal id: (rating, comment)} for goals still in the cycle, and
    the entries of goals removed since."""
    kept: dict[int, tuple[Rating, str]] = {}
    removed: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        try:
            value = Rating(str(entry.get("rating")))
        except ValueError:
            continue
        comment = str(entry.get("comment") or "")
        if entry.get("goal_id") in live_goals:
            kept[int(entry["goal_id"])] = (value, comment)
        else:
            removed.append(
                {"title": str(entry.get("title") or ""), "rating": value, "comment": comment}
            )
    return kept, removed


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _notes_with_removed(notes: str, removed: list[dict[str, Any]]) -> str:
    """The signed notes, with the signed ratings of goals removed since listed after them."""
    if not removed:
        return notes
    lines = [str(REMOVED_GOAL_RATINGS)]
    for entry in removed:
        line = str(REMOVED_GOAL_RATING) % {
            "title": _one_line(entry["title"]),
            "rating": RATING_LABELS[entry["rating"].value],
        }
        if entry["comment"].strip():
            line += " — " + _one_line(entry["comment"])
        lines.append(f"- {line}")
    block = "\n".join(lines)
    return f"{notes.rstrip()}\n\n{block}" if notes.strip() else block


def _snapshot_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _proposed_from_snapshot(entry: Any, live_goals: dict[int, str]) -> ProposedGoal | None:
    """A next year's goal of the snapshot as a new row (None for an unreadable entry)."""
    if not isinstance(entry, dict):
        return None
    try:
        category = GoalCategory(str(entry.get("category")))
        direction = GoalDirection(str(entry.get("direction")))
        target = float(entry["target"])
    except (KeyError, TypeError, ValueError):
        return None
    continues = _mapping(entry.get("continues"))
    continued_id = continues.get("goal_id")
    goal_id = continued_id if isinstance(continued_id, int) and continued_id in live_goals else None
    baseline = _mapping(entry.get("baseline"))
    baseline_value: float | None = None
    baseline_on: date | None = None
    if goal_id is None and baseline.get("value") is not None:
        # A new goal's own baseline, or the signed baseline of a goal deleted since.
        baseline_value = float(baseline["value"])
        baseline_on = _snapshot_day(baseline.get("on"))
    return ProposedGoal(
        goal_id=goal_id,
        title=str(entry.get("title") or "")[:200],
        category=category,
        metric=str(entry.get("metric") or "")[:300],
        unit=str(entry.get("unit") or "")[:40],
        baseline_value=baseline_value,
        baseline_on=baseline_on,
        target_value=target,
        direction=direction,
        due_on=_snapshot_day(entry.get("due_on")),
    )


def record_packet_download(actor: User, review: GoalsReview) -> None:
    """The packet PDF left the app (an export): audited."""
    audit.record(
        actor,
        "cycle.review_packet_downloaded",
        review,
        details={"cycle_id": review.cycle_id, "frozen": review.frozen_at is not None},
    )
