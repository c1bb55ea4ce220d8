"""A private note is found only on its writer's pages: never anywhere else.

A coach writes a sentinel into the private notes of a shared check-in and of a draft (through
the real forms), shares, edits, gets a reply; the fellow is then reassigned and the next coach
writes a sentinel of their own. Then every reader walks every page of the app that takes
only ids we can fill in (whatever pages exist when the suite runs: caseloads, rhythm,
exports ...), fetches their calendar feeds, and every email in the outbox is read. Each
sentinel must appear only in responses served to the coach who wrote it.
"""

from __future__ import annotations

import ast
import itertools
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship.audit import AuditEvent
from fellowship.calendar import services as calendar_services
from fellowship.coaching.models import ActionItem, CheckIn
from fellowship.cohorts.models import CohortMembership, CohortRole
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.coaching.helpers import coaching_pair, form_data, member, reassign, yesterday
from tests.conftest import csrf_token, sign_in
from tests.factories import AdminFactory, CoachAssignmentFactory, StaffFactory

SENTINEL = "PRIVATE-SENTINEL-8c1f2e-only-the-writer"
NEXT_SENTINEL = "PRIVATE-SENTINEL-5d9b07-next-coach"
SHARED_TEXT = "Shared summary the fellow may read"

# Path arguments we know how to fill; a route with any other argument is not walked.
FILLABLE = {"cohort_id", "fellow_id", "checkin_id", "user_id", "coach_id", "membership_id"}
NOT_WALKED = {"static", "auth.logout"}


