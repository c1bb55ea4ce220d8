"""The cohort's capstone settings, graduates' outcomes, and the staff links on the cohort page."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest
import sqlalchemy as sa

from fellowship import policy
from fellowship.audit import AuditEvent
from fellowship.capstones.models import GraduateOutcome, OutcomeKind
from fellowship.cohorts.models import Cohort, CohortRole, MembershipStatus
from fellowship.extensions import db
from tests.capstones.test_staff_helpers import capstone_tables, member, running_cohort, world
from tests.conftest import csrf_token, sign_in
from tests.factories import AdminFactory, StaffFactory


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def settings_url(cohort) -> str:
    return f"/cohorts/{cohort.id}/capstone-settings"


def post_settings(client, cohort, *, names: bool, hide: bool, version: int | None = None):
    data = {
        "csrf_token": csrf_token(client),
        "version": str(cohort.version if version is None else version),
    }
    if names:
        data["reviewer_names_visible"] = "y"
    if hide:
        data["hide_reviews_until_own"] = "y"
    return client.post(settings_url(cohort), data=data)


def saved_settings(cohort_id: int) -> dict:
    db.session.expire_all()
    return dict(db.session.get(Cohort, cohort_id).settings or {})


# Settings -----------------------------------------------------------------------------------


def test_the_settings_start_with_names_hidden_and_reviews_hidden_until_ones_own(client):
    w = world()
    sign_in(client, StaffFactory())
    response = client.get(settings_url(w.cohort))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    names = re.search(r'<input[^>]*name="reviewer_names_visible"[^>]*>', html).group(0)
    hide = re.search(r'<input[^>]*name="hide_reviews_until_own"[^>]*>', html).group(0)
    assert "checked" not in names
    assert "checked" in hide
    assert "Show reviewers’ names to fellows" in html


@pytest.mark.parametrize(("names", "hide"), [(True, True), (True, False), (False, False)])
def test_saving_the_settings_stores_them_bumps_the_cohort_and_audits(client, names, hide):
    w = world()
    w.cohort.settings = {"something_else": 7}
    db.session.commit()
    opened = w.cohort.version
    staff = StaffFactory()
    sign_in(client, staff)
    response = post_settings(client, w.cohort, names=names, hide=hide, version=opened)
    assert response.status_code == 302
    assert saved_settings(w.cohort.id) == {
        "something_else": 7,
        "reviewer_names_visible": names,
        "hide_reviews_until_own": hide,
    }
    assert db.session.get(Cohort, w.cohort.id).version == opened + 1
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "capstone_settings_changed")
    )
    assert event.actor_id == staff.id
    assert (event.target_type, event.target_id) == ("Cohort", w.cohort.id)
    defaults = {"reviewer_names_visible": False, "hide_reviews_until_own": True}
    chosen = {"reviewer_names_visible": names, "hide_reviews_until_own": hide}
    changed = {key: value for key, value in chosen.items() if defaults[key] != value}
    assert event.details["to"] == changed
    assert event.details["from"] == {key: defaults[key] for key in changed}
    assert "The capstone settings are saved." in client.get(settings_url(w.cohort)).get_data(
        as_text=True
    )


def test_saving_unchanged_settings_writes_nothing(client):
    w = world()
    sign_in(client, StaffFactory())
    before = capstone_tables()
    response = post_settings(client, w.cohort, names=False, hide=True)
    assert response.status_code == 302
    assert capstone_tables() == before
    assert "Nothing changed" in client.get(settings_url(w.cohort)).get_data(as_text=True)


def test_a_stale_settings_form_is_refused_with_the_choices_kept(client):
    w = world()
    opened = w.cohort.version
    w.cohort.name = "Renamed meanwhile"
    db.session.commit()
    sign_in(client, StaffFactory())
    before = capstone_tables()
    response = post_settings(client, w.cohort, names=True, hide=False, version=opened)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Someone else changed this cohort" in html
    names = re.search(r'<input[^>]*name="reviewer_names_visible"[^>]*>', html).group(0)
    assert "checked" in names  # what was chosen is kept
    assert f'name="version" type="hidden" value="{opened + 1}"' in html
    assert capstone_tables() == before


def test_the_settings_decide_what_fellows_and_reviewers_see(ctx):
    w = world()
    assert policy.can_see_reviewer_names(w.fellow, w.capstone) is False
    from fellowship.capstones import staff_services as services

    services.update_capstone_settings(
        StaffFactory(),
        w.cohort,
        reviewer_names_visible=True,
        hide_reviews_until_own=False,
        expected_version=w.cohort.version,
    )
    db.session.commit()
    policy.forget_cached_memberships()
    assert policy.can_see_reviewer_names(w.fellow, w.capstone) is True


# Outcomes ----------------------------------------------------------------------------------


def outcome(cohort, fellow, kind=OutcomeKind.LAUNCHED_SCHOOL, **values) -> GraduateOutcome:
    row = GraduateOutcome(cohort_id=cohort.id, fellow_id=fellow.id, kind=kind, **values)
    db.session.add(row)
    db.session.commit()
    return row


def test_the_outcomes_page_counts_graduates_outcomes_and_diverse_by_design_schools(client):
    cohort = running_cohort()
    done = MembershipStatus.COMPLETED
    ana = member(cohort, CohortRole.FELLOW, "Ana Alvarez", done)
    ben = member(cohort, CohortRole.FELLOW, "Ben Brooks", done)
    cy = member(cohort, CohortRole.FELLOW, "Cy Chen", done)
    member(cohort, CohortRole.FELLOW, "Dee Dorsey", done)  # nothing recorded yet
    member(cohort, CohortRole.FELLOW, "Ed Active")  # still in the program
    outcome(
        cohort,
        ana,
        school_name="Commons Academy",
        opened_on=date(2027, 8, 20),
        diverse_by_design=True,
        url="https://commons.example.org",
    )
    outcome(cohort, ben, school_name="Bridge School", diverse_by_design=False, url="javascript:x")
    outcome(cohort, cy, OutcomeKind.LEADERSHIP_ROLE, role_title="Principal")
    staff = StaffFactory()
    sign_in(client, staff)
    response = client.get(f"/cohorts/{cohort.id}/outcomes")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    plain = text_of(html)
    assert html.count("<h1") == 1
    assert "Graduates 4" in plain
    assert "Outcomes recorded 3" in plain
    assert "Schools launched 2" in plain
    assert "Of which diverse by design 1" in plain
    assert "1 graduate of this cohort launched a diverse-by-design school." in plain
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    names = [text_of(n).strip() for n in re.findall(r'<th scope="row"[^>]*>(.*?)</th>', body, re.S)]
    assert names == ["Ana Alvarez", "Ben Brooks", "Cy Chen", "Dee Dorsey"]
    assert "Ed Active" not in html
    assert "Commons Academy" in plain
    assert "Launched a school" in plain
    assert "Took a leadership role: Principal" in plain
    assert 'href="https://commons.example.org"' in html
    assert "javascript:" not in html
    assert "Not recorded yet" in plain
    for person in (ana, ben, cy):
        assert f'href="/cohorts/{cohort.id}/fellows/{person.id}/outcome"' in html
    assert "<caption" in html


def test_a_facilitator_reads_the_outcomes_without_recording_links(client):
    cohort = running_cohort()
    facilitator = member(cohort, CohortRole.FACILITATOR)
    ana = member(cohort, CohortRole.FELLOW, "Ana Alvarez", MembershipStatus.COMPLETED)
    outcome(cohort, ana, school_name="Commons Academy", diverse_by_design=True)
    sign_in(client, facilitator)
    html = client.get(f"/cohorts/{cohort.id}/outcomes").get_data(as_text=True)
    assert "Commons Academy" in html
    assert '/outcome"' not in html


def test_an_outcome_of_a_fellow_who_has_not_graduated_is_still_listed(client):
    cohort = running_cohort()
    ed = member(cohort, CohortRole.FELLOW, "Ed Early")
    outcome(cohort, ed, OutcomeKind.OTHER, note="Joined the district office.")
    sign_in(client, AdminFactory())
    plain = text_of(client.get(f"/cohorts/{cohort.id}/outcomes").get_data(as_text=True))
    assert "Ed Early (not graduated)" in plain
    assert "Graduates 0" in plain
    assert "Outcomes recorded 1" in plain


def test_no_graduates_yet_is_said_in_words(client):
    cohort = running_cohort()
    sign_in(client, StaffFactory())
    html = client.get(f"/cohorts/{cohort.id}/outcomes").get_data(as_text=True)
    assert "No graduates yet" in html
    assert "<table" not in html


# The cohort page's links -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "links"),
    [
        ("staff", {"Capstones", "Graduate outcomes", "Rubric", "Capstone settings"}),
        ("facilitator", {"Capstones", "Graduate outcomes", "Rubric"}),
        ("fellow", set()),
        ("reviewer", set()),
    ],
)
def test_the_cohort_page_links_the_team_to_the_capstone_pages(client, who, links):
    w = world()
    person = {
        "staff": StaffFactory,
        "facilitator": lambda: w.facilitator,
        "fellow": lambda: w.fellow,
        "reviewer": lambda: w.reviewer,
    }[who]()
    sign_in(client, person)
    html = client.get(f"/cohorts/{w.cohort.id}").get_data(as_text=True)
    shown = {
        label
        for label, path in {
            "Capstones": f"/cohorts/{w.cohort.id}/capstones",
            "Graduate outcomes": f"/cohorts/{w.cohort.id}/outcomes",
            "Rubric": f"/cohorts/{w.cohort.id}/rubric",
            "Capstone settings": f"/cohorts/{w.cohort.id}/capstone-settings",
        }.items()
        if f'href="{path}">{label}</a>' in html
    }
    assert shown == links
