"""Convening rules: scheduling, editing, deleting, taking attendance.

Services flush, audit and notify; the view commits. Nothing here reads the request or the
session; times arrive as timezone-aware datetimes (see `local_to_utc`) and are stored in UTC.

Scheduling a convening tells the cohort's active members, and so does a change of its time,
place or online link (not of its title or agenda), each with the event as an .ics file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit
from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, CohortMembership, MembershipStatus
from fellowship.convenings import queries
from fellowship.convenings.forms import KIND_LABELS
from fellowship.convenings.models import (
    Attendance,
    AttendanceStatus,
    Convening,
    ConveningFacilitator,
    ConveningKind,
)
from fellowship.db import db, utcnow
from fellowship.mail import Attachment
from fellowship.markdown import markdown_to_text
from fellowship.notifications.services import Entry, absolute, app_path, notify_many


class ConveningError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEdit(ConveningError):
    """Someone else saved the convening after this form was opened."""


def local_to_utc(day: date, at: time, zone: str, *, field: str) -> datetime:
    """A wall-clock date and time in `zone` (IANA), as UTC.

    A time that does not exist in the zone (skipped when clocks go forward) is refused
    instead of being silently moved.
    """
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz)
    result = local.astimezone(UTC)
    if result.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ConveningError(
            str(
                _l(
                    "This time does not exist in your time zone (the clocks change). "
                    "Choose another."
                )
            ),
            field,
        )
    return result


@dataclass
class ConveningData:
    title: str
    kind: ConveningKind
    starts_at: datetime
    ends_at: datetime
    location: str = ""
    online_url: str = ""
    agenda_md: str = ""
    facilitator_ids: list[int] = field(default_factory=list)


def _check(data: ConveningData, allowed_facilitators: Iterable[int]) -> None:
    if not data.title.strip():
        raise ConveningError(str(_l("Enter a title.")), "title")
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise ValueError("convening times must be timezone-aware")
    if data.ends_at <= data.starts_at:
        raise ConveningError(str(_l("The end must be after the start.")), "ends_time")
    online = data.online_url.strip()
    if online and not online.lower().startswith(("https://", "http://")):
        raise ConveningError(
            str(_l("Enter a web address that starts with https:// (or http://).")), "online_url"
        )
    unknown = set(data.facilitator_ids) - set(allowed_facilitators)
    if unknown:
        raise ConveningError(
            str(_l("Choose facilitators from the cohort's facilitators.")), "facilitators"
        )


def _apply(convening: Convening, data: ConveningData) -> None:
    convening.title = data.title.strip()
    convening.kind = data.kind
    convening.starts_at = data.starts_at
    convening.ends_at = data.ends_at
    convening.location = data.location.strip() or None
    convening.online_url = data.online_url.strip() or None
    convening.agenda_md = data.agenda_md.strip()


def _set_facilitators(convening: Convening, user_ids: Iterable[int]) -> None:
    wanted = set(user_ids)
    current = set(
        db.session.scalars(
            sa.select(ConveningFacilitator.user_id).where(
                ConveningFacilitator.convening_id == convening.id
            )
        )
    )
    if current - wanted:
        db.session.execute(
            sa.delete(ConveningFacilitator).where(
                ConveningFacilitator.convening_id == convening.id,
                ConveningFacilitator.user_id.in_(current - wanted),
            )
        )
    for user_id in sorted(wanted - current):
        db.session.add(ConveningFacilitator(convening_id=convening.id, user_id=user_id))


def facilitator_choices(cohort_id: int, convening: Convening | None = None) -> list[User]:
    """Who may be chosen: the cohort's active facilitators, plus anyone already chosen."""
    people = {user.id: user for user in queries.active_facilitators(cohort_id)}
    if convening is not None:
        for user in queries.facilitators_of(convening.id):
            people.setdefault(user.id, user)
    return sorted(people.values(), key=lambda u: (u.name.lower(), u.id))


