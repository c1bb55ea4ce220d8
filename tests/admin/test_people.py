"""The people list, roles, deactivation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import Role, User
from fellowship.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.factories import AdminFactory, StaffFactory, UserFactory


def test_staff_search_people_by_name_or_email(client):
    UserFactory(name="Beatriz Ortega", email="bea@example.org")
    UserFactory(name="Carl Jones", email="carl@district.example")
    sign_in(client, StaffFactory(name="Sam Staff"))
    by_name = client.get("/admin/people?q=orteg").get_data(as_text=True)
    assert "Beatriz Ortega" in by_name
    assert "Carl Jones" not in by_name
    by_email = client.get("/admin/people?q=district.example").get_data(as_text=True)
    assert "Carl Jones" in by_email
    assert "Beatriz Ortega" not in by_email


def test_search_treats_percent_and_underscore_literally(client):
    UserFactory(name="Plain Name")
    sign_in(client, StaffFactory(name="Sam Staff"))
    assert "Plain Name" not in client.get("/admin/people?q=%25").get_data(as_text=True)


@pytest.mark.parametrize(
    ("status", "shown", "hidden"),
    [
        ("active", "Ada Active", "Ivy Invited"),
        ("invited", "Ivy Invited", "Ada Active"),
        ("deactivated", "Dan Gone", "Ada Active"),
    ],
)
def test_the_people_list_filters_by_status(client, status, shown, hidden):
    UserFactory(name="Ada Active")
    UserFactory(name="Ivy Invited", password_hash=None)
    UserFactory(name="Dan Gone", is_active=False)
    sign_in(client, AdminFactory(name="Zed Admin"))
    page = client.get(f"/admin/people?status={status}").get_data(as_text=True)
    assert shown in page
    assert hidden not in page


def test_the_people_list_is_paginated(client):
    for i in range(30):
        UserFactory(name=f"Person {i:02d}")
    sign_in(client, AdminFactory(name="Zz Admin"))
    first = client.get("/admin/people").get_data(as_text=True)
    second = client.get("/admin/people?page=2").get_data(as_text=True)
    assert "Showing 1–25 of 31 people" in first
    assert "Person 00" in first
    assert "Person 29" not in first
    assert "Person 29" in second
    assert 'aria-current="page"' in second


@pytest.mark.parametrize("extra", [10, 1000])
def test_the_people_list_uses_the_same_number_of_queries_at_any_size(client, count_queries, extra):
    admin = AdminFactory()
    db.session.execute(
        sa.insert(User),
        [
            {
                "email": f"bulk{i}@example.org",
                "name": f"Bulk {i}",
                "role": Role.MEMBER,
                "locale": "en",
                "timezone": "UTC",
                "is_active": True,
            }
            for i in range(extra)
        ],
    )
    db.session.commit()
    sign_in(client, admin)
    client.get("/admin/people")  # warm up
    with count_queries() as counter:
        response = client.get("/admin/people")
    assert response.status_code == 200
    # the signed-in person, their cohort memberships (the menu), the count, the page of rows
    assert counter.count == 4, counter.statements


def test_an_admin_changes_a_role_and_it_is_audited(client):
    person = UserFactory()
    admin = AdminFactory()
    sign_in(client, admin)
    response = client.post(
        f"/admin/people/{person.id}/role",
        data={"role": "staff", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).role == Role.STAFF
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "role_change"))
    assert (event.actor_id, event.target_id, event.details) == (
        admin.id,
        person.id,
        {"from": "member", "to": "staff"},
    )


def test_a_role_change_ends_the_persons_sessions(app, client):
    person = UserFactory()
    their_browser = app.test_client()
    sign_in(their_browser, person)
    sign_in(client, AdminFactory())
    client.post(
        f"/admin/people/{person.id}/role",
        data={"role": "staff", "csrf_token": csrf_token(client)},
    )
    assert their_browser.get("/").status_code == 302


def test_an_unknown_role_is_refused_and_nothing_changes(client):
    person = UserFactory()
    sign_in(client, AdminFactory())
    client.post(
        f"/admin/people/{person.id}/role",
        data={"role": "superuser", "csrf_token": csrf_token(client)},
    )
    db.session.expire_all()
    assert db.session.get(User, person.id).role == Role.MEMBER


def test_deactivating_a_person_signs_them_out_and_reactivating_lets_them_back(app, client):
    person = UserFactory()
    their_browser = app.test_client()
    sign_in(their_browser, person)
    sign_in(client, AdminFactory())
    token = csrf_token(client)
    client.post(f"/admin/people/{person.id}/deactivate", data={"csrf_token": token})
    assert their_browser.get("/").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).is_active is False
    client.post(f"/admin/people/{person.id}/reactivate", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(User, person.id).is_active is True


def test_an_admin_cannot_deactivate_themselves(client):
    admin = AdminFactory()
    sign_in(client, admin)
    page = client.get(f"/admin/people/{admin.id}").get_data(as_text=True)
    assert "Deactivate" not in page
    response = client.post(
        f"/admin/people/{admin.id}/deactivate", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 403


def test_a_missing_person_is_404(client):
    sign_in(client, AdminFactory())
    assert client.get("/admin/people/999999").status_code == 404
