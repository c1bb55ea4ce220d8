"""Files on the working draft: the whole upload attack list against the real endpoint, a
normal PDF downloaded back byte for byte, the 20-file limit, removing, and CSRF."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship import uploads
from fellowship.capstones.models import CapstoneStatus, CapstoneVersionFile
from fellowship.extensions import db
from fellowship.uploads import StoredFile
from tests.capstones.test_fellow_helpers import (
    attach,
    capstone,
    count,
    files_of,
    revisions_world,
    snapshot,
    stored_file,
    version,
    versions_of,
    world,
)
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.upload_attacks import Attack, attacks, valid_docx, valid_pdf, valid_png

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


LIMIT = 256 * 1024
ATTACKS = attacks(LIMIT)


@pytest.fixture(autouse=True)
def upload_limit(app: Flask, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", LIMIT)
    return LIMIT


@pytest.fixture
def upload_dir(app: Flask) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def files_under(root: Path) -> set[str]:
    return {
        str(Path(folder, name).relative_to(root))
        for folder, _dirs, names in os.walk(root)
        for name in names
    }


def post_file(client, cap, value, token: str | None = None):
    path = f"/capstones/{cap.id}/files"
    data: dict[str, object] = {"file": value}
    if token is not False:
        data["csrf_token"] = token or csrf_token(client)
    return client.post(path, data=data, content_type="multipart/form-data")


def test_the_edit_page_says_which_files_and_how_large(w, client):
    cap = capstone(w)
    sign_in(client, w.fellow)
    html = client.get(f"/capstones/{cap.id}/edit").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert f'action="/capstones/{cap.id}/files"' in html
    assert f'accept="{uploads.accept_attribute(uploads.DOCUMENTS_AND_IMAGES)}"' in html
    assert "PDF, Word, PowerPoint, Excel" in html
    assert "PNG image" in html
    assert "at most 0.25 MB each, and at most 20 files" in html


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.refused], ids=lambda a: a.name)
def test_each_hostile_upload_is_refused_next_to_the_field_and_nothing_is_kept(
    w, client, upload_dir: Path, attack: Attack
):
    cap = capstone(w)
    sign_in(client, w.fellow)
    token = csrf_token(client)
    files_before, before = files_under(upload_dir), snapshot()
    response = post_file(client, cap, attack.form_value(), token)
    assert response.status_code == (413 if attack.too_large else 200)
    html = response.get_data(as_text=True)
    assert 'id="file-error"' in html
    assert "Please correct the following" in html
    assert files_under(upload_dir) == files_before
    assert snapshot() == before  # no stored file, no draft version made


@pytest.mark.parametrize("attack", [a for a in ATTACKS if not a.refused], ids=lambda a: a.name)
def test_a_file_with_a_hostile_name_is_kept_under_a_clean_name(w, client, attack: Attack):
    cap = capstone(w)
    sign_in(client, w.fellow)
    response = post_file(client, cap, attack.form_value())
    assert response.status_code == 302
    (draft,) = versions_of(cap)
    ((_, name),) = files_of(draft)
    assert name == attack.cleaned_name


def test_a_request_far_over_the_limit_is_refused_before_anything_is_read(
    w, client, upload_dir: Path
):
    cap = capstone(w)
    sign_in(client, w.fellow)
    token = csrf_token(client)
    files_before, before = files_under(upload_dir), snapshot()
    huge = (io.BytesIO(b"%PDF-1.4\n" + b"0" * (LIMIT + 200 * 1024)), "huge.pdf", "")
    response = post_file(client, cap, huge, token)
    assert response.status_code == 413
    assert files_under(upload_dir) == files_before
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("coalition map.pdf", valid_pdf("Coalition map"), "application/pdf"),
        ("budget.docx", valid_docx("Budget"), uploads.KINDS["docx"].content_type),
        ("site plan.png", valid_png(8, 8), "image/png"),
    ],
)
def test_a_normal_file_is_attached_and_downloaded_back_byte_for_byte(
    w, client, upload_dir: Path, name, data, kind
):
    cap = capstone(w)
    sign_in(client, w.fellow)
    files_before = files_under(upload_dir)
    response = post_file(client, cap, (io.BytesIO(data), name, "application/octet-stream"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/capstones/{cap.id}/edit#files")
    (draft,) = versions_of(cap)
    assert draft.submitted_at is None
    link = db.session.scalar(sa.select(CapstoneVersionFile))
    stored = db.session.get(StoredFile, link.stored_file_id)
    assert stored.uploaded_by_id == w.fellow.id
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert len(files_under(upload_dir) - files_before) == 1
    html = client.get(f"/capstones/{cap.id}/edit").get_data(as_text=True)
    assert f"“{name}” is attached to your working draft." in html
    assert f'href="/capstone-files/{link.id}"' in html
    download = client.get(f"/capstone-files/{link.id}")
    assert download.status_code == 200
    body = download.get_data()
    download.close()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"].startswith(kind)


def test_a_name_with_accents_is_sent_back_per_rfc_6266(w, client):
    cap = capstone(w)
    sign_in(client, w.fellow)
    post_file(client, cap, (io.BytesIO(valid_pdf()), "Plan de inscripción.pdf", ""))
    link = db.session.scalar(sa.select(CapstoneVersionFile))
    response = client.get(f"/capstone-files/{link.id}")
    response.close()
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''Plan%20de%20inscripci%C3%B3n.pdf" in disposition


def test_a_file_upload_without_the_csrf_token_is_refused(w, client, upload_dir: Path):
    cap = capstone(w)
    sign_in(client, w.fellow)
    files_before, before = files_under(upload_dir), snapshot()
    response = post_file(client, cap, (io.BytesIO(valid_pdf()), "a.pdf", ""), token=False)
    assert response.status_code == 200
    assert "CSRF" in response.get_data(as_text=True)
    assert files_under(upload_dir) == files_before
    assert snapshot() == before


def test_posting_no_file_says_choose_one(w, client):
    cap = capstone(w)
    sign_in(client, w.fellow)
    response = client.post(
        f"/capstones/{cap.id}/files",
        data={"csrf_token": csrf_token(client)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Choose a file to upload." in response.get_data(as_text=True)
    assert versions_of(cap) == []


def test_a_version_holds_at_most_20_files(w, client, app: Flask, upload_dir: Path):
    cap = capstone(w)
    draft = version(cap, 1, draft=True)
    for position in range(20):
        attach(draft, stored_file(app, f"f{position}.pdf", valid_pdf(f"f{position}")), position)
    sign_in(client, w.fellow)
    html = client.get(f"/capstones/{cap.id}/edit").get_data(as_text=True)
    assert "This version has 20 files, the most it can have." in html
    assert f'action="/capstones/{cap.id}/files"' not in html
    files_before, before = files_under(upload_dir), snapshot()
    response = post_file(client, cap, (io.BytesIO(valid_pdf("21st")), "one more.pdf", ""))
    assert response.status_code == 200
    assert "A version can have at most 20 files." in response.get_data(as_text=True)
    assert files_under(upload_dir) == files_before
    assert snapshot() == before


def test_the_same_file_twice_is_refused_and_not_kept(w, client, upload_dir: Path):
    cap = capstone(w)
    sign_in(client, w.fellow)
    pdf = valid_pdf("Once")
    assert post_file(client, cap, (io.BytesIO(pdf), "once.pdf", "")).status_code == 302
    files_before = files_under(upload_dir)
    response = post_file(client, cap, (io.BytesIO(pdf), "again.pdf", ""))
    assert response.status_code == 200
    assert "This file is already attached as “once.pdf”." in response.get_data(as_text=True)
    assert files_under(upload_dir) == files_before
    assert count(StoredFile) == 1


def test_the_first_upload_after_a_decision_starts_version_2_with_the_old_files(client, app: Flask):
    w, cap, _v1, _link = revisions_world(app)
    sign_in(client, w.fellow)
    response = post_file(client, cap, (io.BytesIO(valid_pdf("v2")), "budget.pdf", ""))
    assert response.status_code == 302
    v1_again, v2 = versions_of(cap)
    assert [name for _, name in files_of(v1_again)] == ["plan.pdf"]
    assert [name for _, name in files_of(v2)] == ["plan.pdf", "budget.pdf"]


def test_removing_a_file_takes_it_off_the_draft_only(client, app: Flask):
    w, cap, _v1, link = revisions_world(app)
    sign_in(client, w.fellow)
    token = csrf_token(client)
    response = client.post(f"/capstone-files/{link.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/capstones/{cap.id}/edit#files")
    v1_again, v2 = versions_of(cap)
    assert [name for _, name in files_of(v1_again)] == ["plan.pdf"]
    assert files_of(v2) == []
    html = client.get(f"/capstones/{cap.id}/edit").get_data(as_text=True)
    assert "“plan.pdf” is removed from your working draft." in html
    # The submitted version's file still downloads.
    download = client.get(f"/capstone-files/{link.id}")
    download.close()
    assert download.status_code == 200


def test_removing_needs_the_csrf_token(client, app: Flask):
    w, cap, _v1, link = revisions_world(app)
    draft = version(cap, 2, draft=True)
    copy = attach(draft, db.session.get(StoredFile, link.stored_file_id))
    sign_in(client, w.fellow)
    before = snapshot()
    response = client.post(f"/capstone-files/{copy.id}/delete", data={})
    assert response.status_code in (302, 400)
    assert snapshot() == before


@pytest.mark.parametrize("status", [CapstoneStatus.PROPOSAL_SUBMITTED, CapstoneStatus.APPROVED])
def test_no_file_is_added_while_the_capstone_is_not_the_fellows_to_change(w, client, status):
    cap = capstone(w, status)
    version(cap, 1)
    sign_in(client, w.fellow)
    token = csrf_token(client)
    before = snapshot()
    response = post_file(client, cap, (io.BytesIO(valid_pdf()), "late.pdf", ""), token)
    assert response.status_code == 403
    assert snapshot() == before
