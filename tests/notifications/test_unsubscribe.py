"""The unsubscribe link in emails: no sign-in, the signed token is the key. Opening it shows
what will be turned off and one button (changing nothing); the button, or a mail program's
RFC 8058 one-click POST (no form token, no session), turns those categories off."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import current_app
from itsdangerous import URLSafeSerializer

from fellowship.auth.models import User
from fellowship.extensions import db
from fellowship.notifications import services
from fellowship.notifications.models import Category, Frequency
from tests.conftest import csrf_token
from tests.factories import UserFactory


def url_for_token(token: str) -> str:
    return f"/notifications/unsubscribe/{token}"


def link(user: User, categories: list[Category]) -> str:
    return url_for_token(services.unsubscribe_token(user.id, categories))


def saved(user: User) -> dict[Category, Frequency]:
    db.session.expire_all()
    return services.preferences_of(db.session.get(User, user.id))


def test_opening_the_link_shows_what_will_be_turned_off_and_changes_nothing(client, ctx):
    me = UserFactory()
    response = client.get(link(me, [Category.COACHING, Category.CYCLES]))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<li>Coaching</li>" in html
    assert "<li>Equity cycles</li>" in html
    assert "<li>Curriculum</li>" not in html
    assert html.count('<button type="submit" class="usa-button">') == 1
    assert "Security email (password reset, sign-in and invitation emails) is always sent." in html
    assert saved(me) == dict.fromkeys(Category, Frequency.IMMEDIATELY)


def test_the_button_turns_off_exactly_those_categories(client, ctx):
    me = UserFactory()
    services.set_preferences(me, {Category.CAPSTONES: Frequency.WEEKLY})
    db.session.commit()
    address = link(me, [Category.COACHING, Category.CYCLES])
    token = csrf_token(client)
    response = client.post(address, data={"csrf_token": token})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Email turned off" in html
    assert 'href="/notifications/preferences"' in html
    assert saved(me) == dict.fromkeys(Category, Frequency.IMMEDIATELY) | {
        Category.COACHING: Frequency.OFF,
        Category.CYCLES: Frequency.OFF,
        Category.CAPSTONES: Frequency.WEEKLY,
    }


def test_a_mail_programs_one_click_post_needs_no_form_token_nor_session(app, ctx):
    """RFC 8058: the program POSTs `List-Unsubscribe=One-Click` to the address, nothing else."""
    me = UserFactory()
    client = app.test_client()
    response = client.post(
        link(me, [Category.ANNOUNCEMENTS]),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert saved(me)[Category.ANNOUNCEMENTS] == Frequency.OFF
    assert saved(me)[Category.COACHING] == Frequency.IMMEDIATELY


def test_unsubscribing_twice_is_harmless(client, ctx):
    me = UserFactory()
    address = link(me, [Category.CURRICULUM])
    assert client.post(address).status_code == 200
    assert client.post(address).status_code == 200
    assert saved(me)[Category.CURRICULUM] == Frequency.OFF


def test_the_link_works_whoever_is_signed_in_and_only_for_its_owner(client, login_as, ctx):
    owner, someone = UserFactory(), UserFactory()
    login_as(someone)
    assert client.post(link(owner, [Category.COACHING])).status_code == 200
    assert saved(owner)[Category.COACHING] == Frequency.OFF
    assert saved(someone)[Category.COACHING] == Frequency.IMMEDIATELY


SALT = "fellowship.notifications.unsubscribe"


def _signed(secret: str, value: object) -> str:
    return str(URLSafeSerializer(secret, salt=SALT).dumps(value))


def _tampered(user: User) -> str:
    token = services.unsubscribe_token(user.id, [Category.COACHING])
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


#  what is wrong with the link
BAD_LINKS: dict[str, Callable[[User], str]] = {
    "not a token": lambda user: "not-a-real-token",
    "a changed signature": _tampered,
    "someone else's secret": lambda user: _signed("another secret", [user.id, ["coaching"]]),
    "an unknown category": lambda user: _signed(
        current_app.config["SECRET_KEY"], [user.id, ["gossip"]]
    ),
    "no category at all": lambda user: _signed(current_app.config["SECRET_KEY"], [user.id, []]),
    "not a person's id": lambda user: _signed(
        current_app.config["SECRET_KEY"], ["1", ["coaching"]]
    ),
    "a person who does not exist": lambda user: services.unsubscribe_token(
        2_000_000_000, [Category.COACHING]
    ),
}


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("bad", list(BAD_LINKS))
def test_a_bad_link_is_not_found_and_changes_nothing(client, ctx, bad, method):
    me = UserFactory()
    response = client.open(url_for_token(BAD_LINKS[bad](me)), method=method)
    assert response.status_code == 404
    assert saved(me) == dict.fromkeys(Category, Frequency.IMMEDIATELY)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_link_of_a_deactivated_person_is_not_found(client, ctx, method):
    me = UserFactory(is_active=False)
    response = client.open(link(me, [Category.COACHING]), method=method)
    assert response.status_code == 404
    assert saved(me)[Category.COACHING] == Frequency.IMMEDIATELY
