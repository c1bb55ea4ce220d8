"""The email preferences page: a choice per category, security email always on, saved with
a message; a value that is not one of the choices is refused next to its field and nothing
is saved."""

from __future__ import annotations

import re

import pytest

from fellowship.auth.models import User
from fellowship.extensions import db
from fellowship.notifications import services
from fellowship.notifications.models import Category, Frequency
from tests.conftest import csrf_token
from tests.factories import UserFactory

URL = "/notifications/preferences"
EVERY_DEFAULT = {category.value: "immediately" for category in Category}


def saved(user: User) -> dict[Category, Frequency]:
    db.session.expire_all()
    return services.preferences_of(db.session.get(User, user.id))


def checked(html: str, name: str) -> str | None:
    """The value of the checked radio button of `name`."""
    for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', html):
        if re.search(r"\bchecked\b", tag):
            value = re.search(r'value="([^"]*)"', tag)
            return value.group(1) if value else None
    return None


def test_the_page_has_a_group_of_choices_for_each_category(client, login_as):
    login_as(UserFactory())
    html = client.get(URL).get_data(as_text=True)
    assert html.count("<fieldset") == len(Category)
    legend = re.search(r'<fieldset[^>]*id="coaching".*?<legend[^>]*>(.*?)</legend>', html, re.S)
    assert legend
    text = re.sub(r"<[^>]+>", "", legend.group(1))
    assert text == "Coaching — check-ins shared with you, action items, check-in reminders"
    for label in ("Immediately", "Daily digest", "Weekly digest", "Off"):
        assert html.count(f">{label}</label>") == len(Category)
    assert all(checked(html, category.value) == "immediately" for category in Category)
    assert "security email cannot be turned off" in html
    assert "password reset, sign-in and invitation emails" in html


def test_the_page_shows_what_the_person_chose_before(client, login_as):
    me = UserFactory()
    services.set_preferences(me, {Category.CAPSTONES: Frequency.WEEKLY})
    db.session.commit()
    login_as(me)
    html = client.get(URL).get_data(as_text=True)
    assert checked(html, "capstones") == "weekly"
    assert checked(html, "coaching") == "immediately"


#  what is chosen                                          what is stored
CHOICES = [
    ({"coaching": "daily"}, {Category.COACHING: Frequency.DAILY}),
    ({"curriculum": "weekly", "cycles": "off"}, {
        Category.CURRICULUM: Frequency.WEEKLY, Category.CYCLES: Frequency.OFF}),
    ({c.value: "off" for c in Category}, dict.fromkeys(Category, Frequency.OFF)),
    ({}, {}),
]  # fmt: skip


@pytest.mark.parametrize(("chosen", "stored"), CHOICES)
def test_saving_stores_each_categorys_choice(client, login_as, chosen, stored):
    me = UserFactory()
    login_as(me)
    token = csrf_token(client)
    response = client.post(URL, data={"csrf_token": token, **EVERY_DEFAULT, **chosen})
    assert response.status_code == 302
    assert response.headers["Location"] == URL
    expected = dict.fromkeys(Category, Frequency.IMMEDIATELY) | stored
    assert saved(me) == expected
    assert "Your email preferences have been saved." in client.get(URL).get_data(as_text=True)


def test_saving_again_can_turn_a_category_back_on(client, login_as):
    me = UserFactory()
    services.set_preferences(me, dict.fromkeys(Category, Frequency.OFF))
    db.session.commit()
    login_as(me)
    token = csrf_token(client)
    data = {c.value: "off" for c in Category} | {"announcements": "immediately"}
    client.post(URL, data={"csrf_token": token, **data})
    assert saved(me)[Category.ANNOUNCEMENTS] == Frequency.IMMEDIATELY
    assert saved(me)[Category.COACHING] == Frequency.OFF


#  a bad answer for coaching
BAD = ["sometimes", "", "IMMEDIATELY", "daily\x01", None]


@pytest.mark.parametrize("bad", BAD)
def test_a_value_not_among_the_choices_is_refused_next_to_its_field(client, login_as, bad):
    me = UserFactory()
    login_as(me)
    token = csrf_token(client)
    data = {"csrf_token": token, **EVERY_DEFAULT, "curriculum": "weekly"}
    if bad is None:
        del data["coaching"]
    else:
        data["coaching"] = bad
    response = client.post(URL, data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(r'<span class="usa-error-message" id="coaching-error">([^<]*)</span>', html)
    assert error
    assert error.group(1) == "Choose how often to get these emails."
    assert 'aria-describedby="coaching-error"' in html
    assert 'href="#coaching"' in html  # the summary at the top links to the field
    assert checked(html, "curriculum") == "weekly"  # what was chosen is kept
    assert saved(me) == dict.fromkeys(Category, Frequency.IMMEDIATELY)


def test_saving_without_the_form_token_is_refused(client, login_as):
    me = UserFactory()
    login_as(me)
    response = client.post(URL, data={**EVERY_DEFAULT, "coaching": "off"})
    assert response.status_code == 400
    assert saved(me)[Category.COACHING] == Frequency.IMMEDIATELY


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("page", ["/notifications/", "/profile"])
def test_the_preferences_page_is_linked_from_the_notifications_and_profile_pages(
    client, login_as, page
):
    login_as(UserFactory())
    assert f'href="{URL}"' in client.get(page).get_data(as_text=True)


def test_the_page_is_in_the_persons_language(client, login_as):
    login_as(UserFactory(locale="es"))
    html = client.get(URL).get_data(as_text=True)
    assert '<html lang="es">' in html
