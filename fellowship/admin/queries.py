"""Read-only selectors for the people list and the audit log, scoped by policy."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa

from fellowship import policy
from fellowship.audit import AuditEvent
from fellowship.auth.models import Role, User
from fellowship.db import Page, db, paginate

STATUSES = ("active", "invited", "deactivated")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search_people(
    viewer: Any,
    *,
    text: str = "",
    role: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 25,
) -> Page[User]:
    query = policy.people_visible_to(viewer)
    if text.strip():
        pattern = _like(text.strip())
        query = query.where(
            sa.or_(
                sa.func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    if status == "active":
        query = query.where(User.is_active.is_(True), User.password_hash.is_not(None))
    elif status == "invited":
        query = query.where(User.is_active.is_(True), User.password_hash.is_(None))
    elif status == "deactivated":
        query = query.where(User.is_active.is_(False))
    query = query.order_by(sa.func.lower(User.name), User.id)
    return paginate(query, page, per_page)


def person_events(person: User, limit: int = 10) -> list[AuditEvent]:
    """The latest audit rows about a person (for the admin's person page)."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.target_type == "User", AuditEvent.target_id == person.id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def _day_start(day: date, tz: tzinfo, days_later: int = 0) -> datetime | None:
    """Midnight of `day` (+ days) in `tz`, as UTC; None when that is beyond the calendar."""
    try:
        return datetime.combine(day + timedelta(days=days_later), time.min, tzinfo=tz).astimezone(
            UTC
        )
    except OverflowError:
        return None


def audit_actions() -> list[str]:
    return list(
        db.session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    )


def audit_events(
    *,
    person: str = "",
    action: str = "",
    start: date | None = None,
    end: date | None = None,
    tz: tzinfo = UTC,
    page: int = 1,
    per_page: int = 50,
) -> Page[Any]:
    """Audit rows with the actor's and the target person's names, newest first.

    `start` and `end` are whole days in the viewer's time zone `tz`, both included.
    """
    actor = sa.orm.aliased(User)
    target = sa.orm.aliased(User)
    query = (
        sa.select(AuditEvent, actor.name, actor.email, target.name, target.email)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .outerjoin(
            target, sa.and_(AuditEvent.target_type == "User", target.id == AuditEvent.target_id)
        )
    )
    if person.strip():
        pattern = _like(person.strip())
        query = query.where(
            sa.or_(
                sa.func.lower(actor.name).like(pattern, escape="\\"),
                actor.email.like(pattern, escape="\\"),
                sa.func.lower(target.name).like(pattern, escape="\\"),
                target.email.like(pattern, escape="\\"),
            )
        )
    if action:
        query = query.where(AuditEvent.action == action)
    lower = _day_start(start, tz) if start else None
    upper = _day_start(end, tz, days_later=1) if end else None
    if lower is not None:
        query = query.where(AuditEvent.at >= lower)
    if upper is not None:
        query = query.where(AuditEvent.at < upper)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    return paginate(query, page, per_page)


def people_overview() -> dict[str, int]:
    """Counts for the staff home: people by status and role, in one query."""
    row = db.session.execute(
        sa.select(
            sa.func.count(User.id),
            sa.func.count(User.id).filter(
                User.is_active.is_(True), User.password_hash.is_not(None)
            ),
            sa.func.count(User.id).filter(User.is_active.is_(True), User.password_hash.is_(None)),
            sa.func.count(User.id).filter(User.is_active.is_(False)),
            sa.func.count(User.id).filter(User.role == Role.ADMIN),
            sa.func.count(User.id).filter(User.role == Role.STAFF),
        )
    ).one()
    keys = ("total", "active", "invited", "deactivated", "admins", "staff")
    return dict(zip(keys, (int(v or 0) for v in row), strict=True))
