"""The review packet: what `assemble_packet` gathers from the cycle, as plain data, and how
many queries the review page needs for it."""

from __future__ import annotations

import json
from datetime import date

import pytest

from fellowship.cycles import review_queries as queries
from fellowship.cycles.models import School
from fellowship.extensions import db
from tests.conftest import sign_in
from tests.cycles.helpers import GoalFactory, MeasurementFactory
from tests.cycles.review_helpers import review_url, world

TODAY = date(2027, 2, 1)


def test_the_packet_holds_the_school_the_initiative_and_each_goal_with_its_trend(ctx):
    w = world()
    packet = queries.assemble_packet(w.cycle.id, TODAY)
    json.dumps(packet)  # plain data only: strings, numbers, ISO dates, lists, dicts
    school = packet["school"]
    stored = db.session.get(School, w.cycle.school_id)
    assert (school["name"], school["code"]) == (stored.name, stored.code)
    assert school["magnet"] is True
    assert school["pilot"] is False
    assert school["theme"] == "STEM"
    assert packet["year"]["label"] == "2026-27"
    assert packet["initiative"]["title"] == "Every family chooses us"
    assert packet["initiative"]["challenge_md"].startswith("Our enrollment is 82%")
    assert packet["initiative"]["aim_md"].startswith("By June 2027")
    first, second = packet["goals"]
    assert first["title"] == "Goal number 1"
    assert first["baseline"] == {"value": 18.0, "on": "2026-08-15"}
    assert first["target"] == 30.0
    assert first["direction"] == "raise"
    assert first["latest"] == {"value": 24.0, "on": "2027-01-15"}
    assert first["change"] == 6.0
    assert first["trend"] == "improving"
    assert first["status"] == "at_risk"
    assert first["override"] == {"status": "at_risk", "reason": "The spring count is not in yet."}
    assert first["computed"] in {"on_track", "at_risk", "off_track"}
    assert first["measurements"] == [
        {"on": "2026-10-01", "value": 21.0},
        {"on": "2027-01-15", "value": 24.0},
    ]
    assert second["override"] is None
    assert second["status"] == second["computed"]
    assert packet["integration"] is None


def test_the_packet_totals_support_by_kind_and_by_partner(ctx):
    w = world()
    support = queries.assemble_packet(w.cycle.id, TODAY)["support"]
    assert support["total_hours"] == 6.5
    assert support["activities"] == 3
    hours = {row["kind"]: row["hours"] for row in support["by_kind"]}
    assert hours == {
        "technical_assistance": 4.5,
        "professional_development": 0.0,
        "coaching": 2.0,
    }
    assert support["by_partner"] == [
        {"name": w.partner.name, "organisation": "Bridges Collaborative", "hours": 5.5},
        {"name": "", "organisation": "District office", "hours": 1.0},
    ]


def test_the_packet_lists_pdsa_decisions_and_engagement(ctx):
    w = world()
    packet = queries.assemble_packet(w.cycle.id, TODAY)
    [test] = packet["tests"]
    assert test["title"] == "Library open house"
    assert test["change_idea"] == "Open houses in Spanish"
    assert test["decision"] == "adapt"
    assert (test["started_on"], test["ended_on"]) == ("2026-10-01", "2026-11-01")
    [session] = packet["engagement"]
    assert session == {
        "held_on": "2026-11-05",
        "group": "families",
        "participants": 24,
        "heard_md": "Families want bus routes that reach the east side.",
        "changed_md": "We asked the district for a second stop.",
    }


@pytest.mark.parametrize(
    ("direction", "baseline", "latest", "target", "word"),
    [
        ("raise", 18, 24, 30, "improving"),
        ("raise", 18, 12, 30, "worsening"),
        ("lower", 20, 12, 5, "improving"),
        ("lower", 20, 25, 5, "worsening"),
        ("hold", 50, 51, 50, "worsening"),
        ("hold", 40, 48, 50, "improving"),
        ("raise", 18, 18, 30, "steady"),
        ("raise", 18, None, 30, None),
    ],
)
def test_the_trend_word_reads_the_change_in_the_goals_direction(
    direction, baseline, latest, target, word
):
    assert queries.trend_word(direction, baseline, latest, target) == word


def test_the_review_page_reads_the_same_number_of_queries_for_2_and_15_goals(
    app, client, count_queries
):
    counts = {}
    for size in (2, 15):
        w = world(goals=size)
        for goal in w.goals:
            MeasurementFactory(goal_id=goal.id, measured_on=date(2027, 3, 1), value=26)
        sign_in(client, w.lead)
        client.get(review_url(w.review))  # warm up (session, caches)
        with count_queries() as counter:
            response = client.get(review_url(w.review))
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('class="review-goal"') == size
        counts[size] = counter.count
    assert counts[2] == counts[15]
    assert counts[15] <= 15


def test_goals_without_measurements_have_no_latest_value_change_or_trend(ctx):
    w = world(goals=0)
    GoalFactory(cycle_id=w.cycle.id, title="Not measured")
    [goal] = queries.assemble_packet(w.cycle.id, TODAY)["goals"]
    assert goal["latest"] is None
    assert goal["change"] is None
    assert goal["trend"] is None
    assert goal["status"] == "no_data"
    assert goal["measurements"] == []
