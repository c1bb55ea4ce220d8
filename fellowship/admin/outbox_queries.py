"""Read-only selectors for the admins' outbox page: counts per status and one page of
messages, without loading their bodies."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import load_only

from fellowship.db import Page, db, paginate
from fellowship.mail import OutboxMessage, OutboxStatus

# The list's filter values: a status, or "" for what needs an admin's eye (failed, then queued).
ATTENTION = ""
FILTERS = (ATTENTION, *(status.value for status in OutboxStatus))


def status_counts() -> dict[OutboxStatus, int]:
    """How many messages are in each status (every status present, 0 when none), one query."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count(OutboxMessage.id)).group_by(
            OutboxMessage.status
        )
    )
    found: dict[OutboxStatus, int] = {status: count for status, count in rows}
    return {status: int(found.get(status, 0)) for status in OutboxStatus}


def messages(status: str, *, page: int = 1, per_page: int = 50) -> Page[Any]:
    """One page of messages in `status` (one of FILTERS), newest first; ATTENTION lists the
    failed ones first, then the queued ones. Two queries; bodies are not loaded."""
    query = sa.select(OutboxMessage).options(
        load_only(
            OutboxMessage.id,
            OutboxMessage.to,
            OutboxMessage.subject,
            OutboxMessage.template,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.next_attempt_at,
            OutboxMessage.last_error,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
        )
    )
    if status == ATTENTION:
        query = query.where(
            OutboxMessage.status.in_([OutboxStatus.FAILED, OutboxStatus.QUEUED])
        ).order_by(sa.case((OutboxMessage.status == OutboxStatus.FAILED, 0), else_=1))
    else:
        query = query.where(OutboxMessage.status == OutboxStatus(status))
    query = query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    return paginate(query, page, per_page)