def schedule_convening(actor: User, cohort: Cohort, data: ConveningData) -> Convening:
    _check(data, [u.id for u in facilitator_choices(cohort.id)])
    convening = Convening(cohort_id=cohort.id, created_by_id=actor.id, agenda_md="")
    _apply(convening, data)
    db.session.add(convening)
    db.session.flush()
    _set_facilitators(convening, data.facilitator_ids)
    db.session.flush()
    _tell_cohort(
        actor, convening, "convenings/scheduled", f"convenings/scheduled:convening={convening.id}"
    )
    return convening


def update_convening(
    actor: User, convening: Convening, data: ConveningData, *, version: int | None
) -> Convening:
    """Save an edit made on the form opened at `version`; StaleEdit when someone saved since.

    Every save bumps the version (and updated_at), facilitator changes included, so a
    calendar app sees the change and a second editor is told.
    """
    if version != convening.version:
        raise StaleEdit(
            str(
                _l(
                    "Someone else changed this convening while you were editing. Your changes "
                    "were not saved. The form below still has what you typed; the saved details "
                    "are shown above it. Save again to replace them with yours."
                )
            )
        )
    _check(data, [u.id for u in facilitator_choices(convening.cohort_id, convening)])
    before = _Logistics.of(convening)
    _apply(convening, data)
    convening.updated_at = utcnow()  # always an UPDATE, so the version moves on
    try:
        db.session.flush()
    except StaleDataError as error:  # a save committed between our read and our write
        raise StaleEdit(
            str(
                _l(
                    "Someone else changed this convening while you were editing. Your changes "
                    "were not saved. Open it again to see their changes."
                )
            )
        ) from error
    _set_facilitators(convening, data.facilitator_ids)
    db.session.flush()
    after = _Logistics.of(convening)
    if after != before:
        _tell_cohort(
            actor,
            convening,
            "convenings/changed",
            # The version names this change (a later change back and forth is another one);
            # the new time and place say what it is.
            f"convenings/changed:convening={convening.id}:v={convening.version}"
            f":starts={after.starts_at.isoformat()}:ends={after.ends_at.isoformat()}"
            f":place={after.place_digest()}",
            before=before,
        )
    return convening


# Telling the cohort ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Logistics:
    """What people need to be there: a change to any of these is worth a notification."""

    starts_at: datetime
    ends_at: datetime
    location: str | None
    online_url: str | None

    @classmethod
    def of(cls, convening: Convening) -> _Logistics:
        return cls(
            convening.starts_at.astimezone(UTC),
            convening.ends_at.astimezone(UTC),
            convening.location,
            convening.online_url,
        )

    def place_digest(self) -> str:
        place = f"{self.location or ''}\n{self.online_url or ''}"
        return hashlib.sha256(place.encode("utf-8")).hexdigest()[:16]


def active_members(cohort_id: int) -> list[User]:
    """Everyone active in the cohort, whatever their role (fellows, coaches, facilitators,
    reviewers), with an active account; each person once (one query)."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.is_active.is_(True),
                User.id.in_(
                    sa.select(CohortMembership.user_id).where(
                        CohortMembership.cohort_id == cohort_id,
                        CohortMembership.status == MembershipStatus.ACTIVE,
                    )
                ),
            )
            .order_by(User.id)
        )
    )


def ics_of(convening: Convening, cohort_name: str) -> str:
    """The convening as a one-event iCalendar file, the same event as in the calendar feeds
    (UID and SEQUENCE), so a calendar app that has it updates it instead of adding another.
    Its text is the organisers' own (the agenda) and links: one file for every language."""
    # Imported here: fellowship.calendar reads this package's queries and forms.
    from fellowship.calendar.ics import to_ical
    from fellowship.calendar.queries import CalendarEvent

    page = absolute(app_path("convenings.detail", convening_id=convening.id))
    parts = [convening.online_url or "", markdown_to_text(convening.agenda_md), page]
    event = CalendarEvent(
        uid=f"convening-{convening.id}@fellowship",
        title=convening.title,
        starts=convening.starts_at,
        ends=convening.ends_at,
        stamp=convening.updated_at,
        sequence=max(convening.version - 1, 0),
        location=convening.location or convening.online_url or "",
        url=page,
        description="\n\n".join(part for part in parts if part),
    )
    return to_ical([event], name=f"{convening.title} — {cohort_name}").decode("utf-8")


