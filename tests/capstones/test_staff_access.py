"""Who may use the staff pages of capstones: every route × every relationship, and nothing
written for a refused request. An archived cohort's pages are read-only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fellowship.cohorts.models import CohortRole, CohortStatus
from fellowship.extensions import db
from tests.capstones.test_staff_helpers import World, capstone_tables, member, running_cohort, world
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.factories import AdminFactory, StaffFactory, UserFactory

shared_world = rows_for_module(world)


@pytest.fixture
def w(shared_world, request):
    """The world most tests here read, built once for the module."""
    return shared_world.thaw_for(request)


@dataclass(frozen=True)
class Route:
    method: str
    path: Callable[[World], str]
    data: Callable[[World], dict[str, Any]] = lambda w: {}
    staff_only: bool = False  # facilitators may not (the cohort's settings)


ROUTES = {
    "the pipeline": Route("GET", lambda w: f"/cohorts/{w.cohort.id}/capstones"),
    "graduate outcomes": Route("GET", lambda w: f"/cohorts/{w.cohort.id}/outcomes"),
    "the reviewers page": Route("GET", lambda w: f"/capstone-versions/{w.version.id}/reviewers"),
    "assigning a reviewer": Route(
        "POST",
        lambda w: f"/capstone-versions/{w.version.id}/reviewers",
        lambda w: {"reviewers": [str(w.second_reviewer.id)]},
    ),
    "unassigning a reviewer": Route(
        "POST", lambda w: f"/review-assignments/{w.assignment.id}/delete"
    ),
    "the decision page": Route("GET", lambda w: f"/capstone-versions/{w.version.id}/decision"),
    "recording a decision": Route(
        "POST",
        lambda w: f"/capstone-versions/{w.version.id}/decision",
        lambda w: {"outcome": "approve", "message": "Approved.", "version": w.capstone.version},
    ),
    "the settings page": Route(
        "GET", lambda w: f"/cohorts/{w.cohort.id}/capstone-settings", staff_only=True
    ),
    "saving the settings": Route(
        "POST",
        lambda w: f"/cohorts/{w.cohort.id}/capstone-settings",
        lambda w: {"reviewer_names_visible": "y", "version": w.cohort.version},
        staff_only=True,
    ),
}

PEOPLE: dict[str, Callable[[World], Any]] = {
    "the fellow": lambda w: w.fellow,
    "another fellow": lambda w: w.other_fellow,
    "the fellow's coach": lambda w: w.coach,
    "the assigned reviewer": lambda w: w.reviewer,
    "an unassigned reviewer": lambda w: w.second_reviewer,
    "a facilitator of another cohort": lambda w: member(running_cohort(), CohortRole.FACILITATOR),
    "a member without membership": lambda w: UserFactory(),
    "the cohort's facilitator": lambda w: w.facilitator,
    "staff": lambda w: StaffFactory(),
    "an admin": lambda w: AdminFactory(),
}
TEAM = {"the cohort's facilitator", "staff", "an admin"}
STAFF = {"staff", "an admin"}


def request(client, route: Route, w: World):
    if route.method == "GET":
        return client.get(route.path(w))
    data = {"csrf_token": csrf_token(client), **route.data(w)}
    return client.post(route.path(w), data=data)


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize("route", list(ROUTES))
def test_only_the_cohorts_team_uses_the_staff_pages_and_a_refusal_writes_nothing(
    w, client, route, who
):
    person = PEOPLE[who](w)
    sign_in(client, person)
    chosen = ROUTES[route]
    allowed = who in (STAFF if chosen.staff_only else TEAM)
    before = capstone_tables()
    response = request(client, chosen, w)
    if allowed:
        assert response.status_code == (200 if chosen.method == "GET" else 302)
    else:
        assert response.status_code == 403
        assert "The Commons School" not in response.get_data(as_text=True)
        assert capstone_tables() == before


def test_signed_out_people_are_sent_to_sign_in(w, client):
    for route in ROUTES.values():
        response = (
            client.get(route.path(w)) if route.method == "GET" else client.post(route.path(w))
        )
        assert response.status_code in (302, 400)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


def test_a_former_facilitator_reads_the_pipeline_but_changes_nothing(client):
    from fellowship.cohorts.models import CohortMembership, MembershipStatus

    w = world()
    membership = db.session.query(CohortMembership).filter_by(user_id=w.facilitator.id).one()
    membership.status = MembershipStatus.COMPLETED
    db.session.commit()
    sign_in(client, w.facilitator)
    html = client.get(f"/cohorts/{w.cohort.id}/capstones").get_data(as_text=True)
    assert "The Commons School" in html
    assert "Record decision" not in html
    assert "Assign reviewers" not in html
    before = capstone_tables()
    for name in ("assigning a reviewer", "unassigning a reviewer", "recording a decision"):
        assert request(client, ROUTES[name], w).status_code == 403
    assert capstone_tables() == before


@pytest.mark.parametrize("route", list(ROUTES))
def test_an_archived_cohort_is_read_only_for_staff(w, client, route):
    w.cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    sign_in(client, StaffFactory())
    chosen = ROUTES[route]
    before = capstone_tables()
    response = request(client, chosen, w)
    if chosen.method == "POST" or chosen.staff_only:
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert 'name="reviewers"' not in html
        assert 'name="message"' not in html
        assert "Record decision" not in html
    assert capstone_tables() == before


def test_a_working_draft_is_not_found_on_the_staff_pages(client):
    from tests.capstones.helpers import VersionFactory

    w = world()
    draft = VersionFactory(capstone_id=w.capstone.id, number=2, submitted_at=None)
    sign_in(client, StaffFactory())
    assert client.get(f"/capstone-versions/{draft.id}/reviewers").status_code == 404
    assert client.get(f"/capstone-versions/{draft.id}/decision").status_code == 404
    assert client.get("/capstone-versions/999999/decision").status_code == 404
    assert client.get("/review-assignments/999999/delete").status_code == 405
    assert client.get("/cohorts/999999/capstones").status_code == 404
