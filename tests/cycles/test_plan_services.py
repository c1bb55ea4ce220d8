"""The plan's rules: stage moves, which driver may sit under which, moving and deleting
drivers, the initiative's optimistic lock, improvement tests and engagement sessions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fellowship.cycles import plan_queries
from fellowship.cycles import plan_services as plan
from fellowship.cycles.models import (
    Cycle,
    CycleStage,
    Driver,
    DriverKind,
    EngagementGroup,
    EngagementSession,
    ImprovementTest,
    PdsaDecision,
)
from fellowship.extensions import db
from tests.conftest import rows_for_module
from tests.cycles.helpers import (
    CycleFactory,
    DriverFactory,
    EngagementFactory,
    ImprovementTestFactory,
    SupportFactory,
    cycle_with_team,
)
from tests.cycles.plan_helpers import actions, diagram, siblings
from tests.factories import StaffFactory

shared_team = rows_for_module(cycle_with_team)


@pytest.fixture
def team(shared_team, request):
    """What most tests here start from, built once for the module."""
    return shared_team.thaw_for(request)


TODAY = date(2026, 11, 20)

pytestmark = pytest.mark.usefixtures("ctx")


# The stage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "direction", "result"),
    [
        (CycleStage.PLANNING, "forward", CycleStage.IMPLEMENTING),
        (CycleStage.IMPLEMENTING, "forward", CycleStage.YEARLY_REVIEW),
        (CycleStage.YEARLY_REVIEW, "forward", CycleStage.CLOSED),
        (CycleStage.CLOSED, "forward", "The cycle is closed: there is no later stage."),
        (CycleStage.CLOSED, "back", CycleStage.YEARLY_REVIEW),
        (CycleStage.YEARLY_REVIEW, "back", CycleStage.IMPLEMENTING),
        (CycleStage.IMPLEMENTING, "back", CycleStage.PLANNING),
        (CycleStage.PLANNING, "back", "The cycle is in planning: there is no earlier stage."),
        (CycleStage.IMPLEMENTING, "sideways", "Choose to move the cycle forward or back."),
        (CycleStage.IMPLEMENTING, "", "Choose to move the cycle forward or back."),
    ],
)
def test_the_stage_moves_one_step_and_never_past_either_end(start, direction, result):
    cycle = CycleFactory(stage=start)
    staff = StaffFactory()
    version = cycle.version
    if isinstance(result, CycleStage):
        assert plan.change_stage(staff, cycle, direction, seen=start) == result
        db.session.expire_all()
        assert db.session.get(Cycle, cycle.id).stage == result
        assert actions()[-1] == "cycle.stage_changed"
        # Moving the stage never makes somebody's open initiative form stale.
        assert db.session.get(Cycle, cycle.id).version == version
    else:
        with pytest.raises(plan.PlanError) as refused:
            plan.change_stage(staff, cycle, direction, seen=start)
        assert refused.value.message == result
        db.session.rollback()
        assert db.session.get(Cycle, cycle.id).stage == start
        assert "cycle.stage_changed" not in actions()


def test_a_stage_move_made_on_a_page_that_showed_an_older_stage_is_refused():
    cycle = CycleFactory(stage=CycleStage.IMPLEMENTING)
    with pytest.raises(plan.PlanError, match="moved this cycle to another stage"):
        plan.change_stage(StaffFactory(), cycle, "forward", seen=CycleStage.PLANNING)
    assert cycle.stage == CycleStage.IMPLEMENTING


def test_the_stage_move_records_where_from_and_where_to():
    cycle = CycleFactory(stage=CycleStage.YEARLY_REVIEW)
    plan.change_stage(StaffFactory(), cycle, "forward")
    db.session.flush()
    from fellowship.audit import AuditEvent

    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "cycle.stage_changed"
    assert event.target_id == cycle.id
    assert event.details == {"from": "yearly_review", "to": "closed", "direction": "forward"}


# Driver kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parent_kind", "kind", "allowed"),
    [
        (None, DriverKind.PRIMARY, True),
        (None, DriverKind.SECONDARY, False),
        (None, DriverKind.CHANGE_IDEA, False),
        (None, None, True),  # the place decides: a primary driver
        (DriverKind.PRIMARY, DriverKind.PRIMARY, False),
        (DriverKind.PRIMARY, DriverKind.SECONDARY, True),
        (DriverKind.PRIMARY, DriverKind.CHANGE_IDEA, True),
        (DriverKind.PRIMARY, None, False),  # two kinds fit: the person must choose
        (DriverKind.SECONDARY, DriverKind.PRIMARY, False),
        (DriverKind.SECONDARY, DriverKind.SECONDARY, False),
        (DriverKind.SECONDARY, DriverKind.CHANGE_IDEA, True),
        (DriverKind.SECONDARY, None, True),  # only a change idea fits
        (DriverKind.CHANGE_IDEA, DriverKind.CHANGE_IDEA, False),
        (DriverKind.CHANGE_IDEA, None, False),
    ],
)
def test_a_drivers_kind_is_decided_by_where_it_sits(team, parent_kind, kind, allowed):
    cycle = team.cycle
    parent = None
    if parent_kind == DriverKind.PRIMARY:
        parent = DriverFactory(cycle_id=cycle.id, kind=DriverKind.PRIMARY)
    elif parent_kind == DriverKind.SECONDARY:
        top = DriverFactory(cycle_id=cycle.id, kind=DriverKind.PRIMARY)
        parent = DriverFactory(cycle_id=cycle.id, parent_id=top.id, kind=DriverKind.SECONDARY)
    elif parent_kind == DriverKind.CHANGE_IDEA:
        parent = DriverFactory(cycle_id=cycle.id, kind=DriverKind.CHANGE_IDEA)
    before = db.session.scalar(sa.select(sa.func.count(Driver.id)))
    data = plan.DriverData(text="  Families   hear about us\nfrom families  ", kind=kind)
    if allowed:
        driver = plan.add_driver(team.lead, cycle, parent, data)
        expected = kind or plan.child_kinds(parent)[0]
        assert driver.kind == expected
        assert driver.parent_id == (parent.id if parent else None)
        assert driver.text == "Families hear about us from families"
        assert actions()[-1] == "cycle.driver_added"
    else:
        with pytest.raises(plan.PlanError):
            plan.add_driver(team.lead, cycle, parent, data)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Driver.id))) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write the driver."),
        ("   \n ", "Write the driver."),
        ("x" * 501, "Keep the driver to 500 characters or fewer."),
    ],
)
def test_a_driver_needs_one_to_500_characters(team, text, message):
    with pytest.raises(plan.PlanError) as refused:
        plan.add_driver(team.lead, team.cycle, None, plan.DriverData(text=text))
    assert (refused.value.field, refused.value.message) == ("text", message)


def test_a_driver_of_500_characters_is_kept_whole(team):
    driver = plan.add_driver(team.lead, team.cycle, None, plan.DriverData(text="y" * 500))
    assert driver.text == "y" * 500


def test_a_parent_from_another_cycle_is_refused(team):
    foreign = DriverFactory(cycle_id=CycleFactory().id, kind=DriverKind.PRIMARY)
    with pytest.raises(plan.PlanError):
        plan.add_driver(
            team.lead,
            team.cycle,
            foreign,
            plan.DriverData(text="Sneaky", kind=DriverKind.SECONDARY),
        )


def test_new_drivers_go_at_the_end_of_their_siblings(team):
    made = diagram(team.cycle, primaries=2, secondaries=2, ideas=0)
    plan.add_driver(team.lead, team.cycle, None, plan.DriverData(text="Third"))
    plan.add_driver(
        team.lead,
        team.cycle,
        made.primaries[0],
        plan.DriverData(text="Idea straight under", kind=DriverKind.CHANGE_IDEA),
    )
    assert siblings(team.cycle.id, None) == [(0, "Primary 1"), (1, "Primary 2"), (2, "Third")]
    assert siblings(team.cycle.id, made.primaries[0].id) == [
        (0, "Secondary 1.1"),
        (1, "Secondary 1.2"),
        (2, "Idea straight under"),
    ]


# Moving drivers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "direction", "moved", "order"),
    [
        (0, "up", False, ["A", "B", "C"]),
        (0, "down", True, ["B", "A", "C"]),
        (1, "up", True, ["B", "A", "C"]),
        (1, "down", True, ["A", "C", "B"]),
        (2, "up", True, ["A", "C", "B"]),
        (2, "down", False, ["A", "B", "C"]),
        (1, "left", False, ["A", "B", "C"]),
    ],
)
def test_a_driver_moves_among_its_siblings_and_not_past_the_ends(
    team, index, direction, moved, order
):
    top = DriverFactory(cycle_id=team.cycle.id, kind=DriverKind.PRIMARY, text="Top")
    made = [
        DriverFactory(
            cycle_id=team.cycle.id,
            parent_id=top.id,
            kind=DriverKind.SECONDARY,
            text=text,
            position=position,
        )
        for position, text in enumerate("ABC")
    ]
    # Another branch's drivers never take part.
    other = DriverFactory(cycle_id=team.cycle.id, kind=DriverKind.PRIMARY, text="Other")
    DriverFactory(cycle_id=team.cycle.id, parent_id=other.id, kind=DriverKind.SECONDARY)
    events = len(actions())
    assert plan.move_driver(team.lead, made[index], direction) is moved
    assert [text for _, text in siblings(team.cycle.id, top.id)] == order
    assert [position for position, _ in siblings(team.cycle.id, top.id)] == [0, 1, 2]
    assert len(actions()) == events + (1 if moved else 0)


def test_moving_a_primary_driver_keeps_its_subtree_with_it(team):
    made = diagram(team.cycle, primaries=2, secondaries=1, ideas=1)
    plan.move_driver(team.lead, made.primaries[1], "up")
    assert [text for _, text in siblings(team.cycle.id, None)] == ["Primary 2", "Primary 1"]
    assert siblings(team.cycle.id, made.primaries[1].id) == [(0, "Secondary 2.1")]


# Deleting drivers -----------------------------------------------------------------------------


def test_deleting_a_primary_driver_deletes_its_subtree_and_keeps_the_tests_unlinked(team):
    made = diagram(team.cycle, primaries=3, secondaries=2, ideas=2)
    doomed = made.primaries[1]
    idea = next(i for i in made.ideas if i.text == "Idea 2.1.1")
    kept_idea = next(i for i in made.ideas if i.text == "Idea 1.1.1")
    linked = ImprovementTestFactory(cycle_id=team.cycle.id, driver_id=idea.id, title="Linked")
    other = ImprovementTestFactory(cycle_id=team.cycle.id, driver_id=kept_idea.id)
    summary = plan_queries.delete_summary(doomed)
    assert (summary.below, summary.tests) == (6, 1)

    result = plan.delete_driver(team.lead, doomed)

    assert (result.drivers, result.unlinked_tests) == (7, 1)
    db.session.expire_all()
    remaining = {d.text for d in plan_queries.drivers_of(team.cycle.id)}
    assert not any(text.startswith(("Primary 2", "Secondary 2.", "Idea 2.")) for text in remaining)
    assert len(remaining) == 14
    assert siblings(team.cycle.id, None) == [(0, "Primary 1"), (1, "Primary 3")]
    assert db.session.get(ImprovementTest, linked.id).driver_id is None
    assert db.session.get(ImprovementTest, other.id).driver_id == kept_idea.id
    assert actions()[-1] == "cycle.driver_deleted"


def test_deleting_a_change_idea_deletes_only_it(team):
    made = diagram(team.cycle, primaries=1, secondaries=1, ideas=3)
    plan.delete_driver(team.lead, made.ideas[0])
    assert siblings(team.cycle.id, made.secondaries[0].id) == [(0, "Idea 1.1.2"), (1, "Idea 1.1.3")]


def test_deleting_a_driver_leaves_other_cycles_alone(team):
    made = diagram(team.cycle, primaries=1, secondaries=1, ideas=1)
    other = CycleFactory()
    theirs = diagram(other, primaries=1, secondaries=1, ideas=1)
    plan.delete_driver(team.lead, made.primaries[0])
    assert len(plan_queries.drivers_of(other.id)) == 3
    assert theirs.ideas[0].id in {d.id for d in plan_queries.drivers_of(other.id)}


# The tree ---------------------------------------------------------------------------------------


def test_the_tree_hangs_each_change_ideas_tests_under_it(team):
    made = diagram(team.cycle, primaries=2, secondaries=1, ideas=2)
    test = ImprovementTestFactory(cycle_id=team.cycle.id, driver_id=made.ideas[3].id)
    tree = plan_queries.driver_tree(
        plan_queries.drivers_of(team.cycle.id), plan_queries.tests_of(team.cycle.id)
    )
    assert [node.text for node in tree] == ["Primary 1", "Primary 2"]
    assert [child.text for child in tree[1].children[0].children] == ["Idea 2.1.1", "Idea 2.1.2"]
    assert tree[1].children[0].children[1].tests == [test]
    assert sum(node.count() for node in tree) == 8
    assert [text for _, text in plan_queries.change_ideas(team.cycle.id)] == [
        "Idea 1.1.1",
        "Idea 1.1.2",
        "Idea 2.1.1",
        "Idea 2.1.2",
    ]


def test_at_a_glance_counts_open_tests_sessions_and_support_hours_of_this_cycle_only(team):
    other = CycleFactory()
    ImprovementTestFactory(cycle_id=team.cycle.id)
    ImprovementTestFactory(cycle_id=team.cycle.id, decision=PdsaDecision.ADOPT)
    ImprovementTestFactory(cycle_id=other.id)
    EngagementFactory(cycle_id=team.cycle.id)
    EngagementFactory(cycle_id=team.cycle.id)
    EngagementFactory(cycle_id=other.id)
    SupportFactory(cycle_id=team.cycle.id, hours=2.5)
    SupportFactory(cycle_id=team.cycle.id, hours=1.25)
    SupportFactory(cycle_id=other.id, hours=40)
    glance = plan_queries.glance(team.cycle.id)
    assert (glance.open_tests, glance.sessions, glance.support_hours) == (1, 2, 3.75)
    empty = plan_queries.glance(CycleFactory().id)
    assert (empty.open_tests, empty.sessions, empty.support_hours) == (0, 0, 0.0)


# The initiative -------------------------------------------------------------------------------


def _initiative(**changes: str) -> plan.InitiativeData:
    values = {
        "title": "Every family chooses us",
        "equity_challenge_md": "82% of our families are one group.",
        "root_causes_md": "Recruitment reaches the same streets.",
        "aim_md": "By June 2027 no group is more than half of kindergarten.",
    }
    values.update(changes)
    return plan.InitiativeData(**values)


def test_the_initiative_is_saved_and_audited_with_the_fields_that_changed(team):
    version = team.cycle.version
    plan.update_initiative(
        team.member, team.cycle, _initiative(aim_md="  New aim  "), version=version
    )
    db.session.commit()
    cycle = db.session.get(Cycle, team.cycle.id)
    assert cycle.aim_md == "New aim"
    assert cycle.version == version + 1
    from fellowship.audit import AuditEvent

    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "cycle.initiative_updated"
    assert "aim" in event.details["changed"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "t" * 201}, "title"),
        ({"equity_challenge_md": "e" * 20_001}, "equity_challenge"),
        ({"root_causes_md": "r" * 20_001}, "root_causes"),
        ({"aim_md": "a" * 20_001}, "aim"),
    ],
)
def test_over_long_initiative_text_is_refused_next_to_its_field(team, changes, field):
    with pytest.raises(plan.PlanError) as refused:
        plan.update_initiative(
            team.lead, team.cycle, _initiative(**changes), version=team.cycle.version
        )
    assert refused.value.field == field


def test_an_initiative_form_opened_before_someone_else_saved_is_stale(team):
    old = team.cycle.version
    plan.update_initiative(team.lead, team.cycle, _initiative(title="First"), version=old)
    db.session.commit()
    with pytest.raises(plan.StaleEdit, match="Someone changed this initiative"):
        plan.update_initiative(team.member, team.cycle, _initiative(title="Second"), version=old)
    db.session.rollback()
    assert db.session.get(Cycle, team.cycle.id).initiative_title == "First"


# Improvement tests ----------------------------------------------------------------------------


def _pdsa(**changes: object) -> plan.PdsaData:
    values: dict[str, object] = {
        "title": "Open house in Spanish",
        "started_on": date(2026, 10, 1),
        "plan_md": "One open house at the library.",
        "prediction_md": "Twenty families come.",
    }
    values.update(changes)
    return plan.PdsaData(**values)


def test_an_improvement_test_links_to_a_change_idea_of_its_own_cycle(team):
    made = diagram(team.cycle, primaries=1, secondaries=1, ideas=1)
    test = plan.create_test(team.member, team.cycle, _pdsa(driver_id=made.ideas[0].id), TODAY)
    assert test.driver_id == made.ideas[0].id
    assert test.created_by_id == team.member.id
    assert actions()[-1] == "cycle.pdsa_created"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "Enter a title for the test."),
        ({"title": "t" * 201}, "title", "200 characters"),
        ({"driver_id": "secondary"}, "driver", "change ideas"),
        ({"driver_id": "other cycle"}, "driver", "change ideas"),
        ({"driver_id": 2_000_000_000}, "driver", "change ideas"),
        (
            {"started_on": date(2026, 10, 10), "ended_on": date(2026, 10, 9)},
            "ended_on",
            "cannot be before the start date",
        ),
        ({"ended_on": date(2026, 11, 1)}, "decision", "The test has ended"),
        ({"ended_on": TODAY}, "decision", "The test has ended"),
        ({"started_on": date(1949, 12, 31)}, "started_on", "between 1950 and 2200"),
        ({"plan_md": "p" * 20_001}, "plan", "20,000"),
        ({"study_md": "s" * 20_001}, "study", "20,000"),
    ],
)
def test_bad_improvement_tests_are_refused_next_to_the_field(team, changes, field, message):
    made = diagram(team.cycle, primaries=1, secondaries=1, ideas=1)
    foreign = DriverFactory(cycle_id=CycleFactory().id, kind=DriverKind.CHANGE_IDEA)
    if changes.get("driver_id") == "secondary":
        changes = {"driver_id": made.secondaries[0].id}
    elif changes.get("driver_id") == "other cycle":
        changes = {"driver_id": foreign.id}
    with pytest.raises(plan.PlanError) as refused:
        plan.create_test(team.lead, team.cycle, _pdsa(**changes), TODAY)
    assert refused.value.field == field
    assert message in refused.value.message
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(ImprovementTest.id))) == 0


@pytest.mark.parametrize(
    ("ended_on", "decision"),
    [
        (None, None),  # still running
        (TODAY + timedelta(days=1), None),  # ends tomorrow: not finished yet
        (TODAY, PdsaDecision.ADOPT),
        (date(2026, 11, 1), PdsaDecision.ABANDON),
        (None, PdsaDecision.ADAPT),
    ],
)
def test_a_decision_is_optional_until_the_test_has_ended(team, ended_on, decision):
    test = plan.create_test(
        team.lead, team.cycle, _pdsa(ended_on=ended_on, decision=decision), TODAY
    )
    assert (test.ended_on, test.decision) == (ended_on, decision)


def test_an_improvement_test_edited_on_a_stale_form_is_refused(team):
    test = ImprovementTestFactory(cycle_id=team.cycle.id, title="Before")
    old = test.version
    plan.update_test(team.lead, team.cycle, test, _pdsa(title="First"), TODAY, version=old)
    db.session.commit()
    with pytest.raises(plan.StaleEdit, match="Someone changed this improvement test"):
        plan.update_test(team.member, team.cycle, test, _pdsa(title="Second"), TODAY, version=old)
    db.session.rollback()
    assert db.session.get(ImprovementTest, test.id).title == "First"
    assert actions()[-1] == "cycle.pdsa_updated"


# Engagement -------------------------------------------------------------------------------------


def _session(**changes: object) -> plan.EngagementData:
    values: dict[str, object] = {
        "held_on": date(2026, 11, 5),
        "group": EngagementGroup.FAMILIES,
        "participants": 24,
        "heard_md": "Bus routes do not reach the east side.",
        "changed_md": "",
    }
    values.update(changes)
    return plan.EngagementData(**values)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"held_on": None}, "held_on"),
        ({"held_on": TODAY + timedelta(days=2)}, "held_on"),
        ({"held_on": date(1949, 12, 31)}, "held_on"),
        ({"held_on": date(2201, 1, 1)}, "held_on"),
        ({"group": None}, "group"),
        ({"group": "parents"}, "group"),
        ({"participants": None}, "participants"),
        ({"participants": -1}, "participants"),
        ({"participants": 100_001}, "participants"),
        ({"participants": 2.5}, "participants"),
        ({"participants": True}, "participants"),
        ({"heard_md": "  "}, "heard"),
        ({"heard_md": "h" * 20_001}, "heard"),
        ({"changed_md": "c" * 20_001}, "changed"),
    ],
)
def test_bad_engagement_sessions_are_refused_next_to_the_field(team, changes, field):
    with pytest.raises(plan.PlanError) as refused:
        plan.log_engagement(team.member, team.cycle, _session(**changes), TODAY)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(EngagementSession.id))) == 0


@pytest.mark.parametrize(
    ("held_on", "participants"),
    [(TODAY + timedelta(days=1), 0), (TODAY, 100_000), (date(1950, 1, 1), 1)],
)
def test_engagement_sessions_at_the_edges_are_logged(team, held_on, participants):
    session = plan.log_engagement(
        team.member, team.cycle, _session(held_on=held_on, participants=participants), TODAY
    )
    assert (session.held_on, session.participants) == (held_on, participants)
    assert session.recorded_by_id == team.member.id
    assert actions()[-1] == "cycle.engagement_logged"


def test_an_engagement_session_is_edited_and_deleted_with_an_audit_trail(team):
    session = EngagementFactory(cycle_id=team.cycle.id)
    plan.update_engagement(team.lead, session, _session(participants=30), TODAY)
    assert session.participants == 30
    plan.delete_engagement(team.lead, session)
    assert db.session.get(EngagementSession, session.id) is None
    assert actions()[-2:] == ["cycle.engagement_updated", "cycle.engagement_deleted"]


def test_engagement_totals_name_every_group_with_zeros(team):
    EngagementFactory(cycle_id=team.cycle.id, group=EngagementGroup.FAMILIES, participants=20)
    EngagementFactory(cycle_id=team.cycle.id, group=EngagementGroup.FAMILIES, participants=5)
    EngagementFactory(cycle_id=team.cycle.id, group=EngagementGroup.STUDENTS, participants=12)
    EngagementFactory(cycle_id=CycleFactory().id, group=EngagementGroup.STAFF, participants=9)
    totals = {
        t.group: (t.sessions, t.participants) for t in plan_queries.engagement_totals(team.cycle.id)
    }
    assert totals == {
        EngagementGroup.ADVISORY_COUNCIL: (0, 0),
        EngagementGroup.FAMILIES: (2, 25),
        EngagementGroup.STUDENTS: (1, 12),
        EngagementGroup.STAFF: (0, 0),
        EngagementGroup.COMMUNITY: (0, 0),
    }
