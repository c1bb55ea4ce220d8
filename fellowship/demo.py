"""Demo data: one account per role, so a newcomer sees the app working in a minute.

Later domains extend `load_demo` with their own realistic content. Idempotent.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from fellowship import school_years
from fellowship.auth.models import Role, User
from fellowship.auth.services import find_user_by_email, hash_password
from fellowship.capstones.demo import load_demo_capstones
from fellowship.coaching.demo import load_demo_checkins
from fellowship.cohorts.models import (
    DEFAULT_STRANDS,
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    CohortStatus,
    Strand,
)
from fellowship.convenings.demo import load_demo_convenings
from fellowship.curriculum.demo import load_demo_curriculum
from fellowship.cycles.demo import load_cycles_demo
from fellowship.db import db, utcnow
from fellowship.integration.demo import load_integration_demo
from fellowship.notifications.demo import load_notifications_demo

DEMO_PASSWORD = "fellowship-demo-2026"

DEMO_PEOPLE = [
    ("admin@example.org", "Alma Administrator", Role.ADMIN, "en", "America/New_York"),
    ("staff@example.org", "Sofía Staff", Role.STAFF, "en", "America/New_York"),
    ("fellow@example.org", "Femi Fellow", Role.MEMBER, "en", "America/Chicago"),
    ("coach@example.org", "Carmen Coach", Role.MEMBER, "en", "America/New_York"),
    ("facilitator@example.org", "Farid Facilitator", Role.MEMBER, "en", "America/Los_Angeles"),
    ("reviewer@example.org", "Rosa Reviewer", Role.MEMBER, "en", "America/Denver"),
    ("lead@example.org", "Luis Lead Teacher", Role.MEMBER, "es", "America/New_York"),
    ("partner@example.org", "Priya Partner", Role.MEMBER, "en", "America/New_York"),
]


# The demo cohort: 12 fellows, 3 coaches, 2 facilitators, 2 reviewers (the demo accounts
# plus these people).
COHORT_PEOPLE = [
    ("amara.okafor@example.org", "Amara Okafor", CohortRole.FELLOW),
    ("diego.ramirez@example.org", "Diego Ramírez", CohortRole.FELLOW),
    ("hannah.kim@example.org", "Hannah Kim", CohortRole.FELLOW),
    ("jamal.washington@example.org", "Jamal Washington", CohortRole.FELLOW),
    ("lucia.fernandez@example.org", "Lucía Fernández", CohortRole.FELLOW),
    ("marcus.chen@example.org", "Marcus Chen", CohortRole.FELLOW),
    ("nadia.haddad@example.org", "Nadia Haddad", CohortRole.FELLOW),
    ("olivia.brooks@example.org", "Olivia Brooks", CohortRole.FELLOW),
    ("rafael.santos@example.org", "Rafael Santos", CohortRole.FELLOW),
    ("sarah.goldberg@example.org", "Sarah Goldberg", CohortRole.FELLOW),
    ("tomas.nguyen@example.org", "Tomás Nguyen", CohortRole.FELLOW),
    ("grace.obi@example.org", "Grace Obi", CohortRole.COACH),
    ("william.harris@example.org", "William Harris", CohortRole.COACH),
    ("elena.petrova@example.org", "Dr. Elena Petrova", CohortRole.FACILITATOR),
    ("james.whitfield@example.org", "Prof. James Whitfield", CohortRole.REVIEWER),
]
DEMO_COHORT_ROLES = {
    "fellow@example.org": CohortRole.FELLOW,
    "coach@example.org": CohortRole.COACH,
    "facilitator@example.org": CohortRole.FACILITATOR,
    "reviewer@example.org": CohortRole.REVIEWER,
}
DEMO_COHORT_NAME = "Leadership Institute — Cohort 4"


def load_demo() -> int:
    """Create the demo accounts and cohort that do not exist yet; returns new accounts."""
    password_hash = hash_password(DEMO_PASSWORD)
    created = _load_accounts(password_hash)
    _load_cohort(password_hash)
    load_cycles_demo(password_hash)
    load_integration_demo()
    load_notifications_demo(DEMO_COHORT_NAME)
    return created


def _load_accounts(password_hash: str) -> int:
    created = 0
    for email, name, role, locale, timezone in DEMO_PEOPLE:
        if find_user_by_email(email) is not None:
            continue
        db.session.add(
            User(
                email=email,
                name=name,
                role=role,
                locale=locale,
                timezone=timezone,
                password_hash=password_hash,
            )
        )
        created += 1
    db.session.flush()
    return created


def _load_cohort(password_hash: str) -> None:
    if db.session.scalar(sa.select(Cohort).where(Cohort.name == DEMO_COHORT_NAME)):
        return
    today = utcnow().date()
    year = school_years.get_or_create(school_years.label_for(today))
    cohort = Cohort(
        name=DEMO_COHORT_NAME,
        school_year_id=year.id,
        starts_on=year.starts_on + timedelta(days=45),
        ends_on=year.ends_on - timedelta(days=15),
        status=CohortStatus.ACTIVE,
        checkin_rhythm_days=14,
        settings={},
        strands=[Strand(name=name, position=i) for i, name in enumerate(DEFAULT_STRANDS)],
    )
    db.session.add(cohort)
    db.session.flush()
    members: dict[CohortRole, list[User]] = {role: [] for role in CohortRole}
    for email, role in DEMO_COHORT_ROLES.items():
        user = find_user_by_email(email)
        assert user is not None
        members[role].append(user)
    for email, name, role in COHORT_PEOPLE:
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, name=name, role=Role.MEMBER, password_hash=password_hash)
            db.session.add(user)
            db.session.flush()
        members[role].append(user)
    for role, users in members.items():
        for user in users:
            db.session.add(
                CohortMembership(
                    cohort_id=cohort.id, user_id=user.id, role=role, joined_on=cohort.starts_on
                )
            )
    load_demo_convenings(cohort, members[CohortRole.FACILITATOR], members[CohortRole.FELLOW])
    # Every fellow but the last has a coach, so the page shows a fellow without one.
    coaches = members[CohortRole.COACH]
    for i, fellow in enumerate(members[CohortRole.FELLOW][:-1]):
        db.session.add(
            CoachAssignment(
                cohort_id=cohort.id,
                fellow_id=fellow.id,
                coach_id=coaches[i % len(coaches)].id,
                starts_on=cohort.starts_on,
            )
        )
    db.session.flush()
    load_demo_checkins(cohort)
    load_demo_curriculum(cohort, members[CohortRole.FACILITATOR], members[CohortRole.FELLOW])
    load_demo_capstones(
        cohort,
        members[CohortRole.FELLOW],
        members[CohortRole.REVIEWER],
        members[CohortRole.FACILITATOR],
    )
