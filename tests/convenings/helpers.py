"""Factories and small builders for convening and calendar tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import factory

from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, CohortRole, MembershipStatus
from fellowship.convenings.models import (
    Attendance,
    AttendanceStatus,
    Convening,
    ConveningFacilitator,
    ConveningKind,
)
from fellowship.db import utcnow
from tests.factories import BaseFactory, CohortFactory, MembershipFactory, UserFactory


class ConveningFactory(BaseFactory):
    """`ConveningFactory(cohort_id=cohort.id)`: a two-hour workshop a week from now."""

    class Meta:
        model = Convening

    cohort_id = 0
    title = factory.Sequence(lambda n: f"Workshop {n}")
    kind = ConveningKind.WORKSHOP
    starts_at = factory.LazyFunction(lambda: utcnow().replace(microsecond=0) + timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    location = "Room 101"
    online_url = None
    agenda_md = ""


class AttendanceFactory(BaseFactory):
    class Meta:
        model = Attendance

    convening_id = 0
    user_id = 0
    status = AttendanceStatus.PRESENT
    note = ""


def add_facilitator(convening: Convening, user: User) -> None:
    from fellowship.extensions import db

    db.session.add(ConveningFacilitator(convening_id=convening.id, user_id=user.id))
    db.session.commit()


@dataclass
class CohortSetup:
    cohort: Cohort
    facilitator: User
    coach: User
    fellows: list[User] = field(default_factory=list)


def cohort_setup(fellows: int = 2, **cohort_kwargs: object) -> CohortSetup:
    """A cohort with one active facilitator, one coach and `fellows` active fellows."""
    cohort = CohortFactory(**cohort_kwargs)
    facilitator = UserFactory(name="Farah Facilitator")
    coach = UserFactory(name="Cole Coach")
    MembershipFactory(cohort=cohort, user=facilitator, role=CohortRole.FACILITATOR)
    MembershipFactory(cohort=cohort, user=coach, role=CohortRole.COACH)
    people = []
    for i in range(fellows):
        person = UserFactory(name=f"Fellow {i:02d}")
        MembershipFactory(cohort=cohort, user=person, role=CohortRole.FELLOW)
        people.append(person)
    return CohortSetup(cohort, facilitator, coach, people)


def member(cohort: Cohort, role: CohortRole, status: MembershipStatus = MembershipStatus.ACTIVE):
    person = UserFactory()
    MembershipFactory(cohort=cohort, user=person, role=role, status=status)
    return person


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
