"""The outbox against a real SMTP server: nothing lost, nothing doubled, nothing for rollbacks."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from click.testing import Result

from fellowship.auth.models import Role
from fellowship.auth.services import invite_person
from fellowship.db import commit, utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage, OutboxStatus, deliver_outbox, queue_email
from tests.conftest import SmtpServer, SmtpSink, body_of, csrf_token, free_port, sign_in
from tests.factories import AdminFactory


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def invite_through_the_page(client, email="newcomer@example.org"):
    """Post the invitation form; closing the response is when the server sends the mail."""
    with client.post(
        "/admin/people/invite",
        data={
            "email": email,
            "name": "Nova Newcomer",
            "role": "member",
            "locale": "en",
            "csrf_token": csrf_token(client),
        },
    ) as response:
        return response


def test_an_invitation_is_delivered_to_a_real_smtp_server_once_the_response_has_gone(
    client, smtp_server
):
    sign_in(client, AdminFactory())
    with client.post(
        "/admin/people/invite",
        data={
            "email": "newcomer@example.org",
            "name": "Nova Newcomer",
            "role": "member",
            "locale": "en",
            "csrf_token": csrf_token(client),
        },
    ) as response:
        assert response.status_code == 302
        assert smtp_server.messages == []  # nothing is sent while the response is open
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "newcomer@example.org"
    assert message["Subject"] == "You are invited to Fellowship"
    assert "/invitation/" in body_of(message, "plain")
    assert "/invitation/" in body_of(message, "html")
    assert [m.status for m in outbox()] == [OutboxStatus.SENT]


def test_with_the_mail_server_down_the_invitation_succeeds_and_is_delivered_once_it_is_back(
    app, client, monkeypatch
):
    port = free_port()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_SUPPRESS_SEND", False)
    sign_in(client, AdminFactory())
    response = invite_through_the_page(client)
    assert response.status_code == 302  # the action succeeded
    [queued] = outbox()
    assert queued.status == OutboxStatus.QUEUED
    assert queued.attempts == 1
    assert "ConnectionRefusedError" in (queued.last_error or "")
    assert queued.next_attempt_at > utcnow()  # backoff

    server = SmtpServer(port=port, sink=SmtpSink())
    server.start()
    try:
        with app.app_context():
            assert deliver_outbox() == {"sent": 0, "retry": 0, "failed": 0}  # not due yet
            db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
            db.session.commit()
            assert deliver_outbox() == {"sent": 1, "retry": 0, "failed": 0}
            assert deliver_outbox() == {"sent": 0, "retry": 0, "failed": 0}  # never twice
    finally:
        server.stop()
    assert len(server.messages) == 1
    assert server.messages[0]["To"] == "newcomer@example.org"


def test_a_rolled_back_action_sends_nothing(app, smtp_server):
    with app.test_request_context():
        admin = AdminFactory()
        invite_person(admin, email="never@example.org", name="Never Sent", role=Role.MEMBER)
        db.session.rollback()
        commit()  # a later commit in the same request must not deliver the rolled-back mail
        assert deliver_outbox() == {"sent": 0, "retry": 0, "failed": 0}
    assert smtp_server.messages == []
    assert outbox() == []


def test_a_message_that_keeps_failing_is_marked_failed_after_the_last_attempt(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    monkeypatch.setitem(app.config, "MAIL_SUPPRESS_SEND", False)
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    with app.test_request_context():
        queue_email("x@example.org", "auth/password_reset", name="X", link="http://l", minutes=5)
        db.session.commit()
        results = []
        for _ in range(3):
            db.session.execute(
                sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
            results.append(deliver_outbox())
    assert [r["failed"] for r in results] == [0, 0, 1]
    [message] = outbox()
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == 3


def test_messages_not_tried_because_the_server_is_down_wait_untouched_for_the_next_run(
    app, monkeypatch
):
    """Deliverers claim a batch at a time; when the server cannot be reached, only the first
    message counts an attempt and the rest go back to the queue as they were."""
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    monkeypatch.setitem(app.config, "MAIL_SUPPRESS_SEND", False)
    with app.test_request_context():
        for n in range(4):
            queue_email(
                f"x{n}@example.org", "auth/password_reset", name="X", link="http://l", minutes=5
            )
        db.session.commit()
        assert deliver_outbox() == {"sent": 0, "retry": 1, "failed": 0}
    by_address = {m.to: m for m in outbox()}
    assert by_address["x0@example.org"].attempts == 1
    assert by_address["x0@example.org"].last_error
    untried = [by_address[f"x{n}@example.org"] for n in (1, 2, 3)]
    assert [(m.status, m.attempts, m.claimed_at) for m in untried] == [
        (OutboxStatus.QUEUED, 0, None)
    ] * 3


def test_a_message_the_server_can_never_take_fails_at_once_and_the_rest_are_sent(app, smtp_server):
    """A non-ASCII address passes the address validators but not plain SMTP: it is marked
    failed with its error (for the outbox page) and the messages after it still go out."""
    with app.test_request_context():
        for to in ("jösé@example.org", "after@example.org"):
            queue_email(to, "auth/password_reset", name="X", link="http://l", minutes=5)
        db.session.commit()
        assert deliver_outbox() == {"sent": 1, "retry": 0, "failed": 1}
    by_address = {m.to: m for m in outbox()}
    assert by_address["jösé@example.org"].status == OutboxStatus.FAILED
    assert "UnicodeEncodeError" in (by_address["jösé@example.org"].last_error or "")
    assert by_address["after@example.org"].status == OutboxStatus.SENT
    assert [m["To"] for m in smtp_server.messages] == ["after@example.org"]


def test_the_cli_delivers_the_queue(app, smtp_server):
    with app.test_request_context():
        queue_email("cli@example.org", "auth/password_reset", name="C", link="http://l", minutes=5)
        db.session.commit()
    result: Result = app.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert [m["To"] for m in smtp_server.messages] == ["cli@example.org"]


def test_two_deliverers_never_send_the_same_message(app, smtp_server):
    """A claimed row is skipped by a second run (the conditional UPDATE claims it first)."""
    with app.test_request_context():
        message = queue_email(
            "race@example.org", "auth/password_reset", name="R", link="http://l", minutes=5
        )
        db.session.commit()
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(status=OutboxStatus.SENDING, claimed_at=utcnow())
        )
        db.session.commit()
        assert deliver_outbox() == {"sent": 0, "retry": 0, "failed": 0}
    assert smtp_server.messages == []


def test_the_database_is_not_locked_while_the_mail_server_is_slow(tmp_path):
    """Another writer can commit while a message is being handed to the SMTP server."""
    import sqlite3

    import flask_migrate

    from tests.conftest import make_app

    database = tmp_path / "outbox.db"
    app = make_app(f"sqlite:///{database}", MAIL_SUPPRESS_SEND=False)
    seen: list[str] = []

    class WritingSink(SmtpSink):
        async def handle_DATA(self, server, session, envelope):
            other = sqlite3.connect(database, timeout=0)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                seen.append("could write")
            except sqlite3.OperationalError as error:
                seen.append(str(error))
            finally:
                other.close()
            return await super().handle_DATA(server, session, envelope)

    server = SmtpServer(port=free_port(), sink=WritingSink())
    server.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    try:
        with app.app_context():
            flask_migrate.upgrade()
            with app.test_request_context():
                queue_email(
                    "slow@example.org", "auth/password_reset", name="S", link="http://l", minutes=5
                )
            db.session.commit()
            assert deliver_outbox()["sent"] == 1
            db.session.remove()
            db.engine.dispose()
    finally:
        server.stop()
    assert seen == ["could write"]


def test_mail_queued_before_a_rollback_is_not_sent_by_a_later_commit(app, smtp_server):
    with app.app_context():
        queue_email("gone@example.org", "auth/password_reset", name="G", link="http://l", minutes=5)
        db.session.rollback()
        queue_email("kept@example.org", "auth/password_reset", name="K", link="http://l", minutes=5)
        commit()
    assert [m["To"] for m in smtp_server.messages] == ["kept@example.org"]