def _tell_cohort(
    actor: User,
    convening: Convening,
    kind: str,
    key: str,
    *,
    before: _Logistics | None = None,
) -> int:
    """Notify the cohort's active members (not the person who made the change) of a
    convening scheduled or changed, with its .ics; returns how many were told. A convening
    that is already over tells nobody (it is being recorded, not announced)."""
    if convening.ends_at <= utcnow():
        return 0
    cohort = db.session.get(Cohort, convening.cohort_id)
    assert cohort is not None
    people = [person for person in active_members(cohort.id) if person.id != actor.id]
    if not people:
        return 0
    link = app_path("convenings.detail", convening_id=convening.id)
    # SQLite hands a deleted convening's id to the next one: the creation time keeps a new
    # convening's keys apart from an old one's.
    born = f"created={convening.created_at:%Y%m%dT%H%M%S%f}"
    context = {
        "title": convening.title,
        "kind": KIND_LABELS[convening.kind.value],
        "cohort": cohort.name,
        "starts_at": convening.starts_at,
        "ends_at": convening.ends_at,
        "location": convening.location,
        "online_url": convening.online_url,
        "facilitators": queries.facilitator_names([convening.id])[convening.id],
        "by": actor.name,
    }
    if before is not None:
        context.update(
            was_starts_at=before.starts_at,
            was_ends_at=before.ends_at,
            was_location=before.location,
            was_online_url=before.online_url,
            time_changed=(before.starts_at, before.ends_at)
            != (convening.starts_at, convening.ends_at),
            place_changed=before.location != convening.location,
            online_changed=before.online_url != convening.online_url,
        )
    attachment = Attachment(
        "convening.ics",
        "text/calendar; method=PUBLISH; charset=utf-8",
        ics_of(convening, cohort.name),
    )
    created = notify_many(
        kind,
        [Entry(person, f"{key}:{born}:to={person.id}", link, context) for person in people],
        attachment=attachment,
    )
    return len(created)


def delete_convening(actor: User, convening: Convening) -> None:
    """Delete the convening with its facilitators and attendance (audited)."""
    summary = queries.attendance_summary(convening.id)
    audit.record(
        actor,
        "convening_deleted",
        convening,
        details={
            "cohort_id": convening.cohort_id,
            "title": convening.title,
            "starts_at": convening.starts_at.isoformat(),
            "attendance_rows": summary.recorded,
        },
    )
    db.session.delete(convening)
    db.session.flush()


@dataclass
class AttendanceResult:
    added: int = 0
    changed: int = 0
    unchanged: int = 0


def record_attendance(
    actor: User,
    convening: Convening,
    entries: dict[int, tuple[AttendanceStatus, str]],
    *,
    fellow_ids: Iterable[int],
) -> AttendanceResult:
    """Upsert one attendance row per fellow in `entries`; one audit row for the whole save.

    `fellow_ids` are the cohort's active fellows: attendance is only taken for them.
    """
    allowed = set(fellow_ids)
    unknown = set(entries) - allowed
    if unknown:
        raise ConveningError(str(_l("Attendance can only be taken for the cohort's fellows.")))
    now = utcnow()
    existing = queries.attendance_for_convening(convening.id)
    result = AttendanceResult()
    for user_id, (status, note) in sorted(entries.items()):
        note = note.strip()[:500]
        row = existing.get(user_id)
        if row is None:
            db.session.add(
                Attendance(
                    convening_id=convening.id,
                    user_id=user_id,
                    status=status,
                    note=note,
                    recorded_by_id=actor.id,
                    recorded_at=now,
                )
            )
            result.added += 1
        elif row.status != status or row.note != note:
            row.status = status
            row.note = note
            row.recorded_by_id = actor.id
            row.recorded_at = now
            result.changed += 1
        else:
            result.unchanged += 1
    audit.record(
        actor,
        "attendance_recorded",
        convening,
        details={
            "cohort_id": convening.cohort_id,
            "added": result.added,
            "changed": result.changed,
            "unchanged": result.unchanged,
        },
    )
    db.session.flush()
    return result
