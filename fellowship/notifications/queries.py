"""Read-only selectors for a person's own notifications."""

from __future__ import annotations

import sqlalchemy as sa

from fellowship.db import Page, paginate
from fellowship.notifications.models import Notification


def notifications_of(user_id: int, *, page: int, per_page: int) -> Page[Notification]:
    """The person's notifications, newest first, one page (two queries whatever the count)."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return paginate(query, page, per_page)
