"""Convenings scheduled or changed: the cohort's active members are told at once, with the
event as an .ics attachment (the same event as in their calendar feed), in their own
language and time zone. A change tells them only when the time, the place or the online link
changed, and each real change tells them once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import icalendar
import pytest
import sqlalchemy as sa

from fellowship.cohorts.models import CohortRole, MembershipStatus
from fellowship.convenings import services
from fellowship.convenings.models import Convening, ConveningKind
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from fellowship.notifications.models import Notification
from tests.conftest import csrf_token, sign_in
from tests.convenings.helpers import cohort_setup, member
from tests.factories import CohortFactory, StaffFactory

pytestmark = pytest.mark.usefixtures("ctx")

# A Tuesday in December (Pacific Standard Time), well after the frozen tests' "now".
STARTS = datetime(2031, 12, 16, 17, 0, tzinfo=UTC)
ENDS = datetime(2031, 12, 16, 19, 30, tzinfo=UTC)


def data(**overrides: object) -> services.ConveningData:
    values: dict[str, object] = {
        "title": "Coalition building workshop",
        "kind": ConveningKind.WORKSHOP,
        "starts_at": STARTS,
        "ends_at": ENDS,
        "location": "Room 4",
        "online_url": "",
        "agenda_md": "- Mapping allies",
        "facilitator_ids": [],
    }
    values.update(overrides)
    return services.ConveningData(**values)  # type: ignore[arg-type]


def told(kind: str) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        )
    )


def mail(kind: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.template == kind)
            .order_by(OutboxMessage.id)
        )
    )


def the_event(message: OutboxMessage) -> icalendar.Event:
    assert message.attachment_name == "convening.ics"
    assert message.attachment_type == "text/calendar; method=PUBLISH; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(message.attachment_text or "")
    assert str(calendar["method"]) == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    return event


# Who is told ---------------------------------------------------------------------------------


def test_scheduling_tells_every_active_member_of_the_cohort_but_the_scheduler(ctx):
    setup = cohort_setup(fellows=2)
    reviewer = member(setup.cohort, CohortRole.REVIEWER)
    withdrawn = member(setup.cohort, CohortRole.FELLOW, MembershipStatus.WITHDRAWN)
    alumnus = member(setup.cohort, CohortRole.FELLOW, MembershipStatus.COMPLETED)
    deactivated = member(setup.cohort, CohortRole.COACH)
    deactivated.is_active = False
    elsewhere = member(CohortFactory(), CohortRole.FELLOW)
    db.session.commit()
    convening = services.schedule_convening(setup.facilitator, setup.cohort, data())
    db.session.commit()
    made = told("convenings/scheduled")
    expected = {setup.coach.id, reviewer.id, *(fellow.id for fellow in setup.fellows)}
    assert {n.user_id for n in made} == expected
    for nobody in (setup.facilitator, withdrawn, alumnus, deactivated, elsewhere):
        assert nobody.id not in {n.user_id for n in made}
    assert {n.link for n in made} == {f"/convenings/{convening.id}"}
    assert len(mail("convenings/scheduled")) == len(expected)


def test_staff_who_schedule_tell_the_facilitators_too(ctx):
    setup = cohort_setup(fellows=1)
    services.schedule_convening(StaffFactory(), setup.cohort, data())
    db.session.commit()
    people = {n.user_id for n in told("convenings/scheduled")}
    assert people == {setup.facilitator.id, setup.coach.id, setup.fellows[0].id}


def test_a_convening_recorded_after_it_happened_tells_nobody(ctx):
    setup = cohort_setup(fellows=1)
    past = data(
        starts_at=datetime(2025, 3, 3, 15, tzinfo=UTC), ends_at=datetime(2025, 3, 3, 17, tzinfo=UTC)
    )
    services.schedule_convening(StaffFactory(), setup.cohort, past)
    db.session.commit()
    assert told("convenings/scheduled") == []
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []


# The .ics ------------------------------------------------------------------------------------


def test_the_email_carries_the_event_as_the_calendar_feed_has_it(ctx):
    setup = cohort_setup(fellows=1)
    convening = services.schedule_convening(
        StaffFactory(), setup.cohort, data(online_url="https://meet.example.org/x")
    )
    db.session.commit()
    [message, *_] = mail("convenings/scheduled")
    event = the_event(message)
    assert str(event["uid"]) == f"convening-{convening.id}@fellowship"
    assert event["sequence"] == 0
    assert event.decoded("dtstart") == STARTS
    assert event.decoded("dtend") == ENDS
    assert str(event["summary"]) == "Coalition building workshop"
    assert str(event["location"]) == "Room 4"
    assert "https://meet.example.org/x" in str(event["description"])
    assert str(event["url"]) == f"http://localhost/convenings/{convening.id}"

    later = data(starts_at=STARTS.replace(hour=18), ends_at=ENDS.replace(hour=20))
    services.update_convening(StaffFactory(), convening, later, version=convening.version)
    db.session.commit()
    [changed, *_] = mail("convenings/changed")
    moved = the_event(changed)
    assert str(moved["uid"]) == f"convening-{convening.id}@fellowship"  # the same event
    assert moved["sequence"] == convening.version - 1 > 0  # a calendar app updates it
    assert moved.decoded("dtstart") == STARTS.replace(hour=18)


# What counts as a change -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "tells"),
    [
        ({"title": "Coalition building, part 1"}, False),
        ({"agenda_md": "- Mapping allies\n- Practice pitches"}, False),
        ({"kind": ConveningKind.BOOK_STUDY}, False),
        ({"location": "Room 5"}, True),
        ({"location": ""}, True),
        ({"online_url": "https://meet.example.org/new"}, True),
        ({"starts_at": STARTS.replace(hour=16)}, True),
        ({"ends_at": ENDS.replace(hour=20)}, True),
    ],
    ids=["title", "agenda", "kind", "place", "no-place", "online-link", "start", "end"],
)
def test_only_a_change_of_time_place_or_link_tells_the_cohort(ctx, change, tells):
    setup = cohort_setup(fellows=2)
    staff = StaffFactory()
    convening = services.schedule_convening(staff, setup.cohort, data())
    db.session.commit()
    services.update_convening(staff, convening, data(**change), version=convening.version)
    db.session.commit()
    made = told("convenings/changed")
    assert len(made) == (4 if tells else 0)  # the facilitator, the coach, two fellows
    assert len(told("convenings/scheduled")) == 4  # never again for an edit


def test_each_real_change_tells_once_even_back_and_forth(ctx):
    setup = cohort_setup(fellows=1)
    staff = StaffFactory()
    convening = services.schedule_convening(staff, setup.cohort, data())
    db.session.commit()
    moved = data(starts_at=STARTS.replace(hour=18), ends_at=ENDS.replace(hour=21))
    for version_of in (moved, data(), moved):
        services.update_convening(staff, convening, version_of, version=convening.version)
        db.session.commit()
        # Saving the same details again (a typo fixed in the agenda) is no change.
        services.update_convening(
            staff, convening, replace(version_of, agenda_md="- fixed"), version=convening.version
        )
        db.session.commit()
    made = told("convenings/changed")
    assert len(made) == 3 * 3  # three changes, three people each
    keys = [n.dedupe_key for n in made]
    assert len(set(keys)) == len(keys)
    assert all(f":starts={STARTS.replace(hour=18).isoformat()}:" in k for k in keys[:3])


def test_a_refused_stale_edit_tells_nobody(ctx):
    setup = cohort_setup(fellows=1)
    staff = StaffFactory()
    convening = services.schedule_convening(staff, setup.cohort, data())
    db.session.commit()
    opened = convening.version
    services.update_convening(staff, convening, data(title="Renamed"), version=opened)
    db.session.commit()
    with pytest.raises(services.StaleEdit):
        services.update_convening(staff, convening, data(location="Gym"), version=opened)
    db.session.rollback()
    assert told("convenings/changed") == []


# Language and time zone ------------------------------------------------------------------------


def test_a_spanish_member_in_los_angeles_reads_spanish_and_pacific_time(ctx):
    setup = cohort_setup(fellows=2)
    far, near = setup.fellows
    far.locale, far.timezone = "es", "America/Los_Angeles"
    db.session.commit()
    staff = StaffFactory()
    convening = services.schedule_convening(staff, setup.cohort, data())
    db.session.commit()
    later = data(starts_at=STARTS.replace(hour=18), ends_at=ENDS.replace(hour=20))
    services.update_convening(staff, convening, later, version=convening.version)
    db.session.commit()
    for kind in ("convenings/scheduled", "convenings/changed"):
        by_person = {m.to: m for m in mail(kind)}
        spanish, english = by_person[far.email], by_person[near.email]
        assert '<html lang="es">' in (spanish.html or "")
        assert "hora estándar del Pacífico" in spanish.text
        assert "16 de diciembre de 2031" in spanish.text
        assert "Eastern Standard Time" in english.text
        assert "December 16, 2031" in english.text
    scheduled = {m.to: m for m in mail("convenings/scheduled")}
    assert "9:00 – 11:30" in scheduled[far.email].text  # 17:00-19:30 UTC
    assert "12:00\u202fPM – 2:30\u202fPM" in scheduled[near.email].text
    changed = {m.to: m for m in mail("convenings/changed")}
    assert "10:00 – 12:30" in changed[far.email].text
    assert "9:00 – 11:30" in changed[far.email].text  # what it was


# Through the pages -----------------------------------------------------------------------------


def test_scheduling_and_moving_through_the_pages_tells_the_cohort_once_each(client):
    setup = cohort_setup(fellows=1)
    staff = StaffFactory(timezone="America/New_York")
    sign_in(client, staff)
    path = f"/cohorts/{setup.cohort.id}/convenings/new"
    form = {
        "csrf_token": csrf_token(client),
        "title": "Coalition building workshop",
        "kind": "workshop",
        "starts_on": "2031-12-16",
        "starts_time": "12:00",
        "ends_on": "",
        "ends_time": "14:30",
        "location": "Room 4",
        "online_url": "",
        "agenda": "- Mapping allies",
        "version": "",
    }
    assert client.post(path, data=form).status_code == 302
    convening = db.session.scalar(sa.select(Convening))
    assert convening.starts_at == STARTS
    edit = f"/convenings/{convening.id}/edit"
    moved = {**form, "starts_time": "13:00", "version": str(convening.version)}
    assert client.post(edit, data=moved).status_code == 302
    db.session.expire_all()
    again = {**moved, "agenda": "- Mapping allies, fixed", "version": str(convening.version)}
    assert client.post(edit, data=again).status_code == 302  # the same time and place
    assert len(told("convenings/scheduled")) == 3
    assert len(told("convenings/changed")) == 3
