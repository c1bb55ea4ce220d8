"""Who may do what with schools and cycles: each cycle role × own school / other school,
staff, admin, fellow, coach and member, × every decision."""

from __future__ import annotations

import pytest

from fellowship import policy
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.cycles.models import CycleRole, CycleStage, ReviewStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import rows_for_module
from tests.cycles.helpers import (
    CycleFactory,
    CycleMemberFactory,
    GoalFactory,
    MeasurementFactory,
    ReviewFactory,
    SchoolFactory,
    SupportFactory,
    cycle_with_team,
)
from tests.factories import (
    AdminFactory,
    MembershipFactory,
    SchoolYearFactory,
    StaffFactory,
    UserFactory,
)

PEOPLE = [
    "lead teacher",
    "team member",
    "partner",
    "staff liaison",
    "last year's lead teacher",
    "other school's lead teacher",
    "other school's partner",
    "staff",
    "admin",
    "fellow",
    "coach",
    "member",
]
STAFF = {"staff", "admin"}
OTHER_SCHOOL = {"other school's lead teacher", "other school's partner"}
EVERYONE = set(PEOPLE)
OWN_SCHOOL = {"lead teacher", "team member", "partner", "staff liaison", "last year's lead teacher"}
READERS = OWN_SCHOOL | STAFF
PLANNERS = {"lead teacher", "team member", "staff liaison"} | STAFF
GOAL_OWNERS = {"lead teacher", "staff liaison"} | STAFF
SUPPORTERS = {"partner", "staff liaison"} | STAFF

#  decision                          object                who may
TABLE = [
    ("can_manage_schools", "nothing", STAFF),
    ("can_open_cycle", "nothing", STAFF),
    ("can_view_portfolio", "nothing", STAFF),
    (
        "can_view_my_cycles",
        "nothing",
        OWN_SCHOOL | STAFF | OTHER_SCHOOL,
    ),
    ("can_view_support_report", "nothing", STAFF | {"partner", "other school's partner"}),
    ("can_view_school", "school", READERS),
    (
        "can_view_school",
        "other school",
        STAFF | OTHER_SCHOOL,
    ),
    ("can_view_cycle", "cycle", READERS),
    ("can_view_cycle", "last year's cycle", READERS),
    (
        "can_view_cycle",
        "other school's cycle",
        STAFF | OTHER_SCHOOL,
    ),
    ("can_manage_cycle_members", "cycle", STAFF),
    ("can_open_next_cycle", "cycle", STAFF),
    ("can_edit_initiative", "cycle", PLANNERS),
    ("can_edit_initiative", "last year's cycle", STAFF | {"last year's lead teacher"}),
    ("can_edit_initiative", "closed cycle", set()),
    ("can_change_stage", "cycle", {"lead teacher"} | STAFF),
    ("can_change_stage", "closed cycle", STAFF),
    ("can_edit_goals", "cycle", GOAL_OWNERS),
    ("can_edit_goals", "other school's cycle", STAFF | {"other school's lead teacher"}),
    ("can_edit_goals", "closed cycle", set()),
    ("can_record_measurement", "cycle", PLANNERS),
    ("can_record_measurement", "closed cycle", set()),
    (
        "can_delete_measurement",
        "team member's measurement",
        PLANNERS,
    ),
    ("can_delete_measurement", "lead's measurement", GOAL_OWNERS),
    ("can_view_evidence", "team member's measurement", READERS),
    ("can_edit_improvement_tests", "cycle", PLANNERS),
    ("can_edit_improvement_tests", "closed cycle", set()),
    ("can_log_engagement", "cycle", PLANNERS),
    ("can_log_support", "cycle", SUPPORTERS),
    ("can_log_support", "other school's cycle", STAFF | {"other school's partner"}),
    ("can_log_support", "closed cycle", set()),
    ("can_edit_support", "partner's support", {"partner"} | STAFF),
    ("can_edit_support", "staff's support", STAFF),
    ("can_schedule_review", "cycle", STAFF),
    ("can_schedule_review", "closed cycle", set()),
    ("can_view_goals_review", "scheduled review", READERS),
    ("can_download_review_packet", "scheduled review", READERS),
    (
        "can_view_goals_review",
        "other school's review",
        STAFF | OTHER_SCHOOL,
    ),
    ("can_record_goals_review", "scheduled review", {"lead teacher"} | STAFF),
    ("can_record_goals_review", "signed review", set()),
    ("can_sign_review_as_lead", "scheduled review", {"lead teacher"}),
    ("can_sign_review_as_lead", "review signed by the lead", set()),
    ("can_sign_review_as_lead", "signed review", set()),
    ("can_sign_review_as_staff", "scheduled review", STAFF),
    ("can_sign_review_as_staff", "review signed by the lead", STAFF),
    ("can_sign_review_as_staff", "signed review", set()),
    ("can_amend_review", "signed review", {"lead teacher"} | STAFF),
    ("can_amend_review", "scheduled review", set()),
    ("can_amend_review", "amended review", set()),
    ("can_record_goals_review", "closed cycle's review", STAFF),
    ("can_sign_review_as_lead", "closed cycle's review", set()),
    ("can_sign_review_as_staff", "closed cycle's review", STAFF),
    ("can_amend_review", "closed cycle's signed review", STAFF),
]
DECISIONS = {row[0] for row in TABLE}


