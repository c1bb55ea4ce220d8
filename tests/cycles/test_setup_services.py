"""Setting cycles up: opening a cycle, the team's rules, and carrying a cycle forward to next
year (goals from the signed review's snapshot or carried, baselines, the goal rules, drivers,
team), for one school and for every school, double clicks included — rules as tables."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from fellowship import policy
from fellowship.audit import AuditEvent
from fellowship.cycles import goal_services, queries
from fellowship.cycles import setup_services as setup
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    CycleRole,
    CycleStage,
    Driver,
    Goal,
    GoalCategory,
    GoalDirection,
    ProposedGoal,
    School,
)
from fellowship.extensions import db
from fellowship.school_years import SchoolYear
from tests.cycles.helpers import (
    CycleFactory,
    CycleMemberFactory,
    GoalFactory,
    MeasurementFactory,
    ProposedGoalFactory,
    ReviewFactory,
    SchoolFactory,
    cycle_with_team,
)
from tests.cycles.setup_helpers import (
    carry_world,
    frozen_review,
    keeps_the_goal_rules,
    rival_opens,
    signed_review,
    snapshot,
    year,
)
from tests.factories import StaffFactory, UserFactory

TODAY = date(2027, 5, 30)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2026-27", "2027-28"),
        ("1999-00", "2000-01"),
        ("2099-00", "2100-01"),
        ("2199-00", "2200-01"),
        ("2200-01", "2201-02"),
    ],
)
def test_next_year_label(label, expected):
    assert setup.next_year_label(label) == expected


@pytest.mark.parametrize(
    ("label", "allowed"),
    [
        ("1949-50", False),
        ("1950-51", True),
        ("2026-27", True),
        ("2199-00", True),
        ("2200-01", False),
        ("1900-01", False),
        ("２０２６-２７", False),
    ],
)
def test_cycles_may_be_opened_for_school_years_from_1950_51_to_2199_00(label, allowed):
    assert (setup.year_bounds(label) is not None) == allowed


# Opening a cycle ----------------------------------------------------------------------------


def test_a_cycle_opens_in_planning_for_a_school_and_year_and_is_audited(ctx):
    staff = StaffFactory()
    school = SchoolFactory()
    cycle = setup.open_cycle(staff, school, " 2031-32 ")
    db.session.commit()
    assert cycle.stage == CycleStage.PLANNING
    made = db.session.get(SchoolYear, cycle.school_year_id)
    assert (made.label, made.starts_on, made.ends_on) == (
        "2031-32",
        date(2031, 7, 1),
        date(2032, 6, 30),
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cycle.opened"))
    assert event.details == {"school_id": school.id, "year": "2031-32"}


@pytest.mark.parametrize(
    ("label", "field", "message"),
    [
        ("", "school_year", "Enter the school year like 2026-27."),
        ("2026", "school_year", "Enter the school year like 2026-27."),
        ("2026-28", "school_year", "Enter the school year like 2026-27."),
        ("26-27", "school_year", "Enter the school year like 2026-27."),
        ("２０２６-２７", "school_year", "Enter the school year like 2026-27."),
        ("1949-50", "school_year", "Enter the school year like 2026-27."),
        ("2200-01", "school_year", "Enter the school year like 2026-27."),
        ("2026-27", "school_year", "Riverside High already has a cycle for 2026-27."),
    ],
)
def test_opening_a_cycle_is_refused_for_a_bad_year_or_a_second_cycle(ctx, label, field, message):
    school = SchoolFactory(name="Riverside High")
    CycleFactory(school_id=school.id)  # 2026-27
    before = snapshot()
    with pytest.raises(setup.SetupError) as raised:
        setup.open_cycle(StaffFactory(), school, label)
    assert (raised.value.field, raised.value.message[: len(message)]) == (field, message)
    db.session.rollback()
    assert snapshot() == before


def test_a_second_cycle_opened_at_the_same_moment_is_refused_like_a_second_cycle(ctx):
    school = SchoolFactory(name="Riverside High")
    staff = StaffFactory()
    with (
        rival_opens(school.id, "2031-32") as rival,
        pytest.raises(setup.SetupError) as raised,
    ):
        setup.open_cycle(staff, school, "2031-32")
    assert raised.value.field == "school_year"
    assert raised.value.message.startswith("Riverside High already has a cycle for 2031-32.")
    assert raised.value.cycle_id == rival[0]
    # Only the rival's cycle is there, nothing of ours (no audit), and the session goes on.
    assert db.session.scalars(sa.select(Cycle.id).where(Cycle.school_id == school.id)).all() == [
        rival[0]
    ]
    assert not db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "cycle.opened")
    )


@pytest.mark.parametrize(
    ("school", "message"),
    [(None, "Choose the school."), ("inactive", "Closed Academy is not active")],
)
def test_opening_a_cycle_needs_an_active_school(ctx, school, message):
    target = SchoolFactory(name="Closed Academy", is_active=False) if school else None
    with pytest.raises(setup.SetupError) as raised:
        setup.open_cycle(StaffFactory(), target, "2026-27")
    assert raised.value.field == "school"
    assert raised.value.message.startswith(message)


# The team -----------------------------------------------------------------------------------


def test_an_existing_account_joins_the_team_by_email_in_any_case(ctx):
    cycle = CycleFactory()
    person = UserFactory(email="dana.lee@example.org")
    membership = setup.add_member(
        StaffFactory(),
        cycle,
        email="  Dana.Lee@EXAMPLE.org ",
        role=CycleRole.TEAM_MEMBER,
        organisation="ignored for a team member",
    )
    assert (membership.user_id, membership.role, membership.organisation) == (
        person.id,
        CycleRole.TEAM_MEMBER,
        "",
    )
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "cycle.member_added")
    )
    assert (event.target_id, event.details["cycle_id"]) == (person.id, cycle.id)


def test_a_partner_joins_with_their_organisation(ctx):
    cycle = CycleFactory()
    UserFactory(email="pat@bridges.org")
    membership = setup.add_member(
        StaffFactory(),
        cycle,
        email="pat@bridges.org",
        role=CycleRole.PARTNER,
        organisation="  Bridges   Collaborative ",
    )
    assert membership.organisation == "Bridges Collaborative"


@pytest.mark.parametrize(
    ("case", "role", "organisation", "field", "message"),
    [
        ("no account", CycleRole.LEAD_TEACHER, "", "email", "No account has the address"),
        ("deactivated", CycleRole.LEAD_TEACHER, "", "email", "The account of"),
        ("already on the team", CycleRole.PARTNER, "Org", "email", "is already on this cycle"),
        (
            "partner without organisation",
            CycleRole.PARTNER,
            " ",
            "organisation",
            "Enter the partner",
        ),
        (
            "long organisation",
            CycleRole.PARTNER,
            "o" * 201,
            "organisation",
            "Keep the organisation",
        ),
    ],
)
def test_adding_a_member_is_refused_with_a_reason(ctx, case, role, organisation, field, message):
    team = cycle_with_team()
    email = {
        "no account": "nobody@example.org",
        "deactivated": UserFactory(is_active=False).email,
        "already on the team": team.member.email,
    }.get(case, UserFactory().email)
    before = snapshot()
    with pytest.raises(setup.SetupError) as raised:
        setup.add_member(
            StaffFactory(), team.cycle, email=email, role=role, organisation=organisation
        )
    assert raised.value.field == field
    assert message in raised.value.message
    db.session.rollback()
    assert snapshot() == before


def test_a_role_change_is_saved_and_audited_and_no_change_is_no_audit(ctx):
    team = cycle_with_team()
    membership = db.session.scalar(
        sa.select(CycleMembership).where(CycleMembership.user_id == team.member.id)
    )
    staff = StaffFactory()
    assert setup.update_member(staff, team.cycle, membership, role=CycleRole.TEAM_MEMBER) is False
    assert setup.update_member(
        staff, team.cycle, membership, role=CycleRole.PARTNER, organisation="District office"
    )
    assert (membership.role, membership.organisation) == (CycleRole.PARTNER, "District office")
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "cycle.member_changed")
    ).all()
    assert len(events) == 1
    assert events[0].details["role_from"] == "team_member"


def test_a_membership_of_another_cycle_cannot_be_changed_or_removed_through_this_one(ctx):
    team = cycle_with_team()
    other = CycleFactory()
    stranger = CycleMemberFactory(cycle_id=other.id)
    with pytest.raises(setup.SetupError):
        setup.update_member(StaffFactory(), team.cycle, stranger, role=CycleRole.TEAM_MEMBER)
    with pytest.raises(setup.SetupError):
        setup.remove_member(StaffFactory(), team.cycle, stranger)


def test_removing_a_member_ends_their_access_to_the_cycle(ctx):
    team = cycle_with_team()
    membership = db.session.scalar(
        sa.select(CycleMembership).where(CycleMembership.user_id == team.partner.id)
    )
    assert policy.can_view_cycle(team.partner, team.cycle)
    setup.remove_member(StaffFactory(), team.cycle, membership)
    policy.forget_cached_memberships()
    assert not policy.can_view_cycle(team.partner, team.cycle)
    assert db.session.scalar(
        sa.select(AuditEvent.details).where(AuditEvent.action == "cycle.member_removed")
    ) == {"cycle_id": team.cycle.id, "role": "partner"}


# Carrying forward: the goals ----------------------------------------------------------------


def _no_review(w):
    pass


def _review_not_yet_signed(w):
    review = ReviewFactory(cycle_id=w.cycle.id)
    ProposedGoalFactory(review_id=review.id, title="Agreed but not signed")


def _frozen_review(w):
    signed_review(
        w.cycle.id,
        date(2027, 5, 21),
        [
            {
                "goal_id": w.measured.id,
                "title": "Applicants, again",
                "target_value": 35.0,
                "due_on": date(2028, 5, 1),
            },
            {
                "goal_id": w.unmeasured.id,
                "title": "Attendance",
                "category": GoalCategory.CLIMATE,
                "direction": GoalDirection.HOLD,
                "target_value": 95.0,
            },
            {
                "title": "Chronic absence",
                "baseline_value": 12.5,
                "baseline_on": date(2027, 8, 20),
                "target_value": 8.0,
                "direction": GoalDirection.LOWER,
                "category": GoalCategory.CLIMATE,
            },
        ],
    )


def _amendment(w):
    original = signed_review(
        w.cycle.id,
        date(2027, 5, 21),
        [{"title": "Superseded goal", "baseline_value": 1.0, "baseline_on": date(2027, 5, 1)}],
    )
    signed_review(
        w.cycle.id,
        date(2027, 6, 2),
        [{"goal_id": w.undated.id, "title": "Corrected goal"}],
        amends_review_id=original.id,
    )
    # An older review frozen earlier still, created last: frozen_at decides, not the id.
    signed_review(
        w.cycle.id,
        date(2027, 1, 10),
        [{"title": "Old goal", "baseline_value": 1.0, "baseline_on": date(2027, 1, 1)}],
    )


def _snapshot_without_next_goals(w):
    """A snapshot made by hand (or before next year's goals were recorded): the rows."""
    review = frozen_review(w.cycle.id, date(2027, 5, 21))
    ProposedGoalFactory(
        review_id=review.id,
        goal_id=w.measured.id,
        title="Applicants, again",
        position=0,
        due_on=date(2028, 5, 1),
    )
    ProposedGoalFactory(
        review_id=review.id,
        goal_id=w.measured.id,
        title="Applicants, agreed baseline",
        position=1,
        baseline_value=30.0,
        baseline_on=None,
    )


CARRY_TABLE = [
    # scenario, [(title, baseline value, baseline date, due, carried from, baseline source)]
    (
        _no_review,
        "carried",
        [
            (
                "Applicants from outside the zone",
                24.0,
                date(2027, 3, 1),
                date(2028, 6, 1),
                "measured",
                "measured",
            ),
            ("Attendance", 90.0, date(2026, 8, 15), date(2028, 6, 1), "unmeasured", "kept"),
            ("Family nights", 5.0, date(2026, 12, 5), None, "undated", "measured"),
        ],
    ),
    (
        _review_not_yet_signed,
        "carried",
        [
            (
                "Applicants from outside the zone",
                24.0,
                date(2027, 3, 1),
                date(2028, 6, 1),
                "measured",
                "measured",
            ),
            ("Attendance", 90.0, date(2026, 8, 15), date(2028, 6, 1), "unmeasured", "kept"),
            ("Family nights", 5.0, date(2026, 12, 5), None, "undated", "measured"),
        ],
    ),
    (
        _frozen_review,
        "review",
        [
            ("Applicants, again", 24.0, date(2027, 3, 1), date(2028, 5, 1), "measured", "measured"),
            ("Attendance", 90.0, date(2026, 8, 15), None, "unmeasured", "kept"),
            ("Chronic absence", 12.5, date(2027, 8, 20), None, None, "agreed"),
        ],
    ),
    (
        _amendment,
        "review",
        [("Corrected goal", 5.0, date(2026, 12, 5), None, "undated", "measured")],
    ),
    (
        _snapshot_without_next_goals,
        "review",
        [
            ("Applicants, again", 24.0, date(2027, 3, 1), date(2028, 5, 1), "measured", "measured"),
            ("Applicants, agreed baseline", 30.0, date(2027, 7, 1), None, "measured", "agreed"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("scenario", "goals_from", "expected"),
    CARRY_TABLE,
    ids=[
        "no review",
        "review not signed",
        "frozen review",
        "amendment supersedes",
        "snapshot without next goals",
    ],
)
def test_next_years_goals_and_their_baselines(ctx, scenario, goals_from, expected):
    w = carry_world()
    scenario(w)
    context = queries.load_cycle(w.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert plan.ok
    assert plan.goals_from == goals_from
    made = setup.open_next_cycle(StaffFactory(), context, TODAY)
    db.session.commit()
    goals = db.session.scalars(
        sa.select(Goal).where(Goal.cycle_id == made.id).order_by(Goal.position)
    ).all()
    sources = {"measured": w.measured.id, "unmeasured": w.unmeasured.id, "undated": w.undated.id}
    assert [
        (g.title, g.baseline_value, g.baseline_on, g.due_on, g.carried_from_goal_id) for g in goals
    ] == [(t, v, on, due, sources.get(src)) for t, v, on, due, src, _b in expected]
    assert [d.baseline_source for d in plan.goals] == [row[5] for row in expected]
    assert [g.position for g in goals] == list(range(len(expected)))
    assert all(g.status_override is None and g.override_reason == "" for g in goals)
    assert all(g.override_by_id is None and g.override_at is None for g in goals)
    assert [keeps_the_goal_rules(g) for g in goals] == [None] * len(goals)


def test_carried_goals_keep_their_fields(ctx):
    w = carry_world()
    made = setup.open_next_cycle(StaffFactory(), queries.load_cycle(w.cycle.id), TODAY)
    attendance = db.session.scalar(
        sa.select(Goal).where(Goal.cycle_id == made.id, Goal.title == "Attendance")
    )
    assert (
        attendance.category,
        attendance.metric,
        attendance.unit,
        attendance.target_value,
        attendance.direction,
    ) == (GoalCategory.CLIMATE, "Average daily attendance", "%", 95.0, GoalDirection.HOLD)


def test_a_due_date_of_29_february_moves_to_28_february(ctx):
    w = carry_world()
    w.unmeasured.due_on = date(2028, 2, 29)
    db.session.commit()
    plan = setup.plan_next_cycle(queries.load_cycle(w.cycle.id), TODAY)
    assert plan.goals[1].due_on == date(2029, 2, 28)


def test_a_new_goal_of_the_review_without_a_baseline_cannot_be_opened(ctx):
    w = carry_world()
    review = frozen_review(w.cycle.id, date(2027, 5, 21))
    ProposedGoalFactory(review_id=review.id, title="New idea, no baseline")
    context = queries.load_cycle(w.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert not plan.ok
    assert "“New idea, no baseline” has no baseline" in (plan.refusal or "")
    before = snapshot()
    with pytest.raises(setup.SetupError):
        setup.open_next_cycle(StaffFactory(), context, TODAY)
    db.session.rollback()
    assert snapshot() == before


# Carrying forward: what was signed ----------------------------------------------------------


def test_next_years_goals_are_the_ones_signed_whatever_changed_since(ctx):
    w = carry_world()
    staff = StaffFactory()
    review = signed_review(
        w.cycle.id,
        date(2027, 5, 21),
        [
            {
                "goal_id": w.measured.id,
                "title": "Applicants, again",
                "target_value": 40.0,
                "due_on": date(2028, 5, 1),
            },
            {"goal_id": w.undated.id, "title": "Family nights, again", "target_value": 20.0},
        ],
    )
    # After the signing: a new measurement, the agreed rows edited, a continued goal deleted.
    MeasurementFactory(goal_id=w.measured.id, measured_on=date(2027, 5, 25), value=33.0)
    for row in db.session.scalars(
        sa.select(ProposedGoal).where(ProposedGoal.review_id == review.id)
    ):
        row.title = "Changed after the signing"
        row.target_value = 99.0
    goal_services.delete_goal(staff, w.undated)
    db.session.commit()

    context = queries.load_cycle(w.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert plan.ok, plan.problems
    assert [
        (d.title, d.baseline_value, d.baseline_on, d.target_value, d.due_on, d.baseline_source)
        for d in plan.goals
    ] == [
        ("Applicants, again", 24.0, date(2027, 3, 1), 40.0, date(2028, 5, 1), "measured"),
        ("Family nights, again", 5.0, date(2026, 12, 5), 20.0, None, "measured"),
    ]
    made = setup.open_next_cycle(staff, context, TODAY)
    carried = db.session.scalars(
        sa.select(Goal.carried_from_goal_id).where(Goal.cycle_id == made.id).order_by(Goal.position)
    ).all()
    assert carried == [w.measured.id, None]  # the deleted goal is not pointed at


def _without(key):
    def change(entry):
        del entry[key]

    return change


def _set(key, value):
    def change(entry):
        entry[key] = value

    return change


@pytest.mark.parametrize(
    ("change", "keep_row", "expected"),
    [
        (_without("due_on"), True, ("Agreed", 35.0, date(2028, 4, 1))),
        (_set("target", "lots"), True, ("Agreed", 35.0, date(2028, 5, 1))),
        (_set("title", None), True, ("Agreed", 35.0, date(2028, 5, 1))),
        (_set("target", 36.0), False, ("Agreed", 36.0, date(2028, 5, 1))),
        (_without("title"), False, "cannot be read"),
        (_set("direction", "sideways"), False, "cannot be read"),
    ],
    ids=[
        "no due date: the row's",
        "unreadable target: the row's",
        "unreadable title: the row's",
        "row gone, snapshot complete",
        "row gone, title missing",
        "row gone, direction unknown",
    ],
)
def test_a_snapshot_entry_that_lacks_a_value_takes_it_from_its_row(ctx, change, keep_row, expected):
    w = carry_world()
    review = signed_review(
        w.cycle.id,
        date(2027, 5, 21),
        [{"goal_id": w.measured.id, "title": "Agreed", "due_on": date(2028, 5, 1)}],
    )
    stored = dict(review.snapshot)
    entry = dict(stored["next_goals"][0])
    change(entry)
    stored["next_goals"] = [entry]
    review.snapshot = stored
    row = db.session.scalar(sa.select(ProposedGoal).where(ProposedGoal.review_id == review.id))
    if keep_row:
        row.due_on = date(2028, 4, 1)  # only read when the snapshot has no due date
    else:
        db.session.delete(row)
    db.session.commit()
    plan = setup.plan_next_cycle(queries.load_cycle(w.cycle.id), TODAY)
    if isinstance(expected, str):
        assert not plan.ok
        assert expected in (plan.refusal or "")
    else:
        assert plan.ok, plan.problems
        assert [(d.title, d.target_value, d.due_on) for d in plan.goals] == [expected]


# Carrying forward: the goal rules -----------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "latest", "target", "kept"),
    [
        (GoalDirection.RAISE, 29.0, 30.0, True),
        (GoalDirection.RAISE, 30.0, 30.0, False),
        (GoalDirection.RAISE, 34.0, 30.0, False),
        (GoalDirection.LOWER, 11.0, 10.0, True),
        (GoalDirection.LOWER, 10.0, 10.0, False),
        (GoalDirection.LOWER, 7.0, 10.0, False),
        (GoalDirection.HOLD, 30.0, 30.0, True),
    ],
)
def test_a_carried_goal_already_met_is_left_out_and_listed(ctx, direction, latest, target, kept):
    team = cycle_with_team()
    other = GoalFactory(cycle_id=team.cycle.id, title="Still to reach", position=0)
    goal = GoalFactory(
        cycle_id=team.cycle.id,
        title="Reached",
        direction=direction,
        baseline_value=20.0,
        target_value=target,
        position=1,
    )
    MeasurementFactory(goal_id=goal.id, measured_on=date(2027, 4, 1), value=latest)
    context = queries.load_cycle(team.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert plan.ok  # the rest of the cycle still opens
    assert [d.title for d in plan.goals] == (
        ["Still to reach", "Reached"] if kept else [other.title]
    )
    if kept:
        assert plan.left_out == []
    else:
        [left] = plan.left_out
        assert left.title == "Reached"
        assert left.reason.startswith("Met last year")
        assert left.reason.endswith("set a new target in next year's goals.")
    made = setup.open_next_cycle(StaffFactory(), context, TODAY)
    goals = db.session.scalars(sa.select(Goal).where(Goal.cycle_id == made.id)).all()
    assert len(goals) == (2 if kept else 1)
    assert [keeps_the_goal_rules(g) for g in goals] == [None] * len(goals)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cycle.opened_next"))
    assert event.details["goals_left_out"] == ([] if kept else ["Reached"])


@pytest.mark.parametrize(
    ("due_on", "measured_on", "moved_to", "said"),
    [
        (date(2027, 6, 1), date(2027, 4, 1), date(2028, 6, 1), False),
        (date(2028, 6, 30), date(2027, 4, 1), date(2029, 6, 30), False),  # the last day allowed
        (date(2028, 7, 15), date(2027, 4, 1), None, True),  # after it
        (date(2026, 3, 1), date(2027, 4, 1), None, True),  # before 2027-28 begins
        (date(2026, 9, 1), date(2027, 9, 15), None, True),  # not after the new baseline
    ],
)
def test_a_carried_due_date_the_new_year_does_not_allow_is_dropped_and_said(
    ctx, due_on, measured_on, moved_to, said
):
    team = cycle_with_team()
    goal = GoalFactory(cycle_id=team.cycle.id, title="Applicants", due_on=due_on)
    MeasurementFactory(goal_id=goal.id, measured_on=measured_on, value=22.0)
    context = queries.load_cycle(team.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert plan.ok
    assert [d.due_on for d in plan.goals] == [moved_to]
    if said:
        [notice] = plan.notices
        assert notice.startswith("“Applicants” was due on")
        assert "2027-28 does not allow" in notice
    else:
        assert plan.notices == []
    made = setup.open_next_cycle(StaffFactory(), context, TODAY)
    [opened] = db.session.scalars(sa.select(Goal).where(Goal.cycle_id == made.id)).all()
    assert keeps_the_goal_rules(opened) is None


def test_agreed_goals_that_break_the_goal_rules_are_left_out_or_lose_their_due_date(ctx):
    w = carry_world()
    signed_review(
        w.cycle.id,
        date(2027, 5, 21),
        [
            {  # a target below the baseline, to raise
                "title": "Backwards",
                "baseline_value": 50.0,
                "baseline_on": date(2027, 5, 1),
                "target_value": 10.0,
            },
            {  # the continued goal's latest value (24) when signed already passes 20
                "goal_id": w.measured.id,
                "title": "Passed already",
                "target_value": 20.0,
            },
            {
                "title": "Due long ago",
                "baseline_value": 5.0,
                "baseline_on": date(2027, 5, 1),
                "target_value": 10.0,
                "due_on": date(1960, 1, 1),
            },
        ],
    )
    context = queries.load_cycle(w.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert plan.ok
    assert [(left.title, left.reason[:14]) for left in plan.left_out] == [
        ("Backwards", "Met last year "),
        ("Passed already", "Met last year "),
    ]
    assert [(d.title, d.due_on) for d in plan.goals] == [("Due long ago", None)]
    assert plan.notices[0].startswith("“Due long ago” was due on January 1, 1960")
    made = setup.open_next_cycle(StaffFactory(), context, TODAY)
    [opened] = db.session.scalars(sa.select(Goal).where(Goal.cycle_id == made.id)).all()
    assert keeps_the_goal_rules(opened) is None


# Carrying forward: who and when ---------------------------------------------------------------


def test_an_inactive_school_gets_no_next_cycle(ctx):
    w = carry_world()
    db.session.get(School, w.cycle.school_id).is_active = False
    db.session.commit()
    context = queries.load_cycle(w.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert not plan.ok
    assert plan.refusal == (
        f"{context.school.name} is not active: make it active before opening a cycle."
    )
    before = snapshot()
    with pytest.raises(setup.SetupError):
        setup.open_next_cycle(StaffFactory(), context, TODAY)
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("2199-00", "2199-00 is the last school year cycles can have: there is no 2200-01 cycle"),
        ("2200-01", "2200-01 is the last school year cycles can have: there is no 2201-02 cycle"),
    ],
)
def test_there_is_no_next_cycle_after_the_last_school_year(ctx, label, message):
    cycle = CycleFactory(school_id=SchoolFactory().id, school_year_id=year(label).id)
    context = queries.load_cycle(cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert not plan.ok
    assert (plan.refusal or "").startswith(message)
    before = snapshot()
    with pytest.raises(setup.SetupError):
        setup.open_next_cycle(StaffFactory(), context, TODAY)
    db.session.rollback()
    assert snapshot() == before
    preview = setup.plan_next_year(label, TODAY)  # the every-school preview of that year
    assert preview.to_open == []
    assert [p.cycle.id for p in preview.skipped] == [cycle.id]


def test_deactivated_people_are_not_carried_onto_the_new_team_and_are_listed(ctx):
    w = carry_world()
    w.team.member.is_active = False
    db.session.commit()
    context = queries.load_cycle(w.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert plan.ok
    assert [person.id for _m, person in plan.deactivated] == [w.team.member.id]
    assert w.team.member.id not in {person.id for _m, person in plan.team}
    made = setup.open_next_cycle(StaffFactory(), context, TODAY)
    team = set(
        db.session.scalars(
            sa.select(CycleMembership.user_id).where(CycleMembership.cycle_id == made.id)
        )
    )
    assert team == {w.team.lead.id, w.team.partner.id, w.team.liaison.id}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cycle.opened_next"))
    assert (event.details["members"], event.details["members_deactivated"]) == (
        3,
        [w.team.member.id],
    )


def test_next_years_cycle_opened_by_someone_else_meanwhile_is_refused_and_nothing_opens(ctx):
    w = carry_world()
    context = queries.load_cycle(w.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert plan.ok
    with (
        rival_opens(w.cycle.school_id, "2027-28") as rival,
        pytest.raises(setup.SetupError) as raised,
    ):
        setup.carry_forward(StaffFactory(), [plan])
    assert raised.value.message == f"{context.school.name} already has a cycle for 2027-28."
    assert raised.value.cycle_id == rival[0]
    made = db.session.scalars(sa.select(Cycle.id).where(Cycle.previous_cycle_id == w.cycle.id))
    assert made.all() == []
    assert not db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "cycle.opened_next")
    )


def test_every_school_at_once_opens_nothing_when_one_was_opened_meanwhile(ctx):
    first, second = carry_world(), carry_world()
    with (
        rival_opens(second.cycle.school_id, "2027-28"),
        pytest.raises(setup.SetupError) as raised,
    ):
        setup.open_next_year(StaffFactory(), "2026-27", TODAY)
    assert "already has a cycle for 2027-28" in raised.value.message
    assert raised.value.cycle_id is not None
    opened = db.session.scalars(
        sa.select(Cycle.id).where(Cycle.previous_cycle_id.in_([first.cycle.id, second.cycle.id]))
    )
    assert opened.all() == []


# Carrying forward: the rest of the cycle ----------------------------------------------------


def test_the_new_cycle_keeps_the_initiative_the_team_and_the_driver_diagram(ctx):
    w = carry_world(stage=CycleStage.YEARLY_REVIEW)
    staff = StaffFactory()
    made = setup.open_next_cycle(staff, queries.load_cycle(w.cycle.id), TODAY)
    db.session.commit()
    next_year = db.session.get(SchoolYear, made.school_year_id)
    assert (made.school_id, next_year.label, made.stage, made.previous_cycle_id) == (
        w.cycle.school_id,
        "2027-28",
        CycleStage.PLANNING,
        w.cycle.id,
    )
    assert (made.initiative_title, made.equity_challenge_md, made.root_causes_md, made.aim_md) == (
        w.cycle.initiative_title,
        w.cycle.equity_challenge_md,
        w.cycle.root_causes_md,
        w.cycle.aim_md,
    )
    assert w.cycle.stage == CycleStage.YEARLY_REVIEW  # last year's cycle is left as it was
    team = {
        (m.user_id, m.role, m.organisation)
        for m in db.session.scalars(
            sa.select(CycleMembership).where(CycleMembership.cycle_id == made.id)
        )
    }
    assert team == {
        (w.team.lead.id, CycleRole.LEAD_TEACHER, ""),
        (w.team.member.id, CycleRole.TEAM_MEMBER, ""),
        (w.team.partner.id, CycleRole.PARTNER, "Bridges Collaborative"),
        (w.team.liaison.id, CycleRole.STAFF_LIAISON, ""),
    }
    drivers = {
        d.id: d for d in db.session.scalars(sa.select(Driver).where(Driver.cycle_id == made.id))
    }
    assert len(drivers) == 3
    assert not {w.primary.id, w.secondary.id, w.idea.id} & set(drivers)  # new rows
    by_text = {d.text: d for d in drivers.values()}
    primary = by_text["Families know the school"]
    secondary = by_text["Outreach in every neighbourhood"]
    idea = by_text["Open house in Spanish"]
    assert (primary.parent_id, secondary.parent_id, idea.parent_id) == (
        None,
        primary.id,
        secondary.id,
    )
    assert [d.kind for d in (primary, secondary, idea)] == [
        w.primary.kind,
        w.secondary.kind,
        w.idea.kind,
    ]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cycle.opened_next"))
    assert (event.actor_id, event.target_id) == (staff.id, made.id)
    assert event.details == {
        "from_cycle_id": w.cycle.id,
        "school_id": w.cycle.school_id,
        "year": "2027-28",
        "goals": 3,
        "goals_from": "carried",
        "review_id": None,
        "goals_left_out": [],
        "members": 4,
        "members_deactivated": [],
        "drivers": 3,
    }


def test_opening_next_year_is_refused_when_the_school_already_has_that_cycle(ctx):
    w = carry_world()
    existing = CycleFactory(school_id=w.cycle.school_id, school_year_id=year("2027-28").id)
    context = queries.load_cycle(w.cycle.id)
    plan = setup.plan_next_cycle(context, TODAY)
    assert plan.exists is not None
    assert plan.exists.id == existing.id
    assert plan.refusal == f"{context.school.name} already has a cycle for 2027-28."
    before = snapshot()
    with pytest.raises(setup.SetupError) as raised:
        setup.open_next_cycle(StaffFactory(), context, TODAY)
    assert "already has a cycle for 2027-28" in raised.value.message
    db.session.rollback()
    assert snapshot() == before


def test_planning_writes_nothing_and_needs_the_same_queries_for_2_and_20_cycles(ctx, count_queries):
    counts = []
    for size in (2, 20):
        ids = []
        for _n in range(size):
            w = carry_world()
            review = frozen_review(w.cycle.id, date(2027, 5, 21))
            ProposedGoalFactory(review_id=review.id, goal_id=w.measured.id)
            ids.append(w.cycle.id)
        before = snapshot()
        contexts = [queries.load_cycle(cycle_id) for cycle_id in ids]
        sources = [(c.cycle, c.school, c.year) for c in contexts]
        with count_queries() as counter:
            plans = setup.plan_next_cycles(sources, TODAY)
        assert len(plans) == size
        assert all(p.ok for p in plans)
        counts.append(counter.count)
        assert snapshot() == before
    assert counts[0] == counts[1], counts


# Next year for every school ------------------------------------------------------------------


def test_next_year_opens_for_every_active_school_that_can_have_it_in_one_go(ctx):
    ready = [carry_world() for _n in range(3)]
    done_already = carry_world()
    CycleFactory(school_id=done_already.cycle.school_id, school_year_id=year("2027-28").id)
    no_cycle = SchoolFactory(name="A school with no cycle")
    inactive = SchoolFactory(name="Closed school", is_active=False)
    CycleFactory(school_id=inactive.id)
    stuck = carry_world()
    review = frozen_review(stuck.cycle.id, date(2027, 5, 21))
    ProposedGoalFactory(review_id=review.id, title="No baseline")

    preview = setup.plan_next_year("2026-27", TODAY)
    assert {p.cycle.id for p in preview.to_open} == {w.cycle.id for w in ready}
    assert {p.cycle.id for p in preview.skipped} == {done_already.cycle.id, stuck.cycle.id}
    assert [s.id for s in preview.without_cycle] == [no_cycle.id]
    assert inactive.id not in {p.school.id for p in preview.plans}

    before = db.session.scalar(sa.select(sa.func.count(Cycle.id)))
    result = setup.open_next_year(StaffFactory(), "2026-27", TODAY)
    db.session.commit()
    assert len(result.to_open) == 3
    assert db.session.scalar(sa.select(sa.func.count(Cycle.id))) == before + 3
    opened = db.session.scalars(
        sa.select(Cycle.previous_cycle_id).where(Cycle.previous_cycle_id.is_not(None))
    ).all()
    assert set(opened) == {w.cycle.id for w in ready}
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "cycle.opened_next")
        )
        == 3
    )
    # Running it again opens nothing more.
    again = setup.plan_next_year("2026-27", TODAY)
    assert again.to_open == []


def test_a_year_label_that_is_not_one_is_refused(ctx):
    with pytest.raises(setup.SetupError):
        setup.plan_next_year("next year", TODAY)
