"""Who may see and change integration data: staff and admins read the district's figures,
import and set objectives; only admins change the settings and read raw counts; a school's
cycle members read that school's (suppressed) page and nothing else."""

from __future__ import annotations

import pytest

from fellowship import policy
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.extensions import db
from tests.conftest import rows_for_module
from tests.cycles.helpers import SchoolFactory, cycle_with_team
from tests.factories import AdminFactory, MembershipFactory, StaffFactory, UserFactory

PEOPLE = [
    "lead teacher",
    "team member",
    "partner",
    "staff liaison",
    "other school's lead teacher",
    "staff",
    "admin",
    "fellow",
    "coach",
    "member",
]
STAFF = {"staff", "admin"}
OWN_SCHOOL = {"lead teacher", "team member", "partner", "staff liaison"}

#  decision                            object                 who may
TABLE = [
    ("can_view_integration", "nothing", STAFF),
    ("can_import_enrollment", "nothing", STAFF),
    ("can_manage_integration_settings", "nothing", {"admin"}),
    ("can_view_raw_enrollment", "nothing", {"admin"}),
    ("can_view_school_integration", "magnet school", STAFF | OWN_SCHOOL),
    ("can_view_school_integration", "other school", STAFF | {"other school's lead teacher"}),
    ("can_set_objective", "magnet school", STAFF),
    ("can_set_objective", "school that is not a magnet", set()),
]
DECISIONS = {row[0] for row in TABLE}


def build_world():
    team = cycle_with_team(school_id=SchoolFactory(is_magnet=True).id)
    other = cycle_with_team(school_id=SchoolFactory(is_magnet=False).id)
    ids = {
        "lead teacher": team.lead.id,
        "team member": team.member.id,
        "partner": team.partner.id,
        "staff liaison": team.liaison.id,
        "other school's lead teacher": other.lead.id,
        "staff": StaffFactory().id,
        "admin": AdminFactory().id,
        "fellow": MembershipFactory(role=CohortRole.FELLOW).user_id,
        "coach": MembershipFactory(role=CohortRole.COACH).user_id,
        "member": UserFactory().id,
    }
    from fellowship.cycles.models import School

    magnet = db.session.get(School, team.cycle.school_id)
    plain = db.session.get(School, other.cycle.school_id)
    objects = {
        "nothing": (),
        "magnet school": (magnet,),
        "other school": (plain,),
        "school that is not a magnet": (plain,),
    }
    people = {name: db.session.get(User, user_id) for name, user_id in ids.items()}
    return people, objects


built_world = rows_for_module(build_world)


@pytest.fixture
def world(ctx, built_world):
    return built_world.thaw()


@pytest.mark.parametrize(
    ("decision", "target", "allowed"),
    TABLE,
    ids=[f"{decision}-{target}" for decision, target, _ in TABLE],
)
def test_the_integration_access_table_holds(world, decision, target, allowed):
    people, objects = world
    may = {who for who in PEOPLE if getattr(policy, decision)(people[who], *objects[target])}
    assert may == allowed
