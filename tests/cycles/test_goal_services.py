"""Goal rules as tables: reading numbers (a point or a comma, never NaN, infinity or beyond
±1e12), the target on the right side of the baseline, the due date's range, a status set by
hand, measurements (dates, links, evidence), and removing a goal."""

from __future__ import annotations

import io
import math
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from fellowship.audit import AuditEvent
from fellowship.cycles import goal_services as rules
from fellowship.cycles import queries
from fellowship.cycles.models import Goal, GoalStatus, Measurement, SupportActivity
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.uploads import StoredFile
from tests.conftest import rows_for_module
from tests.cycles.goal_helpers import snapshot, world
from tests.cycles.helpers import GoalFactory, MeasurementFactory, SupportFactory
from tests.upload_attacks import valid_pdf

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


# Numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("18.5", 18.5),
        ("18,5", 18.5),
        ("  18,5 ", 18.5),
        ("30", 30.0),
        ("-3", -3.0),
        ("+3", 3.0),
        ("\u22124", -4.0),  # a real minus sign
        ("0,125", 0.125),
        (".5", 0.5),
        (",5", 0.5),
        ("5.", 5.0),
        ("1,234.5", 1234.5),
        ("1.234,5", 1234.5),
        ("1 234,5", 1234.5),
        ("12\u00a0345", 12345.0),  # a no-break space between thousands
        ("1,234,567", 1234567.0),
        ("1.234.567", 1234567.0),
        ("1234,567", 1234.567),
        ("1.234", 1.234),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("1e12", 1e12),
        ("-1e12", -1e12),
        ("1000000000000", 1e12),
        ("-0", 0.0),
        ("5e-324", 0.0),  # nine decimals at most: a chart's scale cannot collapse
        ("0.0000000004", 0.0),
        ("0.123456789", 0.123456789),
    ],
)
def test_a_number_is_read_with_a_point_or_a_comma(text, value):
    assert rules.parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", rules.ENTER_NUMBER),
        ("   ", rules.ENTER_NUMBER),
        ("nan", rules.ENTER_NUMBER),
        ("NaN", rules.ENTER_NUMBER),
        ("inf", rules.ENTER_NUMBER),
        ("-inf", rules.ENTER_NUMBER),
        ("Infinity", rules.ENTER_NUMBER),
        ("abc", rules.ENTER_NUMBER),
        ("12 apples", rules.ENTER_NUMBER),
        ("1,2,3", rules.ENTER_NUMBER),
        ("12,34.5", rules.ENTER_NUMBER),
        ("1.2.3,4", rules.ENTER_NUMBER),
        ("1_000", rules.ENTER_NUMBER),
        ("--1", rules.ENTER_NUMBER),
        ("1e", rules.ENTER_NUMBER),
        ("e5", rules.ENTER_NUMBER),
        ("0x10", rules.ENTER_NUMBER),
        ("\u0661\u0662", rules.ENTER_NUMBER),  # Arabic-Indic digits
        ("1e13", rules.NUMBER_OUT_OF_RANGE),
        ("-1e13", rules.NUMBER_OUT_OF_RANGE),
        ("1000000000000.5", rules.NUMBER_OUT_OF_RANGE),
        ("1e400", rules.NUMBER_OUT_OF_RANGE),
        ("1" * 41, rules.NUMBER_OUT_OF_RANGE),
    ],
)
def test_what_is_not_a_number_in_range_is_refused_with_a_clear_message(ctx, text, message):
    with pytest.raises(rules.NumberProblem) as refused:
        rules.parse_number(text)
    assert refused.value.message == str(message)


def test_a_comma_before_three_digits_is_asked_about_not_guessed(ctx):
    with pytest.raises(rules.NumberProblem) as refused:
        rules.parse_number("1,234")
    message = refused.value.message
    assert "“1,234” can be read two ways" in message
    assert "(1234)" in message
    assert "(1.234)" in message


