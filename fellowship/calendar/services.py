"""Private calendar feed addresses: derived from a secret, never stored; rotating revokes.

The token in a feed URL is `<user id>-<version>-<HMAC-SHA256(SECRET_KEY, "calendar:<user
id>:<version>")[:32]>`. Only the version is stored (CalendarFeed; version 1 when there is no
row yet, so showing the address writes nothing). "Make a new address" bumps the version, which
makes every earlier address stop working at once. Changing SECRET_KEY revokes all of them.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import sqlalchemy as sa
from flask import current_app

from fellowship import audit
from fellowship.auth.models import User
from fellowship.calendar.models import CalendarFeed
from fellowship.db import db, utcnow

_TOKEN = re.compile(r"^(\d{1,18})-(\d{1,9})-([0-9a-f]{32})$")


def _signature(user_id: int, version: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"calendar:{user_id}:{version}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def token_for(user_id: int, version: int) -> str:
    return f"{user_id}-{version}-{_signature(user_id, version)}"


def current_version(user_id: int) -> int:
    version = db.session.scalar(
        sa.select(CalendarFeed.version).where(CalendarFeed.user_id == user_id)
    )
    return int(version or 1)


def current_token(user: User) -> str:
    """The person's working feed token (reads only)."""
    return token_for(user.id, current_version(user.id))


def user_for_token(token: str) -> User | None:
    """The active person whose current feed token this is; None for anything else."""
    match = _TOKEN.match(token or "")
    if match is None:
        return None
    user_id, version, signature = int(match.group(1)), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(signature, _signature(user_id, version)):
        return None
    row = db.session.execute(
        sa.select(User, CalendarFeed.version)
        .outerjoin(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(User.id == user_id)
    ).first()
    if row is None:
        return None
    user, stored = row
    if not user.is_active or version != (stored or 1):
        return None
    return user


def rotate_feed(actor: User) -> CalendarFeed:
    """Give the person a new feed address; the old one stops working (audited)."""
    feed = db.session.get(CalendarFeed, actor.id)
    if feed is None:
        feed = CalendarFeed(user_id=actor.id, version=2, rotated_at=utcnow())
        db.session.add(feed)
    else:
        feed.version += 1
        feed.rotated_at = utcnow()
    db.session.flush()
    audit.record(actor, "calendar_feed_rotated", actor, details={"version": feed.version})
    return feed
