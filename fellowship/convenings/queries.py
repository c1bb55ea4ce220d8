"""Read-only selectors for convenings and attendance, each in a fixed number of queries.

Other domains use these too: the cohort page calls `upcoming_for_cohort` and
`attendance_rates_for_cohort`; the calendar feed calls `convenings_for_member` and
`convenings_for_cohort`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, CohortMembership, CohortRole, MembershipStatus
from fellowship.convenings.models import (
    Attendance,
    AttendanceStatus,
    Convening,
    ConveningFacilitator,
)
from fellowship.db import Page, db, paginate


@dataclass(frozen=True)
class AttendanceCounts:
    """Attendance rows counted by status: for one fellow, or for one convening."""

    present: int = 0
    absent: int = 0
    excused: int = 0

    @property
    def recorded(self) -> int:
        return self.present + self.absent + self.excused

    @property
    def rate(self) -> float | None:
        """Share of recorded rows that are "present" (None when nothing was recorded)."""
        return self.present / self.recorded if self.recorded else None


_NONE = AttendanceCounts()


def _counts_by(key: InstrumentedAttribute[int]) -> sa.Select[tuple[int, int, int, int]]:
    return sa.select(
        key,
        sa.func.count().filter(Attendance.status == AttendanceStatus.PRESENT),
        sa.func.count().filter(Attendance.status == AttendanceStatus.ABSENT),
        sa.func.count().filter(Attendance.status == AttendanceStatus.EXCUSED),
    ).group_by(key)


# Convenings ----------------------------------------------------------------------------


def upcoming_for_cohort(cohort_id: int, *, now: datetime, limit: int = 5) -> list[Convening]:
    """The cohort's next convenings (ones under way included), soonest first (one query)."""
    return list(
        db.session.scalars(
            sa.select(Convening)
            .where(Convening.cohort_id == cohort_id, Convening.ends_at >= now)
            .order_by(Convening.starts_at, Convening.id)
            .limit(limit)
        )
    )


def past_for_cohort(cohort_id: int, *, now: datetime, page: int, per_page: int) -> Page[Convening]:
    """The cohort's finished convenings, newest first (two queries)."""
    query = (
        sa.select(Convening)
        .where(Convening.cohort_id == cohort_id, Convening.ends_at < now)
        .order_by(Convening.starts_at.desc(), Convening.id.desc())
    )
    return paginate(query, page, per_page)


def all_upcoming_for_cohort(cohort_id: int, *, now: datetime) -> list[Convening]:
    return upcoming_for_cohort(cohort_id, now=now, limit=500)


def facilitators_of(convening_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .join(ConveningFacilitator, ConveningFacilitator.user_id == User.id)
            .where(ConveningFacilitator.convening_id == convening_id)
            .order_by(sa.func.lower(User.name), User.id)
        )
    )


def facilitator_names(convening_ids: Iterable[int]) -> dict[int, list[str]]:
    """{convening_id: [facilitator names]} for many convenings (one query)."""
    ids = list(convening_ids)
    names: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return names
    rows = db.session.execute(
        sa.select(ConveningFacilitator.convening_id, User.name)
        .join(User, User.id == ConveningFacilitator.user_id)
        .where(ConveningFacilitator.convening_id.in_(ids))
        .order_by(sa.func.lower(User.name), User.id)
    )
    for convening_id, name in rows:
        names[convening_id].append(name)
    return names


def _members(cohort_id: int, role: CohortRole, statuses: Iterable[MembershipStatus]) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .join(CohortMembership, CohortMembership.user_id == User.id)
            .where(
                CohortMembership.cohort_id == cohort_id,
                CohortMembership.role == role,
                CohortMembership.status.in_(list(statuses)),
            )
            .order_by(sa.func.lower(User.name), User.id)
        )
    )


def active_facilitators(cohort_id: int) -> list[User]:
    """Who can be chosen as a convening's facilitators (one query)."""
    return _members(cohort_id, CohortRole.FACILITATOR, [MembershipStatus.ACTIVE])


