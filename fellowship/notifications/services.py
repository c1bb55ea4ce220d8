"""Telling people things: `notify()` / `notify_many()` write the in-app notification and, by
the recipient's preference, the email (now, in a digest, or not at all), in the caller's
transaction. Every notification has a unique `dedupe_key`, inserted with ON CONFLICT DO
NOTHING: the same event or reminder produced twice (a double submit, two cron runs at once,
two servers) is one row and one email.

Services flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from fellowship.auth.models import User
from fellowship.db import db, insert_for, utcnow
from fellowship.mail import (
    _PENDING_KEY,
    Attachment,
    OutboxMessage,
    email_context,
    force_recipient,
    split_subject,
)
from fellowship.notifications.models import (
    DEFAULT_FREQUENCY,
    Category,
    EmailState,
    Frequency,
    Notification,
    NotificationPreference,
)

# Every kind of notification: its email template (`templates/emails/<kind>.{txt,html}`, the
# text one starting with a `Subject:` line) and the category its recipient sets a frequency for.
KINDS: dict[str, Category] = {
    # Coaching
    "coaching/checkin_shared": Category.COACHING,
    "coaching/action_items_assigned": Category.COACHING,
    "coaching/action_item_due": Category.COACHING,
    "coaching/checkin_due_soon": Category.COACHING,
    "coaching/checkin_overdue": Category.COACHING,
    # Curriculum
    "curriculum/feedback_given": Category.CURRICULUM,
    "curriculum/module_due_soon": Category.CURRICULUM,
    "curriculum/module_overdue": Category.CURRICULUM,
    # Capstones
    "capstones/reviewer_assigned": Category.CAPSTONES,
    "capstones/review_submitted": Category.CAPSTONES,
    "capstones/decision": Category.CAPSTONES,
    "capstones/review_waiting": Category.CAPSTONES,
    # Convenings
    "convenings/scheduled": Category.CONVENINGS,
    "convenings/changed": Category.CONVENINGS,
    # Equity cycles
    "cycles/review_scheduled": Category.CYCLES,
    "cycles/packet_ready": Category.CYCLES,
    "cycles/review_signed": Category.CYCLES,
    "cycles/review_in_7_days": Category.CYCLES,
    "cycles/review_tomorrow": Category.CYCLES,
    "cycles/measurement_stale": Category.CYCLES,
    # Staff announcements
    "notifications/announcement": Category.ANNOUNCEMENTS,
}

_UNSUBSCRIBE_SALT = "fellowship.notifications.unsubscribe"


# Links --------------------------------------------------------------------------------------


def app_path(endpoint: str, **values: Any) -> str:
    """The path of a route, in a request or not (cron jobs, the demo builder)."""
    anchor = values.pop("_anchor", None)
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return f"{path}#{anchor}" if anchor else path


def absolute(path: str) -> str:
    """An address a mail program can open: `BASE_URL` + the path."""
    return str(current_app.config["BASE_URL"]).rstrip("/") + path


# Preferences --------------------------------------------------------------------------------


def frequencies(user_ids: Iterable[int]) -> dict[tuple[int, Category], Frequency]:
    """Each (user, category) that has a preference row; the rest are `DEFAULT_FREQUENCY`."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    found: dict[tuple[int, Category], Frequency] = {}
    for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        rows = db.session.execute(
            sa.select(
                NotificationPreference.user_id,
                NotificationPreference.category,
                NotificationPreference.frequency,
            ).where(NotificationPreference.user_id.in_(ids[start : start + 900]))
        )
        for user_id, category, frequency in rows:
            found[(user_id, category)] = frequency
    return found


def frequency_of(
    known: dict[tuple[int, Category], Frequency], user_id: int, category: Category
) -> Frequency:
    return known.get((user_id, category), DEFAULT_FREQUENCY)


def preferences_of(user: User) -> dict[Category, Frequency]:
    known = frequencies([user.id])
    return {category: frequency_of(known, user.id, category) for category in Category}


def set_preferences(user: User, chosen: dict[Category, Frequency]) -> int:
    """Store the person's frequencies; returns how many changed. An upsert, so two saves at
    once (a mail program's one-click unsubscribe and a click on the page) both succeed."""
    current = preferences_of(user)
    changed = {c: f for c, f in chosen.items() if current[c] != f}
    if not changed:
        return 0
    table = cast(sa.Table, NotificationPreference.__table__)
    statement = insert_for(table).values(
        [
            {"user_id": user.id, "category": c, "frequency": f, "updated_at": utcnow()}
            for c, f in changed.items()
        ]
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.category],
            set_={"frequency": statement.excluded.frequency, "updated_at": utcnow()},
        )
    )
    return len(changed)


def unsubscribe_token(user_id: int, categories: Iterable[Category]) -> str:
    """A signed token for the one-click unsubscribe link (no expiry: old emails keep working)."""
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)
    return str(serializer.dumps([user_id, sorted(c.value for c in categories)]))


def read_unsubscribe_token(token: str) -> tuple[int, list[Category]] | None:
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)
    try:
        user_id, names = serializer.loads(token)
        categories = [Category(name) for name in names]
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not categories:
        return None
    return user_id, categories


def unsubscribe(user: User, categories: Iterable[Category]) -> int:
    """Turn these categories off (the in-app list keeps them). Returns how many changed."""
    return set_preferences(user, dict.fromkeys(categories, Frequency.OFF))


