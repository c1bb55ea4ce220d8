"""Support screens: a cycle's log with its totals, logging, changing and removing entries, and
the report across schools with its CSV export; who may use each; bad input; query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cycles.models import CycleRole, SupportActivity, SupportKind
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.cycles.goal_helpers import (
    PEOPLE,
    audit_actions,
    snapshot,
    support_form,
    text_of,
    world,
)
from tests.cycles.helpers import (
    CycleFactory,
    CycleMemberFactory,
    GoalFactory,
    SchoolFactory,
    SupportFactory,
)
from tests.factories import SchoolYearFactory

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


READERS = {"lead teacher", "team member", "partner", "staff liaison", "staff", "admin"}
LOGGERS = {"partner", "staff liaison", "staff", "admin"}


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def log_path(w) -> str:
    return f"/cycles/{w.cycle.id}/support"


# A cycle's log -----------------------------------------------------------------------------------


def test_the_support_tab_lists_entries_newest_first_with_totals(client):
    w = world(title="East side families")
    SupportFactory(
        cycle_id=w.cycle.id,
        provider_id=w.team.partner.id,
        recorded_by_id=w.team.partner.id,
        held_on=date(2026, 9, 10),
        hours=2.5,
        participants=6,
        topic="Reading the enrollment data",
        kind=SupportKind.TECHNICAL_ASSISTANCE,
    )
    SupportFactory(
        cycle_id=w.cycle.id,
        provider_id=w.team.partner.id,
        recorded_by_id=w.team.partner.id,
        held_on=date(2026, 11, 3),
        hours=1.25,
        participants=12,
        topic="Open house coaching",
        kind=SupportKind.COACHING,
        goal_id=w.goal.id,
    )
    SupportFactory(
        cycle_id=w.cycle.id,
        provider_id=w.staff.id,
        provider_name="District office",
        held_on=date(2026, 10, 1),
        hours=3,
        participants=20,
        topic="Family outreach workshop",
        kind=SupportKind.PROFESSIONAL_DEVELOPMENT,
    )
    SupportFactory(cycle_id=w.other_cycle.id, topic="Somebody else's school")
    sign_in(client, w.team.member)
    html = page(client, log_path(w))
    text = text_of(html)
    assert html.count("<h1") == 1
    assert "<title>Support — " in html
    assert "Somebody else" not in text
    assert (
        text.index("Open house coaching")
        < text.index("Family outreach workshop")
        < text.index("Reading the enrollment data")
    )
    assert "6.75 hours in 3 entries" in text
    kinds = re.search(r"By kind of support</caption>.*?</table>", html, re.S).group(0)
    assert re.sub(r"\s+", " ", text_of(kinds)).count("1") >= 3
    assert "Technical assistance 1 2.5 6" in text_of(kinds)
    assert "Professional development 1 3 20" in text_of(kinds)
    assert "Coaching 1 1.25 12" in text_of(kinds)
    partners = text_of(re.search(r"By partner</caption>.*?</table>", html, re.S).group(0))
    assert f"{w.team.partner.name} Bridges Collaborative 2 3.75" in partners
    assert f"{w.staff.name} District office 1 3" in partners
    assert f'href="/cycles/{w.cycle.id}/goals/{w.goal.id}">East side families' in html
    assert "Log support" not in html  # a team member reads the log only


@pytest.mark.parametrize("who", PEOPLE)
def test_who_may_see_the_support_tab(w, client, who):
    sign_in(client, w.person(who))
    expected = 200 if who in READERS else 403
    response = client.get(log_path(w))
    assert response.status_code == expected
    if expected == 200:
        html = response.get_data(as_text=True)
        assert ("Log support" in html) == (who in LOGGERS)


@pytest.mark.parametrize("entries", [2, 20])
def test_the_support_tab_loads_in_a_fixed_number_of_queries(w, client, count_queries, entries):
    db.session.execute(
        sa.insert(SupportActivity),
        [
            {
                "cycle_id": w.cycle.id,
                "provider_id": (w.team.partner if n % 2 else w.staff).id,
                "provider_name": "Org",
                "kind": list(SupportKind)[n % 3],
                "held_on": date(2026, 9, 1) + timedelta(days=n),
                "hours": 1.5,
                "participants": n,
                "topic": f"Topic {n}",
                "goal_id": w.goal.id if n % 3 else None,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
            for n in range(entries)
        ],
    )
    db.session.commit()
    sign_in(client, w.team.partner)
    page(client, log_path(w))
    with count_queries() as counter:
        html = page(client, log_path(w))
    assert html.count('id="support-') == entries
    # the person, the menu, their cycle memberships, the cycle, entries, by kind, by partner
    assert counter.count == 7, counter.statements


# Logging, changing and removing ------------------------------------------------------------------


@pytest.mark.parametrize("who", PEOPLE)
def test_who_may_log_support(w, client, who):
    sign_in(client, w.person(who))
    path = f"/cycles/{w.cycle.id}/support/new"
    allowed = who in LOGGERS
    assert client.get(path).status_code == (200 if allowed else 403)
    if not allowed and who in READERS:
        before = snapshot()
        token = csrf_token(client)
        response = client.post(path, data={**support_form(), "csrf_token": token})
        assert response.status_code == 403
        assert snapshot() == before


def test_a_partner_logs_support_as_themselves_with_their_organisation(client):
    w = world(title="East side families")
    sign_in(client, w.team.partner)
    path = f"/cycles/{w.cycle.id}/support/new"
    html = page(client, path)
    assert html.count("<h1") == 1
    assert f"You will be recorded as the provider: {w.team.partner.name}." in html
    assert 'value="Bridges Collaborative"' in html
    assert f'<option value="{w.goal.id}">East side families</option>' in html
    response = client.post(
        path,
        data={
            **support_form(hours="1,5", goal=str(w.goal.id), provider_name="Bridges NE"),
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302
    activity = db.session.scalars(sa.select(SupportActivity)).one()
    assert response.headers["Location"].endswith(f"{log_path(w)}#support-{activity.id}")
    assert (activity.hours, activity.provider_id, activity.provider_name, activity.goal_id) == (
        1.5,
        w.team.partner.id,
        "Bridges NE",
        w.goal.id,
    )
    assert audit_actions()[-1] == "cycle.support_logged"
    assert "The support “Planning the open house” has been logged." in page(client, log_path(w))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"hours": "0"}, "hours", "more than 0 and at most 24"),
        ({"hours": "24,25"}, "hours", "more than 0 and at most 24"),
        ({"hours": "-1"}, "hours", "more than 0 and at most 24"),
        ({"hours": "nan"}, "hours", "Enter a number"),
        ({"hours": "1e13"}, "hours", "between -1,000,000,000,000"),
        ({"hours": ""}, "hours", "Enter the hours"),
        ({"participants": "-5"}, "participants", "from 0 to 10,000"),
        ({"participants": "10001"}, "participants", "from 0 to 10,000"),
        ({"participants": "2.5"}, "participants", "from 0 to 10,000"),
        ({"participants": "many"}, "participants", "from 0 to 10,000"),
        ({"topic": ""}, "topic", "Enter the topic."),
        ({"topic": "t" * 301}, "topic", "Keep the topic to 300 characters"),
        ({"kind": "mentoring"}, "kind", "Choose the kind of support."),
        ({"held_on": "2026-13-01"}, "held_on", "Enter the date the support was given"),
        ({"held_on": "future"}, "held_on", "cannot be later than tomorrow"),
        ({"goal": "abc"}, "goal", "Choose one of this cycle’s goals, or none."),
    ],
)
def test_bad_support_input_is_refused_next_to_the_field_keeping_what_was_typed(
    w, client, changes, field, message
):
    sign_in(client, w.team.partner)
    path = f"/cycles/{w.cycle.id}/support/new"
    typed = support_form(**changes)
    if typed["held_on"] == "future":
        typed["held_on"] = (utcnow().date() + timedelta(days=3)).isoformat()
    before = snapshot()
    response = client.post(path, data={**typed, "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error, html
    assert message in error.group(1)
    if field != "topic":
        assert 'value="Planning the open house"' in html
    assert snapshot() == before


def test_a_goal_of_another_cycle_is_refused_next_to_the_field(w, client):
    foreign = GoalFactory(cycle_id=w.other_cycle.id)
    sign_in(client, w.team.partner)
    path = f"/cycles/{w.cycle.id}/support/new"
    before = snapshot()
    response = client.post(
        path,
        data={**support_form(goal=str(foreign.id)), "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="goal-error">Choose one of this cycle’s goals, or none.<' in html
    assert snapshot() == before


def test_only_staff_and_the_partner_who_logged_it_change_an_entry(w, client):
    other_partner = CycleMemberFactory(
        cycle_id=w.cycle.id, role=CycleRole.PARTNER, organisation="Another org"
    ).user_id
    activity = SupportFactory(
        cycle_id=w.cycle.id,
        provider_id=w.team.partner.id,
        recorded_by_id=w.team.partner.id,
        topic="Data day",
    )
    edit = f"/cycles/{w.cycle.id}/support/{activity.id}/edit"
    from fellowship.auth.models import User

    for person, allowed in [
        (db.session.get(User, other_partner), False),
        (w.team.lead, False),
        (w.team.liaison, False),
        (w.team.partner, True),
        (w.staff, True),
    ]:
        sign_in(client, person)
        assert client.get(edit).status_code == (200 if allowed else 403), person
        assert ("Edit" in text_of(page(client, log_path(w)).split("Entries, newest first")[1])) == (
            allowed
        )
    sign_in(client, w.team.partner)
    token = csrf_token(client)
    html = page(client, edit)
    assert 'value="2.5"' in html
    response = client.post(
        edit, data={**support_form(topic="Data day, part 2", hours="3"), "csrf_token": token}
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(SupportActivity, activity.id)
    assert (saved.topic, saved.hours, saved.provider_id) == (
        "Data day, part 2",
        3.0,
        w.team.partner.id,
    )
    deleted = client.post(
        f"/cycles/{w.cycle.id}/support/{activity.id}/delete", data={"csrf_token": token}
    )
    assert deleted.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(SupportActivity.id))) == 0
    assert audit_actions()[-2:] == ["cycle.support_updated", "cycle.support_deleted"]


def test_an_entry_of_another_cycle_is_not_found(w, client):
    foreign = SupportFactory(cycle_id=w.other_cycle.id)
    sign_in(client, w.staff)
    token = csrf_token(client)
    before = snapshot()
    assert client.get(f"/cycles/{w.cycle.id}/support/{foreign.id}/edit").status_code == 404
    response = client.post(
        f"/cycles/{w.cycle.id}/support/{foreign.id}/delete", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert snapshot() == before


# The report across schools -----------------------------------------------------------------------


def report_world():
    """Two schools in 2026-27 and one school's 2025-26 cycle, with support in each; the
    partner is a partner of the first school's 2026-27 cycle only."""
    w = world()
    last_year = SchoolYearFactory(
        label="2025-26", starts_on=date(2025, 7, 1), ends_on=date(2026, 6, 30)
    )
    earlier = CycleFactory(school_id=w.cycle.school_id, school_year_id=last_year.id)
    SupportFactory(
        cycle_id=w.cycle.id,
        provider_id=w.team.partner.id,
        provider_name="Bridges",
        hours=2,
        topic="=cmd|' /C calc'!A0",
        kind=SupportKind.COACHING,
    )
    SupportFactory(
        cycle_id=w.cycle.id,
        provider_id=w.staff.id,
        provider_name="District",
        hours=3,
        topic="Data workshop",
        kind=SupportKind.PROFESSIONAL_DEVELOPMENT,
    )
    SupportFactory(
        cycle_id=w.other_cycle.id,
        provider_id=w.staff.id,
        provider_name="District",
        hours=4,
        topic="Other school coaching",
        kind=SupportKind.COACHING,
    )
    SupportFactory(
        cycle_id=earlier.id,
        provider_id=w.staff.id,
        provider_name="District",
        held_on=date(2025, 10, 1),
        hours=5,
        topic="Last year's kickoff",
    )
    return w, earlier


