"""What admins do with the outbox: send a message again now, send every failed one again, and
send a test email. Each change is a conditional UPDATE, so a message that a deliverer has
claimed (sending) or sent is never put back in the queue: nothing goes out twice.

Services flush; the view commits (and the commit hands the messages to the deliverer).
"""

from __future__ import annotations

import enum
from typing import Any

import sqlalchemy as sa

from fellowship.audit import record
from fellowship.db import db, utcnow
from fellowship.mail import _PENDING_KEY, OutboxMessage, OutboxStatus, queue_email

# Messages handed to the deliverer right after the commit; more wait for `flask outbox deliver`.
DELIVER_NOW_LIMIT = 200
RETRYABLE = (OutboxStatus.FAILED, OutboxStatus.QUEUED)


class Retry(enum.StrEnum):
    """What became of a request to send a message again."""

    REQUEUED = "requeued"  # it was failed or waiting, and is queued to go out now
    SENDING = "sending"  # a deliverer is sending it at this moment: left alone
    SENT = "sent"  # it went out already: never sent twice


def _deliver_after_commit(ids: list[int]) -> None:
    """Hand these messages to the deliverer once the caller's commit succeeds."""
    if ids:
        db.session.info.setdefault(_PENDING_KEY, []).extend(ids[:DELIVER_NOW_LIMIT])


def retry_message(actor: Any, message: OutboxMessage) -> Retry:
    """Queue a failed (or waiting) message to be sent now, its attempts counted from 0."""
    was = message.status
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status.in_(RETRYABLE))
        .values(
            status=OutboxStatus.QUEUED,
            attempts=0,
            next_attempt_at=utcnow(),
            claimed_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(message)
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return Retry.SENT if message.status == OutboxStatus.SENT else Retry.SENDING
    _deliver_after_commit([message.id])
    record(
        actor,
        "outbox_retried",
        message,
        details={"to": message.to, "template": message.template, "was": str(was)},
    )
    db.session.flush()
    return Retry.REQUEUED


def retry_failed(actor: Any) -> int:
    """Queue every failed message to be sent now; returns how many."""
    ids = list(
        db.session.scalars(
            sa.update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.FAILED)
            .values(
                status=OutboxStatus.QUEUED,
                attempts=0,
                next_attempt_at=utcnow(),
                claimed_at=None,
            )
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    if ids:
        ids.sort()
        _deliver_after_commit(ids)
        record(actor, "outbox_retried_all", None, details={"messages": len(ids)})
        db.session.flush()
    return len(ids)


def send_test_email(actor: Any, address: str, *, sent_at: Any = None) -> OutboxMessage:
    """Queue the test email to `address` (delivered after the commit), in the sender's
    language and time zone. Security-style mail: no unsubscribe link, never a notification."""
    message = queue_email(
        address,
        "admin/test_email",
        locale=actor.locale,
        timezone=actor.timezone,
        name=actor.name,
        address=address,
        sent_at=sent_at or utcnow(),
    )
    record(actor, "test_email_sent", message, details={"to": address})
    db.session.flush()
    return message