@pytest.mark.parametrize(
    ("value", "text"),
    [(18.5, "18.5"), (30.0, "30"), (1e12, "1000000000000"), (0.00001, "0.00001"), (-0.0, "0")],
)
def test_a_saved_number_is_shown_for_editing_without_exponents(value, text):
    assert rules.plain_number(value) == text
    assert rules.parse_number(text) == value


# Goals -----------------------------------------------------------------------------------------


def data(**overrides) -> rules.GoalData:
    fields = {
        "title": "More families from the east side",
        "category": "enrollment_diversity",
        "metric": "Share of kindergarten applicants from the east side",
        "unit": "%",
        "baseline_value": 18.5,
        "baseline_on": date(2026, 8, 15),
        "target_value": 30.0,
        "direction": "raise",
        "due_on": date(2027, 6, 1),
    }
    fields.update(overrides)
    return rules.GoalData(**fields)


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "problem"),
    [
        ("raise", 18, 30, None),
        ("raise", 18, 18, "To raise the value, the target must be above the baseline (18)."),
        ("raise", 18, 10, "To raise the value, the target must be above the baseline (18)."),
        ("lower", 18, 10, None),
        ("lower", 18.5, 18.5, "To lower the value, the target must be below the baseline (18.5)"),
        ("lower", 18, 30, "To lower the value, the target must be below the baseline (18)."),
        ("hold", 18, 18, None),
        ("hold", 18, 30, None),
        ("hold", 18, 10, None),
        ("raise", -5, 0, None),
    ],
)
def test_the_target_must_be_on_the_side_of_the_baseline_the_direction_says(
    w, ctx, direction, baseline, target, problem
):
    context = queries.load_cycle(w.cycle.id)
    attempt = data(direction=direction, baseline_value=baseline, target_value=target)
    if problem is None:
        goal = rules.create_goal(w.team.lead, context, attempt)
        assert (goal.baseline_value, goal.target_value) == (baseline, target)
        return
    before = snapshot()
    with pytest.raises(rules.GoalError) as refused:
        rules.create_goal(w.team.lead, context, attempt)
    assert refused.value.field == "target_value"
    assert problem in refused.value.message
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"category": "wellbeing"}, "category"),
        ({"category": None}, "category"),
        ({"metric": ""}, "metric"),
        ({"metric": "m" * 301}, "metric"),
        ({"unit": "u" * 41}, "unit"),
        ({"baseline_value": None}, "baseline_value"),
        ({"baseline_value": math.nan}, "baseline_value"),
        ({"baseline_value": math.inf}, "baseline_value"),
        ({"baseline_value": 1e13}, "baseline_value"),
        ({"baseline_on": None}, "baseline_on"),
        ({"baseline_on": date(1949, 12, 31)}, "baseline_on"),
        ({"target_value": None}, "target_value"),
        ({"target_value": -math.inf}, "target_value"),
        ({"target_value": -1e13}, "target_value"),
        ({"direction": "sideways"}, "direction"),
        ({"due_on": date(2026, 6, 30)}, "due_on"),  # before the school year
        ({"due_on": date(2028, 7, 1)}, "due_on"),  # more than a year after it
        ({"due_on": date(2026, 8, 15)}, "due_on"),  # not after the baseline
        ({"baseline_on": date(2027, 6, 30), "due_on": None}, "baseline_on"),
    ],
)
def test_a_goal_with_a_bad_field_is_refused_next_to_that_field(w, ctx, changes, field):
    before = snapshot()
    with pytest.raises(rules.GoalError) as refused:
        rules.create_goal(w.team.lead, queries.load_cycle(w.cycle.id), data(**changes))
    assert refused.value.field == field
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize(
    "due_on", [None, date(2026, 7, 1), date(2027, 6, 30), date(2028, 6, 30)], ids=str
)
def test_the_due_date_may_be_in_the_school_year_or_up_to_a_year_after(w, ctx, due_on):
    attempt = data(due_on=due_on, baseline_on=date(2026, 6, 15))
    goal = rules.create_goal(w.team.lead, queries.load_cycle(w.cycle.id), attempt)
    assert goal.due_on == due_on


