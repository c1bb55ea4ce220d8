"""The announcement pages: write → preview (with the number of people) → send, the list, and
the page each recipient's notification links to."""

from __future__ import annotations

import re
from email.header import decode_header, make_header

import pytest
import sqlalchemy as sa

from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from fellowship.notifications.models import Announcement, Notification
from tests.conftest import body_of, csrf_token, sign_in
from tests.cycles.helpers import CycleFactory, CycleMemberFactory
from tests.factories import (
    AdminFactory,
    CohortFactory,
    MembershipFactory,
    SchoolYearFactory,
    StaffFactory,
    UserFactory,
)

NEW = "/notifications/announcements/new"
MESSAGE = "The **March convening** moves to *Friday*.\n\n<script>alert('x')</script>"


@pytest.fixture
def staff(client):
    person = StaffFactory(name="Sam Staff")
    sign_in(client, person)
    return person


def cohort_with(size: int, name: str = "Cohort Alpha"):
    cohort = CohortFactory(name=name)
    people = [MembershipFactory(cohort=cohort).user_id for _ in range(size)]
    return cohort, people


def form(client, **values) -> dict[str, str]:
    data = {
        "subject": "Convening moved",
        "message": MESSAGE,
        "audience": "cohort",
        "cohort": "",
        "school_year": "",
        "action": "preview",
        "csrf_token": csrf_token(client),
    }
    data.update({k: str(v) for k, v in values.items()})
    return data


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    assert match, name
    return match.group(1)


def preview(client, **values) -> str:
    response = client.post(NEW, data=form(client, **values))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def confirm(client, html: str, **values):
    """Post the preview's form as its Send button does."""
    data = form(
        client,
        action="send",
        send_key=hidden(html, "send_key"),
        expected=hidden(html, "expected"),
        **values,
    )
    response = client.post(NEW, data=data)
    response.close()  # mail goes out when the response is closed
    return response


def test_the_form_offers_the_cohorts_and_the_school_years_with_cycles(client, staff):
    CohortFactory(name="Cohort Alpha")
    year = SchoolYearFactory()
    CycleFactory(school_year_id=year.id)
    CycleFactory(school_year_id=year.id)
    html = client.get(NEW).get_data(as_text=True)
    assert "Cohort Alpha (2026-27)" in html
    assert "2026-27 (2 cycles)" in html
    assert "Nothing is sent yet" in html


def test_the_preview_shows_the_message_and_how_many_people_it_reaches(client, staff):
    cohort, _ = cohort_with(3)
    html = preview(client, cohort=cohort.id)
    assert "It will reach 3 people." in html
    assert "Send to 3 people" in html
    assert "<strong>March convening</strong>" in html
    assert "<script>alert" not in html
    assert "The active members of the cohort Cohort Alpha (2026-27)." in html
    assert db.session.scalar(sa.select(sa.func.count(Announcement.id))) == 0  # nothing sent


def test_sending_after_the_preview_notifies_and_emails_each_person(client, staff, smtp_server):
    cohort, people = cohort_with(2)
    html = preview(client, cohort=cohort.id)
    response = confirm(client, html, cohort=cohort.id)
    announcement = db.session.scalar(sa.select(Announcement))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/notifications/announcements/{announcement.id}")
    assert announcement.subject == "Convening moved"
    assert announcement.body_md == MESSAGE
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        f"{u.email}" for u in (db.session.get(type(staff), p) for p in people)
    )
    message = smtp_server.messages[0]
    assert message["Subject"] == "Convening moved"
    unsubscribe = str(make_header(decode_header(message["List-Unsubscribe"])))
    assert unsubscribe.startswith("<http://localhost/notifications/unsubscribe/")
    assert "<strong>March convening</strong>" in body_of(message, "html")
    assert f"/notifications/announcements/{announcement.id}" in body_of(message, "plain")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent to 2 people." in page


