"""Cohort rules: creating and editing cohorts, strands, memberships, coach assignments.

Services flush and audit; the view commits. Nothing here reads the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit, school_years
from fellowship.auth import services as accounts
from fellowship.auth.models import Role, User
from fellowship.cohorts.models import (
    DEFAULT_STRANDS,
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    CohortStatus,
    MembershipStatus,
    Strand,
)
from fellowship.db import db, utcnow
from fellowship.school_years import SchoolYear


class CohortError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEdit(CohortError):
    """Someone else saved the record after this form was opened."""


STALE_COHORT = _l(
    "Someone else changed this cohort while you were editing. Your changes were not saved: "
    "check the current values below and save again."
)


@dataclass
class CohortData:
    name: str
    school_year: str  # a label like "2026-27"
    starts_on: date
    ends_on: date
    status: CohortStatus
    checkin_rhythm_days: int
    strands: list[str]


def _school_year(data: CohortData) -> SchoolYear:
    try:
        return school_years.get_or_create(data.school_year)
    except ValueError as error:
        raise CohortError(str(_l("Enter a school year like 2026-27.")), "school_year") from error


def _check(data: CohortData) -> None:
    if data.ends_on < data.starts_on:
        raise CohortError(str(_l("The end date must be on or after the start date.")), "ends_on")
    if data.checkin_rhythm_days < 1:
        raise CohortError(str(_l("Enter a number of days of 1 or more.")), "checkin_rhythm_days")
    names = [name.strip() for name in data.strands if name.strip()]
    if not names:
        raise CohortError(str(_l("A cohort needs at least one strand.")), "strands")
    if len({name.lower() for name in names}) != len(names):
        raise CohortError(str(_l("Each strand needs a different name.")), "strands")


def create_cohort(actor: User, data: CohortData) -> Cohort:
    _check(data)
    cohort = Cohort(
        name=data.name.strip(),
        school_year_id=_school_year(data).id,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        status=data.status,
        checkin_rhythm_days=data.checkin_rhythm_days,
        settings={},
    )
    db.session.add(cohort)
    db.session.flush()
    _set_strands(cohort, data.strands or list(DEFAULT_STRANDS))
    audit.record(actor, "cohort_created", cohort, details={"name": cohort.name})
    return cohort


def update_cohort(actor: User, cohort: Cohort, data: CohortData, *, version: int) -> None:
    if version != cohort.version:
        raise StaleEdit(str(STALE_COHORT))
    _check(data)
    before = cohort.status
    cohort.name = data.name.strip()
    cohort.school_year_id = _school_year(data).id
    cohort.starts_on = data.starts_on
    cohort.ends_on = data.ends_on
    cohort.status = data.status
    cohort.checkin_rhythm_days = data.checkin_rhythm_days
    _set_strands(cohort, data.strands)
    # Strands live in their own table: touch the cohort row so its version moves on every
    # save and a stale form can never quietly put old strands back.
    cohort.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(str(STALE_COHORT)) from error
    details = {"name": cohort.name}
    if before != cohort.status:
        details.update({"from": before.value, "to": cohort.status.value})
    audit.record(actor, "cohort_updated", cohort, details=details)


def archive_cohort(actor: User, cohort: Cohort) -> None:
    before = cohort.status
    cohort.status = CohortStatus.ARCHIVED
    db.session.flush()
    audit.record(actor, "cohort_archived", cohort, details={"from": before.value})


def _set_strands(cohort: Cohort, names: list[str]) -> None:
    """Strands by position: renamed in place, added at the end, removed from the end."""
    wanted = [name.strip() for name in names if name.strip()]
    existing = list(cohort.strands)
    for position, name in enumerate(wanted):
        if position < len(existing):
            existing[position].name = name
            existing[position].position = position
        else:
            cohort.strands.append(Strand(name=name, position=position))
    for strand in existing[len(wanted) :]:
        cohort.strands.remove(strand)


# Memberships ------------------------------------------------------------------------------


def membership_of(cohort: Cohort, user: User) -> CohortMembership | None:
    return db.session.scalar(
        sa.select(CohortMembership).where(
            CohortMembership.cohort_id == cohort.id, CohortMembership.user_id == user.id
        )
    )


def add_member(
    actor: User, cohort: Cohort, *, email: str, name: str, role: CohortRole, locale: str = "en"
) -> CohortMembership:
    """Add a person in a role; someone without an account is invited (through the outbox)."""
    person = accounts.find_user_by_email(email)
    if person is None:
        if not name.strip():
            raise CohortError(
                str(_l("This address has no account yet: enter the person's name.")), "name"
            )
        person = accounts.invite_person(
            actor, email=email, name=name, role=Role.MEMBER, locale=locale
        ).user
    elif not person.is_active:
        raise CohortError(
            str(_l("This person's account is deactivated. Reactivate it first.")), "email"
        )
    if membership_of(cohort, person) is not None:
        raise CohortError(str(_l("This person is already in the cohort.")), "email")
    membership = CohortMembership(
        cohort_id=cohort.id,
        user_id=person.id,
        role=role,
        status=MembershipStatus.ACTIVE,
        joined_on=utcnow().date(),
    )
    db.session.add(membership)
    db.session.flush()
    audit.record(
        actor, "cohort_member_added", person, details={"cohort": cohort.id, "role": role.value}
    )
    return membership


def update_membership(
    actor: User, membership: CohortMembership, *, role: CohortRole, status: MembershipStatus
) -> None:
    """Change a member's role or status; coaching that no longer fits ends today."""
    before = (membership.role, membership.status)
    if before == (role, status):
        return
    today = utcnow().date()
    if membership.role == CohortRole.FELLOW and (
        role != CohortRole.FELLOW or status != MembershipStatus.ACTIVE
    ):
        _end_assignments(membership.cohort_id, today, fellow_id=membership.user_id)
    if membership.role == CohortRole.COACH and (
        role != CohortRole.COACH or status != MembershipStatus.ACTIVE
    ):
        _end_assignments(membership.cohort_id, today, coach_id=membership.user_id)
    membership.role = role
    membership.status = status
    db.session.flush()
    audit.record(
        actor,
        "cohort_membership_changed",
        membership,
        details={
            "cohort": membership.cohort_id,
            "user": membership.user_id,
            "from": f"{before[0].value}/{before[1].value}",
            "to": f"{role.value}/{status.value}",
        },
    )


