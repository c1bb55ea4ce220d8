"""The calendar page, the private feed address, rotation, and the .ics feeds."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import Role
from fellowship.calendar import services
from fellowship.cohorts.models import CohortRole, MembershipStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.convenings.helpers import ConveningFactory, add_facilitator, cohort_setup, member, utc
from tests.factories import CohortFactory, StaffFactory, UserFactory


def feed_path(client, user) -> str:
    """The feed address shown on the person's calendar page, as a path."""
    sign_in(client, user)
    page = client.get("/calendar/").get_data(as_text=True)
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', page).group(1)
    assert url.startswith("http://localhost/calendar/")
    return url.removeprefix("http://localhost")


def fetch(app, path: str):
    """Fetch like a calendar app: no cookies, no session."""
    return app.test_client().get(path)


def events(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_the_calendar_page_shows_an_absolute_private_address_and_how_to_subscribe(client):
    person = UserFactory()
    sign_in(client, person)
    page = client.get("/calendar/").get_data(as_text=True)
    assert f'value="http://localhost/calendar/{person.id}-1-' in page
    assert "Google Calendar" in page
    assert "Outlook" in page
    assert "Apple Calendar" in page
    assert "Make a new address" in page
    assert page.count("<h1") == 1
    assert "Cohort calendars" not in page


def test_the_calendar_link_is_in_the_navigation(client):
    sign_in(client, UserFactory())
    page = client.get("/").get_data(as_text=True)
    assert 'href="/calendar/"' in page


def test_showing_the_address_writes_nothing(client):
    from fellowship.calendar.models import CalendarFeed

    sign_in(client, UserFactory())
    client.get("/calendar/")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarFeed)) == 0


def test_the_feed_has_the_convenings_of_the_persons_cohorts_and_no_others(app, client):
    setup = cohort_setup(fellows=1)
    fellow = setup.fellows[0]
    mine = ConveningFactory(
        cohort_id=setup.cohort.id,
        title="Coalition workshop",
        starts_at=utc(2030, 9, 15, 16),
        ends_at=utc(2030, 9, 15, 18),
        location="Room 4",
        agenda_md="## Plan\n\n- **Map** allies\n- Read [the brief](https://example.org/brief)",
    )
    add_facilitator(mine, setup.facilitator)
    online = ConveningFactory(
        cohort_id=setup.cohort.id,
        title="Online book study",
        location=None,
        online_url="https://meet.example.org/book",
    )
    theirs = ConveningFactory(cohort_id=CohortFactory().id, title="Another cohort's visit")
    path = feed_path(client, fellow)

    first = fetch(app, path)
    found = events(first)
    assert set(found) == {f"convening-{mine.id}@fellowship", f"convening-{online.id}@fellowship"}
    assert f"convening-{theirs.id}@fellowship" not in found
    event = found[f"convening-{mine.id}@fellowship"]
    assert str(event["SUMMARY"]) == "Coalition workshop"
    assert event.decoded("DTSTART") == utc(2030, 9, 15, 16)
    assert event.decoded("DTEND") == utc(2030, 9, 15, 18)
    assert "DTSTART:20300915T160000Z" in first.get_data(as_text=True)
    assert str(event["LOCATION"]) == "Room 4"
    assert str(event["URL"]) == f"http://localhost/convenings/{mine.id}"
    db.session.refresh(mine)
    assert event.decoded("DTSTAMP") == mine.updated_at.replace(microsecond=0)
    description = str(event["DESCRIPTION"])
    assert "Map allies" in description
    assert "the brief (https://example.org/brief)" in description
    assert "**" not in description
    assert "<" not in description
    assert "Farah Facilitator" in description
    online_event = found[f"convening-{online.id}@fellowship"]
    assert str(online_event["LOCATION"]) == "https://meet.example.org/book"
    assert "https://meet.example.org/book" in str(online_event["DESCRIPTION"])

    second = fetch(app, path)
    assert second.data == first.data  # stable UIDs and stamps: nothing changes between fetches


