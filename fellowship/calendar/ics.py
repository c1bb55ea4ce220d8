"""CalendarEvents as an iCalendar (RFC 5545) document.

icalendar's `Calendar.new()`/`Event.new()` would add random UIDs and a DTSTAMP of "now";
here every property comes from the data, so two fetches of an unchanged feed are identical
and calendar apps never see phantom changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import icalendar

from fellowship.calendar.queries import CalendarEvent

PRODID = "-//Fellowship//Calendar feed//EN"
REFRESH = timedelta(hours=1)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def to_ical(events: Iterable[CalendarEvent], *, name: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for item in events:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", _utc(item.stamp))
        event.add("last-modified", _utc(item.stamp))
        event.add("sequence", item.sequence)
        event.add("summary", item.title)
        if isinstance(item.starts, datetime):
            event.add("dtstart", _utc(item.starts))
        else:
            event.add("dtstart", item.starts)
        if isinstance(item.ends, datetime):
            event.add("dtend", _utc(item.ends))
        elif item.ends is not None:
            event.add("dtend", item.ends)
        if item.location:
            event.add("location", item.location)
        if item.url:
            event.add("url", item.url)
        if item.description:
            event.add("description", item.description)
        if item.categories:
            event.add("categories", list(item.categories))
        calendar.add_component(event)
    return bytes(calendar.to_ical())
