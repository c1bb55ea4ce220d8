"""The admins' outbox page: counts, the filtered list, one message's page, sending again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage, OutboxStatus
from tests.conftest import csrf_token, sign_in
from tests.factories import AdminFactory, StaffFactory, UserFactory

LONG_ERROR = "SMTPRecipientsRefused: " + "mailbox unavailable; " * 20 + "THE END"


def add_message(status=OutboxStatus.QUEUED, *, age_minutes=0, **values) -> OutboxMessage:
    """An outbox row as the deliverer leaves it; `age_minutes` back-dates its creation."""
    created = utcnow() - timedelta(minutes=age_minutes)
    message = OutboxMessage(
        to=values.pop("to", "someone@example.org"),
        subject=values.pop("subject", "A subject"),
        text=values.pop("text", "The text body."),
        html=values.pop("html", "<p>The text body.</p>"),
        template=values.pop("template", "auth/password_reset"),
        status=status,
        created_at=created,
        next_attempt_at=values.pop("next_attempt_at", created),
        **values,
    )
    if status == OutboxStatus.SENT:
        message.sent_at = created
    db.session.add(message)
    db.session.commit()
    return message


def listed_subjects(html: str) -> list[str]:
    return re.findall(r'href="/admin/outbox/\d+">([^<]+)</a>', html)


def post(client, path: str, **data):
    """POST with the session's CSRF token; closing the response is when mail goes out."""
    data["csrf_token"] = csrf_token(client)
    response = client.post(path, data=data)
    response.close()
    return response


@pytest.fixture
def admin_client(client):
    sign_in(client, AdminFactory(timezone="UTC"))
    return client


def test_by_default_the_outbox_lists_failed_then_queued_messages_newest_first(admin_client):
    add_message(OutboxStatus.FAILED, subject="old failure", age_minutes=30, attempts=8)
    add_message(OutboxStatus.QUEUED, subject="new queued", age_minutes=1)
    add_message(OutboxStatus.FAILED, subject="new failure", age_minutes=5, attempts=8)
    add_message(OutboxStatus.QUEUED, subject="old queued", age_minutes=60)
    add_message(OutboxStatus.SENT, subject="went out")
    add_message(OutboxStatus.SENDING, subject="going out")
    html = admin_client.get("/admin/outbox").get_data(as_text=True)
    assert listed_subjects(html) == ["new failure", "old failure", "new queued", "old queued"]


@pytest.mark.parametrize(
    ("status", "listed"),
    [
        ("failed", ["failure"]),
        ("queued", ["waiting"]),
        ("sending", ["going out"]),
        ("sent", ["went out 2", "went out 1"]),
    ],
)
def test_the_outbox_filters_by_status(admin_client, status, listed):
    add_message(OutboxStatus.FAILED, subject="failure")
    add_message(OutboxStatus.QUEUED, subject="waiting")
    add_message(OutboxStatus.SENDING, subject="going out")
    add_message(OutboxStatus.SENT, subject="went out 1", age_minutes=10)
    add_message(OutboxStatus.SENT, subject="went out 2", age_minutes=2)
    html = admin_client.get(f"/admin/outbox?status={status}").get_data(as_text=True)
    assert listed_subjects(html) == listed


def test_the_outbox_counts_every_status_and_links_to_each(admin_client):
    for status, count in [(OutboxStatus.FAILED, 2), (OutboxStatus.SENT, 3)]:
        for _ in range(count):
            add_message(status)
    html = admin_client.get("/admin/outbox").get_data(as_text=True)
    counts = dict(
        re.findall(
            r'href="/admin/outbox\?status=(\w+)"><span class="stat-number">(\d+)</span>', html
        )
    )
    assert counts == {"queued": "0", "sending": "0", "sent": "3", "failed": "2"}


def test_an_unknown_status_filter_shows_the_default_list(admin_client):
    add_message(OutboxStatus.FAILED, subject="failure")
    response = admin_client.get("/admin/outbox?status=bogus")
    assert response.status_code == 200
    assert listed_subjects(response.get_data(as_text=True)) == ["failure"]


def test_the_list_shows_50_a_page(admin_client):
    for n in range(60):
        add_message(OutboxStatus.FAILED, subject=f"message {n:02d}", age_minutes=n)
    first = listed_subjects(admin_client.get("/admin/outbox").get_data(as_text=True))
    second = listed_subjects(admin_client.get("/admin/outbox?page=2").get_data(as_text=True))
    assert len(first) == 50
    assert first[0] == "message 00"
    assert second == [f"message {n}" for n in range(50, 60)]


def test_the_list_shortens_the_error_and_the_message_page_shows_it_whole(admin_client):
    message = add_message(OutboxStatus.FAILED, attempts=8, last_error=LONG_ERROR)
    listing = admin_client.get("/admin/outbox").get_data(as_text=True)
    assert "SMTPRecipientsRefused: mailbox unavailable" in listing
    assert "THE END" not in listing
    page = admin_client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert LONG_ERROR in page


def test_the_message_page_shows_headers_status_and_the_escaped_text(admin_client):
    message = add_message(
        OutboxStatus.QUEUED,
        to="reader@example.org",
        subject="Your check-in",
        template="coaching/checkin_shared",
        text="Hello <script>alert(1)</script> & welcome",
        attempts=2,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )
    html = admin_client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "reader@example.org" in html
    assert "Your check-in" in html
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; welcome" in html
    assert "<script>alert(1)" not in html
    assert "ConnectionRefusedError: [Errno 111] Connection refused" in html
    assert "Fellowship &lt;no-reply@example.org&gt;" in html  # the From header
    assert "No (security or service email)" in html  # no unsubscribe header
    assert "Send it now" in html


