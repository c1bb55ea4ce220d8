"""Event emails against a real SMTP server (aiosmtpd): the mail server being down changes
nothing for the action — it succeeds, the notification is there, the email waits in the
outbox and is delivered once the server is back — and what arrives is a proper message
(one-click unsubscribe headers, the .ics attachment of a convening)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.header import decode_header, make_header

import sqlalchemy as sa

from fellowship.coaching.models import CheckIn
from fellowship.convenings import services as convenings
from fellowship.convenings.models import ConveningKind
from fellowship.db import commit, utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage, OutboxStatus, deliver_outbox
from fellowship.notifications.models import EmailState, Notification
from tests.coaching.helpers import coaching_pair, form_data
from tests.conftest import SmtpServer, SmtpSink, body_of, csrf_token, free_port, sign_in
from tests.convenings.helpers import cohort_setup
from tests.factories import StaffFactory


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_with_the_mail_server_down_sharing_a_check_in_succeeds_and_the_email_waits(
    app, client, monkeypatch
):
    port = free_port()  # nothing listens here: the mail server is down
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_SUPPRESS_SEND", False)
    pair = coaching_pair()
    sign_in(client, pair.coach)
    path = f"/cohorts/{pair.cohort.id}/fellows/{pair.fellow.id}/checkins/new"
    client.post(path, data=form_data(client, path))  # a draft tells nobody
    assert db.session.scalars(sa.select(Notification)).all() == []
    checkin = db.session.scalar(sa.select(CheckIn))
    token = csrf_token(client)
    with client.post(f"/checkins/{checkin.id}/share", data={"csrf_token": token}) as response:
        assert response.status_code == 302  # the action succeeded
    # The response has gone; delivery was tried after it and failed.
    [notification] = db.session.scalars(sa.select(Notification)).all()
    assert notification.user_id == pair.fellow.id
    assert notification.email == EmailState.QUEUED
    [waiting] = outbox()
    assert waiting.status == OutboxStatus.QUEUED
    assert waiting.attempts == 1
    assert "ConnectionRefusedError" in (waiting.last_error or "")
    assert waiting.dedupe_key == f"notification-{notification.id}"

    server = SmtpServer(port=port, sink=SmtpSink())
    server.start()
    try:
        with app.app_context():
            db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
            db.session.commit()
            assert deliver_outbox() == {"sent": 1, "retry": 0, "failed": 0}
            assert deliver_outbox() == {"sent": 0, "retry": 0, "failed": 0}  # never twice
    finally:
        server.stop()
    [message] = server.messages
    assert message["To"] == pair.fellow.email
    assert message["Subject"].startswith("Cora Coach shared your check-in")
    assert f"/checkins/{checkin.id}" in body_of(message, "plain")
    unsubscribe = str(make_header(decode_header(message["List-Unsubscribe"])))
    assert unsubscribe.startswith("<http://localhost/notifications/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [m.status for m in outbox()] == [OutboxStatus.SENT]


def test_a_scheduled_convening_arrives_with_its_calendar_file(app, smtp_server):
    with app.app_context():  # as the CLI or the demo builder would
        setup = cohort_setup(fellows=1)
        staff = StaffFactory()
        data = convenings.ConveningData(
            title="Coalition building workshop",
            kind=ConveningKind.WORKSHOP,
            starts_at=datetime(2031, 12, 16, 17, 0, tzinfo=UTC),
            ends_at=datetime(2031, 12, 16, 19, 30, tzinfo=UTC),
            location="Room 4",
        )
        convening = convenings.schedule_convening(staff, setup.cohort, data)
        commit()  # delivered right after the commit, outside a request
        members = {setup.facilitator.email, setup.coach.email, setup.fellows[0].email}
        fellow, uid = setup.fellows[0].email, f"UID:convening-{convening.id}@fellowship"
    received = {message["To"]: message for message in smtp_server.messages}
    assert set(received) == members
    message = received[fellow]
    [attachment] = [part for part in message.walk() if part.get_filename() == "convening.ics"]
    assert attachment.get_content_type() == "text/calendar"
    ics = attachment.get_payload(decode=True).decode("utf-8")
    assert uid in ics
    assert "DTSTART:20311216T170000Z" in ics
    assert "Room 4" in body_of(message, "plain")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
