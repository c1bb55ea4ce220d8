"""Convening screens: schedule, show, edit (with conflicts), delete, and who may do what."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from fellowship.cohorts.models import CohortRole, MembershipStatus
from fellowship.convenings.models import Convening, ConveningFacilitator, ConveningKind
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.convenings.helpers import (
    AttendanceFactory,
    ConveningFactory,
    add_facilitator,
    cohort_setup,
    member,
    utc,
)
from tests.factories import CohortFactory, StaffFactory

shared_setup = rows_for_module(cohort_setup)


@pytest.fixture
def setup(shared_setup, request):
    """What most tests here start from, built once for the module."""
    return shared_setup.thaw_for(request)


def form_data(client, path: str, **overrides) -> dict:
    values = {
        "csrf_token": csrf_token(client),
        "title": "Coalition building workshop",
        "kind": "workshop",
        "starts_on": "2026-09-15",
        "starts_time": "09:00",
        "ends_on": "",
        "ends_time": "11:30",
        "location": "Room 4, District office",
        "online_url": "",
        "agenda": "## Plan\n\n- Mapping allies\n- Practice pitches",
        "version": "",
    }
    values.update(overrides)
    return values


def count_convenings() -> int:
    return db.session.scalar(sa.select(sa.func.count(Convening.id)))


@pytest.mark.parametrize(
    ("day", "stored_hour"),
    [("2026-07-15", 16), ("2026-01-15", 17)],
    ids=["summer", "winter"],
)
def test_a_facilitator_schedules_a_convening_in_their_own_time_zone(
    setup, client, day, stored_hour
):
    setup.facilitator.timezone = "America/Los_Angeles"
    db.session.commit()
    sign_in(client, setup.facilitator)
    path = f"/cohorts/{setup.cohort.id}/convenings/new"
    response = client.post(
        path,
        data=form_data(
            client, path, starts_on=day, ends_time="10:30", facilitators=[setup.facilitator.id]
        ),
    )
    assert response.status_code == 302
    convening = db.session.scalar(sa.select(Convening))
    y, m, d = (int(part) for part in day.split("-"))
    assert convening.starts_at == utc(y, m, d, stored_hour, 0)
    assert convening.ends_at == utc(y, m, d, stored_hour + 1, 30)
    assert response.headers["Location"].endswith(f"/convenings/{convening.id}")
    page = client.get(f"/convenings/{convening.id}").get_data(as_text=True)
    assert "9:00\u202fAM" in page or "9:00 AM" in page
    assert "10:30\u202fAM" in page or "10:30 AM" in page
    assert "Farah Facilitator" in page
    edit = client.get(f"/convenings/{convening.id}/edit").get_data(as_text=True)
    assert 'value="09:00"' in edit
    assert f'value="{day}"' in edit


def test_someone_in_another_time_zone_sees_their_own_local_time(setup, client):
    convening = ConveningFactory(
        cohort_id=setup.cohort.id, starts_at=utc(2026, 7, 15, 16), ends_at=utc(2026, 7, 15, 17)
    )
    sign_in(client, StaffFactory(timezone="America/New_York"))
    page = client.get(f"/convenings/{convening.id}").get_data(as_text=True)
    assert re.search(r"12:00\s?PM", page)
    assert "America/New York" in page


def test_a_multi_day_convening_keeps_its_end_date(setup, client):
    sign_in(client, StaffFactory(timezone="UTC"))
    path = f"/cohorts/{setup.cohort.id}/convenings/new"
    response = client.post(
        path,
        data=form_data(
            client, path, kind="national_convening", ends_on="2026-09-17", ends_time="15:00"
        ),
    )
    assert response.status_code == 302
    convening = db.session.scalar(sa.select(Convening))
    assert convening.kind == ConveningKind.NATIONAL
    assert convening.ends_at == utc(2026, 9, 17, 15, 0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ends_time": "08:00"}, "The end must be after the start."),
        ({"online_url": "javascript:alert(1)"}, "Enter a web address that starts with https://"),
        ({"online_url": "meet.example.org/abc"}, "Enter a web address that starts with https://"),
        ({"title": ""}, "Enter a title."),
        ({"starts_time": "nine"}, "Enter the start time"),
        ({"starts_on": "2026-02-30"}, "Enter the date"),
    ],
    ids=["end-before-start", "script-url", "no-scheme", "missing-title", "bad-time", "bad-date"],
)
def test_bad_input_gets_a_message_keeps_what_was_typed_and_changes_nothing(
    setup, client, overrides, message
):
    sign_in(client, StaffFactory())
    path = f"/cohorts/{setup.cohort.id}/convenings/new"
    typed = form_data(client, path, location="Typed Place 42", **overrides)
    response = client.post(path, data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert "usa-error-message" in page
    assert 'value="Typed Place 42"' in page
    assert "Mapping allies" in page
    assert count_convenings() == 0


def test_a_time_that_does_not_exist_is_explained_next_to_the_field(setup, client):
    sign_in(client, StaffFactory(timezone="America/New_York"))
    path = f"/cohorts/{setup.cohort.id}/convenings/new"
    page = client.post(
        path, data=form_data(client, path, starts_on="2026-03-08", starts_time="02:30")
    ).get_data(as_text=True)
    assert "does not exist in your time zone" in page
    assert count_convenings() == 0


@pytest.mark.parametrize("role", [CohortRole.FELLOW, CohortRole.COACH, CohortRole.REVIEWER])
def test_members_other_than_facilitators_cannot_schedule_and_nothing_changes(setup, client, role):
    sign_in(client, member(setup.cohort, role))
    path = f"/cohorts/{setup.cohort.id}/convenings/new"
    assert client.get(path).status_code == 403
    token = csrf_token(client)
    response = client.post(path, data={**form_data(client, "/profile"), "csrf_token": token})
    assert response.status_code == 403
    assert count_convenings() == 0


def test_a_facilitator_of_another_cohort_cannot_schedule_here(setup, client):
    other = cohort_setup()
    sign_in(client, other.facilitator)
    path = f"/cohorts/{setup.cohort.id}/convenings/new"
    assert client.get(path).status_code == 403
    response = client.post(path, data=form_data(client, "/profile"))
    assert response.status_code == 403
    assert count_convenings() == 0


def test_a_withdrawn_facilitator_cannot_schedule(setup, client):
    sign_in(client, member(setup.cohort, CohortRole.FACILITATOR, MembershipStatus.WITHDRAWN))
    assert client.get(f"/cohorts/{setup.cohort.id}/convenings/new").status_code == 403


def test_a_member_of_another_cohort_cannot_see_or_change_a_convening(setup, client):
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="Private workshop")
    outsider = member(CohortFactory(), CohortRole.FELLOW)
    sign_in(client, outsider)
    for path in (
        f"/convenings/{convening.id}",
        f"/convenings/{convening.id}/edit",
        f"/convenings/{convening.id}/delete",
        f"/convenings/{convening.id}/attendance",
        f"/cohorts/{setup.cohort.id}/convenings",
        f"/cohorts/{setup.cohort.id}/attendance",
    ):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client)
    assert (
        client.post(f"/convenings/{convening.id}/delete", data={"csrf_token": token}).status_code
        == 403
    )
    assert (
        client.post(
            f"/convenings/{convening.id}/edit", data=form_data(client, "/profile", title="Hacked")
        ).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.get(Convening, convening.id).title == "Private workshop"


def test_an_unknown_convening_or_cohort_is_not_found(client):
    sign_in(client, StaffFactory())
    assert client.get("/convenings/999999").status_code == 404
    assert client.get("/cohorts/999999/convenings/new").status_code == 404


def test_a_fellow_sees_the_convening_without_edit_buttons_or_attendance(setup, client):
    convening = ConveningFactory(
        cohort_id=setup.cohort.id,
        title="Book study",
        online_url="https://meet.example.org/book",
        agenda_md="Read **chapter 2**.",
    )
    add_facilitator(convening, setup.facilitator)
    sign_in(client, setup.fellows[0])
    page = client.get(f"/convenings/{convening.id}").get_data(as_text=True)
    assert "<h1" in page
    assert "Book study" in page
    assert page.count("<h1") == 1
    assert "<strong>chapter 2</strong>" in page
    assert 'href="https://meet.example.org/book"' in page
    assert "Farah Facilitator" in page
    assert "Take attendance" not in page
    assert f"/convenings/{convening.id}/edit" not in page
    assert "attendance-heading" not in page


def test_a_completed_fellow_still_sees_the_convenings_of_their_cohort(setup, client):
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="Alumni panel")
    sign_in(client, member(setup.cohort, CohortRole.FELLOW, MembershipStatus.COMPLETED))
    assert client.get(f"/convenings/{convening.id}").status_code == 200
    assert client.get(f"/convenings/{convening.id}/edit").status_code == 403


def test_facilitators_and_coaches_see_the_attendance_summary(client):
    setup = cohort_setup(fellows=2)
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    AttendanceFactory(convening_id=convening.id, user_id=setup.fellows[0].id)
    for person in (setup.facilitator, setup.coach):
        sign_in(client, person)
        page = client.get(f"/convenings/{convening.id}").get_data(as_text=True)
        assert "1 present of 1 fellows recorded" in page


def test_editing_saves_the_changes(setup, client):
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="Old title")
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/edit"
    response = client.post(
        path,
        data=form_data(
            client,
            path,
            title="New title",
            version="1",
            online_url="https://meet.example.org/x",
            facilitators=[setup.facilitator.id],
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Convening, convening.id)
    assert saved.title == "New title"
    assert saved.online_url == "https://meet.example.org/x"
    assert saved.version == 2
    assert db.session.scalar(sa.select(ConveningFacilitator.user_id)) == setup.facilitator.id


def test_a_stale_edit_is_refused_with_a_message_and_keeps_what_was_typed(setup, client):
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="Original title")
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/edit"
    opened = client.get(path).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', opened).group(1)
    # Someone else saves first.
    convening.title = "Their title"
    db.session.commit()
    response = client.post(path, data=form_data(client, path, title="My title", version=version))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Someone else changed this convening while you were editing." in page
    assert "Your changes were not saved." in page
    assert 'value="My title"' in page  # what I typed is still in the form
    assert "Their title" in page  # and the saved version is shown
    db.session.expire_all()
    assert db.session.get(Convening, convening.id).title == "Their title"
    # Saving again, having seen their change, is a deliberate overwrite.
    new_version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert new_version == "2"
    again = client.post(path, data=form_data(client, path, title="My title", version=new_version))
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Convening, convening.id).title == "My title"


def test_deleting_asks_first_then_deletes(setup, client):
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="To be removed")
    AttendanceFactory(convening_id=convening.id, user_id=setup.fellows[0].id)
    sign_in(client, StaffFactory())
    path = f"/convenings/{convening.id}/delete"
    confirm = client.get(path).get_data(as_text=True)
    assert "Delete To be removed?" in confirm
    assert "attendance record for 1 fellow will be deleted too" in confirm
    assert count_convenings() == 1
    response = client.post(path, data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/{setup.cohort.id}/convenings")
    assert count_convenings() == 0


def test_deleting_without_the_csrf_token_deletes_nothing(setup, client):
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    sign_in(client, StaffFactory())
    response = client.post(f"/convenings/{convening.id}/delete", data={})
    assert response.status_code in {200, 400}
    assert count_convenings() == 1


def test_a_fellow_cannot_delete_a_convening(setup, client):
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    sign_in(client, setup.fellows[0])
    response = client.post(
        f"/convenings/{convening.id}/delete", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 403
    assert count_convenings() == 1


XSS = [
    "<script>alert('agenda')</script>",
    "[click me](javascript:alert('agenda'))",
    "<img src=x onerror=alert('agenda')>",
    "![pic](javascript:alert('agenda'))",
    '<a href="javascript:alert(1)">raw link</a>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


class _Tags(HTMLParser):
    """Every element and attribute the browser would build from the markup."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


