"""Who may do what with a cohort: a truth table over real memberships."""

from __future__ import annotations

import pytest

from fellowship import policy
from fellowship.cohorts.models import CohortRole, MembershipStatus
from fellowship.convenings.models import Convening
from tests.conftest import rows_for_module
from tests.factories import (
    AdminFactory,
    CohortFactory,
    MembershipFactory,
    StaffFactory,
    UserFactory,
)

PEOPLE = [
    "fellow here",
    "coach here",
    "facilitator here",
    "reviewer here",
    "fellow elsewhere",
    "facilitator elsewhere",
    "withdrawn fellow here",
    "alumna here",
    "member without a role",
    "staff",
    "admin",
]

# decision -> the people for whom it is True
TABLE = {
    "can_view_cohort": {
        "fellow here",
        "coach here",
        "facilitator here",
        "reviewer here",
        "alumna here",
        "staff",
        "admin",
    },
    "can_edit_cohort": {"staff", "admin"},
    "can_manage_cohort_members": {"staff", "admin"},
    "can_schedule_convening": {"facilitator here", "staff", "admin"},
    "can_view_convening": {
        "fellow here",
        "coach here",
        "facilitator here",
        "reviewer here",
        "alumna here",
        "staff",
        "admin",
    },
    "can_edit_convening": {"facilitator here", "staff", "admin"},
    "can_view_attendance": {"coach here", "facilitator here", "staff", "admin"},
    "can_view_cohort_feed": {"staff", "admin"},
}


def build_world():
    here = CohortFactory()
    elsewhere = CohortFactory()

    def member(cohort, role, status=MembershipStatus.ACTIVE):
        return MembershipFactory(cohort=cohort, role=role, status=status).user_id

    from fellowship.auth.models import User
    from fellowship.extensions import db

    ids = {
        "fellow here": member(here, CohortRole.FELLOW),
        "coach here": member(here, CohortRole.COACH),
        "facilitator here": member(here, CohortRole.FACILITATOR),
        "reviewer here": member(here, CohortRole.REVIEWER),
        "fellow elsewhere": member(elsewhere, CohortRole.FELLOW),
        "facilitator elsewhere": member(elsewhere, CohortRole.FACILITATOR),
        "withdrawn fellow here": member(here, CohortRole.FELLOW, MembershipStatus.WITHDRAWN),
        "alumna here": member(here, CohortRole.FELLOW, MembershipStatus.COMPLETED),
        "member without a role": UserFactory().id,
        "staff": StaffFactory().id,
        "admin": AdminFactory().id,
    }
    people = {name: db.session.get(User, user_id) for name, user_id in ids.items()}
    convening = Convening(id=0, cohort_id=here.id)
    return here, convening, people


built_world = rows_for_module(build_world)


@pytest.fixture
def world(ctx, built_world):
    return built_world.thaw()


CASES = [(decision, who) for decision in TABLE for who in PEOPLE]


@pytest.mark.parametrize(("decision", "who"), CASES)
def test_the_cohort_access_table_holds(world, decision, who):
    cohort, convening, people = world
    target = (
        convening if "convening" in decision and decision != "can_schedule_convening" else cohort
    )
    allowed = getattr(policy, decision)(people[who], target)
    assert allowed is (who in TABLE[decision])


def test_the_cohort_list_shows_each_person_only_their_cohorts(world):
    from fellowship.extensions import db

    cohort, _, people = world

    def visible(who):
        return set(db.session.scalars(policy.cohorts_visible_to(people[who])))

    assert {c.id for c in visible("fellow here")} == {cohort.id}
    assert {c.id for c in visible("alumna here")} == {cohort.id}
    assert visible("withdrawn fellow here") == set()
    assert visible("member without a role") == set()
    assert len(visible("staff")) == 2


@pytest.mark.parametrize("who", ["staff", "admin", "facilitator here"])
def test_an_archived_cohort_is_read_only_until_reopened(world, who):
    from fellowship.cohorts.models import CohortStatus

    cohort, _, people = world
    cohort.status = CohortStatus.ARCHIVED
    assert policy.can_view_cohort(people[who], cohort) is True
    assert policy.can_manage_cohort_members(people[who], cohort) is False
    assert policy.can_schedule_convening(people[who], cohort) is False
    assert policy.can_edit_cohort(people[who], cohort) is (who != "facilitator here")


def test_in_an_archived_cohort_convenings_and_check_ins_are_no_longer_edited(world):
    from datetime import date

    from fellowship.coaching.models import CheckIn, CheckInMode
    from fellowship.cohorts.models import CohortStatus
    from fellowship.extensions import db

    cohort, convening, people = world
    assert policy.can_edit_convening(people["facilitator here"], convening) is True
    cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    assert policy.can_edit_convening(people["facilitator here"], convening) is False
    assert policy.can_edit_convening(people["staff"], convening) is False
    checkin = CheckIn(
        cohort_id=cohort.id,
        coach_id=people["coach here"].id,
        fellow_id=people["fellow here"].id,
        held_on=date(2026, 9, 1),
        duration_minutes=30,
        mode=CheckInMode.PHONE,
    )
    assert policy.can_edit_checkin(people["coach here"], checkin) is False
