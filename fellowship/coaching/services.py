"""Check-in rules: log, edit (optimistic locking), share, reply, mark action items done.

Services flush, audit and queue mail; the view commits. Private notes are written here and
read only by `queries.private_notes_for`; they never go into an audit row, an email or any
return value other than the check-in the coach saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit
from fellowship.auth.models import User
from fellowship.coaching import queries
from fellowship.coaching.models import (
    ActionItem,
    CheckIn,
    CheckInFocus,
    CheckInMode,
    CheckInPrivateNote,
    CheckInReply,
)
from fellowship.cohorts.models import Cohort
from fellowship.db import db, utcnow
from fellowship.notifications.services import app_path, notify

MIN_DURATION = 5
MAX_DURATION = 600
MAX_ITEMS = 50
ENTER_DATE = _l("Enter the date, like 2026-09-15.")
FUTURE_DATE = _l("The check-in date cannot be more than a day ahead.")
DURATION_RANGE = _l("Enter the length in minutes, from 5 to 600.")
DESCRIPTION_NEEDED = _l("Describe the action item, or clear its due date.")
TOO_FAR_AHEAD = _l("Choose a date within the next two years.")
NEXT_AFTER_HELD = _l("The next check-in must be on or after this one.")


def latest_allowed_day() -> date:
    """A check-in may be dated at most one day ahead (time zones differ by up to a day)."""
    return utcnow().date() + timedelta(days=1)


class CheckInError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEdit(CheckInError):
    """Someone saved the check-in after this form was opened (another tab, another device)."""


STALE_MESSAGE = _l(
    "This check-in was changed in another tab or window while you were editing. Your changes "
    "were not saved. The form below still has what you typed; the saved check-in is shown "
    "above it. Save again to replace it with yours."
)


@dataclass
class ItemData:
    id: int | None
    owner_id: int
    description: str
    due_on: date | None = None


@dataclass
class CheckInData:
    held_on: date
    duration_minutes: int
    mode: CheckInMode
    focus_strand_ids: list[int] = field(default_factory=list)
    shared_summary_md: str = ""
    next_steps_md: str = ""
    private_notes_md: str = ""
    next_checkin_on: date | None = None
    items: list[ItemData] = field(default_factory=list)


def _check(data: CheckInData, cohort: Cohort, coach_id: int, fellow_id: int) -> None:
    if data.held_on > latest_allowed_day():
        raise CheckInError(str(FUTURE_DATE), "held_on")
    if not MIN_DURATION <= data.duration_minutes <= MAX_DURATION:
        raise CheckInError(str(DURATION_RANGE), "duration_minutes")
    if data.next_checkin_on is not None and data.next_checkin_on < data.held_on:
        raise CheckInError(str(NEXT_AFTER_HELD), "next_checkin_on")
    horizon = utcnow().date() + timedelta(days=2 * 366)
    if data.next_checkin_on is not None and data.next_checkin_on > horizon:
        raise CheckInError(str(TOO_FAR_AHEAD), "next_checkin_on")
    if any(item.due_on is not None and item.due_on > horizon for item in data.items):
        raise CheckInError(str(TOO_FAR_AHEAD), "items")
    strands = {strand.id for strand in cohort.strands}
    if not set(data.focus_strand_ids) <= strands:
        raise CheckInError(str(_l("Choose focus areas from the cohort's strands.")), "focus")
    if len(data.items) > MAX_ITEMS:
        raise CheckInError(str(_l("A check-in has at most 50 action items.")), "items")
    for item in data.items:
        if item.owner_id not in (coach_id, fellow_id):
            raise CheckInError(str(_l("An action item belongs to the fellow or to you.")), "items")
        if not item.description.strip():
            raise CheckInError(str(DESCRIPTION_NEEDED), "items")


def _apply(checkin: CheckIn, data: CheckInData) -> None:
    checkin.held_on = data.held_on
    checkin.duration_minutes = data.duration_minutes
    checkin.mode = data.mode
    checkin.shared_summary_md = data.shared_summary_md.strip()
    checkin.next_steps_md = data.next_steps_md.strip()
    checkin.next_checkin_on = data.next_checkin_on


def _set_private_notes(checkin: CheckIn, coach_id: int, body: str) -> None:
    """Write the coach's notes without ever reading them (an empty text removes the row)."""
    body = body.strip()
    mine = sa.and_(
        CheckInPrivateNote.checkin_id == checkin.id, CheckInPrivateNote.coach_id == coach_id
    )
    if not body:
        db.session.execute(
            sa.delete(CheckInPrivateNote).where(mine),
            execution_options={"synchronize_session": False},
        )
        return
    result = db.session.execute(
        sa.update(CheckInPrivateNote).where(mine).values(body_md=body, updated_at=utcnow()),
        execution_options={"synchronize_session": False},  # no SELECT, not even of the key
    )
    if getattr(result, "rowcount", 0) == 0:
        db.session.add(CheckInPrivateNote(checkin_id=checkin.id, coach_id=coach_id, body_md=body))


def _set_focus(checkin: CheckIn, strand_ids: Iterable[int]) -> None:
    wanted = set(strand_ids)
    current = set(queries.focus_ids(checkin.id))
    if current - wanted:
        db.session.execute(
            sa.delete(CheckInFocus).where(
                CheckInFocus.checkin_id == checkin.id,
                CheckInFocus.strand_id.in_(current - wanted),
            )
        )
    for strand_id in sorted(wanted - current):
        db.session.add(CheckInFocus(checkin_id=checkin.id, strand_id=strand_id))


