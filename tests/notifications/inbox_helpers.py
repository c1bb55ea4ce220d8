"""Notifications made directly (for the pages that show them), with fixed times."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from fellowship.auth.models import User
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.notifications.models import Category, EmailState, Notification

_numbers = itertools.count(1)


def add_notification(
    user: User,
    subject: str = "Dana shared your check-in",
    *,
    link: str = "/coaching/checkins/1",
    ago: timedelta = timedelta(hours=3),
    at: datetime | None = None,
    read: bool = False,
    category: Category = Category.COACHING,
    commit: bool = True,
) -> Notification:
    created = at or utcnow() - ago
    row = Notification(
        user_id=user.id,
        kind="coaching/checkin_shared",
        category=category,
        subject=subject,
        link=link,
        dedupe_key=f"inbox-test:{user.id}:{next(_numbers)}",
        email=EmailState.QUEUED,
        created_at=created,
        read_at=created + timedelta(minutes=5) if read else None,
    )
    db.session.add(row)
    if commit:
        db.session.commit()
    return row


def add_many(user: User, count: int) -> list[Notification]:
    """`count` notifications, one a minute apart, the last one newest; half of them read."""
    rows = [
        add_notification(
            user,
            f"Notification number {n}",
            ago=timedelta(minutes=count - n),
            read=n % 2 == 0,
            commit=False,
        )
        for n in range(1, count + 1)
    ]
    db.session.commit()
    return rows
