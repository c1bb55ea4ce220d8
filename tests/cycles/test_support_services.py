"""Support log rules as tables: hours, participants, dates and text; the linked goal must be
one of this cycle's; changes and removals are audited; CSV cells are safe in spreadsheets."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cycles import support_queries
from fellowship.cycles import support_services as rules
from fellowship.cycles.models import SupportActivity, SupportKind
from fellowship.extensions import db
from tests.cycles.goal_helpers import snapshot, world
from tests.cycles.helpers import GoalFactory

TODAY = date(2026, 11, 29)


def entry(**overrides) -> rules.SupportData:
    fields = {
        "kind": "coaching",
        "held_on": date(2026, 10, 20),
        "hours": 1.5,
        "participants": 8,
        "topic": "Planning the open house",
        "provider_name": "Bridges Collaborative",
        "goal_id": None,
        "notes": "",
    }
    fields.update(overrides)
    return rules.SupportData(**fields)


@pytest.mark.parametrize(
    ("hours", "allowed"),
    [
        (0.25, True),
        (0.5, True),
        (1.75, True),
        (24, True),
        (0.01, True),
        (0, False),
        (-1, False),
        (-0.25, False),
        (24.25, False),
        (100, False),
        (math.nan, False),
        (math.inf, False),
        (1e13, False),
        (None, False),
    ],
)
def test_hours_are_more_than_zero_and_at_most_24(ctx, hours, allowed):
    w = world()
    if allowed:
        activity = rules.log_support(w.team.partner, w.cycle, entry(hours=hours), today=TODAY)
        assert activity.hours == hours
        return
    before = snapshot()
    with pytest.raises(rules.SupportError) as refused:
        rules.log_support(w.team.partner, w.cycle, entry(hours=hours), today=TODAY)
    assert refused.value.field == "hours"
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "mentoring"}, "kind"),
        ({"kind": None}, "kind"),
        ({"held_on": None}, "held_on"),
        ({"held_on": date(1949, 12, 31)}, "held_on"),
        ({"held_on": TODAY + timedelta(days=2)}, "held_on"),
        ({"participants": -1}, "participants"),
        ({"participants": 10_001}, "participants"),
        ({"topic": "   "}, "topic"),
        ({"topic": "t" * 301}, "topic"),
        ({"provider_name": "o" * 201}, "provider_name"),
        ({"notes": "n" * 5001}, "notes"),
        ({"goal_id": 99_999_999}, "goal"),
    ],
)
def test_a_bad_entry_is_refused_next_to_its_field_and_nothing_is_saved(ctx, changes, field):
    w = world()
    before = snapshot()
    with pytest.raises(rules.SupportError) as refused:
        rules.log_support(w.team.partner, w.cycle, entry(**changes), today=TODAY)
    assert refused.value.field == field
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"participants": 0}, {"participants": 0}),
        ({"participants": 10_000}, {"participants": 10_000}),
        ({"participants": None}, {"participants": 0}),
        ({"held_on": TODAY + timedelta(days=1)}, {"held_on": TODAY + timedelta(days=1)}),
        ({"held_on": date(1950, 1, 1)}, {"held_on": date(1950, 1, 1)}),
        ({"topic": "  Data  "}, {"topic": "Data"}),
        ({"provider_name": ""}, {"provider_name": ""}),
    ],
)
def test_the_edges_of_an_entry_are_accepted(ctx, changes, expected):
    w = world()
    activity = rules.log_support(w.team.partner, w.cycle, entry(**changes), today=TODAY)
    for name, value in expected.items():
        assert getattr(activity, name) == value


def test_a_goal_of_another_cycle_cannot_be_linked(ctx):
    w = world()
    foreign = GoalFactory(cycle_id=w.other_cycle.id)
    before = snapshot()
    with pytest.raises(rules.SupportError) as refused:
        rules.log_support(w.team.partner, w.cycle, entry(goal_id=foreign.id), today=TODAY)
    assert (refused.value.field, refused.value.message) == (
        "goal",
        "Choose one of this cycle’s goals, or none.",
    )
    db.session.rollback()
    assert snapshot() == before
    activity = rules.log_support(w.team.partner, w.cycle, entry(goal_id=w.goal.id), today=TODAY)
    with pytest.raises(rules.SupportError):
        rules.update_support(
            w.team.partner, w.cycle, activity, entry(goal_id=foreign.id), today=TODAY
        )


def test_an_entry_is_given_by_whoever_logs_it_and_every_change_is_audited(ctx):
    w = world()
    activity = rules.log_support(w.team.partner, w.cycle, entry(goal_id=w.goal.id), today=TODAY)
    assert (activity.provider_id, activity.recorded_by_id) == (w.team.partner.id, w.team.partner.id)
    assert activity.kind == SupportKind.COACHING
    rules.update_support(w.staff, w.cycle, activity, entry(hours=2.0), today=TODAY)
    assert activity.provider_id == w.team.partner.id  # the provider stays
    assert activity.goal_id is None
    rules.delete_support(w.staff, activity)
    assert db.session.scalar(sa.select(sa.func.count(SupportActivity.id))) == 0
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events[-3:]] == [
        "cycle.support_logged",
        "cycle.support_updated",
        "cycle.support_deleted",
    ]
    assert events[-2].details["changes"] == {"hours": [1.5, 2.0], "goal_id": [w.goal.id, None]}


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("https://evil.example")', '\'=HYPERLINK("https://evil.example")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Plain topic", "Plain topic"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (2.5, "2.5"),
        (2.0, "2"),
        (0.333333, "0.33"),
        (8, "8"),
        (date(2026, 10, 20), "2026-10-20"),
        (SupportKind.COACHING, "coaching"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe(value, cell):
    assert support_queries.csv_cell(value) == cell