# Notifying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One recipient of a notification: who, its unique key, the page it is about, and what
    its email template needs beyond `name`, `link`, `unsubscribe_url`, `preferences_url`."""

    user: User
    key: str
    link: str  # a path, from `app_path()`
    context: dict[str, Any] = field(default_factory=dict)


def _insert_ignoring_duplicates(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert notification rows; a key that exists already (or is being inserted by another
    transaction, which this one then waits for) is skipped. Returns {key: id} of new rows."""
    if not rows:
        return {}
    table = cast(sa.Table, Notification.__table__)
    statement = (
        insert_for(table)
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.id, table.c.dedupe_key)
    )
    created: dict[str, int] = {}
    for start in range(0, len(rows), 500):
        result = db.session.execute(statement, rows[start : start + 500])
        created.update({key: notification_id for notification_id, key in result})
    return created


def existing_keys(keys: Iterable[str]) -> set[str]:
    """Which of these dedupe keys have their notification already."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 900):
        found.update(
            db.session.scalars(
                sa.select(Notification.dedupe_key).where(
                    Notification.dedupe_key.in_(wanted[start : start + 900])
                )
            )
        )
    return found


def notify_many(
    kind: str,
    entries: Sequence[Entry],
    *,
    attachment: Attachment | None = None,
    deliver_now: bool = True,
) -> list[int]:
    """Notify each entry's user of one kind of thing; returns the ids of the notifications
    created (an entry whose key exists already gets nothing, again).

    Immediately: the email is written to the outbox now (sent after the commit, or by
    `flask outbox deliver` when `deliver_now` is False). Daily or weekly: it waits for the
    digest. Off: in the app only.
    """
    category = KINDS[kind]
    unique: dict[str, Entry] = {}
    for entry in entries:
        unique.setdefault(entry.key, entry)
    for key in existing_keys(unique):  # told already: no need to render their emails again
        del unique[key]
    if not unique:
        return []
    known = frequencies(entry.user.id for entry in unique.values())
    env = current_app.jinja_env
    text_template = env.get_template(f"emails/{kind}.txt")
    html_template = env.get_template(f"emails/{kind}.html")
    now = utcnow()
    rows: list[dict[str, Any]] = []
    mails: dict[str, dict[str, Any]] = {}
    by_language: dict[tuple[str, str], list[Entry]] = {}
    for entry in unique.values():
        by_language.setdefault((entry.user.locale, entry.user.timezone), []).append(entry)
    for (locale, zone), group in by_language.items():
        with force_recipient(locale, zone):
            shared = email_context()
            for entry in group:
                frequency = frequency_of(known, entry.user.id, category)
                values = {**shared, **_email_values(entry, category)}
                subject, body = split_subject(text_template.render(values), kind)
                state = {
                    Frequency.IMMEDIATELY: EmailState.QUEUED,
                    Frequency.DAILY: EmailState.PENDING,
                    Frequency.WEEKLY: EmailState.PENDING,
                    Frequency.OFF: EmailState.NONE,
                }[frequency]
                rows.append(
                    {
                        "user_id": entry.user.id,
                        "kind": kind,
                        "category": category,
                        "subject": subject[:255],
                        "link": entry.link[:500],
                        "dedupe_key": entry.key,
                        "email": state,
                        "created_at": now,
                    }
                )
                if state == EmailState.QUEUED:
                    mails[entry.key] = {
                        "to": entry.user.email,
                        "subject": subject,
                        "text": body,
                        "html": html_template.render(values),
                        "template": kind,
                        "unsubscribe_url": values["unsubscribe_url"],
                        "attachment_name": attachment.filename if attachment else None,
                        "attachment_type": attachment.content_type if attachment else None,
                        "attachment_text": attachment.text if attachment else None,
                    }
    created = _insert_ignoring_duplicates(rows)
    outbox = [
        {**mails[key], "dedupe_key": f"notification-{notification_id}"}
        for key, notification_id in created.items()
        if key in mails
    ]
    if outbox:
        ids: list[int] = []
        for start in range(0, len(outbox), 500):
            ids.extend(
                db.session.execute(
                    sa.insert(OutboxMessage).returning(OutboxMessage.id),
                    outbox[start : start + 500],
                ).scalars()
            )
        if deliver_now:
            db.session.info.setdefault(_PENDING_KEY, []).extend(ids)
    return sorted(created.values())


def _email_values(entry: Entry, category: Category) -> dict[str, Any]:
    """What every notification email template gets, then the entry's own context."""
    return {
        "name": entry.user.name,
        "link": absolute(entry.link),
        "unsubscribe_url": absolute(
            app_path(
                "notifications.unsubscribe",
                token=unsubscribe_token(entry.user.id, [category]),
            )
        ),
        "preferences_url": absolute(app_path("notifications.preferences")),
        **entry.context,
    }


def preview(kind: str, entry: Entry) -> tuple[str, str, str]:
    """(subject, text, html) of the email `notify` would send for this entry, without
    writing anything (snapshot tests, the admin's look at a template)."""
    category = KINDS[kind]
    with force_recipient(entry.user.locale, entry.user.timezone):
        values: dict[str, Any] = {}
        current_app.update_template_context(values)
        values.update(_email_values(entry, category))
        env = current_app.jinja_env
        subject, body = split_subject(env.get_template(f"emails/{kind}.txt").render(values), kind)
        html = env.get_template(f"emails/{kind}.html").render(values)
    return subject, body, html


def notify(
    user: User,
    kind: str,
    *,
    key: str,
    link: str,
    attachment: Attachment | None = None,
    **context: Any,
) -> bool:
    """`notify_many` for one person; True when this call created the notification."""
    return bool(notify_many(kind, [Entry(user, key, link, context)], attachment=attachment))


# Reading -----------------------------------------------------------------------------------


def mark_read(user: User, notification_ids: Iterable[int]) -> int:
    """Mark some of the person's own notifications read; returns how many changed."""
    ids = list(notification_ids)
    if not ids:
        return 0
    result = db.session.execute(
        sa.update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.id.in_(ids),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
