"""Inviting people and accepting an invitation."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import force_locale, gettext

from fellowship.auth.models import Invitation, Role, User
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.conftest import csrf_token, sign_in
from tests.factories import AdminFactory, StaffFactory, UserFactory

NEW_PASSWORD = "violet harbour lantern seven"


def invite(client, **fields):
    data = {"email": "new@example.org", "name": "Nia New", "role": "member", "locale": "en"}
    data.update(fields)
    data["csrf_token"] = csrf_token(client)
    return client.post("/admin/people/invite", data=data)


def invitation_link(message: OutboxMessage) -> str:
    match = re.search(r"http://localhost(/invitation/[\w-]+)", message.text)
    assert match, message.text
    return match.group(1)


def latest_mail(to: str) -> OutboxMessage:
    message = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.to == to).order_by(OutboxMessage.id.desc())
    )
    assert message is not None
    return message


def test_an_admin_invites_a_person_who_gets_an_email_with_a_link(client):
    sign_in(client, AdminFactory(name="Alma"))
    response = invite(client, role="staff")
    assert response.status_code == 302
    person = db.session.scalar(sa.select(User).where(User.email == "new@example.org"))
    assert person is not None
    assert (person.role, person.password_hash, person.is_active) == (Role.STAFF, None, True)
    message = latest_mail("new@example.org")
    assert message.subject == "You are invited to Fellowship"
    assert "Alma has invited you" in message.text
    assert "/invitation/" in (message.html or "")
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.user_id == person.id))
    token = invitation_link(message).rsplit("/", 1)[1]
    assert token not in invitation.token_hash  # only the hash is stored


def test_an_invitation_is_written_in_the_language_chosen_for_it(app, client):
    sign_in(client, AdminFactory())
    invite(client, email="ana@example.org", locale="es")
    message = latest_mail("ana@example.org")
    with app.test_request_context(), force_locale("es"):
        spanish = gettext("You are invited to Fellowship")
    assert spanish != "You are invited to Fellowship"
    assert message.subject == spanish


def test_the_invited_person_chooses_a_password_and_is_signed_in(client, app):
    sign_in(client, AdminFactory())
    invite(client)
    link = invitation_link(latest_mail("new@example.org"))
    newcomer = app.test_client()
    page = newcomer.get(link)
    assert page.status_code == 200
    assert "Choose a password" in page.get_data(as_text=True)
    response = newcomer.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(newcomer),
        },
    )
    assert response.status_code == 302
    assert "Welcome, Nia New" in newcomer.get("/").get_data(as_text=True)


def test_an_invitation_link_works_only_once(client, app):
    sign_in(client, AdminFactory())
    invite(client)
    link = invitation_link(latest_mail("new@example.org"))
    first = app.test_client()
    first.post(
        link,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(first),
        },
    )
    again = app.test_client()
    assert again.get(link).status_code == 404


def test_an_expired_invitation_link_does_not_work(client, app):
    sign_in(client, AdminFactory())
    invite(client)
    link = invitation_link(latest_mail("new@example.org"))
    db.session.execute(sa.update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = app.test_client().get(link)
    assert response.status_code == 404
    assert "This link no longer works" in response.get_data(as_text=True)


def test_a_resent_invitation_replaces_the_old_link(client, app):
    sign_in(client, AdminFactory())
    invite(client)
    old_link = invitation_link(latest_mail("new@example.org"))
    person = db.session.scalar(sa.select(User).where(User.email == "new@example.org"))
    client.post(
        f"/admin/people/{person.id}/resend-invitation",
        data={"csrf_token": csrf_token(client)},
    )
    new_link = invitation_link(latest_mail("new@example.org"))
    assert new_link != old_link
    assert app.test_client().get(old_link).status_code == 404
    assert app.test_client().get(new_link).status_code == 200


def test_a_weak_password_is_refused_and_the_invitation_still_works(client, app):
    sign_in(client, AdminFactory())
    invite(client)
    link = invitation_link(latest_mail("new@example.org"))
    newcomer = app.test_client()
    response = newcomer.post(
        link,
        data={
            "password": "password1234",
            "confirm": "password1234",
            "csrf_token": csrf_token(newcomer),
        },
    )
    assert response.status_code == 200
    assert "too common" in response.get_data(as_text=True)
    person = db.session.scalar(sa.select(User).where(User.email == "new@example.org"))
    db.session.refresh(person)
    assert person.password_hash is None
    assert newcomer.get(link).status_code == 200


def test_inviting_someone_who_already_has_an_account_says_so_and_keeps_the_form(client):
    UserFactory(email="taken@example.org")
    sign_in(client, AdminFactory())
    response = invite(client, email="taken@example.org", name="Typed Name")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This person already has an account." in body
    assert 'value="Typed Name"' in body


def test_an_invalid_email_gets_a_clear_message_and_nothing_is_created(client):
    sign_in(client, AdminFactory())
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    response = invite(client, email="not an email")
    assert "Enter an email address like name@example.org." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


def test_staff_can_invite_members_but_not_administrators(client):
    sign_in(client, StaffFactory())
    page = client.get("/admin/people/invite").get_data(as_text=True)
    assert 'value="admin"' not in page
    response = invite(client, role="admin", email="sneaky@example.org")
    assert response.status_code == 200  # "not a valid choice"
    assert db.session.scalar(sa.select(User).where(User.email == "sneaky@example.org")) is None
    assert invite(client, role="member", email="ok@example.org").status_code == 302


def test_a_member_cannot_invite_anyone(client):
    sign_in(client, UserFactory())
    assert client.get("/admin/people/invite").status_code == 403


def test_re_inviting_an_invited_person_is_refused_so_roles_change_only_through_policy(client):
    invited_admin = UserFactory(
        email="pending@example.org", role=Role.ADMIN, password_hash=None, is_active=False
    )
    sign_in(client, StaffFactory())
    response = invite(client, email="pending@example.org", role="member")
    assert "already been invited" in response.get_data(as_text=True)
    db.session.expire_all()
    unchanged = db.session.get(User, invited_admin.id)
    assert (unchanged.role, unchanged.is_active) == (Role.ADMIN, False)
