"""Read-only selectors for announcements: who an audience reaches, the choices of the form,
the list of sent announcements.

The cohort and cycle models are imported inside the functions: this package is imported
while `fellowship.auth.services` loads (for the bell's unread count), before the domain
packages, whose views import the auth forms, can be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.db import Page, db, paginate
from fellowship.notifications.models import Announcement, Audience
from fellowship.school_years import SchoolYear

KIND = "notifications/announcement"


def notification_key(announcement_id: int, user_id: int) -> str:
    """The dedupe key of the notification that tells one person of an announcement."""
    return f"{KIND}:{announcement_id}:user={user_id}"


def _recipient_ids(audience: Audience, target_id: int) -> sa.Select[tuple[int]]:
    """The ids of the active people an audience reaches, each once.

    A cohort: its active memberships (fellows, coaches, facilitators, reviewers). The cycles
    of a school year: every member of each of them."""
    from fellowship.cohorts.models import CohortMembership, MembershipStatus
    from fellowship.cycles.models import Cycle, CycleMembership

    if audience == Audience.COHORT:
        return (
            sa.select(CohortMembership.user_id)
            .join(User, User.id == CohortMembership.user_id)
            .where(
                CohortMembership.cohort_id == target_id,
                CohortMembership.status == MembershipStatus.ACTIVE,
                User.is_active.is_(True),
            )
            .distinct()
        )
    return (
        sa.select(CycleMembership.user_id)
        .join(Cycle, Cycle.id == CycleMembership.cycle_id)
        .join(User, User.id == CycleMembership.user_id)
        .where(Cycle.school_year_id == target_id, User.is_active.is_(True))
        .distinct()
    )


def recipient_count(audience: Audience, target_id: int) -> int:
    query = sa.select(sa.func.count()).select_from(_recipient_ids(audience, target_id).subquery())
    return int(db.session.scalar(query) or 0)


def recipients(audience: Audience, target_id: int) -> list[User]:
    """The people an audience reaches, loaded in one query."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.id.in_(_recipient_ids(audience, target_id).scalar_subquery()))
            .order_by(User.id)
        )
    )


def cohort_choices() -> list[tuple[int, str]]:
    """Cohorts an announcement can go to (all but archived ones), the newest first."""
    from fellowship.cohorts.models import Cohort, CohortStatus

    rows = db.session.execute(
        sa.select(Cohort.id, Cohort.name, SchoolYear.label)
        .join(SchoolYear, SchoolYear.id == Cohort.school_year_id)
        .where(Cohort.status != CohortStatus.ARCHIVED)
        .order_by(Cohort.starts_on.desc(), Cohort.name, Cohort.id)
    )
    return [(cohort_id, f"{name} ({label})") for cohort_id, name, label in rows]


def school_year_choices() -> list[tuple[int, str, int]]:
    """School years that have cycles: (id, label, number of cycles), the latest first."""
    from fellowship.cycles.models import Cycle

    rows = db.session.execute(
        sa.select(SchoolYear.id, SchoolYear.label, sa.func.count(Cycle.id))
        .join(Cycle, Cycle.school_year_id == SchoolYear.id)
        .group_by(SchoolYear.id, SchoolYear.label)
        .order_by(SchoolYear.label.desc())
    )
    return [(year_id, label, int(count)) for year_id, label, count in rows]


@dataclass(frozen=True)
class AnnouncementRow:
    announcement: Announcement
    author: str | None
    cohort: str | None
    school_year: str | None


def _with_names() -> sa.Select[Any]:
    from fellowship.cohorts.models import Cohort

    return (
        sa.select(Announcement, User.name, Cohort.name, SchoolYear.label)
        .outerjoin(User, User.id == Announcement.author_id)
        .outerjoin(Cohort, Cohort.id == Announcement.cohort_id)
        .outerjoin(SchoolYear, SchoolYear.id == Announcement.school_year_id)
    )


def sent_announcements(*, page: int = 1, per_page: int = 25) -> Page[Any]:
    """Sent announcements with their author's and audience's names, newest first."""
    query = _with_names().order_by(Announcement.created_at.desc(), Announcement.id.desc())
    found = paginate(query, page, per_page)
    found.items = [AnnouncementRow(*row) for row in found.items]
    return found


def announcement_row(announcement_id: int) -> AnnouncementRow | None:
    row = db.session.execute(_with_names().where(Announcement.id == announcement_id)).first()
    return AnnouncementRow(*row) if row is not None else None