def build_world():
    last_year = SchoolYearFactory(label="2025-26")
    team = cycle_with_team()
    cycle = team.cycle
    earlier = CycleFactory(
        school_id=cycle.school_id, school_year_id=last_year.id, stage=CycleStage.CLOSED
    )
    # Last year's cycle is not closed in the row that tests acting in it.
    earlier_open = CycleFactory(
        school_id=cycle.school_id, school_year_id=SchoolYearFactory(label="2024-25").id
    )
    earlier_lead = CycleMemberFactory(cycle_id=earlier_open.id, role=CycleRole.LEAD_TEACHER)
    CycleMemberFactory(
        cycle_id=earlier.id, user_id=earlier_lead.user_id, role=CycleRole.LEAD_TEACHER
    )
    other = cycle_with_team(school_id=SchoolFactory().id)
    closed = CycleFactory(stage=CycleStage.CLOSED, school_id=SchoolFactory().id)
    for person in (team.lead, team.member, team.partner, team.liaison):
        CycleMemberFactory(cycle_id=closed.id, user_id=person.id, role=_role_of(team, person))
    fellow = MembershipFactory(role=CohortRole.FELLOW).user_id
    coach = MembershipFactory(role=CohortRole.COACH).user_id
    staff = StaffFactory()
    ids = {
        "lead teacher": team.lead.id,
        "team member": team.member.id,
        "partner": team.partner.id,
        "staff liaison": team.liaison.id,
        "last year's lead teacher": earlier_lead.user_id,
        "other school's lead teacher": other.lead.id,
        "other school's partner": other.partner.id,
        "staff": staff.id,
        "admin": AdminFactory().id,
        "fellow": fellow,
        "coach": coach,
        "member": UserFactory().id,
    }
    goal = GoalFactory(cycle_id=cycle.id)
    by_member = MeasurementFactory(goal_id=goal.id, recorded_by_id=team.member.id)
    by_lead = MeasurementFactory(goal_id=goal.id, recorded_by_id=team.lead.id)
    partners = SupportFactory(
        cycle_id=cycle.id, provider_id=team.partner.id, recorded_by_id=team.partner.id
    )
    staffs = SupportFactory(cycle_id=cycle.id, recorded_by_id=staff.id)
    scheduled = ReviewFactory(cycle_id=cycle.id)
    half = ReviewFactory(cycle_id=cycle.id, lead_signed_by_id=team.lead.id, lead_signed_at=utcnow())
    signed = ReviewFactory(
        cycle_id=cycle.id,
        status=ReviewStatus.SIGNED,
        lead_signed_by_id=team.lead.id,
        lead_signed_at=utcnow(),
        staff_signed_by_id=staff.id,
        staff_signed_at=utcnow(),
        frozen_at=utcnow(),
        snapshot={"goals": []},
    )
    amended = ReviewFactory(
        cycle_id=cycle.id,
        status=ReviewStatus.AMENDED,
        lead_signed_by_id=team.lead.id,
        lead_signed_at=utcnow(),
        staff_signed_by_id=staff.id,
        staff_signed_at=utcnow(),
        frozen_at=utcnow(),
        snapshot={"goals": []},
    )
    other_review = ReviewFactory(cycle_id=other.cycle.id)
    closed_review = ReviewFactory(cycle_id=closed.id)
    closed_signed = ReviewFactory(
        cycle_id=closed.id,
        status=ReviewStatus.SIGNED,
        lead_signed_by_id=team.lead.id,
        lead_signed_at=utcnow(),
        staff_signed_by_id=staff.id,
        staff_signed_at=utcnow(),
        frozen_at=utcnow(),
        snapshot={"goals": []},
    )
    objects = {
        "nothing": (),
        "school": (_school(cycle.school_id),),
        "other school": (_school(other.cycle.school_id),),
        "cycle": (cycle,),
        "last year's cycle": (earlier_open,),
        "other school's cycle": (other.cycle,),
        "closed cycle": (closed,),
        "team member's measurement": (by_member, cycle),
        "lead's measurement": (by_lead, cycle),
        "partner's support": (partners, cycle),
        "staff's support": (staffs, cycle),
        "scheduled review": (scheduled, cycle),
        "review signed by the lead": (half, cycle),
        "signed review": (signed, cycle),
        "amended review": (amended, cycle),
        "closed cycle's review": (closed_review, closed),
        "closed cycle's signed review": (closed_signed, closed),
        "other school's review": (other_review, other.cycle),
    }
    people = {name: db.session.get(User, user_id) for name, user_id in ids.items()}
    return people, objects


