"""Signing in and out, and what ends a session."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from fellowship.audit import AuditEvent
from fellowship.auth.models import LoginSession, User
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.factories import PASSWORD, UserFactory


def post_login(client: FlaskClient, email: str, password: str, **extra: str):
    token = csrf_token(client)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, **extra}
    )


def test_a_person_signs_in_with_email_and_password_and_lands_on_home(client):
    user = UserFactory(email="maya@example.org", name="Maya")
    response = post_login(client, "Maya@Example.org ", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert "Welcome, Maya" in home.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nobody@example.org", PASSWORD),
        ("known@example.org", "the wrong password entirely"),
        ("invited@example.org", PASSWORD),
        ("gone@example.org", PASSWORD),
    ],
    ids=["unknown address", "wrong password", "invited without password", "deactivated"],
)
def test_every_failed_sign_in_gets_the_same_answer(client, email, password):
    UserFactory(email="known@example.org")
    UserFactory(email="invited@example.org", password_hash=None)
    UserFactory(email="gone@example.org", is_active=False)
    response = post_login(client, email, password)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "The email or password is not correct." in body
    assert f'value="{email}"' in body  # what was typed is kept
    assert client.get("/").status_code == 302  # still signed out


def test_a_failed_sign_in_is_audited(client):
    post_login(client, "nobody@example.org", "whatever it may be")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login_failed"))
    assert event is not None
    assert event.outcome == "failure"
    assert event.details["email"] == "nobody@example.org"


def test_the_eleventh_failure_in_a_minute_gets_429_with_retry_after(client):
    UserFactory(email="target@example.org")
    for _ in range(10):
        assert post_login(client, "target@example.org", "not the password!!").status_code == 200
    response = post_login(client, "target@example.org", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many attempts" in response.get_data(as_text=True)


def test_one_address_may_try_many_accounts_a_room_of_people_behind_one_network(client, app):
    for i in range(15):
        UserFactory(email=f"student{i}@example.org")
    statuses = [
        post_login(app.test_client(), f"student{i}@example.org", PASSWORD).status_code
        for i in range(15)
    ]
    assert statuses == [302] * 15


def test_sign_in_never_redirects_to_another_site(client):
    UserFactory(email="safe@example.org")
    client.get("/login?next=https://evil.example.com/")
    response = post_login(client, "safe@example.org", PASSWORD)
    assert response.headers["Location"] == "/"


def test_sign_in_returns_to_the_page_asked_for(client):
    UserFactory(email="back@example.org")
    assert client.get("/profile").status_code == 302
    client.get("/login?next=/profile")
    response = post_login(client, "back@example.org", PASSWORD)
    assert response.headers["Location"] == "/profile"


def test_signing_out_ends_the_session(client):
    user = UserFactory()
    sign_in(client, user)
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_sign_out_everywhere_ends_the_other_devices_sessions(app: Flask, client):
    user = UserFactory()
    other_device = app.test_client()
    sign_in(other_device, user)
    sign_in(client, user)
    assert other_device.get("/profile").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client), "everywhere": "1"})
    assert other_device.get("/profile").status_code == 302
    assert client.get("/profile").status_code == 302


def test_a_deactivated_person_loses_their_session_at_once(client):
    user = UserFactory()
    sign_in(client, user)
    user.is_active = False
    db.session.commit()
    assert client.get("/profile").status_code == 302


def test_an_idle_session_expires_after_thirty_minutes(client):
    user = UserFactory()
    sign_in(client, user)
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 31 * 60
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/profile").status_code == 302


def test_a_session_ends_after_twelve_hours_even_when_active(client):
    user = UserFactory()
    sign_in(client, user)
    assert client.get("/profile").status_code == 200
    db.session.execute(
        sa.update(LoginSession).values(created_at=utcnow() - timedelta(hours=12, seconds=5))
    )
    db.session.commit()
    assert client.get("/profile").status_code == 302


def test_signing_out_ends_the_session_on_the_server_even_for_a_copied_cookie(app, client):
    user = UserFactory()
    sign_in(client, user)
    copied = app.test_client()
    copied.set_cookie("session", client.get_cookie("session").value)
    assert copied.get("/profile").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert copied.get("/profile").status_code == 302


def test_signing_out_on_one_device_keeps_the_other_signed_in(app, client):
    user = UserFactory()
    laptop, phone = client, app.test_client()
    sign_in(laptop, user)
    sign_in(phone, user)
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop)})
    assert laptop.get("/profile").status_code == 302
    assert phone.get("/profile").status_code == 200


def test_signing_in_starts_a_fresh_session(client):
    UserFactory(email="fresh@example.org")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    post_login(client, "fresh@example.org", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_in_without_a_csrf_token_is_refused(client):
    UserFactory(email="csrf@example.org")
    response = client.post("/login", data={"email": "csrf@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_home_shows_the_previous_sign_in_not_this_one(client):
    from datetime import UTC, datetime

    UserFactory(email="again@example.org", last_login_at=datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    post_login(client, "again@example.org", PASSWORD)
    assert "Your previous sign-in: Mar 4, 2026" in client.get("/").get_data(as_text=True)


def test_a_first_sign_in_says_so(client):
    UserFactory(email="first@example.org", last_login_at=None)
    post_login(client, "first@example.org", PASSWORD)
    assert "This is your first sign-in." in client.get("/").get_data(as_text=True)