def _set_items(checkin: CheckIn, items: list[ItemData], *, removed: set[int]) -> list[ActionItem]:
    """Update the listed items, add the new ones, delete those in `removed`; the new items."""
    existing = {item.id: item for item in queries.action_items([checkin.id])[checkin.id]}
    unknown = {item.id for item in items if item.id is not None} - set(existing)
    if unknown or not removed <= set(existing):
        raise CheckInError(str(_l("An action item of another check-in was sent.")), "items")
    added = []
    for position, data in enumerate(items):
        row = existing.get(data.id) if data.id is not None else None
        if row is None:
            row = ActionItem(checkin_id=checkin.id)
            db.session.add(row)
            added.append(row)
        row.owner_id = data.owner_id
        row.description = data.description.strip()[:500]
        row.due_on = data.due_on
        row.position = position
    for item_id in removed:
        db.session.delete(existing[item_id])
    return added


def log_checkin(
    actor: User, cohort: Cohort, fellow: User, data: CheckInData, *, share: bool
) -> CheckIn:
    """A new check-in by `actor` (the fellow's coach), a draft unless `share`."""
    _check(data, cohort, actor.id, fellow.id)
    checkin = CheckIn(cohort_id=cohort.id, coach_id=actor.id, fellow_id=fellow.id)
    _apply(checkin, data)
    db.session.add(checkin)
    db.session.flush()
    _set_private_notes(checkin, actor.id, data.private_notes_md)
    _set_focus(checkin, data.focus_strand_ids)
    _set_items(checkin, data.items, removed=set())
    db.session.flush()
    audit.record(
        actor,
        "checkin_logged",
        checkin,
        details={"cohort_id": cohort.id, "fellow_id": fellow.id, "shared": share},
    )
    if share:
        share_checkin(actor, checkin)
    return checkin


def update_checkin(
    actor: User,
    checkin: CheckIn,
    data: CheckInData,
    *,
    version: int | None,
    removed_items: Iterable[int] = (),
    share: bool = False,
) -> CheckIn:
    """Save an edit made on the form opened at `version`; StaleEdit when someone saved since.

    Every save bumps the version, focus and items and notes included, so a second tab is
    told instead of silently overwriting.
    """
    if version != checkin.version:
        raise StaleEdit(str(STALE_MESSAGE))
    cohort = db.session.get(Cohort, checkin.cohort_id)
    assert cohort is not None
    _check(data, cohort, checkin.coach_id, checkin.fellow_id)
    _apply(checkin, data)
    checkin.updated_at = utcnow()  # always an UPDATE, so the version moves on
    try:
        db.session.flush()
    except StaleDataError as error:  # a save committed between our read and our write
        raise StaleEdit(str(STALE_MESSAGE)) from error
    _set_private_notes(checkin, actor.id, data.private_notes_md)
    _set_focus(checkin, data.focus_strand_ids)
    added = _set_items(checkin, data.items, removed=set(removed_items))
    db.session.flush()
    audit.record(
        actor,
        "checkin_updated",
        checkin,
        details={"cohort_id": checkin.cohort_id, "fellow_id": checkin.fellow_id},
    )
    if share and checkin.shared_at is None:
        share_checkin(actor, checkin)
    elif checkin.shared_at is not None:
        _notify_new_items(checkin, added)
    return checkin


def share_checkin(actor: User, checkin: CheckIn) -> bool:
    """Share a draft with the fellow and tell them (once, ever). False if already shared."""
    if checkin.shared_at is not None:
        return False
    checkin.shared_at = utcnow()
    checkin.updated_at = checkin.shared_at
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(str(STALE_MESSAGE)) from error
    audit.record(
        actor,
        "checkin_shared",
        checkin,
        details={"cohort_id": checkin.cohort_id, "fellow_id": checkin.fellow_id},
    )
    fellow = db.session.get(User, checkin.fellow_id)
    assert fellow is not None
    items = [
        item
        for item in queries.action_items([checkin.id])[checkin.id]
        if item.owner_id == fellow.id
    ]
    notify(
        fellow,
        "coaching/checkin_shared",
        key=f"checkin-shared-{checkin.id}",
        link=app_path("coaching.checkin", checkin_id=checkin.id),
        coach=actor.name,
        held_on=checkin.held_on,
        next_checkin_on=checkin.next_checkin_on,
        items=[(item.description, item.due_on) for item in items],
    )
    return True


def _notify_new_items(checkin: CheckIn, added: list[ActionItem]) -> None:
    """Items given to the fellow after the check-in was shared: tell the fellow (once)."""
    theirs = [item for item in added if item.owner_id == checkin.fellow_id]
    if not theirs:
        return
    fellow = db.session.get(User, checkin.fellow_id)
    coach = db.session.get(User, checkin.coach_id)
    assert fellow is not None
    assert coach is not None
    notify(
        fellow,
        "coaching/action_items_assigned",
        # The first new item names this batch: saving the same items again tells nobody.
        key=f"action-items-{checkin.id}-{min(item.id for item in theirs)}",
        link=app_path("coaching.checkin", checkin_id=checkin.id),
        coach=coach.name,
        held_on=checkin.held_on,
        items=[(item.description, item.due_on) for item in theirs],
    )


def reply_to_checkin(actor: User, checkin: CheckIn, body: str) -> CheckInReply:
    body = body.strip()
    if not body:
        raise CheckInError(str(_l("Write a reply before sending it.")), "body")
    reply = CheckInReply(checkin_id=checkin.id, author_id=actor.id, body_md=body[:5000])
    db.session.add(reply)
    db.session.flush()
    return reply


def toggle_action_item(actor: User, item: ActionItem) -> bool:
    """Mark the item done, or not done again; returns whether it is done now."""
    if item.done_at is None:
        item.done_at = utcnow()
        item.done_by_id = actor.id
    else:
        item.done_at = None
        item.done_by_id = None
    db.session.flush()
    return item.done_at is not None
