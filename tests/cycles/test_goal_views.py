"""Goal screens: the goals tab, a goal's page, adding, changing and removing goals, a status
set by hand, and measurements; who may use each; bad input, stale forms, query counts."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fellowship.cycles.models import CycleStage, Goal, GoalStatus, Measurement
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import csrf_token, main_of, rows_for_module, sign_in
from tests.cycles.goal_helpers import (
    PEOPLE,
    audit_actions,
    goal_form,
    snapshot,
    text_of,
    world,
)
from tests.cycles.helpers import GoalFactory, MeasurementFactory

shared_world = rows_for_module(world)


@pytest.fixture
def w(shared_world, request):
    """The world most tests here read, built once for the module."""
    return shared_world.thaw_for(request)


READERS = {"lead teacher", "team member", "partner", "staff liaison", "staff", "admin"}
GOAL_EDITORS = {"lead teacher", "staff liaison", "staff", "admin"}
RECORDERS = {"lead teacher", "team member", "staff liaison", "staff", "admin"}


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def exists(model, row_id: int) -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count()).where(model.id == row_id)))


def goals_path(w) -> str:
    return f"/cycles/{w.cycle.id}/goals"


def goal_path(w, goal=None) -> str:
    return f"/cycles/{w.cycle.id}/goals/{(goal or w.goal).id}"


# The goals tab ----------------------------------------------------------------------------------


def test_the_goals_tab_shows_every_goal_with_its_facts_status_and_chart(client):
    w = world(title="More families from the east side", baseline_value=18.5)
    MeasurementFactory(goal_id=w.goal.id, measured_on=date(2026, 10, 1), value=21)
    MeasurementFactory(goal_id=w.goal.id, measured_on=date(2026, 11, 2), value=24.25)
    second = GoalFactory(
        cycle_id=w.cycle.id,
        title="Fewer days missed",
        category="climate",
        unit="days",
        baseline_value=12,
        target_value=8,
        direction="lower",
        due_on=None,
    )
    sign_in(client, w.team.lead)
    html = page(client, goals_path(w))
    text = text_of(html)
    assert html.count("<h1") == 1
    assert "<title>Goals — " in html
    assert 'aria-current="page"' in html
    assert "More families from the east side" in text
    assert "Enrollment diversity" in text
    assert "Share of applicants from outside the attendance zone" in text
    assert "18.5% on Aug 15, 2026" in text
    assert "30% (raise)" in text
    assert "Jun 1, 2027" in text
    assert "24.25% on Nov 2, 2026" in text
    assert "Fewer days missed" in text
    assert "12 days" in text
    assert "8 days (lower)" in text
    assert "End of the school year" in text
    assert "No measurement yet" in text
    # a chart each, with the data in a table
    assert html.count('class="goal-chart goal-chart--compact" viewBox') == 2
    assert "The chart’s data: 2 measurements" in text
    assert "<caption" in html
    # counts by status, the rule, and the link to record a measurement
    assert "How the status is worked out" in html
    assert f'href="/cycles/{w.cycle.id}/goals/{w.goal.id}/measurements/new"' in html
    assert f'href="/cycles/{w.cycle.id}/goals/{second.id}/measurements/new"' in html
    assert f'href="/cycles/{w.cycle.id}/goals/new"' in html


def test_the_goals_tab_counts_goals_by_status_and_flags_stale_ones(client):
    w = world()  # no measurement: no data, stale
    met = GoalFactory(cycle_id=w.cycle.id, title="Met goal")
    MeasurementFactory(goal_id=met.id, measured_on=utcnow().date(), value=31)
    old = GoalFactory(cycle_id=w.cycle.id, title="Old goal")
    MeasurementFactory(goal_id=old.id, measured_on=utcnow().date() - timedelta(days=62), value=40)
    sign_in(client, w.team.member)
    html = page(client, goals_path(w))
    counts = re.search(r'<ul class="goal-counts".*?</ul>', html, re.S).group(0)
    assert re.findall(r">([A-Za-z ]+)</span> <strong>(\d+)</strong>", counts) == [
        ("Met", "2"),
        ("On track", "0"),
        ("At risk", "0"),
        ("Off track", "0"),
        ("No data", "1"),
    ]
    cards = {
        goal_id: chunk
        for goal_id, chunk in re.findall(
            r'<article class="goal-card" id="goal-(\d+)"(.*?)</article>', html, re.S
        )
    }
    assert "Needs a measurement" in cards[str(w.goal.id)]
    assert "No measurement has been recorded yet." in cards[str(w.goal.id)]
    assert "Needs a measurement" not in cards[str(met.id)]
    assert "No measurement in the last 60 days." in cards[str(old.id)]


def test_a_status_set_by_hand_says_so_with_its_reason(w, client):
    w.goal.status_override = GoalStatus.AT_RISK
    w.goal.override_reason = "The spring lottery moved to May."
    db.session.commit()
    sign_in(client, w.team.partner)
    text = text_of(page(client, goals_path(w)))
    assert "At risk set by hand" in text
    assert "Set by hand (the rule gives “No data”): The spring lottery moved to May." in text


@pytest.mark.parametrize("who", PEOPLE)
def test_who_may_see_the_goals_tab_and_a_goal(w, client, who):
    sign_in(client, w.person(who))
    expected = 200 if who in READERS else 403
    assert client.get(goals_path(w)).status_code == expected
    assert client.get(goal_path(w)).status_code == expected


@pytest.mark.parametrize("who", sorted(READERS))
def test_the_buttons_match_what_each_reader_may_do(w, client, who):
    sign_in(client, w.person(who))
    html = page(client, goals_path(w))
    assert (f'href="/cycles/{w.cycle.id}/goals/new"' in html) == (who in GOAL_EDITORS)
    assert ("Record a measurement" in html) == (who in RECORDERS)
    shown = page(client, goal_path(w))
    assert ("Set the status by hand" in shown) == (who in GOAL_EDITORS)
    assert ("Edit this goal" in shown) == (who in GOAL_EDITORS)


def test_signed_out_people_are_sent_to_sign_in(w, client):
    response = client.get(goals_path(w))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_unknown_cycle_or_another_cycles_goal_is_not_found(w, client):
    foreign = GoalFactory(cycle_id=w.other_cycle.id)
    sign_in(client, w.staff)
    assert client.get("/cycles/999999/goals").status_code == 404
    assert client.get("/cycles/99999999999/goals").status_code == 404
    assert client.get(f"/cycles/{w.cycle.id}/goals/{foreign.id}").status_code == 404
    assert client.get(f"/cycles/{w.cycle.id}/goals/{foreign.id}/edit").status_code == 404
    path = f"/cycles/{w.cycle.id}/goals/{foreign.id}/measurements/new"
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("goals", [2, 20])
def test_the_goals_tab_loads_in_a_fixed_number_of_queries(w, client, count_queries, goals):
    rows = [{"goal_id": w.goal.id, "measured_on": date(2026, 9, 1), "value": 19.0}]
    for n in range(goals - 1):
        goal = GoalFactory(cycle_id=w.cycle.id, title=f"Goal {n}")
        rows += [
            {
                "goal_id": goal.id,
                "measured_on": date(2026, 8, 16) + timedelta(days=7 * i),
                "value": 18.0 + i,
            }
            for i in range(10)
        ]
    db.session.execute(sa.insert(Measurement), rows)
    db.session.commit()
    sign_in(client, w.team.lead)
    page(client, goals_path(w))  # warm up
    with count_queries() as counter:
        html = page(client, goals_path(w))
    assert html.count('class="goal-card"') == goals
    # the person, their cohort memberships (the menu), their cycle memberships, the cycle
    # with its school and year, the goals, their measurements
    assert counter.count == 6, counter.statements


# Adding, changing and removing goals ------------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_who_may_add_a_goal(w, client, who):
    sign_in(client, w.person(who))
    path = f"/cycles/{w.cycle.id}/goals/new"
    allowed = who in GOAL_EDITORS
    assert client.get(path).status_code == (200 if allowed else 403)
    before = snapshot()
    token = csrf_token(client) if who in READERS else None
    response = client.post(path, data={**goal_form(), "csrf_token": token or ""})
    if allowed:
        assert response.status_code == 302
    else:
        assert response.status_code in (400, 403)
        assert snapshot() == before


def test_a_lead_teacher_adds_a_goal_with_a_decimal_comma(w, client):
    sign_in(client, w.team.lead)
    path = f"/cycles/{w.cycle.id}/goals/new"
    html = page(client, path)
    assert html.count("<h1") == 1
    assert "From July 1, 2026 to June 30, 2028" in html
    response = client.post(path, data={**goal_form(), "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    goal = db.session.scalars(sa.select(Goal).order_by(Goal.id.desc())).first()
    assert response.headers["Location"].endswith(f"/cycles/{w.cycle.id}/goals/{goal.id}")
    assert (goal.title, goal.baseline_value, goal.target_value) == (
        "More families from the east side",
        18.5,
        30.0,
    )
    assert audit_actions()[-1] == "cycle.goal_created"
    shown = page(client, response.headers["Location"])
    assert "The goal “More families from the east side” has been added." in shown


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"baseline_value": "nan"}, "baseline_value", "Enter a number, like 18.5"),
        ({"baseline_value": "inf"}, "baseline_value", "Enter a number, like 18.5"),
        ({"target_value": "1e13"}, "target_value", "between -1,000,000,000,000 and"),
        ({"baseline_value": "1,234"}, "baseline_value", "can be read two ways"),
        (
            {"target_value": "12,5"},
            "target_value",
            "To raise the value, the target must be above the baseline (18.5).",
        ),
        (
            {"direction": "lower", "target_value": "40"},
            "target_value",
            "To lower the value, the target must be below the baseline (18.5).",
        ),
        ({"direction": "up"}, "direction", "Choose whether the goal is to raise, lower or hold"),
        ({"category": "9"}, "category", "Choose a category."),
        ({"title": ""}, "title", "Enter a title for the goal."),
        ({"title": "x" * 201}, "title", "Keep the title to 200 characters or fewer."),
        ({"baseline_on": "15/08/2026"}, "baseline_on", "Enter the date of the baseline"),
        ({"baseline_on": "1890-01-01"}, "baseline_on", "Enter a date between 1950 and 2200."),
        (
            {"due_on": "2029-01-01"},
            "due_on",
            "Choose a due date from July 1, 2026 to June 30, 2028",
        ),
        ({"due_on": "9999-12-31"}, "due_on", "Enter a date between 1950 and 2200."),
    ],
)
def test_bad_goal_input_is_refused_next_to_the_field_keeping_what_was_typed(
    w, client, changes, field, message
):
    sign_in(client, w.team.lead)
    path = f"/cycles/{w.cycle.id}/goals/new"
    before = snapshot()
    typed = goal_form(**changes)
    response = client.post(path, data={**typed, "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error, html
    assert message in error.group(1).replace("&#34;", '"')
    assert 'value="More families from the east side"' in html or field == "title"
    assert f'value="{typed["baseline_value"]}"' in html
    assert "Please correct the following" in html
    assert snapshot() == before


def test_an_edit_from_a_stale_form_keeps_what_was_typed_and_shows_the_saved_goal(w, client):
    sign_in(client, w.team.lead)
    path = f"/cycles/{w.cycle.id}/goals/{w.goal.id}/edit"
    html = page(client, path)
    assert 'value="18"' in html  # the saved baseline, as a plain number
    opened = str(w.goal.version)
    token = csrf_token(client)
    first = client.post(
        path, data={**goal_form(title="Saved first"), "version": opened, "csrf_token": token}
    )
    assert first.status_code == 302
    before = snapshot()
    second = client.post(
        path,
        data={
            **goal_form(title="Typed second", target_value="33,5"),
            "version": opened,
            "csrf_token": token,
        },
    )
    assert second.status_code == 200
    html = second.get_data(as_text=True)
    assert "Someone changed this goal while you were editing it" in html
    assert 'value="Typed second"' in html
    assert 'value="33,5"' in html
    assert "The saved goal now" in html
    assert "Saved first" in html
    assert snapshot() == before
    saved = db.session.get(Goal, w.goal.id)
    assert saved.title == "Saved first"
    assert f'name="version" type="hidden" value="{saved.version}"' in html
    # saving again is now a deliberate overwrite
    third = client.post(
        path,
        data={
            **goal_form(title="Typed second"),
            "version": str(saved.version),
            "csrf_token": token,
        },
    )
    assert third.status_code == 302
    db.session.expire_all()
    assert db.session.get(Goal, w.goal.id).title == "Typed second"


def test_a_team_member_cannot_change_or_remove_a_goal(w, client):
    sign_in(client, w.team.member)
    token = csrf_token(client)
    before = snapshot()
    edit = client.post(
        f"{goal_path(w)}/edit", data={**goal_form(), "version": "1", "csrf_token": token}
    )
    delete = client.post(f"{goal_path(w)}/delete", data={"csrf_token": token})
    override = client.post(
        f"{goal_path(w)}/override",
        data={"status": "met", "reason": "x", "version": "1", "csrf_token": token},
    )
    assert (edit.status_code, delete.status_code, override.status_code) == (403, 403, 403)
    assert snapshot() == before


def test_nobody_but_staff_changes_goals_of_a_closed_cycle(w, client):
    w.cycle.stage = CycleStage.CLOSED
    db.session.commit()
    sign_in(client, w.team.lead)
    assert client.get(f"/cycles/{w.cycle.id}/goals/new").status_code == 403
    assert "Add a goal" not in page(client, goals_path(w))


def test_a_lead_teacher_removes_a_goal(w, client):
    MeasurementFactory(goal_id=w.goal.id)
    sign_in(client, w.team.lead)
    html = page(client, f"{goal_path(w)}/edit")
    assert "Removing the goal also removes its measurements" in html
    response = client.post(f"{goal_path(w)}/delete", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(goals_path(w))
    assert not exists(Goal, w.goal.id)
    assert audit_actions()[-1] == "cycle.goal_deleted"
    assert "has been removed" in page(client, goals_path(w))


# A goal's page and its status set by hand -------------------------------------------------------


def test_a_goal_page_shows_the_chart_beside_its_data_table(client):
    w = world(title="East side <b>families</b>")
    MeasurementFactory(
        goal_id=w.goal.id,
        measured_on=date(2026, 10, 1),
        value=21,
        note="From the October lottery",
        evidence_url="https://example.org/lottery",
        recorded_by_id=w.team.member.id,
    )
    MeasurementFactory(goal_id=w.goal.id, measured_on=date(2026, 11, 1), value=23.5)
    sign_in(client, w.team.partner)
    html = page(client, goal_path(w))
    text = text_of(html)
    assert html.count("<h1") == 1
    assert "East side &lt;b&gt;families&lt;/b&gt;" in html
    assert "<b>families</b>" not in html
    svg = re.search(r"<svg .*?</svg>", main_of(html), re.S).group(0)
    assert 'role="img"' in svg
    assert "aria-label=" in svg
    assert "2 measurements from Oct 1, 2026 to Nov 1, 2026" in svg
    assert "Target 30%" in svg
    assert "Baseline 18%" in svg
    assert 'stroke-dasharray="6 4"' in svg  # the dashed baseline
    assert (
        '<caption id="measurements-caption">Measurements of “East side &lt;b&gt;families&lt;/b&gt;”'
        in html
    )
    assert "From the October lottery" in text
    assert 'href="https://example.org/lottery"' in html
    assert w.team.member.name in text
    assert "By the rule: On track." in text or "By the rule: At risk." in text
    assert "of the way from the baseline to the target" in text
    assert "How the status is worked out" in html


def test_a_status_is_set_by_hand_and_cleared_with_a_reason(w, client):
    sign_in(client, w.team.liaison)
    path = f"{goal_path(w)}/override"
    token = csrf_token(client)
    missing = client.post(
        path, data={"status": "met", "reason": " ", "version": "1", "csrf_token": token}
    )
    assert missing.status_code == 200
    assert "Say why the status is set by hand." in missing.get_data(as_text=True)
    assert db.session.get(Goal, w.goal.id).status_override is None
    response = client.post(
        path,
        data={
            "status": "on_track",
            "reason": "Applications open in March.",
            "version": "1",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{goal_path(w)}#goal-status")
    text = text_of(page(client, goal_path(w)))
    assert "The status of “" in text
    assert "is now set by hand: On track." in text
    assert "Shown as “On track” instead of the rule’s “No data”." in text
    assert "Applications open in March." in text
    assert f"Set by {w.team.liaison.name} on" in text
    assert "By the rule: No data." in text
    db.session.expire_all()
    version = db.session.get(Goal, w.goal.id).version
    cleared = client.post(f"{path}/clear", data={"version": str(version), "csrf_token": token})
    assert cleared.status_code == 302
    db.session.expire_all()
    assert db.session.get(Goal, w.goal.id).status_override is None
    assert audit_actions()[-2:] == ["cycle.goal_status_overridden", "cycle.goal_override_cleared"]


@pytest.mark.parametrize("action", ["override", "override/clear"])
def test_a_status_change_from_a_stale_page_is_refused(w, client, action):
    w.goal.status_override = GoalStatus.MET
    w.goal.override_reason = "Counted by hand"
    db.session.commit()
    sign_in(client, w.team.lead)
    token = csrf_token(client)
    stale = str(w.goal.version - 1 if w.goal.version > 1 else 0)
    before = snapshot()
    response = client.post(
        f"{goal_path(w)}/{action}",
        data={
            "status": "off_track",
            "reason": "Typed reason",
            "version": stale,
            "csrf_token": token,
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Someone changed this goal while you were editing it" in html
    if action == "override":
        assert "Typed reason" in html
    assert snapshot() == before


# Measurements -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_who_may_record_a_measurement(w, client, who):
    sign_in(client, w.person(who))
    path = f"{goal_path(w)}/measurements/new"
    allowed = who in RECORDERS
    assert client.get(path).status_code == (200 if allowed else 403)


def test_a_team_member_records_a_measurement_with_a_link(w, client):
    sign_in(client, w.team.member)
    path = f"{goal_path(w)}/measurements/new"
    html = page(client, path)
    assert 'enctype="multipart/form-data"' in html
    assert "In %." in html
    response = client.post(
        path,
        data={
            "measured_on": "2026-10-15",
            "value": "22,75",
            "note": "Fall count",
            "evidence_url": "https://example.org/fall",
            "csrf_token": csrf_token(client),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{goal_path(w)}#measurements")
    saved = db.session.scalars(sa.select(Measurement)).one()
    assert (saved.measured_on, saved.value, saved.evidence_url) == (
        date(2026, 10, 15),
        22.75,
        "https://example.org/fall",
    )
    assert saved.recorded_by_id == w.team.member.id
    assert db.session.get(Goal, w.goal.id).version == 1
    assert audit_actions()[-1] == "cycle.measurement_recorded"
    assert "The measurement of October 15, 2026 has been recorded" in page(client, goal_path(w))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"measured_on": ""}, "measured_on", "Enter the date of the measurement"),
        ({"measured_on": "1949-12-31"}, "measured_on", "Enter a date between 1950 and 2200."),
        ({"measured_on": "1950-01-01", "value": "x"}, "value", "Enter a number"),
        ({"measured_on": "future"}, "measured_on", "cannot be dated later than tomorrow"),
        ({"value": ""}, "value", "Enter the value measured."),
        ({"value": "nan"}, "value", "Enter a number, like 18.5"),
        ({"value": "-1e13"}, "value", "between -1,000,000,000,000"),
        ({"evidence_url": "javascript:alert(1)"}, "evidence_url", "Only web addresses starting"),
        ({"evidence_url": "example.org"}, "evidence_url", "Enter a whole web address"),
        ({"note": "n" * 5001}, "note", "Keep the note to 5,000 characters or fewer."),
    ],
)
def test_a_bad_measurement_is_refused_next_to_the_field_keeping_what_was_typed(
    w, client, changes, field, message
):
    sign_in(client, w.team.member)
    path = f"{goal_path(w)}/measurements/new"
    typed = {"measured_on": "2026-10-15", "value": "22,75", "note": "Typed note", **changes}
    if typed["measured_on"] == "future":
        typed["measured_on"] = (utcnow().date() + timedelta(days=3)).isoformat()
    before = snapshot()
    response = client.post(
        path,
        data={**typed, "csrf_token": csrf_token(client)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error, html
    assert message in error.group(1)
    if field != "value":
        assert 'value="22,75"' in html
    if field != "note":
        assert "Typed note" in html
    assert snapshot() == before


def test_who_may_remove_a_measurement(w, client):
    mine = MeasurementFactory(goal_id=w.goal.id, recorded_by_id=w.team.member.id)
    theirs = MeasurementFactory(goal_id=w.goal.id, recorded_by_id=w.team.liaison.id)
    foreign_goal = GoalFactory(cycle_id=w.other_cycle.id)
    foreign = MeasurementFactory(goal_id=foreign_goal.id)
    sign_in(client, w.team.member)
    token = csrf_token(client)
    html = page(client, goal_path(w))
    assert f"/measurements/{mine.id}/delete" in html
    assert f"/measurements/{theirs.id}/delete" not in html
    refused = client.post(
        f"/cycles/{w.cycle.id}/measurements/{theirs.id}/delete", data={"csrf_token": token}
    )
    assert refused.status_code == 403
    elsewhere = client.post(
        f"/cycles/{w.cycle.id}/measurements/{foreign.id}/delete", data={"csrf_token": token}
    )
    assert elsewhere.status_code == 404
    done = client.post(
        f"/cycles/{w.cycle.id}/measurements/{mine.id}/delete", data={"csrf_token": token}
    )
    assert done.status_code == 302
    assert not exists(Measurement, mine.id)
    assert exists(Measurement, theirs.id)
    assert exists(Measurement, foreign.id)
    sign_in(client, w.team.lead)
    token = csrf_token(client)
    lead = client.post(
        f"/cycles/{w.cycle.id}/measurements/{theirs.id}/delete", data={"csrf_token": token}
    )
    assert lead.status_code == 302
    assert audit_actions()[-1] == "cycle.measurement_deleted"
