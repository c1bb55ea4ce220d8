"""factory_boy factories; each commits (into the test's savepoint) so requests see the rows."""

from __future__ import annotations

from datetime import date

import factory
from factory.alchemy import SQLAlchemyModelFactory

from fellowship.auth.models import Role, User
from fellowship.auth.services import hash_password
from fellowship.coaching.models import CheckIn, CheckInMode
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
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.school_years import SchoolYear

PASSWORD = "a long and unusual test passphrase"
_PASSWORD_HASH = hash_password(PASSWORD)


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name")
    role = Role.MEMBER
    is_active = True
    locale = "en"
    timezone = "America/New_York"
    password_hash = _PASSWORD_HASH


class AdminFactory(UserFactory):
    role = Role.ADMIN


class StaffFactory(UserFactory):
    role = Role.STAFF


class SchoolYearFactory(BaseFactory):
    class Meta:
        model = SchoolYear
        sqlalchemy_get_or_create = ("label",)

    label = "2026-27"
    starts_on = date(2026, 7, 1)
    ends_on = date(2027, 6, 30)


class CohortFactory(BaseFactory):
    class Meta:
        model = Cohort

    name = factory.Sequence(lambda n: f"Cohort {n}")
    school_year = factory.SubFactory(SchoolYearFactory)
    starts_on = date(2026, 8, 1)
    ends_on = date(2027, 6, 15)
    status = CohortStatus.ACTIVE
    checkin_rhythm_days = 14
    settings = factory.LazyFunction(dict)
    strands = factory.LazyFunction(
        lambda: [Strand(name=name, position=i) for i, name in enumerate(DEFAULT_STRANDS)]
    )


class MembershipFactory(BaseFactory):
    """A person in a cohort: `MembershipFactory(cohort=c, role=CohortRole.COACH)`."""

    class Meta:
        model = CohortMembership
        exclude = ("cohort", "user")

    cohort = factory.SubFactory(CohortFactory)
    user = factory.SubFactory(UserFactory)
    cohort_id = factory.SelfAttribute("cohort.id")
    user_id = factory.SelfAttribute("user.id")
    role = CohortRole.FELLOW
    status = MembershipStatus.ACTIVE
    joined_on = date(2026, 8, 1)


class CoachAssignmentFactory(BaseFactory):
    class Meta:
        model = CoachAssignment

    cohort_id = 0
    fellow_id = 0
    coach_id = 0
    starts_on = date(2026, 8, 1)
    ends_on = None


class CheckInFactory(BaseFactory):
    """A shared 45-minute video check-in: `CheckInFactory(cohort_id=, coach_id=, fellow_id=)`.

    Pass `shared_at=None` for a draft. Private notes, focus areas and action items are
    separate rows (see tests/coaching/helpers.py).
    """

    class Meta:
        model = CheckIn

    cohort_id = 0
    coach_id = 0
    fellow_id = 0
    held_on = date(2026, 10, 1)
    duration_minutes = 45
    mode = CheckInMode.VIDEO
    shared_summary_md = "We talked about the coalition map."
    next_steps_md = ""
    next_checkin_on = None
    shared_at = factory.LazyFunction(utcnow)