def test_the_feed_is_private_and_short_lived_in_caches(app, client):
    path = feed_path(client, UserFactory())
    response = fetch(app, path)
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["VERSION"]) == "2.0"
    assert calendar.walk("VEVENT") == []


def test_an_edit_shows_up_in_the_feed_with_a_higher_sequence(app, client):
    setup = cohort_setup(fellows=1)
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="Before")
    path = feed_path(client, setup.fellows[0])
    uid = f"convening-{convening.id}@fellowship"
    before = events(fetch(app, path))[uid]
    convening.title = "After"
    convening.updated_at = convening.updated_at + timedelta(minutes=5)
    db.session.commit()
    after = events(fetch(app, path))[uid]
    assert str(after["SUMMARY"]) == "After"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("DTSTAMP") > before.decoded("DTSTAMP")


def test_making_a_new_address_revokes_the_old_one(app, client):
    person = UserFactory()
    old = feed_path(client, person)
    assert fetch(app, old).status_code == 200
    sign_in(client, person)
    response = client.post("/calendar/rotate", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert fetch(app, old).status_code == 404
    new = feed_path(client, person)
    assert new != old
    assert f"/calendar/{person.id}-2-" in new
    assert fetch(app, new).status_code == 200
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "calendar_feed_rotated")
    )
    assert event.actor_id == person.id
    assert event.details == {"version": 2}
    # And again: each rotation revokes the previous address.
    sign_in(client, person)
    client.post("/calendar/rotate", data={"csrf_token": csrf_token(client)})
    assert fetch(app, new).status_code == 404


def test_rotating_needs_the_csrf_token(client):
    person = UserFactory()
    sign_in(client, person)
    client.post("/calendar/rotate", data={})
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == "calendar_feed_rotated"
            )
        )
        == 0
    )


@pytest.mark.parametrize(
    "make_token",
    [
        lambda u: "not-a-real-token",
        lambda u: f"{u.id}-1-" + "0" * 32,
        lambda u: services.token_for(u.id, 1)[:-1] + "x",
        lambda u: services.token_for(u.id, 2),  # a version that was never issued
        lambda u: services.token_for(u.id + 999_999, 1),  # nobody
        lambda u: services.token_for(u.id, 1).upper(),
        lambda u: services.token_for(u.id, 1) + "0",
    ],
    ids=["garbage", "zeros", "tampered", "future-version", "no-such-person", "upper", "longer"],
)
def test_a_wrong_token_is_not_found(app, ctx, make_token):
    person = UserFactory()
    response = fetch(app, f"/calendar/{make_token(person)}.ics")
    assert response.status_code == 404


def test_a_token_signed_with_another_secret_is_not_found(app, ctx, monkeypatch):
    person = UserFactory()
    monkeypatch.setitem(app.config, "SECRET_KEY", "another secret of enough length 1234567890")
    forged = services.token_for(person.id, 1)
    monkeypatch.undo()
    assert fetch(app, f"/calendar/{forged}.ics").status_code == 404


def test_a_deactivated_persons_feed_is_not_found(app, client):
    setup = cohort_setup(fellows=1)
    fellow = setup.fellows[0]
    path = feed_path(client, fellow)
    fellow.is_active = False
    db.session.commit()
    assert fetch(app, path).status_code == 404


@pytest.mark.parametrize(
    ("status", "included"),
    [
        (MembershipStatus.ACTIVE, True),
        (MembershipStatus.COMPLETED, True),
        (MembershipStatus.WITHDRAWN, False),
    ],
)
def test_the_membership_status_decides_whether_a_cohorts_convenings_are_in_the_feed(
    app, client, status, included
):
    setup = cohort_setup(fellows=0)
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    person = member(setup.cohort, CohortRole.FELLOW, status)
    found = events(fetch(app, feed_path(client, person)))
    assert (f"convening-{convening.id}@fellowship" in found) is included


def test_coaches_and_facilitators_get_their_cohorts_convenings_too(app, client):
    setup = cohort_setup(fellows=0)
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    for person in (setup.coach, setup.facilitator):
        assert f"convening-{convening.id}@fellowship" in events(
            fetch(app, feed_path(client, person))
        )


