"""Digests: one email listing a person's notifications since their last digest, sent by
`flask digests run` (cron, e.g. hourly; safe to run twice at once and on several servers).

A notification whose email waits for a digest is `pending`. Each run, for every person:

- a category now set to off: its pending notifications become `none` (in the app only);
- the daily digest (categories set to daily, and pending ones whose category is now
  "immediately") goes out once per local day, from `DIGEST_HOUR` in the person's timezone;
- the weekly digest (categories set to weekly) once per ISO week, from Monday `DIGEST_HOUR`.

A digest is claimed by inserting its `NotificationDigest` row, unique per (person, frequency,
period), with ON CONFLICT DO NOTHING: of two runs at once, one inserts the row and sends; the
other (which waits for the first's commit on PostgreSQL, and for the write lock on SQLite)
inserts nothing and moves on. The claimed digest then marks exactly the notifications it lists
`digested` (those still pending: a run that loaded them earlier never lists them twice), and
queues its email for `flask outbox deliver`.

Work is committed in batches of `BATCH` digests (one transaction per person would cost a
commit per person: thousands of them, seconds on PostgreSQL): a run that stops half-way
leaves the people of the later batches pending for the next run. Everybody's pending
notifications and preferences are read in a few queries; a batch then costs a handful of
statements, and each email is rendered from templates loaded once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from babel.dates import format_datetime
from flask import current_app

from fellowship.auth.models import User
from fellowship.db import commit, db, insert_for, utcnow
from fellowship.mail import OutboxMessage, email_context, force_recipient, split_subject
from fellowship.notifications import services
from fellowship.notifications.labels import CATEGORY_NAMES
from fellowship.notifications.models import (
    Category,
    DigestFrequency,
    EmailState,
    Frequency,
    Notification,
    NotificationDigest,
    NotificationPreference,
)

TEMPLATE = "notifications/digest"

# Which digest a pending notification goes into, by its category's frequency now.
DIGEST_OF: dict[Frequency, DigestFrequency] = {
    Frequency.IMMEDIATELY: DigestFrequency.DAILY,  # set back from a digest: in the next daily
    Frequency.DAILY: DigestFrequency.DAILY,
    Frequency.WEEKLY: DigestFrequency.WEEKLY,
}
_SQLITE_LIMIT = 900  # bound parameters per statement
# The tables, for plain SQL statements (no ORM bookkeeping: thousands of rows per run).
_NOTIFICATIONS = cast(sa.Table, Notification.__table__)
_DIGESTS = cast(sa.Table, NotificationDigest.__table__)
BATCH = 150  # digests per transaction (five values each: within SQLite's parameter limit)


@dataclass(frozen=True)
class Item:
    """One line of a digest."""

    id: int
    category: Category
    subject: str
    link: str
    created_at: datetime


@dataclass
class Person:
    id: int
    email: str
    name: str
    locale: str
    timezone: str
    pending: dict[DigestFrequency, list[Item]] = field(default_factory=dict)
    # What the unsubscribe link of each digest turns off: the categories set to its
    # frequency, and those of the notifications it lists.
    categories: dict[DigestFrequency, list[Category]] = field(default_factory=dict)


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(moment: datetime, timezone: str) -> datetime:
    """`moment` on the person's clock (an unknown timezone counts as UTC)."""
    return moment.astimezone(_zone(timezone))


def period_due(frequency: DigestFrequency, local: datetime, hour: int) -> str | None:
    """The period ("2026-11-30", "2026-W49") whose digest may go out at this local time, or
    None before `hour` (daily), or before Monday at `hour` (weekly)."""
    if frequency == DigestFrequency.DAILY:
        return local.date().isoformat() if local.hour >= hour else None
    year, week, weekday = local.date().isocalendar()
    if weekday == 1 and local.hour < hour:
        return None
    return f"{year}-W{week:02d}"


