"""Sending an announcement: one `Announcement` row, one notification (and, by each person's
preference, one email) per recipient, and an audit row.

A second "Send" of the same confirmed preview (a double click, the back button, two tabs)
carries the same one-time `send_key`: it finds the first one's audit row and sends nothing.
The author's row is locked first (PostgreSQL; SQLite's writers take the database lock when
they begin), so two such requests at the same moment are one after the other, never both.

Services flush; the view commits.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from fellowship.audit import AuditEvent, record
from fellowship.auth.models import User
from fellowship.db import db, utcnow
from fellowship.markdown import markdown_to_text, render_markdown
from fellowship.notifications import announcement_queries as queries
from fellowship.notifications.models import Announcement, Audience
from fellowship.notifications.services import Entry, app_path, notify_many
from fellowship.school_years import SchoolYear

# Up to this many recipients the emails go out right after the commit; a bigger announcement
# leaves them to `flask outbox deliver` (cron), so the request does not wait on the mail server.
DELIVER_NOW_MAX = 50
# How long a send key is remembered: a double submit comes within seconds, a back button and
# a second "Send" within hours.
KEY_MEMORY = timedelta(days=2)
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_send_key() -> str:
    return secrets.token_urlsafe(18)


def valid_send_key(key: str | None) -> bool:
    return bool(key and _KEY.match(key))


@dataclass(frozen=True)
class Sent:
    announcement: Announcement
    again: bool  # True: this key was sent before; nothing new was sent now


def email_context(
    *, subject: str, body_md: str, author: str, cohort: str | None, school_year: str | None
) -> dict[str, Any]:
    """What the announcement's email template needs, the same for every recipient: the
    Markdown is rendered once (sanitized HTML and plain text), not once per person."""
    return {
        "subject": subject,
        "body_html": render_markdown(body_md, heading_offset=1),  # sanitized HTML (Markup)
        "body_text": markdown_to_text(body_md),
        "author": author,
        "cohort_name": cohort,
        "school_year_label": school_year,
    }


def _already_sent(author: User, send_key: str) -> Announcement | None:
    """The announcement this author sent with this key lately, if any."""
    rows = db.session.execute(
        sa.select(AuditEvent.target_id, AuditEvent.details).where(
            AuditEvent.action == "announcement_sent",
            AuditEvent.actor_id == author.id,
            AuditEvent.at >= utcnow() - KEY_MEMORY,
        )
    )
    for announcement_id, details in rows:
        if (details or {}).get("send_key") == send_key and announcement_id is not None:
            return db.session.get(Announcement, announcement_id)
    return None


def _audience_names(audience: Audience, target_id: int) -> tuple[str | None, str | None]:
    from fellowship.cohorts.models import Cohort  # see announcement_queries on why here

    if audience == Audience.COHORT:
        return db.session.scalar(sa.select(Cohort.name).where(Cohort.id == target_id)), None
    return None, db.session.scalar(sa.select(SchoolYear.label).where(SchoolYear.id == target_id))


def send_announcement(
    author: User,
    *,
    audience: Audience,
    target_id: int,
    subject: str,
    body_md: str,
    send_key: str,
) -> Sent:
    """Send to everyone the audience reaches now (see `announcement_queries.recipients`)."""
    # One announcement at a time per author: a second request with the same key waits here
    # for the first one's commit, then finds it.
    db.session.execute(sa.select(User.id).where(User.id == author.id).with_for_update())
    earlier = _already_sent(author, send_key)
    if earlier is not None:
        return Sent(earlier, again=True)
    people = queries.recipients(audience, target_id)
    announcement = Announcement(
        author_id=author.id,
        audience=audience,
        cohort_id=target_id if audience == Audience.COHORT else None,
        school_year_id=target_id if audience == Audience.CYCLES else None,
        subject=subject,
        body_md=body_md,
        recipient_count=len(people),
    )
    db.session.add(announcement)
    db.session.flush()
    cohort, school_year = _audience_names(audience, target_id)
    context = email_context(
        subject=subject, body_md=body_md, author=author.name, cohort=cohort, school_year=school_year
    )
    link = app_path("notifications.announcement", announcement_id=announcement.id)
    entries = [
        Entry(person, queries.notification_key(announcement.id, person.id), link, context)
        for person in people
    ]
    notify_many(queries.KIND, entries, deliver_now=len(entries) <= DELIVER_NOW_MAX)
    record(
        author,
        "announcement_sent",
        announcement,
        details={
            "audience": audience.value,
            f"{'cohort' if audience == Audience.COHORT else 'school_year'}_id": target_id,
            "recipients": len(people),
            "send_key": send_key,
        },
    )
    db.session.flush()
    return Sent(announcement, again=False)