def test_staff_see_support_totals_for_every_school_kind_partner_and_year(client):
    w, _earlier = report_world()
    sign_in(client, w.staff)
    html = page(client, "/support/")
    text = text_of(html)
    assert html.count("<h1") == 1
    assert "School year 2026-27" in text
    assert "9 hours in 3 entries" in text
    schools = text_of(re.search(r"By school</caption>.*?</table>", html, re.S).group(0))
    names = sorted(db.session.get(type(w.cycle), c.id).school_id for c in (w.cycle, w.other_cycle))
    assert len(names) == 2
    assert schools.count("Riverside Magnet School") == 2
    kinds = text_of(re.search(r"By kind of support</caption>.*?</table>", html, re.S).group(0))
    assert "Coaching 2 6" in kinds
    assert "Professional development 1 3" in kinds
    assert "Technical assistance 0 0" in kinds
    partners = text_of(re.search(r"By partner</caption>.*?</table>", html, re.S).group(0))
    assert f"{w.staff.name} District 2 7" in partners
    assert f"{w.team.partner.name} Bridges 1 2" in partners
    years = text_of(
        re.search(r"Support in every school year</caption>.*?</table>", html, re.S).group(0)
    )
    assert "2025-26 1 1 5" in years
    assert "2026-27 2 3 9" in years
    assert years.index("2025-26") < years.index("2026-27")
    assert '<option value="2025-26">' in html
    assert '<option value="2026-27" selected>' in html
    last = text_of(page(client, "/support/?year=2025-26"))
    assert "5 hours in 1 entry" in last
    assert "Other school coaching" not in last
    # an unknown year falls back to the current one
    assert "School year 2026-27" in text_of(page(client, "/support/?year=1999-00"))