def test_a_new_goal_goes_last_and_is_audited(w, ctx):
    goal = rules.create_goal(w.team.lead, queries.load_cycle(w.cycle.id), data(title=" Ours "))
    assert goal.title == "Ours"
    assert goal.position == w.goal.position + 1
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.target_type, event.target_id) == (
        "cycle.goal_created",
        "Goal",
        goal.id,
    )
    assert event.details["baseline_value"] == 18.5
    assert event.details["direction"] == "raise"


def test_an_edit_on_a_stale_version_changes_nothing(w, ctx):
    context = queries.load_cycle(w.cycle.id)
    opened = w.goal.version
    rules.update_goal(w.team.lead, context, w.goal, data(title="First"), version=opened)
    db.session.commit()
    before = snapshot()
    with pytest.raises(rules.StaleGoal) as refused:
        rules.update_goal(w.team.lead, context, w.goal, data(title="Second"), version=opened)
    assert "Someone changed this goal while you were editing it" in refused.value.message
    db.session.rollback()
    assert snapshot() == before
    assert db.session.get(Goal, w.goal.id).title == "First"


def test_an_edit_records_what_changed(w, ctx):
    goal = w.goal
    rules.update_goal(
        w.team.liaison,
        queries.load_cycle(w.cycle.id),
        goal,
        data(title=goal.title, target_value=35.0),
        version=goal.version,
    )
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "cycle.goal_updated"
    assert event.details["changes"]["target_value"] == [30.0, 35.0]
    assert "title" not in event.details["changes"]


# A status set by hand ---------------------------------------------------------------------------


def test_a_status_set_by_hand_needs_a_reason_and_is_kept_with_who_and_when(w, ctx):
    goal = w.goal
    with pytest.raises(rules.GoalError) as refused:
        rules.set_override(w.team.lead, goal, "on_track", "  ", version=goal.version)
    assert refused.value.field == "reason"
    with pytest.raises(rules.GoalError) as refused:
        rules.set_override(w.team.lead, goal, "great", "Because", version=goal.version)
    assert refused.value.field == "status"
    db.session.rollback()
    rules.set_override(
        w.team.lead, goal, "on_track", "The spring lottery is not counted yet.", version=1
    )
    assert goal.status_override == GoalStatus.ON_TRACK
    assert goal.override_by_id == w.team.lead.id
    assert goal.override_at is not None
    assert goal.version == 2
    summary = queries.goal_summaries([w.cycle.id], date(2026, 11, 1))[w.cycle.id][0]
    assert (summary.status, summary.computed, summary.overridden) == (
        GoalStatus.ON_TRACK,
        GoalStatus.NO_DATA,
        True,
    )
    rules.clear_override(w.team.lead, goal, version=2)
    assert (goal.status_override, goal.override_reason, goal.override_by_id) == (None, "", None)
    actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-2:] == ["cycle.goal_status_overridden", "cycle.goal_override_cleared"]


@pytest.mark.parametrize("action", ["set", "clear"])
def test_a_status_change_on_a_stale_version_is_refused(w, ctx, action):
    goal = w.goal
    before = snapshot()
    if action == "set":
        with pytest.raises(rules.StaleGoal):
            rules.set_override(w.team.lead, goal, "met", "Reason", version=goal.version - 1)
    else:
        with pytest.raises(rules.StaleGoal):
            rules.clear_override(w.team.lead, goal, version=None)
    db.session.rollback()
    assert snapshot() == before


# Measurements -----------------------------------------------------------------------------------


def reading(**overrides) -> rules.MeasurementData:
    fields = {"measured_on": date(2026, 10, 1), "value": 21.0, "note": "", "evidence_url": ""}
    fields.update(overrides)
    return rules.MeasurementData(**fields)


TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"measured_on": None}, "measured_on"),
        ({"measured_on": date(1949, 12, 31)}, "measured_on"),
        ({"measured_on": TODAY + timedelta(days=2)}, "measured_on"),
        ({"value": None}, "value"),
        ({"value": math.nan}, "value"),
        ({"value": 1e13}, "value"),
        ({"note": "n" * 5001}, "note"),
        ({"evidence_url": "javascript:alert(1)"}, "evidence_url"),
        ({"evidence_url": "ftp://example.org/report.pdf"}, "evidence_url"),
        ({"evidence_url": "https://"}, "evidence_url"),
        ({"evidence_url": "https://example.org/a b"}, "evidence_url"),
    ],
)
def test_a_bad_measurement_is_refused_next_to_its_field(w, ctx, changes, field):
    before = snapshot()
    with pytest.raises(rules.GoalError) as refused:
        rules.record_measurement(w.team.member, w.goal, reading(**changes), today=TODAY)
    assert refused.value.field == field
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize(
    "measured_on", [date(1950, 1, 1), TODAY, TODAY + timedelta(days=1)], ids=str
)
def test_a_measurement_may_be_dated_from_1950_to_tomorrow(w, ctx, measured_on):
    measurement = rules.record_measurement(
        w.team.member, w.goal, reading(measured_on=measured_on), today=TODAY
    )
    assert measurement.measured_on == measured_on


def test_a_measurement_with_a_link_is_recorded_audited_and_leaves_the_goal_alone(w, ctx):
    version = w.goal.version
    measurement = rules.record_measurement(
        w.team.member,
        w.goal,
        reading(value=-0.5, note="From the lottery", evidence_url=" https://example.org/r "),
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Goal, w.goal.id).version == version
    saved = db.session.get(Measurement, measurement.id)
    assert (saved.value, saved.note, saved.evidence_url, saved.recorded_by_id) == (
        -0.5,
        "From the lottery",
        "https://example.org/r",
        w.team.member.id,
    )
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "cycle.measurement_recorded"
    assert event.details["goal_id"] == w.goal.id


def test_a_measurement_takes_a_file_or_a_link_not_both(w, ctx):
    upload = FileStorage(io.BytesIO(valid_pdf()), filename="report.pdf")
    before = snapshot()
    with pytest.raises(rules.GoalError) as refused:
        rules.record_measurement(
            w.team.member,
            w.goal,
            reading(evidence_url="https://example.org/r", upload=upload),
        )
    assert refused.value.field == "evidence_url"
    db.session.rollback()
    assert snapshot() == before


def test_removing_a_measurement_removes_its_evidence_file(w, ctx):
    upload = FileStorage(io.BytesIO(valid_pdf()), filename="report.pdf")
    measurement = rules.record_measurement(w.team.member, w.goal, reading(upload=upload))
    file_id = measurement.evidence_file_id
    assert db.session.get(StoredFile, file_id) is not None
    rules.delete_measurement(w.team.lead, measurement)
    assert db.session.get(Measurement, measurement.id) is None
    assert db.session.get(StoredFile, file_id) is None
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "cycle.measurement_deleted"


def test_removing_a_goal_removes_its_measurements_and_unlinks_support(w, ctx):
    keep = GoalFactory(cycle_id=w.cycle.id)
    MeasurementFactory(goal_id=keep.id)
    upload = FileStorage(io.BytesIO(valid_pdf()), filename="report.pdf")
    with_file = rules.record_measurement(w.team.member, w.goal, reading(upload=upload))
    MeasurementFactory(goal_id=w.goal.id, measured_on=date(2026, 11, 1))
    support = SupportFactory(cycle_id=w.cycle.id, goal_id=w.goal.id)
    db.session.commit()
    file_id = with_file.evidence_file_id
    rules.delete_goal(w.team.lead, w.goal)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Goal, w.goal.id) is None
    remaining = db.session.scalars(sa.select(Measurement.goal_id)).all()
    assert remaining == [keep.id]
    assert db.session.get(StoredFile, file_id) is None
    assert db.session.get(SupportActivity, support.id).goal_id is None
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.details["measurements"]) == ("cycle.goal_deleted", 2)


def test_the_future_limit_follows_today(ctx):
    assert rules.latest_measured_on(utcnow().date()) == utcnow().date() + timedelta(days=1)