def active_fellows(cohort_id: int) -> list[User]:
    """The rows of the attendance form (one query)."""
    return _members(cohort_id, CohortRole.FELLOW, [MembershipStatus.ACTIVE])


def fellows_for_rates(cohort_id: int) -> list[User]:
    """Fellows shown in the cohort's attendance report: active and completed (one query)."""
    return _members(
        cohort_id, CohortRole.FELLOW, [MembershipStatus.ACTIVE, MembershipStatus.COMPLETED]
    )


# Attendance ----------------------------------------------------------------------------


def attendance_for_convening(convening_id: int) -> dict[int, Attendance]:
    """{user_id: attendance row} for one convening (one query)."""
    return {
        row.user_id: row
        for row in db.session.scalars(
            sa.select(Attendance).where(Attendance.convening_id == convening_id)
        )
    }


def attendance_summaries(convening_ids: Iterable[int]) -> dict[int, AttendanceCounts]:
    """{convening_id: counts} — per convening, present out of fellows recorded (one query)."""
    ids = list(convening_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        _counts_by(Attendance.convening_id).where(Attendance.convening_id.in_(ids))
    )
    found = {key: AttendanceCounts(int(p), int(a), int(e)) for key, p, a, e in rows}
    return {i: found.get(i, _NONE) for i in ids}


def attendance_summary(convening_id: int) -> AttendanceCounts:
    return attendance_summaries([convening_id])[convening_id]


def attendance_rates_for_cohort(cohort_id: int) -> dict[int, AttendanceCounts]:
    """{user_id: counts} over every convening of the cohort (one aggregate query).

    A fellow's rate is present / convenings where their attendance was recorded; excused
    absences are counted separately (`.excused`) and are part of `.recorded`. A fellow with
    nothing recorded has no key: use `rates.get(user_id, AttendanceCounts())`.
    """
    rows = db.session.execute(
        _counts_by(Attendance.user_id)
        .join(Convening, Convening.id == Attendance.convening_id)
        .where(Convening.cohort_id == cohort_id)
    )
    return {key: AttendanceCounts(int(p), int(a), int(e)) for key, p, a, e in rows}


def convenings_with_attendance(cohort_id: int) -> list[tuple[Convening, AttendanceCounts]]:
    """The cohort's convenings where attendance was taken, oldest first, with counts (one query)."""
    counts = (
        _counts_by(Attendance.convening_id)
        .join(Convening, Convening.id == Attendance.convening_id)
        .where(Convening.cohort_id == cohort_id)
        .subquery()
    )
    columns = list(counts.c)
    rows = db.session.execute(
        sa.select(Convening, *columns[1:])
        .join(counts, columns[0] == Convening.id)
        .order_by(Convening.starts_at, Convening.id)
    )
    return [(convening, AttendanceCounts(int(p), int(a), int(e))) for convening, p, a, e in rows]


# Calendar ------------------------------------------------------------------------------


def convenings_for_member(user_id: int, *, since: datetime) -> list[tuple[Convening, str]]:
    """(convening, cohort name) for every cohort where the person is an active or completed
    member, ending after `since`, in time order (one query)."""
    return list(
        db.session.execute(
            sa.select(Convening, Cohort.name)
            .join(Cohort, Cohort.id == Convening.cohort_id)
            .join(CohortMembership, CohortMembership.cohort_id == Convening.cohort_id)
            .where(
                CohortMembership.user_id == user_id,
                CohortMembership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.COMPLETED]),
                Convening.ends_at >= since,
            )
            .order_by(Convening.starts_at, Convening.id)
        ).tuples()
    )


def convenings_for_cohort(cohort_id: int, *, since: datetime) -> list[tuple[Convening, str]]:
    """(convening, cohort name) for one cohort, ending after `since` (one query)."""
    return list(
        db.session.execute(
            sa.select(Convening, Cohort.name)
            .join(Cohort, Cohort.id == Convening.cohort_id)
            .where(Convening.cohort_id == cohort_id, Convening.ends_at >= since)
            .order_by(Convening.starts_at, Convening.id)
        ).tuples()
    )