@pytest.mark.parametrize("payload", XSS)
def test_markdown_in_the_agenda_renders_inert(setup, client, payload):
    convening = ConveningFactory(cohort_id=setup.cohort.id, agenda_md=f"Agenda\n\n{payload}")
    sign_in(client, setup.fellows[0])
    page = client.get(f"/convenings/{convening.id}").get_data(as_text=True)
    agenda = page[page.index('class="usa-prose agenda"') :]
    parser = _Tags()
    parser.feed(agenda[: agenda.index("</div>")])
    for tag, attrs in parser.tags:
        assert tag not in {"script", "img", "iframe", "object", "embed", "svg"}, tag
        assert not any(name.startswith("on") for name in attrs), attrs
        for name in ("href", "src"):
            value = attrs.get(name, "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), attrs


def test_the_cohort_convenings_page_lists_upcoming_and_past(client):
    setup = cohort_setup(fellows=2)
    now = utcnow()
    ConveningFactory(
        cohort_id=setup.cohort.id,
        title="Next workshop",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2),
    )
    past = ConveningFactory(
        cohort_id=setup.cohort.id,
        title="Last convening",
        starts_at=now - timedelta(days=10),
        ends_at=now - timedelta(days=10) + timedelta(hours=2),
    )
    AttendanceFactory(convening_id=past.id, user_id=setup.fellows[0].id)
    ConveningFactory(cohort_id=CohortFactory().id, title="Somebody else's")
    sign_in(client, setup.facilitator)
    page = client.get(f"/cohorts/{setup.cohort.id}/convenings").get_data(as_text=True)
    assert page.index("Next workshop") < page.index("Last convening")
    assert "Somebody else" not in page
    assert "1 present of 1 recorded" in page
    assert "Schedule a convening" in page
    sign_in(client, setup.fellows[1])
    fellow_page = client.get(f"/cohorts/{setup.cohort.id}/convenings").get_data(as_text=True)
    assert "Next workshop" in fellow_page
    assert "Schedule a convening" not in fellow_page
    assert "present of" not in fellow_page