def _post_checkin(client, path: str, **overrides) -> CheckIn:
    before = set(db.session.scalars(sa.select(CheckIn.id)))
    response = client.post(path, data=form_data(client, path, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (new_id,) = set(db.session.scalars(sa.select(CheckIn.id))) - before
    return db.session.get(CheckIn, new_id)


@pytest.fixture
def world(app: Flask, client):
    pair = coaching_pair()
    writer, fellow, cohort = pair.coach, pair.fellow, pair.cohort
    people = {
        "writer": writer,
        "fellow": fellow,
        "next coach": member(cohort, CohortRole.COACH, "Nia Newcoach"),
        "another coach": member(cohort, CohortRole.COACH),
        "another fellow": member(cohort, CohortRole.FELLOW),
        "facilitator": member(cohort, CohortRole.FACILITATOR),
        "reviewer": member(cohort, CohortRole.REVIEWER),
        "staff": StaffFactory(),
        "admin": AdminFactory(),
    }
    CoachAssignmentFactory(
        cohort_id=cohort.id,
        fellow_id=people["another fellow"].id,
        coach_id=people["another coach"].id,
    )

    # The writing coach: a shared check-in and a draft, both with the sentinel.
    sign_in(client, writer)
    new = f"/cohorts/{cohort.id}/fellows/{fellow.id}/checkins/new"
    shared = _post_checkin(
        client,
        new,
        private_notes=SENTINEL,
        shared_summary=SHARED_TEXT,
        focus=[cohort.strands[0].id],
        save=None,
        share="Save and share",
    )
    draft = _post_checkin(
        client,
        new,
        private_notes=f"{SENTINEL} (draft)",
        held_on=(yesterday() - timedelta(days=3)).isoformat(),
    )
    # An edit that adds an item for the fellow (a second email) and keeps the notes.
    edit = f"/checkins/{shared.id}/edit"
    items = db.session.scalars(
        sa.select(ActionItem).where(ActionItem.checkin_id == shared.id).order_by(ActionItem.id)
    ).all()
    fields = {}
    for i, item in enumerate(items):
        fields.update(
            {
                f"items-{i}-id": str(item.id),
                f"items-{i}-owner": "fellow" if item.owner_id == fellow.id else "coach",
                f"items-{i}-description": item.description,
                f"items-{i}-due_on": item.due_on.isoformat() if item.due_on else "",
            }
        )
    n = len(items)
    fields.update(
        {
            f"items-{n}-id": "",
            f"items-{n}-owner": "fellow",
            f"items-{n}-description": "Visit the partner school",
            f"items-{n}-due_on": "",
        }
    )
    response = client.post(
        edit,
        data=form_data(
            client,
            edit,
            version=str(shared.version),
            private_notes=SENTINEL,
            shared_summary=SHARED_TEXT,
            **fields,
        ),
    )
    assert response.status_code == 302

    # The fellow replies and ticks an item.
    sign_in(client, fellow)
    page = f"/checkins/{shared.id}"
    token = csrf_token(client)
    assert (
        client.post(f"{page}/replies", data={"csrf_token": token, "body": "Thanks!"}).status_code
        == 302
    )
    fellow_item = db.session.scalar(
        sa.select(ActionItem).where(
            ActionItem.checkin_id == shared.id, ActionItem.owner_id == fellow.id
        )
    )
    client.post(f"/action-items/{fellow_item.id}/done", data={"csrf_token": token})

    # Reassignment; the next coach logs a check-in with a sentinel of their own.
    reassign(pair, people["next coach"])
    sign_in(client, people["next coach"])
    theirs = _post_checkin(
        client, new, private_notes=NEXT_SENTINEL, save=None, share="Save and share"
    )

    memberships = db.session.scalars(
        sa.select(CohortMembership.id).where(CohortMembership.cohort_id == cohort.id)
    ).all()
    values = {
        "cohort_id": [cohort.id],
        "fellow_id": [fellow.id, people["another fellow"].id],
        "checkin_id": [shared.id, draft.id, theirs.id],
        "user_id": [fellow.id, writer.id, people["next coach"].id],
        "coach_id": [writer.id, people["next coach"].id],
        "membership_id": list(memberships),
    }
    return people, cohort, values, {"shared": shared, "draft": draft, "theirs": theirs}


def _urls(app: Flask, values: dict[str, list[int]]) -> list[str]:
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint in NOT_WALKED or "GET" not in (rule.methods or set()):
                continue
            if not rule.arguments <= FILLABLE:
                continue
            names = sorted(rule.arguments)
            for combination in itertools.product(*(values[name] for name in names)):
                urls.append(url_for(rule.endpoint, **dict(zip(names, combination, strict=True))))
    return sorted(set(urls))


def test_the_sentinel_private_note_is_found_only_on_the_writing_coachs_pages(
    app: Flask, client, world
):
    people, cohort, values, checkins = world
    urls = _urls(app, values)
    assert any(url.startswith("/checkins/") for url in urls)
    assert f"/cohorts/{cohort.id}/my-checkins" in urls

    seen: dict[str, list[str]] = {SENTINEL: [], NEXT_SENTINEL: []}
    statuses: dict[tuple[str, str], int] = {}
    bodies: dict[tuple[str, str], str] = {}
    for who, person in people.items():
        sign_in(client, person)
        for url in urls:
            response = client.get(url)
            body = response.get_data(as_text=True)
            statuses[(who, url)] = response.status_code
            bodies[(who, url)] = body
            assert response.status_code < 500, (who, url)
            for sentinel in seen:
                if sentinel in body:
                    seen[sentinel].append(f"{who} {url}")
        # The calendar feeds: personal, and the cohort's (staff).
        with app.test_request_context():
            token = calendar_services.current_token(person)
        for feed in (f"/calendar/{token}.ics", f"/calendar/{token}/cohorts/{cohort.id}.ics"):
            body = app.test_client().get(feed).get_data(as_text=True)
            for sentinel in seen:
                if sentinel in body:
                    seen[sentinel].append(f"{who} {feed}")

    # Every email the whole story produced.
    messages = list(db.session.scalars(sa.select(OutboxMessage)))
    assert {m.template for m in messages} >= {
        "coaching/checkin_shared",
        "coaching/action_items_assigned",
    }
    for message in messages:
        for sentinel in seen:
            if sentinel in f"{message.subject}\n{message.text}\n{message.html}":
                seen[sentinel].append(f"email {message.id} to {message.to}")
    # Nor is it in the audit log's rows (the admin's audit page was walked above).
    for event in db.session.scalars(sa.select(AuditEvent)):
        assert SENTINEL not in str(event.details)

    shared, draft, theirs = checkins["shared"], checkins["draft"], checkins["theirs"]
    # The walk reached the pages that matter, so "not found" means something.
    assert statuses[("fellow", f"/cohorts/{cohort.id}/my-checkins")] == 200
    assert SHARED_TEXT in bodies[("fellow", f"/cohorts/{cohort.id}/my-checkins")]
    assert statuses[("fellow", f"/checkins/{shared.id}")] == 200
    history = f"/cohorts/{cohort.id}/fellows/{people['fellow'].id}/checkins"
    assert SHARED_TEXT in bodies[("next coach", history)]
    assert statuses[("staff", f"/checkins/{shared.id}")] == 200
    assert statuses[("admin", f"/cohorts/{cohort.id}")] == 200

    # The writer was reassigned away from the fellow: they still read their own check-ins
    # (with their notes) but may no longer edit them.
    writer_pages = {f"writer /checkins/{shared.id}", f"writer /checkins/{draft.id}"}
    assert statuses[("writer", f"/checkins/{shared.id}/edit")] == 403
    assert set(seen[SENTINEL]) == writer_pages, seen[SENTINEL]
    assert set(seen[NEXT_SENTINEL]) == {
        f"next coach /checkins/{theirs.id}",
        f"next coach /checkins/{theirs.id}/edit",
    }, seen[NEXT_SENTINEL]


READING_CALLS = {
    "select",
    "get",
    "get_one",
    "query",
    "aliased",
    "join",
    "outerjoin",
    "selectinload",
}


def _reads_private_notes(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in READING_CALLS:
        return False
    return any(
        isinstance(part, ast.Name) and part.id == "CheckInPrivateNote"
        for argument in [*node.args, *(k.value for k in node.keywords)]
        for part in ast.walk(argument)
    )


def test_only_one_function_in_the_app_reads_private_notes():
    """`queries.private_notes_for` is the only place that selects them (others only write)."""
    root = Path(__file__).resolve().parents[2] / "fellowship"
    readers = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if any(isinstance(n, ast.Call) and _reads_private_notes(n) for n in ast.walk(function)):
                readers.append(f"{path.relative_to(root)}:{function.name}")
    assert readers == ["coaching/queries.py:private_notes_for"]
