"""Every school and setup route, the way the access matrix walks them: staff and admins get
the page (or the redirect after a POST); a signed-in member with no cycle gets 403 and
nothing changes; nobody signed out gets further than the sign-in page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import Role
from fellowship.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.cycles.helpers import CycleMemberFactory, cycle_with_team
from tests.cycles.setup_helpers import snapshot
from tests.factories import UserFactory

ROUTES = {
    "cycles.schools": {},
    "cycles.school_new": {},
    "cycles.school_edit": {"school_id": "SCHOOL"},
    "cycles.school_show": {"school_id": "SCHOOL"},
    "cycles.schools_import": {},
    "cycles.index": {},
    "cycles.new": {},
    "cycles.members": {"cycle_id": "CYCLE"},
    "cycles.member_add": {"cycle_id": "CYCLE"},
    "cycles.member_update": {"cycle_id": "CYCLE", "membership_id": "CYCLE_MEMBER"},
    "cycles.member_remove": {"cycle_id": "CYCLE", "membership_id": "CYCLE_MEMBER"},
    "cycles.open_next": {"cycle_id": "CYCLE"},
    "cycles.open_next_all": {},
}


def test_the_routes_of_this_area_are_all_listed_here(app):
    ours = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("cycles.")
        and rule.endpoint.split(".")[1].startswith(
            ("school", "index", "new", "member", "open_next")
        )
    }
    assert ours == set(ROUTES)


@pytest.mark.parametrize("who", ["anonymous", "member", "staff", "admin"])
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_only_staff_get_through(app, client, endpoint, who):
    team = cycle_with_team()
    samples = {
        "SCHOOL": team.cycle.school_id,
        "CYCLE": team.cycle.id,
        "CYCLE_MEMBER": CycleMemberFactory(cycle_id=team.cycle.id).id,
    }
    if who != "anonymous":
        role = {"member": Role.MEMBER, "staff": Role.STAFF, "admin": Role.ADMIN}[who]
        sign_in(client, UserFactory(role=role))
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **{k: samples[v] for k, v in ROUTES[endpoint].items()})
    methods = next(r.methods for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    method = "GET" if "GET" in methods else "POST"
    data = {}
    if method == "POST":
        data["csrf_token"] = csrf_token(client)
    before = snapshot()
    events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    response = client.open(url, method=method, data=data)
    if who in {"staff", "admin"}:
        assert response.status_code in {200, 302}, response.status_code
        assert "/login" not in response.headers.get("Location", "")
        return
    assert snapshot() == before
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events
    if who == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403
