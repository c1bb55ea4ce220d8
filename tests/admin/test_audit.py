"""The audit log: written for sensitive actions, append-only, browsable by admins."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fellowship.audit import AuditEvent, AuditLogIsAppendOnly
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import sign_in
from tests.factories import AdminFactory, UserFactory


def add_event(actor, action, at=None, target=None):
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        target_type="User" if target else None,
        target_id=target.id if target else None,
        at=at or utcnow(),
        details={},
    )
    db.session.add(event)
    db.session.commit()
    return event


def test_audit_rows_can_never_be_changed_or_deleted(app):
    event = add_event(None, "login_failed")
    event.outcome = "tampered"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_admins_filter_the_audit_log_by_person_action_and_date(client):
    admin = AdminFactory(name="Alma Admin", timezone="UTC")
    maria = UserFactory(name="Maria Lopez")
    add_event(maria, "login", at=utcnow() - timedelta(days=3))
    add_event(maria, "password_change")
    add_event(admin, "deactivate", target=maria)
    add_event(admin, "invite")
    sign_in(client, admin)

    by_person = client.get("/admin/audit?person=lopez").get_data(as_text=True)
    assert by_person.count("<tr>") - 1 == 3  # her two actions and the one about her

    by_action = client.get("/admin/audit?action=deactivate").get_data(as_text=True)
    assert "Showing 1–1 of 1 events" in by_action

    today = utcnow().date().isoformat()
    by_date = client.get(f"/admin/audit?person=lopez&start={today}&end={today}").get_data(
        as_text=True
    )
    assert "Showing 1–2 of 2 events" in by_date


def test_the_audit_log_is_for_admins_only(client):
    sign_in(client, UserFactory())
    assert client.get("/admin/audit").status_code == 403


def test_the_audit_page_loads_in_a_fixed_number_of_queries(client, count_queries):
    admin = AdminFactory()
    for i in range(60):
        add_event(admin, f"action_{i % 3}", target=admin)
    sign_in(client, admin)
    client.get("/admin/audit")
    with count_queries() as counter:
        client.get("/admin/audit?page=2")
    # the signed-in person, their cohort memberships (the menu), the action list, the count,
    # the page of rows
    assert counter.count == 5, counter.statements


@pytest.mark.parametrize(
    "query",
    ["end=9999-12-31", "start=0001-01-01", "start=0001-01-01&end=9999-12-31", "start=not-a-date"],
)
def test_dates_at_the_edge_of_the_calendar_do_not_break_the_filter(client, query):
    add_event(None, "login_failed")
    sign_in(client, AdminFactory(timezone="Asia/Tokyo"))
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    assert "Failed sign-in" in response.get_data(as_text=True)


def test_every_audited_action_has_a_label_in_both_languages():
    import re
    from pathlib import Path

    from fellowship.admin.forms import ACTION_LABELS

    source = "\n".join(p.read_text() for p in Path("fellowship").rglob("*.py"))
    actions = set(re.findall(r'audit\.record\(\s*[\w.]+,\s*"([a-z_.]+)"', source))
    assert actions
    assert actions <= set(ACTION_LABELS), actions - set(ACTION_LABELS)