built_world = rows_for_module(build_world)


@pytest.fixture
def world(ctx, built_world):
    return built_world.thaw()


def _school(school_id):
    from fellowship.cycles.models import School

    return db.session.get(School, school_id)


def _role_of(team, person):
    return {
        team.lead.id: CycleRole.LEAD_TEACHER,
        team.member.id: CycleRole.TEAM_MEMBER,
        team.partner.id: CycleRole.PARTNER,
        team.liaison.id: CycleRole.STAFF_LIAISON,
    }[person.id]


@pytest.mark.parametrize(
    ("decision", "target", "allowed"),
    TABLE,
    ids=[f"{decision}-{target}" for decision, target, _ in TABLE],
)
def test_the_cycle_access_table_holds(world, decision, target, allowed):
    """Each row: exactly these people may (the world is built once per row, not per person)."""
    people, objects = world
    may = {who for who in PEOPLE if getattr(policy, decision)(people[who], *objects[target])}
    assert may == allowed


def test_the_same_person_cannot_sign_a_review_for_both_sides(world):
    people, objects = world
    review, cycle = objects["scheduled review"]
    staff = people["staff"]
    CycleMemberFactory(cycle_id=cycle.id, user_id=staff.id, role=CycleRole.LEAD_TEACHER)
    policy.forget_cached_memberships()
    review.lead_signed_by_id = staff.id
    review.lead_signed_at = utcnow()
    db.session.commit()
    assert policy.can_sign_review_as_staff(staff, review, cycle) is False
    assert policy.can_sign_review_as_staff(people["admin"], review, cycle) is True


def test_a_member_lists_every_cycle_of_their_schools_and_no_other(world):
    people, objects = world
    from fellowship.cycles.models import Cycle

    visible = set(db.session.scalars(policy.cycles_visible_to(people["lead teacher"])).all())
    school_id = objects["cycle"][0].school_id
    assert visible
    assert {c.school_id for c in visible} == {school_id, objects["closed cycle"][0].school_id}
    assert objects["other school's cycle"][0] not in visible
    assert db.session.scalars(policy.cycles_visible_to(people["fellow"])).all() == []
    every = db.session.scalars(policy.cycles_visible_to(people["staff"])).all()
    assert len(every) == db.session.query(Cycle).count()


def test_a_partners_support_report_counts_only_the_cycles_they_are_a_partner_in(world):
    people, objects = world
    cycle = objects["cycle"][0]
    assert policy.support_cycles_visible_to(people["staff"]) is None
    mine = set(db.session.scalars(policy.support_cycles_visible_to(people["partner"])))
    assert cycle.id in mine
    assert objects["other school's cycle"][0].id not in mine
    assert (
        set(db.session.scalars(policy.support_cycles_visible_to(people["lead teacher"]))) == set()
    )
    assert set(db.session.scalars(policy.support_cycles_visible_to(people["fellow"]))) == set()