def test_a_partner_sees_only_the_cycles_they_are_a_partner_in(client):
    w, _earlier = report_world()
    sign_in(client, w.team.partner)
    html = page(client, "/support/")
    text = text_of(html)
    assert "The support logged in the cycles you are a partner in." in text
    assert "5 hours in 2 entries" in text
    assert "Other school" not in text
    years = text_of(
        re.search(r"Support in every school year</caption>.*?</table>", html, re.S).group(0)
    )
    assert "2025-26" not in years  # a cycle of their school they were not a partner in
    assert client.get("/support/?year=2025-26").status_code == 200
    assert "2025-26" not in html.split("<select")[1].split("</select>")[0]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("lead teacher", 403),
        ("team member", 403),
        ("staff liaison", 403),
        ("partner", 200),
        ("other school's lead teacher", 403),
        ("staff", 200),
        ("admin", 200),
        ("fellow", 403),
    ],
)
def test_who_may_see_the_support_report(w, client, who, status):
    sign_in(client, w.person(who))
    assert client.get("/support/").status_code == status
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    response = client.get("/support/export.csv")
    assert response.status_code == status
    if status == 403:
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before


def read_csv(response) -> list[list[str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_csv_export_has_the_entries_behind_the_report_escaped_and_is_audited(client):
    w, _earlier = report_world()
    sign_in(client, w.staff)
    response = client.get("/support/export.csv?year=2026-27")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="support-2026-27.csv"'
    rows = read_csv(response)
    assert rows[0] == [
        "school_year",
        "school_code",
        "school",
        "date",
        "kind",
        "hours",
        "participants",
        "topic",
        "provider",
        "organisation",
        "goal",
        "notes",
    ]
    assert len(rows) == 4
    topics = {row[7] for row in rows[1:]}
    assert "'=cmd|' /C calc'!A0" in topics
    assert "Data workshop" in topics
    assert "Other school coaching" in topics
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "cycle.support_exported"
    assert event.details == {"school_year": "2026-27", "rows": 3, "scope": "all"}


def test_a_partners_export_has_only_their_cycles(client):
    w, _earlier = report_world()
    sign_in(client, w.team.partner)
    rows = read_csv(client.get("/support/export.csv"))
    assert [row[7] for row in rows[1:]] == ["'=cmd|' /C calc'!A0", "Data workshop"]
    again = read_csv(client.get("/support/export.csv?year=2025-26"))
    assert again == rows  # 2025-26 is not theirs to choose: the current year instead


@pytest.mark.parametrize("schools", [2, 20])
def test_the_support_report_loads_in_a_fixed_number_of_queries(w, client, count_queries, schools):
    year = SchoolYearFactory()
    for n in range(schools):
        cycle = CycleFactory(school_id=SchoolFactory().id, school_year_id=year.id)
        for kind in SupportKind:
            SupportFactory(cycle_id=cycle.id, kind=kind, provider_id=w.staff.id, topic=f"T{n}")
    sign_in(client, w.staff)
    page(client, "/support/")
    with count_queries() as counter:
        html = page(client, "/support/")
    assert html.count("Riverside Magnet School") >= schools
    # the person, the menu, years, by year, by school, by partner, by kind
    assert counter.count == 7, counter.statements
