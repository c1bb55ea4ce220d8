"""The email settings page and its test email, against a real SMTP server (aiosmtpd): the
test email arrives; with the server down the page still works, the error shows on the outbox
page, and sending it again once the server is back delivers it once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import render_template

from fellowship.audit import AuditEvent
from fellowship.extensions import db
from fellowship.mail import OutboxMessage, OutboxStatus, force_recipient, split_subject
from tests.conftest import SmtpServer, SmtpSink, body_of, csrf_token, free_port, sign_in
from tests.factories import AdminFactory
from tests.notifications.snapshots import assert_matches_snapshot


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def send_test_email(client, address: str):
    """Post the test email form; closing the response is when the server sends the mail."""
    data = {"email": address, "csrf_token": csrf_token(client)}
    response = client.post("/admin/email", data=data)
    response.close()
    return response


@pytest.fixture
def admin(client):
    person = AdminFactory(name="Ada Admin", email="ada@example.org", timezone="UTC")
    sign_in(client, person)
    return person


def test_the_settings_page_shows_the_mail_configuration_but_never_the_password(
    app, client, admin, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    monkeypatch.setitem(app.config, "MAIL_PORT", 587)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", True)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "mailer")
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", "a-very-secret-mail-password")
    html = client.get("/admin/email").get_data(as_text=True)
    for shown in ("smtp.example.org", "587", "STARTTLS", "mailer", "http://localhost"):
        assert shown in html
    assert "Fellowship &lt;no-reply@example.org&gt;" in html
    assert "Sending is turned off" in html  # the test configuration suppresses sending
    assert "a-very-secret-mail-password" not in html
    assert 'value="ada@example.org"' in html  # the test email goes to the admin by default
    assert 'href="/admin/outbox"' in html


def test_the_test_email_reaches_the_mail_server(client, admin, smtp_server):
    response = send_test_email(client, "inbox@example.org")
    assert response.status_code == 302
    [message] = smtp_server.messages
    assert message["To"] == "inbox@example.org"
    assert message["Subject"] == "Fellowship test email"
    assert message["List-Unsubscribe"] is None  # a service email, not a notification
    assert "Ada Admin sent this test email" in body_of(message, "plain")
    assert "Ada Admin sent this test email" in body_of(message, "html")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A test email to inbox@example.org is on its way." in page
    assert [m.status for m in outbox()] == [OutboxStatus.SENT]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "test_email_sent"))
    assert event.details == {"to": "inbox@example.org"}


@pytest.mark.parametrize("address", ["not-an-address", "", "a@b@example.org", "x" * 250 + "@e.org"])
def test_an_invalid_address_gets_a_message_next_to_the_field_and_queues_nothing(
    client, admin, address
):
    response = send_test_email(client, address)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html
    assert f'value="{address}"' in html or address == ""
    assert outbox() == []


def test_with_the_mail_server_down_the_test_email_waits_and_is_sent_once_when_retried(
    app, client, admin, monkeypatch
):
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_SUPPRESS_SEND", False)
    response = send_test_email(client, "inbox@example.org")
    assert response.status_code == 302  # the page works with the mail server down
    [waiting] = outbox()
    assert waiting.status == OutboxStatus.QUEUED
    assert "ConnectionRefusedError" in (waiting.last_error or "")
    listing = client.get("/admin/outbox").get_data(as_text=True)
    assert "Fellowship test email" in listing
    assert "ConnectionRefusedError" in listing

    server = SmtpServer(port=port, sink=SmtpSink())
    server.start()
    try:
        data = {"csrf_token": csrf_token(client)}
        client.post(f"/admin/outbox/{waiting.id}/retry", data=data).close()
        assert [m["To"] for m in server.messages] == ["inbox@example.org"]
        [sent] = outbox()
        assert sent.status == OutboxStatus.SENT
        page = client.post(f"/admin/outbox/{waiting.id}/retry", data=data, follow_redirects=True)
        assert "This email was sent already" in page.get_data(as_text=True)
    finally:
        server.stop()
    assert len(server.messages) == 1


SENT_AT = datetime(2026, 11, 30, 15, 45, tzinfo=UTC)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_test_email_matches_its_snapshot(ctx, locale):
    context = {"name": "Ada Admin", "address": "inbox@example.org", "sent_at": SENT_AT}
    with force_recipient(locale, "America/New_York"):
        text = render_template("emails/admin/test_email.txt", **context)
        html = render_template("emails/admin/test_email.html", **context)
    subject, body = split_subject(text, "admin/test_email")
    assert_matches_snapshot(f"admin_test_email.{locale}.txt", f"Subject: {subject}\n\n{body}")
    assert_matches_snapshot(f"admin_test_email.{locale}.html", html)