def period_boundary(frequency: DigestFrequency, local: datetime, hour: int) -> datetime:
    """When the period due at `local` began: today at `hour` (daily), this week's Monday at
    `hour` (weekly), on the person's clock. A digest lists what came before it; anything
    later waits for the next period, so a digest comes at its hour, not whenever the first
    notification of the day happens to arrive."""
    day = local.date()
    if frequency == DigestFrequency.WEEKLY:
        day -= timedelta(days=day.isoweekday() - 1)
        if local.date() == day and local.hour < hour:
            day -= timedelta(days=7)
    elif local.hour < hour:
        day -= timedelta(days=1)
    return datetime.combine(day, time(hour), tzinfo=local.tzinfo)


@dataclass(frozen=True)
class Due:
    """A digest to send now: whose, which, for which period, listing what."""

    person: Person
    frequency: DigestFrequency
    period: str
    items: list[Item]


def run_digests(now: datetime) -> dict[str, int]:
    """Send every digest that is due at `now`, committing after each batch of digests.
    Returns counts: people with pending notifications, daily and weekly digests sent,
    notifications digested, notifications turned to `none` (category off, or the person
    deactivated), and digests another run had sent already."""
    now = now.astimezone(UTC)
    counts = {
        "people": 0,
        "daily": 0,
        "weekly": 0,
        "notifications": 0,
        "turned_off": _turn_off(),
        "already_sent": 0,
    }
    people = pending_people()
    counts["people"] = len(people)
    commit()  # each batch is then its own transaction
    hour = int(current_app.config["DIGEST_HOUR"])
    due: list[Due] = []
    for person in people:
        local = local_time(now, person.timezone)
        for frequency, items in person.pending.items():
            period = period_due(frequency, local, hour)
            if period is None:
                continue
            boundary = period_boundary(frequency, local, hour)
            listed = [item for item in items if item.created_at <= boundary]
            if listed:
                due.append(Due(person, frequency, period, listed))
    for start in range(0, len(due), BATCH):
        send_batch(due[start : start + BATCH], counts)
        commit()
    return counts


def _turn_off() -> int:
    """Pending notifications whose category is now off, or whose person was deactivated,
    will never be mailed: `none`. One statement for everybody."""
    off = sa.exists().where(
        NotificationPreference.user_id == Notification.user_id,
        NotificationPreference.category == Notification.category,
        NotificationPreference.frequency == Frequency.OFF,
    )
    inactive = Notification.user_id.in_(sa.select(User.id).where(User.is_active.is_(False)))
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.email == EmailState.PENDING, sa.or_(off, inactive))
        .values(email=EmailState.NONE)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def pending_people() -> list[Person]:
    """Everyone with pending notifications, each sorted into the digest it belongs to now:
    one query for the notifications and their people, and the preferences in a few more."""
    rows = db.session.execute(
        sa.select(
            Notification.id,
            Notification.category,
            Notification.subject,
            Notification.link,
            Notification.created_at,
            User.id,
            User.email,
            User.name,
            User.locale,
            User.timezone,
        )
        .join(User, User.id == Notification.user_id)
        .where(Notification.email == EmailState.PENDING, User.is_active.is_(True))
        .order_by(User.id, Notification.created_at, Notification.id)
    ).all()
    people: dict[int, Person] = {}
    items: dict[int, list[Item]] = defaultdict(list)
    for n_id, category, subject, link, created_at, u_id, email, name, locale, zone in rows:
        if u_id not in people:
            people[u_id] = Person(u_id, email, name, locale, zone)
        items[u_id].append(Item(n_id, category, subject, link, created_at))
    known = services.frequencies(people)
    for user_id, person in people.items():
        by_digest: dict[DigestFrequency, list[Item]] = defaultdict(list)
        for item in items[user_id]:
            frequency = services.frequency_of(known, user_id, item.category)
            if frequency in DIGEST_OF:  # off ones were turned to none just before
                by_digest[DIGEST_OF[frequency]].append(item)
        for digest in DigestFrequency:
            if not by_digest[digest]:
                continue
            person.pending[digest] = by_digest[digest]
            chosen = {item.category for item in by_digest[digest]} | {
                category
                for category in Category
                if services.frequency_of(known, user_id, category).value == digest.value
            }
            person.categories[digest] = [c for c in Category if c in chosen]
    return list(people.values())