def test_the_new_convening_form_offers_only_active_facilitators_as_checkboxes(setup, client):
    member(setup.cohort, CohortRole.FACILITATOR, MembershipStatus.WITHDRAWN)
    sign_in(client, StaffFactory())
    page = client.get(f"/cohorts/{setup.cohort.id}/convenings/new").get_data(as_text=True)
    assert page.count('type="checkbox"') == 1
    assert "Farah Facilitator" in page
    assert "<legend" in page


@pytest.mark.parametrize(
    "tampered",
    [{"facilitators": ["not-a-number"]}, {"facilitators": ["999999"]}, {"kind": "rave"}],
    ids=["not-a-number", "not-a-facilitator", "unknown-kind"],
)
def test_tampered_choices_get_a_message_not_an_error_page(setup, client, tampered):
    sign_in(client, StaffFactory())
    path = f"/cohorts/{setup.cohort.id}/convenings/new"
    response = client.post(path, data=form_data(client, path, **tampered))
    assert response.status_code == 200
    assert "usa-error-message" in response.get_data(as_text=True)
    assert count_convenings() == 0


def test_the_title_is_shown_as_text_not_markup(setup, client):
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="<b>Bold</b> & co")
    sign_in(client, StaffFactory())
    page = client.get(f"/convenings/{convening.id}").get_data(as_text=True)
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in page
    assert "<b>Bold</b>" not in page
