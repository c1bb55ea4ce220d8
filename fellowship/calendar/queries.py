"""What goes into calendar feeds: events from every feature, as plain dataclasses.

Each feature contributes an *event provider*: a function that returns `CalendarEvent`s,
either for a person (their personal feed) or for a cohort (the staff per-cohort feed).
To add module due dates, check-ins or review meetings later, write a provider next to that
feature's queries and add it to `PERSONAL_PROVIDERS` / `COHORT_PROVIDERS` below; the feed
view and the iCalendar rendering need no change. Each provider must run a fixed number of
queries, whatever the number of events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _

from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort
from fellowship.convenings import queries as convening_queries
from fellowship.convenings.forms import KIND_LABELS
from fellowship.convenings.models import Convening
from fellowship.markdown import markdown_to_text

# Feeds show what ended up to this long ago, and everything ahead.
HISTORY = timedelta(days=365)


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT. `uid` must be stable for the life of the thing it describes.

    `starts`/`ends` are timezone-aware datetimes, or dates for all-day events (a due date);
    `stamp` is when the thing last changed (never "now": clients would see a change on
    every fetch).
    """

    uid: str
    title: str
    starts: datetime | date
    ends: datetime | date | None
    stamp: datetime
    sequence: int = 0
    location: str = ""
    url: str = ""
    description: str = ""
    categories: tuple[str, ...] = field(default_factory=tuple)


PersonalProvider = Callable[[User, datetime], list[CalendarEvent]]
CohortProvider = Callable[[Cohort, datetime], list[CalendarEvent]]


def absolute_url(endpoint: str, **values: Any) -> str:
    """Links inside feeds and on the calendar page: BASE_URL + the route's path."""
    return str(current_app.config["BASE_URL"]).rstrip("/") + url_for(endpoint, **values)


# Convenings ----------------------------------------------------------------------------


def _convening_events(rows: list[tuple[Convening, str]]) -> list[CalendarEvent]:
    names = convening_queries.facilitator_names(c.id for c, _cohort in rows)
    events = []
    for convening, cohort_name in rows:
        page = absolute_url("convenings.detail", convening_id=convening.id)
        kind = str(KIND_LABELS[convening.kind.value])
        parts = [f"{kind} — {cohort_name}"]
        if convening.online_url:
            parts.append(_("Join online: %(url)s", url=convening.online_url))
        if names[convening.id]:
            parts.append(_("Facilitators: %(names)s", names=", ".join(names[convening.id])))
        agenda = markdown_to_text(convening.agenda_md)
        if agenda:
            parts.append(agenda)
        parts.append(_("In Fellowship: %(url)s", url=page))
        events.append(
            CalendarEvent(
                uid=f"convening-{convening.id}@fellowship",
                title=convening.title,
                starts=convening.starts_at,
                ends=convening.ends_at,
                stamp=convening.updated_at,
                sequence=max(convening.version - 1, 0),
                location=convening.location or convening.online_url or "",
                url=page,
                description="\n\n".join(parts),
                categories=(kind,),
            )
        )
    return events


def convening_events_for_user(user: User, now: datetime) -> list[CalendarEvent]:
    """Convenings of every cohort where the person is an active or completed member."""
    rows = convening_queries.convenings_for_member(user.id, since=now - HISTORY)
    return _convening_events(rows)


def convening_events_for_cohort(cohort: Cohort, now: datetime) -> list[CalendarEvent]:
    rows = convening_queries.convenings_for_cohort(cohort.id, since=now - HISTORY)
    return _convening_events(rows)


# Coaching --------------------------------------------------------------------------------


def checkin_events_for_user(user: User, now: datetime) -> list[CalendarEvent]:
    """The next planned check-in of each coach–fellow pair the person is in (no notes)."""
    from fellowship.coaching.queries import next_checkin_events

    return next_checkin_events(user, now)


# Curriculum ------------------------------------------------------------------------------


def module_due_events_for_user(user: User, now: datetime) -> list[CalendarEvent]:
    """The fellow's due date (their extension, or the module's) of each released module."""
    from fellowship.curriculum.learning_queries import module_due_events_for_user as due_events

    return due_events(user, now)


# Later: review meetings.
PERSONAL_PROVIDERS: list[PersonalProvider] = [
    convening_events_for_user,
    checkin_events_for_user,
    module_due_events_for_user,
]
COHORT_PROVIDERS: list[CohortProvider] = [convening_events_for_cohort]


def _in_order(events: list[CalendarEvent]) -> list[CalendarEvent]:
    def key(event: CalendarEvent) -> tuple[str, str]:
        return (event.starts.isoformat(), event.uid)

    return sorted(events, key=key)


def events_for_user(user: User, now: datetime) -> list[CalendarEvent]:
    """Everything in the person's personal feed."""
    return _in_order([event for provider in PERSONAL_PROVIDERS for event in provider(user, now)])


def events_for_cohort(cohort: Cohort, now: datetime) -> list[CalendarEvent]:
    """Everything in a cohort's feed (staff)."""
    return _in_order([event for provider in COHORT_PROVIDERS for event in provider(cohort, now)])
