"""Read-only selectors for the cycles list, the team page and opening cycles (each a fixed
number of queries)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort

from fellowship import policy
from fellowship.auth.models import User
from fellowship.cycles.models import Cycle, CycleMembership, CycleRole, School
from fellowship.db import Page, db, paginate
from fellowship.school_years import SchoolYear
from fellowship.web import MAX_ID

PER_PAGE = 25

# The team, listed in this order.
ROLE_ORDER = (
    CycleRole.LEAD_TEACHER,
    CycleRole.TEAM_MEMBER,
    CycleRole.PARTNER,
    CycleRole.STAFF_LIAISON,
)


def role_rank() -> sa.Case[int]:
    """A membership's place in the team list (for ORDER BY)."""
    return sa.case(
        {role.value: rank for rank, role in enumerate(ROLE_ORDER)},
        value=CycleMembership.role,
        else_=len(ROLE_ORDER),
    )


def visible_year_labels(user: Any) -> list[str]:
    """The school years that have a cycle the user may see, the latest first (one query)."""
    visible = policy.cycles_visible_to(user).with_only_columns(Cycle.school_year_id)
    return list(
        db.session.scalars(
            sa.select(SchoolYear.label)
            .where(SchoolYear.id.in_(visible))
            .order_by(SchoolYear.starts_on.desc())
        )
    )


def all_year_labels() -> list[str]:
    """Every school year with a cycle, the latest first (one query)."""
    return list(
        db.session.scalars(
            sa.select(SchoolYear.label)
            .where(SchoolYear.id.in_(sa.select(Cycle.school_year_id)))
            .order_by(SchoolYear.starts_on.desc())
        )
    )


def cycle_page(user: Any, label: str, *, page: int = 1, per_page: int = PER_PAGE) -> Page[Any]:
    """The cycles of school year `label` the user may see, by school name: rows of
    (Cycle, School, SchoolYear), two queries."""
    query = (
        policy.cycles_visible_to(user)
        .add_columns(School, SchoolYear)
        .join(School, School.id == Cycle.school_id)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
        .where(SchoolYear.label == label)
        .order_by(sa.func.lower(School.name), School.id)
    )
    return paginate(query, page, per_page)


def my_roles(user_id: int, cycle_ids: list[int]) -> dict[int, CycleRole]:
    """{cycle_id: the user's role} among these cycles (one query)."""
    if not cycle_ids:
        return {}
    rows = db.session.execute(
        sa.select(CycleMembership.cycle_id, CycleMembership.role).where(
            CycleMembership.user_id == user_id, CycleMembership.cycle_id.in_(cycle_ids)
        )
    )
    return {cycle_id: role for cycle_id, role in rows}


def team(cycle_id: int) -> list[tuple[CycleMembership, User]]:
    """The cycle's members with their accounts: lead teachers first, then by name."""
    return [
        (membership, person)
        for membership, person in db.session.execute(
            sa.select(CycleMembership, User)
            .join(User, User.id == CycleMembership.user_id)
            .where(CycleMembership.cycle_id == cycle_id)
            .order_by(role_rank(), sa.func.lower(User.name), User.id)
        )
    ]


def membership_in(cycle_id: int, membership_id: int) -> CycleMembership:
    """The membership of this cycle; 404 for any other id (another cycle's too)."""
    if not 0 < membership_id <= MAX_ID:
        abort(404)
    membership = db.session.get(CycleMembership, membership_id)
    if membership is None or membership.cycle_id != cycle_id:
        abort(404)
    return membership


def active_schools() -> list[tuple[int, str, str]]:
    """(id, name, code) of every active school, by name (one query)."""
    return [
        (school_id, name, code)
        for school_id, name, code in db.session.execute(
            sa.select(School.id, School.name, School.code)
            .where(School.is_active.is_(True))
            .order_by(sa.func.lower(School.name), School.id)
        )
    ]
