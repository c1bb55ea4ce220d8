"""The integration settings page: admins choose the minority groups (at least one; white and
unknown never) and the small-cell threshold N (5-100); the first save creates the one row;
stale forms are refused keeping what was typed; every change is audited with before and
after; nobody else may open it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.extensions import db
from fellowship.integration import settings_services
from fellowship.integration.models import IntegrationSettings
from tests.conftest import csrf_token, sign_in
from tests.cycles.helpers import SchoolFactory, cycle_with_team
from tests.cycles.school_helpers import text_of
from tests.factories import AdminFactory, MembershipFactory, StaffFactory, UserFactory

PATH = "/integration/settings"
ALL_MINORITY = [
    "american_indian_alaska_native",
    "asian",
    "black",
    "hispanic_latino",
    "native_hawaiian_pacific_islander",
    "two_or_more",
]


def version_of(html: str) -> str:
    match = re.search(r'name="version" type="hidden" value="([^"]*)"', html)
    assert match, "no version on the form"
    return match.group(1)


def open_form(client) -> str:
    response = client.get(PATH)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def save(client, *, minority, threshold, html: str | None = None):
    html = html if html is not None else open_form(client)
    return client.post(
        PATH,
        data={
            "csrf_token": csrf_token(client),
            "version": version_of(html),
            "minority": minority,
            "threshold": threshold,
        },
    )


def stored() -> tuple | None:
    db.session.expire_all()
    row = db.session.get(IntegrationSettings, 1)
    if row is None:
        return None
    return (row.minority_groups, row.suppression_threshold, row.version, row.updated_by_id)


def audits() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "integration.settings_changed")
            .order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def admin(client):
    person = AdminFactory(name="Alma Admin")
    sign_in(client, person)
    return person


def test_the_page_shows_the_defaults_until_someone_saves_and_explains_each_setting(client, admin):
    html = open_form(client)
    text = text_of(html)
    assert stored() is None
    assert version_of(html) == "0"
    for value in ALL_MINORITY:
        assert re.search(rf'value="{value}" checked', html)
    assert 'value="white"' not in html
    assert 'name="threshold" type="text" value="10"' in html
    assert "Never: these are the defaults." in text
    for words in (
        "White students are never counted as minority",
        "left out of every share",
        "isolated (more than 50%)",
        "segregation indices",
        "shows a count from 1 to N − 1 as “<N”",
        "A larger N hides more",
    ):
        assert words in text


def test_the_first_save_creates_the_one_row_and_audits_before_and_after(client, admin):
    response = save(client, minority=["black", "hispanic_latino"], threshold="12")
    assert response.status_code == 302
    assert response.headers["Location"] == PATH
    assert stored() == ("black,hispanic_latino", 12, 1, admin.id)
    (event,) = audits()
    assert event.actor_id == admin.id
    assert event.details == {
        "before": {"minority_groups": ALL_MINORITY, "threshold": 10},
        "after": {"minority_groups": ["black", "hispanic_latino"], "threshold": 12},
    }
    text = text_of(open_form(client))
    assert "Black or African American; Hispanic or Latino" in text
    assert "Alma Admin" in text
    # A second change moves the version on and is audited from the saved values.
    save(client, minority=ALL_MINORITY, threshold="5")
    assert stored() == (",".join(ALL_MINORITY), 5, 2, admin.id)
    assert audits()[-1].details["before"] == {
        "minority_groups": ["black", "hispanic_latino"],
        "threshold": 12,
    }


def test_saving_the_same_settings_changes_nothing_and_audits_nothing(client, admin):
    response = save(client, minority=ALL_MINORITY, threshold="10")
    assert response.status_code == 302
    assert stored() is None
    assert audits() == []


#  minority            threshold   the message
BAD = [
    ([], "10", "Choose at least one group"),
    (["white"], "10", "White students are never counted as minority"),
    (["asian", "white"], "10", "White students are never counted as minority"),
    (["unknown"], "10", "left out of every share"),
    (["martian"], "10", "Choose only groups from the list."),
    (["asian"], "4", "N must be from 5 to 100."),
    (["asian"], "101", "N must be from 5 to 100."),
    (["asian"], "0", "N must be from 5 to 100."),
    (["asian"], "-3", "Enter N as a whole number"),
    (["asian"], "ten", "Enter N as a whole number"),
    (["asian"], "7.5", "Enter N as a whole number"),
    (["asian"], "", "Enter the small-cell threshold N"),
]


def test_bad_settings_get_a_message_keep_what_was_typed_and_change_nothing(client, admin):
    save(client, minority=["black", "asian"], threshold="11")
    before = stored()
    for minority, threshold, message in BAD:
        response = save(client, minority=minority, threshold=threshold)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (minority, threshold)
        assert message in text_of(html), (minority, threshold)
        assert f'name="threshold" type="text" value="{threshold}"' in html
        for value in minority:
            if value in ALL_MINORITY:
                assert re.search(rf'value="{value}" checked', html)
        assert stored() == before
    assert len(audits()) == 1


@pytest.mark.parametrize("threshold", ["5", "100"])
def test_the_threshold_may_be_anything_from_5_to_100(client, admin, threshold):
    assert save(client, minority=["asian"], threshold=threshold).status_code == 302
    assert stored()[1] == int(threshold)


@pytest.mark.parametrize("existing", [False, True], ids=["no row yet", "a saved row"])
def test_a_form_opened_before_someone_elses_save_is_refused_and_keeps_what_was_typed(
    client, admin, existing
):
    if existing:
        save(client, minority=["black"], threshold="10")
    stale_html = open_form(client)
    other_id = AdminFactory(name="Otto Other").id
    with client.application.test_request_context():
        settings_services.save_settings(
            db.session.get(User, other_id),
            settings_services.SettingsData(
                minority=["asian", "black"],
                threshold="20",
                version=int(version_of(stale_html)),
            ),
        )
        db.session.commit()
    before = stored()
    response = save(client, minority=["hispanic_latino"], threshold="15", html=stale_html)
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert response.status_code == 200
    assert "Not saved: someone else changed the settings" in text
    assert "Asian; Black or African American" in text  # the saved settings now
    assert 'name="threshold" type="text" value="15"' in html
    assert re.search(r'value="hispanic_latino" checked', html)
    assert not re.search(r'value="asian" checked', html)
    assert stored() == before
    # Saving again from this page is a deliberate choice made after seeing theirs.
    assert save(client, minority=["hispanic_latino"], threshold="15", html=html).status_code == 302
    assert stored()[:2] == ("hispanic_latino", 15)


def _person(who: str):
    if who == "admin":
        return AdminFactory()
    if who == "staff":
        return StaffFactory()
    if who == "lead teacher":
        return cycle_with_team(school_id=SchoolFactory().id).lead
    if who in ("fellow", "coach"):
        role = CohortRole.FELLOW if who == "fellow" else CohortRole.COACH
        return db.session.get(User, MembershipFactory(role=role).user_id)
    return UserFactory()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("staff", 403),
        ("lead teacher", 403),
        ("fellow", 403),
        ("coach", 403),
        ("member", 403),
    ],
)
def test_only_admins_may_open_and_change_the_settings(client, who, status):
    sign_in(client, _person(who))
    assert client.get(PATH).status_code == status
    response = client.post(
        PATH,
        data={
            "csrf_token": csrf_token(client),
            "version": "0",
            "minority": ["asian"],
            "threshold": "20",
        },
    )
    if status == 200:
        assert response.status_code == 302
        assert stored()[:2] == ("asian", 20)
    else:
        assert response.status_code == 403
        assert stored() is None
        assert audits() == []


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client):
    response = client.get(PATH)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
