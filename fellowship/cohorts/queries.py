"""Read-only selectors for cohort pages, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from fellowship import policy
from fellowship.auth.models import User
from fellowship.cohorts.models import (
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    MembershipStatus,
)
from fellowship.db import Page, db, paginate


@dataclass
class CohortRow:
    cohort: Cohort
    counts: dict[str, int]


def cohort_list(viewer: Any, *, page: int = 1, per_page: int = 25) -> Page[CohortRow]:
    """Visible cohorts, newest first, with active members counted by role (two queries)."""
    query = policy.cohorts_visible_to(viewer).order_by(Cohort.starts_on.desc(), Cohort.id.desc())
    result = paginate(query, page, per_page)
    ids = [cohort.id for cohort in result.items]
    counts: dict[int, dict[str, int]] = {i: {r.value: 0 for r in CohortRole} for i in ids}
    if ids:
        rows = db.session.execute(
            sa.select(CohortMembership.cohort_id, CohortMembership.role, sa.func.count())
            .where(
                CohortMembership.cohort_id.in_(ids),
                CohortMembership.status == MembershipStatus.ACTIVE,
            )
            .group_by(CohortMembership.cohort_id, CohortMembership.role)
        )
        for cohort_id, role, count in rows:
            counts[cohort_id][role.value] = int(count)
    result.items = [CohortRow(cohort, counts[cohort.id]) for cohort in result.items]
    return result


@dataclass
class Member:
    membership: CohortMembership
    user: User
    coach: User | None = None


@dataclass
class Roster:
    by_role: dict[CohortRole, list[Member]] = field(default_factory=dict)
    fellows_without_coach: int = 0

    def members(self, role: CohortRole) -> list[Member]:
        return self.by_role.get(role, [])

    @property
    def count(self) -> int:
        return sum(len(members) for members in self.by_role.values())


def roster(cohort_id: int) -> Roster:
    """Everyone in the cohort by role, each fellow with their current coach (two queries)."""
    rows = db.session.execute(
        sa.select(CohortMembership, User)
        .join(User, User.id == CohortMembership.user_id)
        .where(CohortMembership.cohort_id == cohort_id)
        .order_by(sa.func.lower(User.name), User.id)
    ).all()
    coach = aliased(User)
    coaches = {
        fellow_id: coach_user
        for fellow_id, coach_user in db.session.execute(
            sa.select(CoachAssignment.fellow_id, coach)
            .join(coach, coach.id == CoachAssignment.coach_id)
            .where(CoachAssignment.cohort_id == cohort_id, CoachAssignment.ends_on.is_(None))
        )
    }
    result = Roster(by_role={role: [] for role in CohortRole})
    for membership, user in rows:
        member = Member(membership, user, coaches.get(user.id))
        result.by_role[membership.role].append(member)
        if (
            membership.role == CohortRole.FELLOW
            and membership.status == MembershipStatus.ACTIVE
            and member.coach is None
        ):
            result.fellows_without_coach += 1
    return result


def active_members(cohort_id: int, role: CohortRole) -> list[tuple[CohortMembership, User]]:
    return list(
        db.session.execute(
            sa.select(CohortMembership, User)
            .join(User, User.id == CohortMembership.user_id)
            .where(
                CohortMembership.cohort_id == cohort_id,
                CohortMembership.role == role,
                CohortMembership.status == MembershipStatus.ACTIVE,
            )
            .order_by(sa.func.lower(User.name), User.id)
        ).tuples()
    )


def coach_history(cohort_id: int, fellow_id: int) -> list[tuple[CoachAssignment, User]]:
    """Who coached this fellow in this cohort, newest first."""
    return list(
        db.session.execute(
            sa.select(CoachAssignment, User)
            .join(User, User.id == CoachAssignment.coach_id)
            .where(CoachAssignment.cohort_id == cohort_id, CoachAssignment.fellow_id == fellow_id)
            .order_by(CoachAssignment.starts_on.desc(), CoachAssignment.id.desc())
        ).tuples()
    )


def memberships_of(user_id: int) -> list[tuple[CohortMembership, Cohort]]:
    """A person's cohorts (for their home page), current ones first."""
    return list(
        db.session.execute(
            sa.select(CohortMembership, Cohort)
            .join(Cohort, Cohort.id == CohortMembership.cohort_id)
            .where(
                CohortMembership.user_id == user_id,
                CohortMembership.status != MembershipStatus.WITHDRAWN,
            )
            .order_by(Cohort.starts_on.desc())
        ).tuples()
    )
