"""Who reaches the fellow's capstone pages, as a table through the real views: every kind
of person × every page, and nothing changes for a refused request."""

from __future__ import annotations

import pytest
from flask import current_app

from fellowship.capstones.models import CapstoneStatus
from fellowship.extensions import db
from tests.capstones.test_fellow_helpers import (
    PEOPLE,
    attach,
    revisions_world,
    snapshot,
    stored_file,
    version,
)
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.upload_attacks import valid_pdf

READERS = {
    "the fellow",
    "the fellow's coach",
    "facilitator",
    "assigned reviewer",
    "staff",
}
FELLOW = {"the fellow"}
FELLOW_AND_STAFF = {"the fellow", "staff"}

#  page                        capstone status                         who gets 200 (or 302)
TABLE = [
    ("detail", CapstoneStatus.PROPOSAL_REVISIONS, READERS),
    ("submitted version", CapstoneStatus.PROPOSAL_REVISIONS, READERS),
    ("draft version", CapstoneStatus.PROPOSAL_REVISIONS, FELLOW),
    ("download a submitted file", CapstoneStatus.PROPOSAL_REVISIONS, READERS),
    ("download a draft file", CapstoneStatus.PROPOSAL_REVISIONS, FELLOW),
    ("edit", CapstoneStatus.PROPOSAL_REVISIONS, FELLOW),
    ("edit", CapstoneStatus.PROPOSAL_SUBMITTED, set()),
    ("submit", CapstoneStatus.PROPOSAL_REVISIONS, FELLOW),
    ("submit", CapstoneStatus.PROPOSAL_SUBMITTED, set()),
    ("publish", CapstoneStatus.APPROVED, FELLOW),
    ("publish", CapstoneStatus.PROPOSAL_REVISIONS, set()),
    ("outcome", CapstoneStatus.APPROVED, FELLOW_AND_STAFF),
    ("start", CapstoneStatus.PROPOSAL_REVISIONS, {"the fellow", "another fellow"}),
]


def _build():
    """The fellow's capstone (version 1 decided, with a file) and a working draft with one."""
    app = current_app._get_current_object()
    w, cap, v1, link = revisions_world(app)
    draft = version(cap, 2, draft=True, narrative_md="draft text")
    draft_link = attach(draft, stored_file(app, "draft.pdf", valid_pdf("draft")))
    return w, cap, v1, link, draft, draft_link


built_capstone = rows_for_module(_build)


@pytest.fixture
def urls_for(built_capstone, request):
    """`urls_for(status)`: the people, and each page of the capstone, set to `status`."""
    w, cap, v1, link, draft, draft_link = built_capstone.thaw_for(request)

    def urls(status: CapstoneStatus):
        cap.status = status
        db.session.commit()
        return w, {
            "detail": f"/capstones/{cap.id}",
            "submitted version": f"/capstone-versions/{v1.id}",
            "draft version": f"/capstone-versions/{draft.id}",
            "download a submitted file": f"/capstone-files/{link.id}",
            "download a draft file": f"/capstone-files/{draft_link.id}",
            "edit": f"/capstones/{cap.id}/edit",
            "submit": f"/capstones/{cap.id}/submit",
            "publish": f"/capstones/{cap.id}/library",
            "outcome": f"/cohorts/{w.cohort.id}/fellows/{w.fellow.id}/outcome",
            # The start form: the fellow (who has a capstone) is sent to it, another fellow
            # starts theirs.
            "start": f"/cohorts/{w.cohort.id}/capstone/new",
        }

    return urls


CASES = [
    pytest.param(name, status, who, who in allowed, id=f"{name}-{status.value}-{who}")
    for name, status, allowed in TABLE
    for who in PEOPLE
]


@pytest.mark.parametrize(("name", "status", "who", "allowed"), CASES)
def test_the_fellow_capstone_access_table_holds(urls_for, client, name, status, who, allowed):
    w, urls = urls_for(status)
    sign_in(client, w.person(who))
    before = snapshot()
    response = client.get(urls[name])
    response.close()
    if allowed:
        assert response.status_code in (200, 302), response.status_code
        assert "/login" not in response.headers.get("Location", "")
    else:
        assert response.status_code == 403
    assert snapshot() == before  # GET never writes, allowed or not


POSTS = [
    ("edit", {"title": "Hijacked", "narrative": "Hijacked", "version": "1"}),
    ("submit", {"draft": "DRAFT"}),
    ("publish", {"consent": "y"}),
    ("outcome", {"kind": "other", "note": "Hijacked"}),
]


@pytest.mark.parametrize(("name", "data"), POSTS, ids=[name for name, _ in POSTS])
@pytest.mark.parametrize(
    "who",
    [
        "another fellow",
        "the fellow's coach",
        "another coach",
        "facilitator",
        "assigned reviewer",
        "unassigned reviewer",
        "member without membership",
    ],
)
def test_a_refused_post_changes_nothing(urls_for, client, name, data, who):
    w, urls = urls_for(CapstoneStatus.APPROVED if name == "publish" else CapstoneStatus.DRAFT)
    sign_in(client, w.person(who))
    token = csrf_token(client)
    before = snapshot()
    response = client.post(urls[name], data={"csrf_token": token, **data})
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("who", [p for p in PEOPLE if p != "the fellow"])
def test_nobody_but_the_fellow_uploads_or_removes_a_file(urls_for, client, who):
    import io

    w, urls = urls_for(CapstoneStatus.PROPOSAL_REVISIONS)
    cap_id = int(urls["detail"].rsplit("/", 1)[1])
    draft_file = urls["download a draft file"]
    sign_in(client, w.person(who))
    token = csrf_token(client)
    before = snapshot()
    upload = client.post(
        f"/capstones/{cap_id}/files",
        data={"csrf_token": token, "file": (io.BytesIO(valid_pdf("x")), "x.pdf", "")},
        content_type="multipart/form-data",
    )
    remove = client.post(f"{draft_file}/delete", data={"csrf_token": token})
    assert (upload.status_code, remove.status_code) == (403, 403)
    assert snapshot() == before
