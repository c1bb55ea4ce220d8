"""The stakeholder engagement log: the list with its totals and pages, logging, editing and
deleting a session; who may; bad input; other cycles' ids; query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fellowship.curriculum.queries import local_today
from fellowship.cycles.models import CycleStage, EngagementGroup, EngagementSession
from fellowship.extensions import db
from tests.conftest import rows_for_module, sign_in
from tests.cycles.helpers import EngagementFactory
from tests.cycles.plan_helpers import (
    actions,
    page,
    post,
    snapshot,
    text_of,
    world,
)

shared_world = rows_for_module(world)


@pytest.fixture
def w(shared_world, request):
    """The world most tests here read, built once for the module."""
    return shared_world.thaw_for(request)


def _fields(**changes: str) -> dict[str, str]:
    fields = {
        "held_on": "2026-11-05",
        "group": "families",
        "participants": "24",
        "heard": "Families want bus routes that reach the east side.",
        "changed": "We asked the district for a second stop.",
    }
    fields.update(changes)
    return fields


def log_path(w) -> str:
    return f"/cycles/{w.cycle.id}/engagement"


# The list -----------------------------------------------------------------------------------------


def test_the_log_lists_sessions_newest_first_with_totals_per_group(w, client):
    EngagementFactory(
        cycle_id=w.cycle.id,
        held_on=date(2026, 9, 10),
        group=EngagementGroup.ADVISORY_COUNCIL,
        participants=9,
        heard_md="The council asked for **monthly** updates.",
    )
    EngagementFactory(cycle_id=w.cycle.id, held_on=date(2026, 11, 5), participants=1200)
    EngagementFactory(cycle_id=w.cycle.id, held_on=date(2026, 10, 1), participants=30)
    EngagementFactory(cycle_id=w.other.id, heard_md="Another school's session")
    sign_in(client, w.team.partner)
    html = page(client, log_path(w))
    assert html.count("<h1") == 1
    assert "Stakeholder engagement</h1>" in html
    text = text_of(html)
    assert (
        text.index("November 5, 2026")
        < text.index("October 1, 2026")
        < text.index("September 10, 2026")
    )
    assert "<strong>monthly</strong>" in html
    assert "Another school" not in html
    assert "1,200 participants" in text
    assert "Families 2 1,230" in text
    assert "Advisory council 1 9" in text
    assert "Students 0 0" in text
    assert "All groups 3 1,239" in text
    assert '<th scope="row">' in html
    assert "/engagement/new" not in html  # a partner reads only
    assert "/edit" not in html


def test_the_log_is_paginated_and_runs_the_same_number_of_queries_for_2_and_40(
    client, count_queries
):
    counts = []
    for size in (2, 40):
        w = world()
        for n in range(size):
            EngagementFactory(cycle_id=w.cycle.id, held_on=date(2026, 9, 1) + timedelta(days=n))
        sign_in(client, w.team.lead)
        db.session.expire_all()
        with count_queries() as counter:
            html = page(client, log_path(w))
        assert html.count('<li class="plan-session"') == min(size, 25)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 15
    assert "Showing 1–25 of 40" in html
    second = page(client, f"{log_path(w)}?page=2")
    assert second.count('<li class="plan-session"') == 15
    assert "September 1, 2026" in second  # the oldest is last
    assert page(client, f"{log_path(w)}?page=abc").count('<li class="plan-session"') == 25


def test_an_empty_log_says_so(w, client):
    sign_in(client, w.team.member)
    html = page(client, log_path(w))
    assert "No sessions logged yet." in html
    assert "All groups 0 0" in text_of(html)


# The form -----------------------------------------------------------------------------------------


def test_a_session_is_logged(w, client):
    sign_in(client, w.team.member)
    path = f"{log_path(w)}/new"
    html = page(client, path)
    assert html.count("<h1") == 1
    for label in ("Date", "Group", "Participants", "What was heard", "What changed because of it"):
        assert f">{label}" in html, label
    response = post(client, path, **_fields(participants="1,024"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(log_path(w))
    session = db.session.scalar(
        sa.select(EngagementSession).where(EngagementSession.cycle_id == w.cycle.id)
    )
    assert (session.held_on, session.group, session.participants) == (
        date(2026, 11, 5),
        EngagementGroup.FAMILIES,
        1024,
    )
    assert session.recorded_by_id == w.team.member.id
    assert actions()[-1] == "cycle.engagement_logged"
    assert "The session with families on November 5, 2026 has been logged." in page(
        client, response.headers["Location"]
    )


def _bad():
    return [
        ({"held_on": ""}, "held_on", "Enter the date of the session"),
        ({"held_on": "yesterday"}, "held_on", "Enter the date of the session"),
        ({"held_on": "1949-12-31"}, "held_on", "between 1950 and 2200"),
        ({"held_on": "2201-01-01"}, "held_on", "between 1950 and 2200"),
        ({"held_on": "{in two days}"}, "held_on", "cannot be later than tomorrow"),
        ({"group": ""}, "group", "Choose who the session was with."),
        ({"group": "parents"}, "group", "Choose who the session was with."),
        ({"participants": ""}, "participants", "from 0 to 100,000"),
        ({"participants": "-1"}, "participants", "from 0 to 100,000"),
        ({"participants": "100001"}, "participants", "from 0 to 100,000"),
        ({"participants": "2.5"}, "participants", "from 0 to 100,000"),
        ({"participants": "1e3"}, "participants", "from 0 to 100,000"),
        ({"participants": "nan"}, "participants", "from 0 to 100,000"),
        ({"participants": "99999999999999999999"}, "participants", "from 0 to 100,000"),
        ({"participants": "²"}, "participants", "from 0 to 100,000"),
        ({"heard": ""}, "heard", "Write what you heard."),
        ({"heard": "h" * 20_001}, "heard", "20,000 characters"),
        ({"changed": "c" * 20_001}, "changed", "20,000 characters"),
    ]


@pytest.mark.parametrize(("change", "field", "message"), _bad())
def test_bad_session_input_is_explained_next_to_the_field_and_kept(
    w, client, change, field, message
):
    sign_in(client, w.team.lead)
    if change.get("held_on") == "{in two days}":
        change = {"held_on": (local_today(w.team.lead.timezone) + timedelta(days=2)).isoformat()}
    before = snapshot()
    response = post(client, f"{log_path(w)}/new", **_fields(**change))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert "Please correct the following" in html
    if field != "participants":
        assert 'value="24"' in html
    else:
        assert f'value="{change["participants"]}"' in html
    if field != "changed":
        assert "We asked the district for a second stop." in html
    assert snapshot() == before


def test_a_session_dated_tomorrow_is_accepted(w, client):
    sign_in(client, w.team.lead)
    tomorrow = local_today(w.team.lead.timezone) + timedelta(days=1)
    response = post(client, f"{log_path(w)}/new", **_fields(held_on=tomorrow.isoformat()))
    assert response.status_code == 302


def test_a_session_is_edited_and_deleted(w, client):
    session = EngagementFactory(cycle_id=w.cycle.id, participants=12)
    session_id = session.id
    sign_in(client, w.team.liaison)
    path = f"{log_path(w)}/{session_id}/edit"
    html = page(client, path)
    assert 'value="12"' in html
    assert '<option selected value="families">Families</option>' in html
    assert "Delete the session of November 5, 2026" in html
    response = post(client, path, **_fields(participants="15", group="students"))
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(EngagementSession, session_id)
    assert (saved.participants, saved.group) == (15, EngagementGroup.STUDENTS)
    response = post(client, f"{log_path(w)}/{session_id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(EngagementSession, session_id) is None
    assert actions()[-2:] == ["cycle.engagement_updated", "cycle.engagement_deleted"]
    assert "has been deleted" in page(client, response.headers["Location"])


def test_a_bad_edit_keeps_the_saved_session_unchanged(w, client):
    session = EngagementFactory(cycle_id=w.cycle.id, participants=12)
    sign_in(client, w.team.lead)
    before = snapshot()
    response = post(client, f"{log_path(w)}/{session.id}/edit", **_fields(participants="-5"))
    assert response.status_code == 200
    assert 'value="-5"' in response.get_data(as_text=True)
    assert snapshot() == before


# Who may do what ----------------------------------------------------------------------------------

READERS = {"lead teacher", "team member", "partner", "staff liaison", "staff"}
WRITERS = {"lead teacher", "team member", "staff liaison", "staff"}
PEOPLE = [
    "lead teacher",
    "team member",
    "partner",
    "staff liaison",
    "other school's lead teacher",
    "staff",
    "fellow",
]
NAMES = ["log", "new form", "new", "edit form", "edit", "delete"]


def _requests(w, session):
    base = log_path(w)
    return {
        "log": ("GET", base, {}),
        "new form": ("GET", f"{base}/new", {}),
        "new": ("POST", f"{base}/new", _fields()),
        "edit form": ("GET", f"{base}/{session.id}/edit", {}),
        "edit": ("POST", f"{base}/{session.id}/edit", _fields(participants="99")),
        "delete": ("POST", f"{base}/{session.id}/delete", {}),
    }


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("who", PEOPLE)
def test_each_role_reaches_exactly_the_engagement_pages_it_may(w, client, who, name):
    session = EngagementFactory(cycle_id=w.cycle.id)
    method, path, fields = _requests(w, session)[name]
    sign_in(client, w.person(who))
    before = snapshot()
    response = client.get(path) if method == "GET" else post(client, path, **fields)
    if who in (READERS if name == "log" else WRITERS):
        assert response.status_code == (200 if method == "GET" else 302)
        if method == "POST":
            assert snapshot() != before
    else:
        assert response.status_code == 403, (who, name)
        assert snapshot() == before


@pytest.mark.parametrize("name", NAMES[1:])
def test_a_closed_cycles_log_cannot_be_changed_by_its_team(client, name):
    w = world(stage=CycleStage.CLOSED)
    session = EngagementFactory(cycle_id=w.cycle.id)
    method, path, fields = _requests(w, session)[name]
    sign_in(client, w.team.lead)
    before = snapshot()
    response = client.get(path) if method == "GET" else post(client, path, **fields)
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_another_cycles_session_is_not_found_and_stays(w, client, action):
    sign_in(client, w.staff)
    path = f"{log_path(w)}/{w.other_session.id}/{action}"
    if action == "edit":
        assert client.get(path).status_code == 404
    before = snapshot()
    assert post(client, path, **_fields()).status_code == 404
    assert snapshot() == before
    assert client.get(f"{log_path(w)}/99999999999/edit").status_code == 404