def _claim(batch: list[Due]) -> dict[tuple[int, DigestFrequency], int]:
    """Insert the digests' rows, except those that exist (sent by another run, or being sent:
    PostgreSQL waits for that run's commit). {(person, frequency): id} of the new ones.

    The rows go in in the order of (person, frequency), the same in every run, so two runs
    wait for each other's rows in one direction only."""
    table = _DIGESTS
    created_at = utcnow()
    statement = (
        insert_for(table)
        .values(
            [
                {
                    "user_id": due.person.id,
                    "frequency": due.frequency,
                    "period": due.period,
                    "notification_count": len(due.items),
                    "created_at": created_at,
                }
                for due in batch
            ]
        )
        .on_conflict_do_nothing(index_elements=[table.c.user_id, table.c.frequency, table.c.period])
        .returning(table.c.id, table.c.user_id, table.c.frequency)
    )
    return {
        (user_id, DigestFrequency(frequency)): digest_id
        for digest_id, user_id, frequency in db.session.execute(statement)
    }


def _mark_digested(
    batch: list[Due], claimed: dict[tuple[int, DigestFrequency], int]
) -> dict[int, set[int]]:
    """Mark the notifications of the claimed digests, those still pending, as sent in their
    digest: {digest id: ids marked}. A statement or two per frequency for the whole batch."""
    marked: dict[int, set[int]] = defaultdict(set)
    digests = _DIGESTS
    for frequency in DigestFrequency:
        ids: list[int] = []
        digest_ids: list[int] = []
        for due in batch:
            digest_id = claimed.get((due.person.id, due.frequency))
            if due.frequency == frequency and digest_id is not None:
                digest_ids.append(digest_id)
                ids.extend(item.id for item in due.items)
        # Each person has one claimed digest of this frequency in the batch: theirs.
        digest_of_person = (
            sa.select(digests.c.id)
            .where(
                digests.c.user_id == _NOTIFICATIONS.c.user_id,
                digests.c.id.in_(digest_ids),
            )
            .scalar_subquery()
        )
        step = _SQLITE_LIMIT - len(digest_ids)
        for start in range(0, len(ids), step):
            rows = db.session.execute(
                sa.update(_NOTIFICATIONS)
                .where(
                    _NOTIFICATIONS.c.id.in_(ids[start : start + step]),
                    _NOTIFICATIONS.c.email == EmailState.PENDING,
                )
                .values(email=EmailState.DIGESTED, digest_id=digest_of_person)
                .returning(_NOTIFICATIONS.c.id, _NOTIFICATIONS.c.digest_id)
            )
            for notification_id, digest_id in rows:
                marked[digest_id].add(notification_id)
    return marked


def send_batch(batch: list[Due], counts: dict[str, int]) -> None:
    """Claim these digests, mark what each lists and queue their emails (the caller
    commits). A digest whose notifications another run mailed meanwhile (all of them) is
    dropped again, leaving its period free."""
    claimed = _claim(batch)
    counts["already_sent"] += len(batch) - len(claimed)
    marked = _mark_digested(batch, claimed)
    mails: list[tuple[int, Due]] = []
    dropped: list[int] = []
    for due in batch:
        digest_id = claimed.get((due.person.id, due.frequency))
        if digest_id is None:
            continue
        listed = marked.get(digest_id, set())
        if not listed:
            dropped.append(digest_id)
            continue
        if len(listed) != len(due.items):
            due = Due(
                due.person, due.frequency, due.period, [i for i in due.items if i.id in listed]
            )
            db.session.execute(
                sa.update(_DIGESTS)
                .where(_DIGESTS.c.id == digest_id)
                .values(notification_count=len(due.items))
            )
        mails.append((digest_id, due))
        counts[due.frequency.value] += 1
        counts["notifications"] += len(due.items)
    if dropped:
        db.session.execute(sa.delete(_DIGESTS).where(_DIGESTS.c.id.in_(dropped)))
    _queue_emails(mails)


