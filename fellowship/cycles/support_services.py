"""Support log rules: technical assistance, professional development and coaching given to a
school, logged in its cycle (add, change, remove), and the audit row of an export.

An entry's provider is the person who logged it (`provider_id`); `provider_name` is their
organisation, defaulted from their cycle membership and editable. Services flush and audit;
the view commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from fellowship import audit
from fellowship.auth.models import User
from fellowship.cycles.goal_services import (
    FUTURE_SLACK,
    NumberProblem,
    check_number,
)
from fellowship.cycles.models import Cycle, Goal, SupportActivity, SupportKind
from fellowship.db import db, utcnow
from fellowship.forms import EARLIEST_DATE

MIN_HOURS = 0.0  # exclusive
MAX_HOURS = 24.0
MAX_PARTICIPANTS = 10_000
MAX_TOPIC = 300
MAX_ORGANISATION = 200
MAX_NOTES = 5000

KIND_NEEDED = _l("Choose the kind of support.")
HELD_ON_NEEDED = _l("Enter the date the support was given, like 2026-09-15.")
DATE_TOO_EARLY = _l("Enter a date in 1950 or later.")
HELD_IN_FUTURE = _l(
    "Log support once it has been given: the date cannot be later than tomorrow (%(day)s)."
)
HOURS_NEEDED = _l("Enter the hours, like 1.5.")
HOURS_RANGE = _l(
    "Enter the hours of this entry: more than 0 and at most 24 (quarter hours are fine: 1.25)."
)
PARTICIPANTS_RANGE = _l("Enter the number of participants, a whole number from 0 to 10,000.")
TOPIC_NEEDED = _l("Enter the topic.")
TOPIC_TOO_LONG = _l("Keep the topic to 300 characters or fewer.")
ORGANISATION_TOO_LONG = _l("Keep the organisation to 200 characters or fewer.")
NOTES_TOO_LONG = _l("Keep the notes to 5,000 characters or fewer.")
GOAL_NOT_IN_CYCLE = _l("Choose one of this cycle’s goals, or none.")


class SupportError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class SupportData:
    kind: str | None
    held_on: date | None
    hours: float | None
    participants: int | None
    topic: str
    provider_name: str = ""
    goal_id: int | None = None
    notes: str = ""


@dataclass(frozen=True)
class CleanSupport:
    kind: SupportKind
    held_on: date
    hours: float
    participants: int
    topic: str
    provider_name: str
    goal_id: int | None
    notes: str


def held_on_problem(day: date, today: date) -> str | None:
    """Why support cannot be logged for this day (1950 to tomorrow), or None."""
    if day < EARLIEST_DATE:
        return str(DATE_TOO_EARLY)
    latest = today + FUTURE_SLACK
    if day > latest:
        return str(HELD_IN_FUTURE) % {"day": format_date(latest, "long")}
    return None


def hours_problem(hours: float) -> str | None:
    try:
        check_number(hours)
    except NumberProblem:
        return str(HOURS_RANGE)
    if not MIN_HOURS < hours <= MAX_HOURS:
        return str(HOURS_RANGE)
    return None


def _text(field: str, value: str | None, limit: int, too_long: Any, needed: Any = None) -> str:
    value = (value or "").strip()
    if needed is not None and not value:
        raise SupportError(field, str(needed))
    if len(value) > limit:
        raise SupportError(field, str(too_long))
    return value


def check_support(cycle: Cycle, data: SupportData, today: date) -> CleanSupport:
    """The entry's fields cleaned, or SupportError naming the first field in error."""
    try:
        kind = SupportKind(data.kind or "")
    except ValueError as error:
        raise SupportError("kind", str(KIND_NEEDED)) from error
    if data.held_on is None:
        raise SupportError("held_on", str(HELD_ON_NEEDED))
    problem = held_on_problem(data.held_on, today)
    if problem:
        raise SupportError("held_on", problem)
    if data.hours is None:
        raise SupportError("hours", str(HOURS_NEEDED))
    problem = hours_problem(data.hours)
    if problem:
        raise SupportError("hours", problem)
    participants = data.participants if data.participants is not None else 0
    if not 0 <= participants <= MAX_PARTICIPANTS:
        raise SupportError("participants", str(PARTICIPANTS_RANGE))
    topic = _text("topic", data.topic, MAX_TOPIC, TOPIC_TOO_LONG, TOPIC_NEEDED)
    organisation = _text(
        "provider_name", data.provider_name, MAX_ORGANISATION, ORGANISATION_TOO_LONG
    )
    notes = _text("notes", data.notes, MAX_NOTES, NOTES_TOO_LONG)
    if data.goal_id is not None:
        owner = db.session.scalar(sa.select(Goal.cycle_id).where(Goal.id == data.goal_id))
        if owner != cycle.id:
            raise SupportError("goal", str(GOAL_NOT_IN_CYCLE))
    return CleanSupport(
        kind=kind,
        held_on=data.held_on,
        hours=float(data.hours),
        participants=participants,
        topic=topic,
        provider_name=organisation,
        goal_id=data.goal_id,
        notes=notes,
    )


_FIELDS = ("kind", "held_on", "hours", "participants", "topic", "provider_name", "goal_id", "notes")


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


def _apply(activity: SupportActivity, clean: CleanSupport) -> dict[str, list[Any]]:
    changes: dict[str, list[Any]] = {}
    for name in _FIELDS:
        old, new = getattr(activity, name), getattr(clean, name)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(activity, name, new)
    return changes


def _details(activity: SupportActivity) -> dict[str, Any]:
    return {name: _jsonable(getattr(activity, name)) for name in _FIELDS} | {
        "cycle_id": activity.cycle_id,
        "provider_id": activity.provider_id,
    }


def log_support(
    actor: User, cycle: Cycle, data: SupportData, *, today: date | None = None
) -> SupportActivity:
    """A new entry given by `actor` (the signed-in person) to the cycle's school."""
    clean = check_support(cycle, data, today or utcnow().date())
    activity = SupportActivity(cycle_id=cycle.id, provider_id=actor.id, recorded_by_id=actor.id)
    _apply(activity, clean)
    db.session.add(activity)
    db.session.flush()
    audit.record(actor, "cycle.support_logged", activity, details=_details(activity))
    return activity


def update_support(
    actor: User,
    cycle: Cycle,
    activity: SupportActivity,
    data: SupportData,
    *,
    today: date | None = None,
) -> SupportActivity:
    """Change an entry; its provider stays the person who logged it."""
    clean = check_support(cycle, data, today or utcnow().date())
    changes = _apply(activity, clean)
    activity.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "cycle.support_updated", activity, details={"changes": changes})
    return activity


def delete_support(actor: User, activity: SupportActivity) -> None:
    audit.record(actor, "cycle.support_deleted", activity, details=_details(activity))
    db.session.delete(activity)
    db.session.flush()


def record_export(actor: User, year_label: str, rows: int, *, scope: str) -> None:
    """The audit row of a support report export (the CSV itself is built by the view)."""
    audit.record(
        actor,
        "cycle.support_exported",
        None,
        details={"school_year": year_label, "rows": rows, "scope": scope},
    )