def _end_assignments(
    cohort_id: int, on: date, *, fellow_id: int | None = None, coach_id: int | None = None
) -> None:
    query = sa.update(CoachAssignment).where(
        CoachAssignment.cohort_id == cohort_id, CoachAssignment.ends_on.is_(None)
    )
    if fellow_id is not None:
        query = query.where(CoachAssignment.fellow_id == fellow_id)
    if coach_id is not None:
        query = query.where(CoachAssignment.coach_id == coach_id)
    db.session.execute(query.values(ends_on=on))


def current_assignment(cohort_id: int, fellow_id: int) -> CoachAssignment | None:
    return db.session.scalar(
        sa.select(CoachAssignment).where(
            CoachAssignment.cohort_id == cohort_id,
            CoachAssignment.fellow_id == fellow_id,
            CoachAssignment.ends_on.is_(None),
        )
    )


def assign_coach(
    actor: User, fellow: CohortMembership, coach: CohortMembership | None, *, on: date | None = None
) -> CoachAssignment | None:
    """Give a fellow a coach (or none). The previous assignment ends; history is kept."""
    on = on or utcnow().date()
    if fellow.role != CohortRole.FELLOW or fellow.status != MembershipStatus.ACTIVE:
        raise CohortError(str(_l("Only an active fellow can be assigned a coach.")), "coach")
    if coach is not None and (
        coach.cohort_id != fellow.cohort_id
        or coach.role != CohortRole.COACH
        or coach.status != MembershipStatus.ACTIVE
    ):
        raise CohortError(str(_l("Choose an active coach of this cohort.")), "coach")
    current = current_assignment(fellow.cohort_id, fellow.user_id)
    if current is not None and coach is not None and current.coach_id == coach.user_id:
        return current
    if current is None and coach is None:
        return None
    if current is not None:
        current.ends_on = on
        db.session.flush()
    assignment = None
    if coach is not None:
        assignment = CoachAssignment(
            cohort_id=fellow.cohort_id,
            fellow_id=fellow.user_id,
            coach_id=coach.user_id,
            starts_on=on,
            assigned_by_id=actor.id,
        )
        db.session.add(assignment)
        db.session.flush()
    audit.record(
        actor,
        "coach_assigned",
        fellow,
        details={
            "cohort": fellow.cohort_id,
            "fellow": fellow.user_id,
            "from": current.coach_id if current else None,
            "to": coach.user_id if coach else None,
        },
    )
    return assignment