def _queue_emails(mails: list[tuple[int, Due]]) -> None:
    """One outbox message per digest, in its person's language and timezone, left for
    `flask outbox deliver` (what `queue_email(..., deliver_now=False)` writes, rendered
    once per language and timezone instead of once per message)."""
    if not mails:
        return
    env = current_app.jinja_env
    text_template = env.get_template(f"emails/{TEMPLATE}.txt")
    html_template = env.get_template(f"emails/{TEMPLATE}.html")
    by_reader: dict[tuple[str, str], list[tuple[int, Due]]] = defaultdict(list)
    for digest_id, due in mails:
        by_reader[(due.person.locale, due.person.timezone)].append((digest_id, due))
    rows: list[dict[str, Any]] = []
    links = page_links()
    for (locale, zone), group in by_reader.items():
        with force_recipient(locale, zone):
            shared = email_context()
            names = category_names()  # translated once per language, not per email
            for digest_id, due in group:
                categories = due.person.categories[due.frequency]
                unsubscribe_url = services.absolute(
                    services.app_path(
                        "notifications.unsubscribe",
                        token=services.unsubscribe_token(due.person.id, categories),
                    )
                )
                values = {
                    **shared,
                    **digest_context(
                        due.person.name,
                        locale,
                        zone,
                        due.frequency,
                        due.items,
                        categories,
                        names=names,
                        links=links,
                    ),
                    "unsubscribe_url": unsubscribe_url,
                }
                subject, body = split_subject(text_template.render(values), TEMPLATE)
                rows.append(
                    {
                        "to": due.person.email,
                        "subject": subject[:255],
                        "text": body,
                        "html": html_template.render(values),
                        "template": TEMPLATE,
                        "dedupe_key": f"digest-{digest_id}",
                        "unsubscribe_url": unsubscribe_url,
                    }
                )
    db.session.execute(sa.insert(OutboxMessage), rows)


_ORDER = {category: index for index, category in enumerate(Category)}


def category_names() -> dict[Category, str]:
    """Each category's name in the current language."""
    return {category: str(CATEGORY_NAMES[category]) for category in Category}


def page_links() -> dict[str, str]:
    """The addresses every digest links to besides its notifications."""
    return {
        "notifications_url": services.absolute(services.app_path("notifications.index")),
        "preferences_url": services.absolute(services.app_path("notifications.preferences")),
    }


def digest_context(
    name: str,
    locale: str,
    timezone: str,
    frequency: DigestFrequency,
    items: list[Item],
    categories: list[Category],
    *,
    names: dict[Category, str] | None = None,
    links: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the digest templates get: the items grouped by category (in the categories'
    order, oldest first within each), with absolute links and their times on the person's
    clock, in their language (`names`: the categories' names in it, when known already)."""
    names = names or category_names()
    zone = _zone(timezone)
    groups: dict[Category, list[dict[str, Any]]] = {}
    for item in sorted(items, key=lambda i: (_ORDER[i.category], i.created_at, i.id)):
        groups.setdefault(item.category, []).append(
            {
                "subject": item.subject,
                "link": services.absolute(item.link),
                "when": format_datetime(item.created_at, "short", tzinfo=zone, locale=locale),
            }
        )
    return {
        "name": name,
        "frequency": frequency.value,
        "count": len(items),
        "groups": [(names[category], rows) for category, rows in groups.items()],
        "category_names": [names[category] for category in categories],
        **(links or page_links()),
    }
