"""What a graduate did after the program: recorded by the graduate or staff, one row per
fellow per cohort, the school's details when a school was launched, audited."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.capstones.models import CapstoneStatus, GraduateOutcome, OutcomeKind
from fellowship.cohorts.models import CohortMembership, MembershipStatus
from fellowship.extensions import db
from tests.capstones.test_fellow_helpers import capstone, count, snapshot, version, world
from tests.conftest import csrf_token, rows_for_module, sign_in

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def outcome_path(w, fellow=None) -> str:
    return f"/cohorts/{w.cohort.id}/fellows/{(fellow or w.fellow).id}/outcome"


def school(client, path: str, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "csrf_token": csrf_token(client),
        "kind": "launched_school",
        "school_name": "Riverside Community School",
        "opened_on": "2028-08-20",
        "diverse_by_design": "yes",
        "url": "https://riverside.example.org",
        "role_title": "",
        "note": "Opened with 120 students.",
        "token": "",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def the_outcome() -> GraduateOutcome:
    db.session.expire_all()
    return db.session.scalar(sa.select(GraduateOutcome))


def test_the_outcome_form_asks_what_the_graduate_did(w, client):
    sign_in(client, w.fellow)
    html = client.get(outcome_path(w)).get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "What you did after the program" in html
    for words in ("Launched a school", "Took a leadership role", "Something else"):
        assert words in html
    assert "Is the school diverse by design?" in html
    assert 'type="radio"' in html
    assert "<legend" in html


def test_a_graduate_records_the_school_they_launched(w, client):
    cap = capstone(w, CapstoneStatus.APPROVED)
    version(cap, 1)
    sign_in(client, w.fellow)
    path = outcome_path(w)
    response = client.post(path, data=school(client, path))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/capstones/{cap.id}#outcome")
    saved = the_outcome()
    assert saved.kind == OutcomeKind.LAUNCHED_SCHOOL
    assert saved.school_name == "Riverside Community School"
    assert saved.opened_on.isoformat() == "2028-08-20"
    assert saved.diverse_by_design is True
    assert saved.url == "https://riverside.example.org"
    assert (saved.cohort_id, saved.fellow_id, saved.recorded_by_id) == (
        w.cohort.id,
        w.fellow.id,
        w.fellow.id,
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "outcome_recorded"))
    assert event.details["kind"] == "launched_school"
    assert event.details["diverse_by_design"] is True
    html = client.get(f"/capstones/{cap.id}").get_data(as_text=True)
    assert "what you did after the program is recorded" in html
    assert "Riverside Community School" in html
    assert 'href="https://riverside.example.org"' in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kind": ""}, "kind", "Choose what you did after the program."),
        ({"kind": "astronaut"}, "kind", "Not a valid choice"),
        ({"school_name": ""}, "school_name", "Enter the name of the school."),
        ({"diverse_by_design": ""}, "diverse_by_design", "Say whether the school is diverse"),
        ({"diverse_by_design": "maybe"}, "diverse_by_design", "Choose yes or no."),
        ({"url": "javascript:alert(1)"}, "url", "Only web addresses starting with https://"),
        ({"url": "https://"}, "url", "Enter a whole web address"),
        ({"opened_on": "20/08/2028"}, "opened_on", "Enter the date, like 2026-09-15."),
        ({"opened_on": "9999-12-31"}, "opened_on", "Enter a date between 1950 and 2200."),
        ({"school_name": "s" * 201}, "school_name", "200 characters or fewer"),
        ({"note": "n" * 5001}, "note", "Keep the note to 5,000 characters or fewer."),
        (
            {"kind": "leadership_role", "role_title": ""},
            "role_title",
            "Enter the title of the role.",
        ),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
    w, client, overrides, field, message
):
    sign_in(client, w.fellow)
    path = outcome_path(w)
    before = snapshot()
    data = school(client, path, **{"note": "Typed note", **overrides})
    response = client.post(path, data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert "Typed note" in html or field == "note"
    assert snapshot() == before


def test_correcting_the_outcome_updates_the_one_row_and_clears_the_school(w, client):
    sign_in(client, w.fellow)
    path = outcome_path(w)
    client.post(path, data=school(client, path))
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    assert 'value="Riverside Community School"' in html
    response = client.post(
        path,
        data=school(
            client,
            path,
            kind="leadership_role",
            role_title="Principal of Lincoln Middle School",
            token=token,
        ),
    )
    assert response.status_code == 302
    assert count(GraduateOutcome) == 1
    saved = the_outcome()
    assert saved.kind == OutcomeKind.LEADERSHIP_ROLE
    assert saved.role_title == "Principal of Lincoln Middle School"
    assert (saved.school_name, saved.opened_on, saved.diverse_by_design, saved.url) == (
        "",
        None,
        None,
        None,
    )


def test_a_stale_outcome_form_is_refused_and_keeps_what_was_typed(w, client):
    sign_in(client, w.fellow)
    path = outcome_path(w)
    opened = school(client, path)  # opened before anything was saved
    sign_in(client, w.staff)
    client.post(path, data=school(client, path, school_name="Saved by staff"))
    sign_in(client, w.fellow)
    opened["csrf_token"] = csrf_token(client)
    response = client.post(path, data={**opened, "school_name": "Typed by the fellow"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Not saved: someone else saved this outcome" in html
    assert "Saved by staff" in html
    assert 'value="Typed by the fellow"' in html
    assert the_outcome().school_name == "Saved by staff"
    assert count(GraduateOutcome) == 1


def test_staff_record_a_graduates_outcome(w, client):
    sign_in(client, w.staff)
    path = outcome_path(w)
    html = client.get(path).get_data(as_text=True)
    assert "What Fatima Fellow did after the program" in html
    response = client.post(path, data=school(client, path, kind="other", note="Policy work"))
    assert response.status_code == 302
    saved = the_outcome()
    assert (saved.kind, saved.note, saved.recorded_by_id) == (
        OutcomeKind.OTHER,
        "Policy work",
        w.staff.id,
    )
    assert saved.school_name == ""


@pytest.mark.parametrize(
    "who",
    ["another fellow", "the fellow's coach", "facilitator", "assigned reviewer"],
)
def test_nobody_else_records_a_graduates_outcome(w, client, who):
    sign_in(client, w.person(who))
    path = outcome_path(w)
    assert client.get(path).status_code == 403
    token = csrf_token(client)
    assert client.post(path, data={"csrf_token": token, "kind": "other"}).status_code == 403
    assert count(GraduateOutcome) == 0


def test_an_alumni_graduate_records_their_outcome_and_a_withdrawn_fellow_has_none(w, client):
    membership = db.session.scalar(
        sa.select(CohortMembership).where(CohortMembership.user_id == w.fellow.id)
    )
    membership.status = MembershipStatus.COMPLETED
    db.session.commit()
    sign_in(client, w.fellow)
    assert client.get(outcome_path(w)).status_code == 200
    membership.status = MembershipStatus.WITHDRAWN
    db.session.commit()
    assert client.get(outcome_path(w)).status_code == 403
    sign_in(client, w.staff)
    assert client.get(outcome_path(w)).status_code == 404


def test_staff_get_404_for_someone_who_is_not_a_fellow_of_the_cohort(w, client):
    sign_in(client, w.staff)
    assert client.get(outcome_path(w, w.coach)).status_code == 404
    assert client.get(outcome_path(w, w.outsider)).status_code == 404
