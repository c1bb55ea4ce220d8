"""Due-date extensions: the rules as a table, one row per fellow and module, audited grants
and removals, the page, bad input, and who may."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cohorts.models import CohortRole, CohortStatus, MembershipStatus
from fellowship.curriculum import facilitation_services as services
from fellowship.curriculum.models import DueDateExtension
from fellowship.extensions import db
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.curriculum.facilitation_helpers import ahead, member, module, running_cohort, world
from tests.curriculum.helpers import ExtensionFactory
from tests.factories import AdminFactory, StaffFactory, UserFactory

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def extensions() -> list[DueDateExtension]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(DueDateExtension).order_by(DueDateExtension.id)))


def audit_rows(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


# The rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("a day after the due date", None, None),
        ("a month after the due date", None, None),
        ("on the due date", "due_on", "Choose a date after the module's due date"),
        ("before the due date", "due_on", "Choose a date after the module's due date"),
        ("no date", "due_on", "Choose a date after the module's due date"),
        ("a module without a due date", "due_on", "This module has no due date"),
        ("a fellow of another cohort", "fellow", "Choose one of the cohort's active fellows."),
        ("a withdrawn fellow", "fellow", "Choose one of the cohort's active fellows."),
        ("a coach", "fellow", "Choose one of the cohort's active fellows."),
        ("nobody", "fellow", "Choose one of the cohort's active fellows."),
        ("a reason of 500 characters", None, None),
        ("a reason of 501 characters", "reason", "The reason can be at most 500 characters."),
    ],
)
def test_the_extension_rules(w, ctx, case, field, message):
    due = w.module.due_on
    fellow_id = w.fellow.id
    new_date = due + timedelta(days=1)
    reason = "Family emergency"
    target = w.module
    if case == "a month after the due date":
        new_date = due + timedelta(days=31)
    elif case == "on the due date":
        new_date = due
    elif case == "before the due date":
        new_date = due - timedelta(days=3)
    elif case == "no date":
        new_date = None
    elif case == "a module without a due date":
        target = module(w.cohort, "Open-ended", due_on=None)
    elif case == "a fellow of another cohort":
        fellow_id = member(running_cohort(), CohortRole.FELLOW).id
    elif case == "a withdrawn fellow":
        fellow_id = member(w.cohort, CohortRole.FELLOW, status=MembershipStatus.WITHDRAWN).id
    elif case == "a coach":
        fellow_id = w.coach.id
    elif case == "nobody":
        fellow_id = 999_999
    elif case == "a reason of 500 characters":
        reason = "r" * 500
    elif case == "a reason of 501 characters":
        reason = "r" * 501
    if field is None:
        extension = services.grant_extension(w.facilitator, target, fellow_id, new_date, reason)
        assert (extension.fellow_id, extension.due_on, extension.reason) == (
            fellow_id,
            new_date,
            reason,
        )
        assert extension.granted_by_id == w.facilitator.id
        return
    with pytest.raises(services.CurriculumError) as raised:
        services.grant_extension(w.facilitator, target, fellow_id, new_date, reason)
    assert raised.value.field == field
    assert raised.value.message.startswith(message)
    db.session.rollback()
    assert extensions() == []
    assert audit_rows("extension_granted") == []


def test_granting_again_replaces_the_date_in_one_row_and_audits_both_dates(w, ctx):
    first_date = w.module.due_on + timedelta(days=7)
    second_date = w.module.due_on + timedelta(days=21)
    services.grant_extension(w.facilitator, w.module, w.fellow.id, first_date, "Surgery")
    db.session.commit()
    staff = StaffFactory()
    services.grant_extension(staff, w.module, w.fellow.id, second_date, "Longer recovery")
    db.session.commit()
    [row] = extensions()
    assert (row.due_on, row.reason, row.granted_by_id) == (second_date, "Longer recovery", staff.id)
    first, second = audit_rows("extension_granted")
    assert first.details["old_due_on"] is None
    assert first.details["new_due_on"] == first_date.isoformat()
    assert second.details["old_due_on"] == first_date.isoformat()
    assert second.details["new_due_on"] == second_date.isoformat()
    assert second.actor_id == staff.id
    assert second.details["fellow_id"] == w.fellow.id
    assert second.details["module_id"] == w.module.id


def test_removing_an_extension_audits_the_date_it_had(w, ctx):
    extension = ExtensionFactory(module_id=w.module.id, fellow_id=w.fellow.id, due_on=ahead(40))
    services.remove_extension(w.facilitator, extension)
    db.session.commit()
    assert extensions() == []
    [event] = audit_rows("extension_removed")
    assert event.details["old_due_on"] == ahead(40).isoformat()
    assert event.details["fellow_id"] == w.fellow.id
    assert event.actor_id == w.facilitator.id


# The page -------------------------------------------------------------------------------------


def url(w) -> str:
    return f"/modules/{w.module.id}/extensions"


def grant(client, w, **data):
    form = {
        "csrf_token": csrf_token(client),
        "fellow": str(w.fellow.id),
        "due_on": (w.module.due_on + timedelta(days=14)).isoformat(),
        "reason": "Family emergency",
    }
    form.update({k: v for k, v in data.items() if v is not None})
    return client.post(url(w), data=form)


def test_the_page_lists_the_fellows_with_their_extensions_and_a_labelled_form(w, client):
    ExtensionFactory(
        module_id=w.module.id,
        fellow_id=w.other_fellow.id,
        due_on=ahead(40),
        reason="Surgery",
        granted_by_id=w.facilitator.id,
    )
    gone = member(w.cohort, CohortRole.FELLOW, "Wanda Withdrawn", MembershipStatus.WITHDRAWN)
    member(w.cohort, CohortRole.FELLOW, "Walt Withdrawn", MembershipStatus.WITHDRAWN)
    ExtensionFactory(module_id=w.module.id, fellow_id=gone.id, due_on=ahead(50))
    sign_in(client, w.facilitator)
    response = client.get(url(w))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "Extensions for “Coalition mapping”" in html
    assert "<caption" in html
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)) for r in body.split("<tr>")[1:]]
    assert [r.split()[0] for r in rows] == ["Felix", "Olga", "Wanda"]
    assert "Surgery" in rows[1]
    assert "Fay Facilitator" in rows[1]
    assert "Remove the extension of Olga Otherfellow" in rows[1]
    assert "no longer active" in rows[2]
    assert "Walt" not in html
    assert '<label class="usa-label" for="fellow">Fellow' in html
    assert '<label class="usa-label" for="due_on">New due date' in html
    assert "(optional)" in html.split('for="reason"', 1)[1][:80]
    # The select offers the active fellows only.
    select = html.split('name="fellow"', 1)[1].split("</select>", 1)[0]
    assert "Felix Fellow" in select
    assert "Olga Otherfellow" in select
    assert "Wanda" not in select
    assert "Cora Coach" not in select


def test_a_link_from_a_fellow_preselects_them(w, client):
    sign_in(client, w.facilitator)
    html = client.get(f"{url(w)}?fellow={w.other_fellow.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{w.other_fellow.id}">', html)


def test_a_facilitator_grants_changes_and_removes_an_extension(w, client):
    sign_in(client, w.facilitator)
    response = grant(client, w)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(w))
    [row] = extensions()
    assert row.due_on == w.module.due_on + timedelta(days=14)
    html = client.get(url(w)).get_data(as_text=True)
    assert "Felix Fellow now has until" in html
    later = (w.module.due_on + timedelta(days=30)).isoformat()
    assert grant(client, w, due_on=later, reason="").status_code == 302
    [row] = extensions()
    assert (row.due_on.isoformat(), row.reason) == (later, "")
    token = csrf_token(client)
    response = client.post(f"/extensions/{row.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert extensions() == []
    html = client.get(url(w)).get_data(as_text=True)
    assert "The extension of Felix Fellow is removed" in html
    assert len(audit_rows("extension_granted")) == 2
    assert len(audit_rows("extension_removed")) == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"due_on": ""}, "due_on", "Enter the date, like 2026-09-15."),
        ({"due_on": "next tuesday"}, "due_on", "Enter the date, like 2026-09-15."),
        ({"due_on": "BEFORE"}, "due_on", "Choose a date after the module&#39;s due date"),
        ({"fellow": ""}, "fellow", "Choose a fellow."),
        ({"fellow": "COACH"}, "fellow", "Not a valid choice"),
        ({"reason": "x" * 501}, "reason", "The reason can be at most 500 characters."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_kept(w, client, data, field, message):
    if data.get("due_on") == "BEFORE":
        data = {"due_on": (w.module.due_on - timedelta(days=1)).isoformat()}
    if data.get("fellow") == "COACH":
        data = {"fellow": str(w.coach.id)}
    sign_in(client, w.facilitator)
    response = grant(client, w, **data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    error = re.search(rf'<span class="usa-error-message" id="{field}-error">([^<]*)', html)
    assert error, html
    assert error.group(1).startswith(message)
    if "reason" in data:
        assert data["reason"] in html
    assert extensions() == []
    assert audit_rows("extension_granted") == []


def test_a_module_without_a_due_date_cannot_have_extensions(w, client):
    open_ended = module(w.cohort, "Open-ended", due_on=None)
    sign_in(client, w.facilitator)
    html = client.get(f"/modules/{open_ended.id}/extensions").get_data(as_text=True)
    assert "This module has no due date, so it cannot have extensions" in html
    assert 'name="due_on"' not in html
    response = client.post(
        f"/modules/{open_ended.id}/extensions",
        data={
            "csrf_token": csrf_token(client),
            "fellow": str(w.fellow.id),
            "due_on": ahead(30).isoformat(),
        },
    )
    assert response.status_code == 200
    assert extensions() == []


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("facilitator", True),
        ("staff", True),
        ("admin", True),
        ("former facilitator (completed)", False),
        ("fellow", False),
        ("coach", False),
        ("reviewer", False),
        ("facilitator of another cohort", False),
        ("member without membership", False),
    ],
)
def test_who_may_grant_and_remove_extensions(w, client, who, allowed):
    existing = ExtensionFactory(module_id=w.module.id, fellow_id=w.other_fellow.id)
    viewer = {
        "facilitator": lambda: w.facilitator,
        "staff": StaffFactory,
        "admin": AdminFactory,
        "former facilitator (completed)": lambda: member(
            w.cohort, CohortRole.FACILITATOR, status=MembershipStatus.COMPLETED
        ),
        "fellow": lambda: w.fellow,
        "coach": lambda: w.coach,
        "reviewer": lambda: w.reviewer,
        "facilitator of another cohort": lambda: member(running_cohort(), CohortRole.FACILITATOR),
        "member without membership": UserFactory,
    }[who]()
    sign_in(client, viewer)
    assert client.get(url(w)).status_code == (200 if allowed else 403)
    before = [(e.id, e.fellow_id, e.due_on) for e in extensions()]
    assert grant(client, w).status_code == (302 if allowed else 403)
    token = csrf_token(client)
    response = client.post(f"/extensions/{existing.id}/delete", data={"csrf_token": token})
    assert response.status_code == (302 if allowed else 403)
    if not allowed:
        assert [(e.id, e.fellow_id, e.due_on) for e in extensions()] == before
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_nobody_grants_extensions_in_an_archived_cohort(w, client):
    w.cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    sign_in(client, StaffFactory())
    assert client.get(url(w)).status_code == 403
    assert grant(client, w).status_code == 403
    assert extensions() == []


def test_an_unknown_extension_is_not_found(w, client):
    sign_in(client, w.facilitator)
    token = csrf_token(client)
    assert client.post("/extensions/999999/delete", data={"csrf_token": token}).status_code == 404
    assert client.get("/modules/999999/extensions").status_code == 404
