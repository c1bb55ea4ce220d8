"""Forgotten passwords: an emailed, expiring, single-use link that reveals nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from fellowship.auth.models import PasswordReset, User
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.conftest import csrf_token, sign_in
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "copper meadow signal eleven"


def ask_for_reset(client, email):
    return client.post(
        "/forgot-password",
        data={"email": email, "csrf_token": csrf_token(client)},
        follow_redirects=True,
    )


def reset_link(to: str) -> str:
    message = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.to == to).order_by(OutboxMessage.id.desc())
    )
    assert message is not None
    match = re.search(r"http://localhost(/reset-password/[\w-]+)", message.text)
    assert match
    return match.group(1)


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(client, app):
    UserFactory(email="real@example.org")
    known = ask_for_reset(client, "real@example.org").get_data(as_text=True)
    unknown = ask_for_reset(app.test_client(), "ghost@example.org").get_data(as_text=True)
    message = "If that address has an account, we have sent it a link"
    assert message in known
    assert message in unknown
    assert (
        db.session.scalar(
            sa.select(sa.func.count(OutboxMessage.id)).where(
                OutboxMessage.to == "ghost@example.org"
            )
        )
        == 0
    )


def test_a_person_resets_their_password_with_the_emailed_link(client, app):
    user = UserFactory(email="reset@example.org")
    old_hash = user.password_hash
    ask_for_reset(client, "reset@example.org")
    link = reset_link("reset@example.org")
    browser = app.test_client()
    response = browser.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(browser),
        },
    )
    assert response.status_code == 302
    login = browser.post(
        "/login",
        data={
            "email": "reset@example.org",
            "password": NEW_PASSWORD,
            "csrf_token": csrf_token(browser),
        },
    )
    assert login.status_code == 302
    assert login.headers["Location"] == "/"
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash != old_hash


def test_a_reset_link_works_once(client, app):
    UserFactory(email="once@example.org")
    ask_for_reset(client, "once@example.org")
    link = reset_link("once@example.org")
    browser = app.test_client()
    browser.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(browser),
        },
    )
    assert app.test_client().get(link).status_code == 404


def test_a_reset_link_expires(client, app):
    UserFactory(email="late@example.org")
    ask_for_reset(client, "late@example.org")
    link = reset_link("late@example.org")
    db.session.execute(sa.update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert app.test_client().get(link).status_code == 404


def test_resetting_the_password_ends_every_other_session(client, app):
    user = UserFactory(email="stolen@example.org")
    thief = app.test_client()
    sign_in(thief, user)
    assert thief.get("/profile").status_code == 200
    ask_for_reset(client, "stolen@example.org")
    link = reset_link("stolen@example.org")
    browser = app.test_client()
    browser.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(browser),
        },
    )
    assert thief.get("/profile").status_code == 302


def test_mismatched_passwords_are_refused_with_a_message(client, app):
    UserFactory(email="typo@example.org")
    ask_for_reset(client, "typo@example.org")
    link = reset_link("typo@example.org")
    browser = app.test_client()
    response = browser.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD + "x",
            "csrf_token": csrf_token(browser),
        },
    )
    assert "The two passwords do not match." in response.get_data(as_text=True)
    assert browser.get(link).status_code == 200  # the link still works


def test_reset_emails_to_one_address_are_limited_so_nobody_can_flood_an_inbox(client, app):
    UserFactory(email="flood@example.org")
    for _ in range(5):
        ask_for_reset(app.test_client(), "flood@example.org")
    browser = app.test_client()
    response = browser.post(
        "/forgot-password",
        data={"email": "flood@example.org", "csrf_token": csrf_token(browser)},
    )
    assert response.status_code == 429
    sent = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.to == "flood@example.org")
    )
    assert sent == 5


def test_changing_the_password_cancels_outstanding_reset_links(client, app):
    user = UserFactory(email="careful@example.org")
    ask_for_reset(client, "careful@example.org")
    link = reset_link("careful@example.org")
    sign_in(client, user)
    client.post(
        "/profile/password",
        data={
            "pw-current": PASSWORD,
            "pw-password": NEW_PASSWORD,
            "pw-confirm": NEW_PASSWORD,
            "pw-csrf_token": csrf_token(client),
        },
    )
    assert app.test_client().get(link).status_code == 404


def test_forgot_password_takes_the_same_time_for_known_and_unknown_addresses(client, app):
    import time

    UserFactory(email="timed@example.org")
    floor = app.config["RESET_RESPONSE_SECONDS"]
    for email in ("timed@example.org", "nobody-here@example.org"):
        browser = app.test_client()
        token = csrf_token(browser)
        started = time.monotonic()
        browser.post("/forgot-password", data={"email": email, "csrf_token": token})
        assert time.monotonic() - started >= floor