@pytest.mark.parametrize("template", ["auth/password_reset", "auth/invitation"])
def test_the_message_page_never_shows_the_private_link_of_a_sign_in_email(admin_client, template):
    """An admin reading a password reset or an invitation could use its link themselves."""
    link = "http://127.0.0.1:5000/reset/SECRET-TOKEN"
    message = add_message(OutboxStatus.SENT, template=template, text=f"Choose one: {link}")
    html = admin_client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "SECRET-TOKEN" not in html
    assert "Not shown: this sign-in email holds a private link" in html


def test_the_message_page_tells_about_the_attachment_and_the_unsubscribe_header(admin_client):
    message = add_message(
        OutboxStatus.SENT,
        attachment_name="convening.ics",
        attachment_type="text/calendar; method=PUBLISH",
        attachment_text="BEGIN:VCALENDAR",
        unsubscribe_url="http://localhost/notifications/unsubscribe/abc",
    )
    html = admin_client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "convening.ics" in html
    assert "List-Unsubscribe" in html
    assert "&lt;http://localhost/notifications/unsubscribe/abc&gt;" in html
    assert "Send it" not in html  # a sent message has no button to send it again


def test_an_unknown_message_is_not_found(admin_client):
    assert admin_client.get("/admin/outbox/999999").status_code == 404
    assert post(admin_client, "/admin/outbox/999999/retry").status_code == 404


@pytest.mark.parametrize("rows", [3, 60])
def test_the_outbox_page_makes_a_fixed_number_of_queries(admin_client, count_queries, rows):
    for n in range(rows):
        add_message(
            OutboxStatus.FAILED if n % 2 else OutboxStatus.QUEUED,
            last_error="SMTPDataError: no",
            age_minutes=n,
        )
    admin_client.get("/admin/outbox")  # warm up (the session's user, caches)
    with count_queries() as counter:
        response = admin_client.get("/admin/outbox")
    assert response.status_code == 200
    # the signed-in person, the counts, the page's total, the page's rows, and the
    # navigation's memberships: the same for 3 messages and for 60
    assert counter.count == 5, counter.statements


def test_retrying_a_failed_message_queues_it_again_from_zero_attempts(admin_client, app):
    message = add_message(
        OutboxStatus.FAILED,
        attempts=8,
        last_error="SMTPDataError: no",
        next_attempt_at=utcnow() + timedelta(hours=6),
    )
    app.config["OUTBOX_DELIVER_AFTER_COMMIT"] = False
    try:
        response = post(admin_client, f"/admin/outbox/{message.id}/retry")
    finally:
        app.config["OUTBOX_DELIVER_AFTER_COMMIT"] = True
    assert response.status_code == 302
    db.session.expire_all()
    again = db.session.get(OutboxMessage, message.id)
    assert (again.status, again.attempts) == (OutboxStatus.QUEUED, 0)
    assert again.next_attempt_at <= utcnow()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "outbox_retried"))
    assert (event.target_type, event.target_id) == ("OutboxMessage", message.id)
    assert event.details["was"] == "failed"


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (OutboxStatus.SENT, "This email was sent already; it is not sent twice."),
        (OutboxStatus.SENDING, "This email is being sent at this moment; wait for the result."),
    ],
)
def test_a_sent_or_sending_message_is_never_queued_again(admin_client, smtp_server, status, said):
    message = add_message(status, attempts=1)
    response = post(admin_client, f"/admin/outbox/{message.id}/retry")
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert said in page
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == status
    assert smtp_server.messages == []
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_retrying_every_failed_message_sends_them_once(admin_client, smtp_server):
    failed = [
        add_message(OutboxStatus.FAILED, to=f"f{n}@example.org", attempts=8) for n in range(3)
    ]
    add_message(OutboxStatus.SENT, to="done@example.org")
    waiting = add_message(
        OutboxStatus.QUEUED, to="later@example.org", next_attempt_at=utcnow() + timedelta(hours=1)
    )
    response = post(admin_client, "/admin/outbox/retry-failed")
    assert response.status_code == 302
    page = admin_client.get("/admin/outbox").get_data(as_text=True)
    assert "3 failed emails are being sent again." in page
    assert sorted(m["To"] for m in smtp_server.messages) == [f"f{n}@example.org" for n in range(3)]
    db.session.expire_all()
    assert {db.session.get(OutboxMessage, m.id).status for m in failed} == {OutboxStatus.SENT}
    assert db.session.get(OutboxMessage, waiting.id).status == OutboxStatus.QUEUED
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "outbox_retried_all")
    )
    assert event.details == {"messages": 3}
    post(admin_client, "/admin/outbox/retry-failed")  # nothing failed now: nothing again
    assert len(smtp_server.messages) == 3


def test_retrying_when_nothing_failed_says_so(admin_client):
    response = post(admin_client, "/admin/outbox/retry-failed")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No email had failed: nothing to send again." in page


@pytest.mark.parametrize(
    ("make", "sees_outbox", "sees_announcements"),
    [(AdminFactory, True, True), (StaffFactory, False, True), (UserFactory, False, False)],
)
def test_the_navigation_shows_the_email_pages_to_admins_only(
    client, make, sees_outbox, sees_announcements
):
    sign_in(client, make())
    html = client.get("/profile").get_data(as_text=True)
    assert ('href="/admin/outbox"' in html) is sees_outbox
    assert ('href="/admin/email"' in html) is sees_outbox
    assert ('href="/notifications/announcements"' in html) is sees_announcements