def test_staff_get_no_convenings_in_their_personal_feed_by_default(app, client):
    setup = cohort_setup(fellows=0)
    ConveningFactory(cohort_id=setup.cohort.id)
    assert events(fetch(app, feed_path(client, StaffFactory()))) == {}


def test_old_convenings_drop_out_of_the_feed_after_a_year(app, client):
    setup = cohort_setup(fellows=1)
    old = ConveningFactory(
        cohort_id=setup.cohort.id,
        starts_at=utcnow() - timedelta(days=400),
        ends_at=utcnow() - timedelta(days=400, hours=-1),
    )
    recent = ConveningFactory(
        cohort_id=setup.cohort.id,
        starts_at=utcnow() - timedelta(days=30),
        ends_at=utcnow() - timedelta(days=30, hours=-1),
    )
    found = events(fetch(app, feed_path(client, setup.fellows[0])))
    assert f"convening-{recent.id}@fellowship" in found
    assert f"convening-{old.id}@fellowship" not in found


def test_staff_fetch_a_cohort_feed_from_the_calendar_page(app, client):
    setup = cohort_setup(fellows=0)
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="Regional convening")
    other = ConveningFactory(cohort_id=CohortFactory().id)
    staff = StaffFactory()
    sign_in(client, staff)
    page = client.get("/calendar/").get_data(as_text=True)
    assert "Cohort calendars" in page
    url = re.search(
        rf'value="(http://localhost/calendar/[^"]+/cohorts/{setup.cohort.id}\.ics)"', page
    ).group(1)
    found = events(fetch(app, url.removeprefix("http://localhost")))
    assert set(found) == {f"convening-{convening.id}@fellowship"}
    assert f"convening-{other.id}@fellowship" not in found


def test_members_cannot_use_a_cohort_feed_even_of_their_own_cohort(app, client, ctx):
    setup = cohort_setup(fellows=0)
    ConveningFactory(cohort_id=setup.cohort.id)
    token = services.token_for(setup.facilitator.id, 1)
    assert fetch(app, f"/calendar/{token}/cohorts/{setup.cohort.id}.ics").status_code == 404


def test_a_cohort_feed_is_checked_at_every_fetch(app, client, ctx):
    setup = cohort_setup(fellows=0)
    staff = StaffFactory()
    path = f"/calendar/{services.token_for(staff.id, 1)}/cohorts/{setup.cohort.id}.ics"
    assert fetch(app, path).status_code == 200
    staff.role = Role.MEMBER
    db.session.commit()
    assert fetch(app, path).status_code == 404


def test_a_cohort_feed_of_an_unknown_cohort_or_with_a_bad_token_is_not_found(app, ctx):
    setup = cohort_setup(fellows=0)
    staff = StaffFactory()
    assert (
        fetch(app, f"/calendar/{services.token_for(staff.id, 1)}/cohorts/999999.ics").status_code
        == 404
    )
    assert fetch(app, f"/calendar/bad-token/cohorts/{setup.cohort.id}.ics").status_code == 404


@pytest.mark.parametrize("count", [2, 20])
def test_the_feed_uses_a_fixed_number_of_queries(app, client, count_queries, count):
    setup = cohort_setup(fellows=1)
    for _ in range(count):
        convening = ConveningFactory(cohort_id=setup.cohort.id)
        add_facilitator(convening, setup.facilitator)
    path = feed_path(client, setup.fellows[0])
    with count_queries() as counter:
        assert len(events(fetch(app, path))) == count
    # The person; convenings; their facilitators; the next planned coaching check-ins;
    # module due dates (with extensions).
    assert counter.count == 5, counter.statements


def test_the_feed_is_named_after_the_person(app, client):
    setup = cohort_setup(fellows=1)
    fellow = setup.fellows[0]
    fellow.name = "Zoë Fellow"
    db.session.commit()
    calendar = icalendar.Calendar.from_ical(fetch(app, feed_path(client, fellow)).data)
    assert "Zoë Fellow" in str(calendar["X-WR-CALNAME"])