def test_a_second_send_of_the_same_preview_sends_nothing(client, staff, smtp_server):
    cohort, _ = cohort_with(2)
    html = preview(client, cohort=cohort.id)
    confirm(client, html, cohort=cohort.id)
    again = confirm(client, html, cohort=cohort.id)
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This announcement was sent already; it was not sent twice." in page
    assert db.session.scalar(sa.select(sa.func.count(Announcement.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 2
    assert len(smtp_server.messages) == 2


def test_a_change_of_audience_after_the_preview_shows_the_new_number_instead_of_sending(
    client, staff
):
    cohort, _ = cohort_with(2)
    html = preview(client, cohort=cohort.id)
    MembershipFactory(cohort=cohort)  # someone joins before "Send"
    response = confirm(client, html, cohort=cohort.id)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Not sent: the number of people it reaches changed since the preview." in page
    assert "It will reach 3 people." in page
    assert db.session.scalar(sa.select(sa.func.count(Announcement.id))) == 0
    confirm(client, page, cohort=cohort.id)
    assert db.session.scalar(sa.select(Announcement.recipient_count)) == 3


def test_an_audience_of_nobody_cannot_be_sent(client, staff):
    cohort = CohortFactory()
    html = preview(client, cohort=cohort.id)
    assert "It will reach 0 people." in html
    assert "Nobody would get it" in html
    assert 'value="send"' not in html
    confirm(client, html, cohort=cohort.id)
    assert db.session.scalar(sa.select(sa.func.count(Announcement.id))) == 0


def test_change_it_goes_back_to_the_form_with_everything_kept(client, staff):
    cohort, _ = cohort_with(1)
    html = preview(client, cohort=cohort.id)
    response = client.post(NEW, data=form(client, cohort=cohort.id, action="edit"))
    page = response.get_data(as_text=True)
    assert 'value="Convening moved"' in page
    assert "The **March convening** moves to *Friday*." in page
    assert re.search(
        rf'<option selected value="{cohort.id}">|<option value="{cohort.id}" selected', page
    )
    assert hidden(html, "send_key")  # the preview had its key
    assert db.session.scalar(sa.select(sa.func.count(Announcement.id))) == 0


def test_a_cycles_announcement_reaches_every_member_of_the_years_cycles(client, staff):
    year = SchoolYearFactory()
    first, second = CycleFactory(school_year_id=year.id), CycleFactory(school_year_id=year.id)
    both = UserFactory().id
    CycleMemberFactory(cycle_id=first.id, user_id=both)
    CycleMemberFactory(cycle_id=second.id, user_id=both)
    CycleMemberFactory(cycle_id=second.id)
    html = preview(client, audience="cycles", school_year=year.id)
    assert "It will reach 2 people." in html
    assert "Every member of the cycles of 2026-27 (2 cycles)." in html
    confirm(client, html, audience="cycles", school_year=year.id)
    announcement = db.session.scalar(sa.select(Announcement))
    assert (announcement.school_year_id, announcement.cohort_id) == (year.id, None)
    assert announcement.recipient_count == 2


# Bad input: a message next to the field, what was typed kept, nothing sent.
BAD_INPUT = [
    ({"subject": ""}, "subject", "Write a subject."),
    ({"subject": "x" * 201}, "subject", "Keep the subject to 200 characters or fewer."),
    ({"subject": "Two\nlines"}, "subject", "Keep the subject on one line."),
    ({"message": ""}, "message", "Write the message."),
    ({"message": "x" * 10_001}, "message", "Keep the message to 10,000 characters or fewer."),
    ({"audience": ""}, "audience", "Choose who gets the announcement."),
    ({"audience": "everyone"}, "audience", "Choose who gets the announcement."),
    ({"audience": "cohort", "cohort": ""}, "cohort", "Choose the cohort."),
    ({"audience": "cycles", "school_year": ""}, "school_year", "Choose the school year."),
    ({"audience": "cohort", "cohort": "999999"}, "cohort", "Not a valid choice."),
    ({"audience": "cohort", "cohort": "abc"}, "cohort", "Not a valid choice."),
]


@pytest.mark.parametrize(("values", "field", "said"), BAD_INPUT)
def test_bad_input_gets_a_message_next_to_the_field(client, staff, values, field, said):
    cohort, _ = cohort_with(1)
    data = {"cohort": cohort.id, "subject": "Kept subject", **values}
    for action in ("preview", "send"):
        response = client.post(NEW, data=form(client, action=action, **data))
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        error = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', html)
        assert error, f"no error next to {field}"
        assert said in error.group(1)
        if field != "subject":
            assert 'value="Kept subject"' in html
    assert db.session.scalar(sa.select(sa.func.count(Announcement.id))) == 0


def test_the_list_shows_who_sent_what_when_to_whom_and_how_many(client, staff):
    cohort, _ = cohort_with(2)
    confirm(client, preview(client, cohort=cohort.id), cohort=cohort.id)
    html = client.get("/notifications/announcements").get_data(as_text=True)
    assert "Convening moved" in html
    assert "Sam Staff" in html
    assert "Cohort Cohort Alpha" in html
    assert re.search(r"data-label=\"Recipients\">2<", html)


def test_a_recipient_reads_the_announcement_and_someone_else_may_not(client, staff):
    cohort, [person] = cohort_with(1)
    confirm(client, preview(client, cohort=cohort.id), cohort=cohort.id)
    announcement = db.session.scalar(sa.select(Announcement))
    url = f"/notifications/announcements/{announcement.id}"
    sign_in(client, db.session.get(type(staff), person))
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<strong>March convening</strong>" in html
    assert "From Sam Staff" in html
    assert "Sent to 1 person." not in html  # the count is for staff
    sign_in(client, UserFactory())
    assert client.get(url).status_code == 403
    sign_in(client, AdminFactory())
    assert client.get(url).status_code == 200
    assert client.get("/notifications/announcements/999999").status_code == 404


def test_a_big_announcement_is_queued_for_the_outbox_cron(client, staff, smtp_server):
    cohort, _ = cohort_with(51)
    response = confirm(client, preview(client, cohort=cohort.id), cohort=cohort.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent to 51 people. It is in their notifications now" in page
    assert smtp_server.messages == []  # `flask outbox deliver` sends them
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 51
