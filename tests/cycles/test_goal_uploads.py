"""Evidence files on the measurement form: the whole upload attack list against the real
endpoint, a normal file downloaded back byte for byte, CSRF, the size limit, and the
download only for readers of that cycle."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship import uploads
from fellowship.cycles.models import Measurement
from fellowship.extensions import db
from fellowship.uploads import StoredFile
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.cycles.goal_helpers import PEOPLE, snapshot, world
from tests.cycles.helpers import GoalFactory, MeasurementFactory
from tests.upload_attacks import Attack, attacks, valid_docx, valid_pdf, valid_png

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


LIMIT = 256 * 1024
ATTACKS = attacks(LIMIT)
READERS = {"lead teacher", "team member", "partner", "staff liaison", "staff", "admin"}


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


def form_path(w) -> str:
    return f"/cycles/{w.cycle.id}/goals/{w.goal.id}/measurements/new"


def post_measurement(client, w, value, token: str | bool | None = None, **fields):
    data: dict[str, object] = {
        "measured_on": "2026-10-15",
        "value": "22.5",
        "note": "Fall count",
        "evidence_file": value,
        **fields,
    }
    if token is not False:
        data["csrf_token"] = token or csrf_token(client)
    return client.post(form_path(w), data=data, content_type="multipart/form-data")


def test_the_form_says_which_files_and_how_large(w, client):
    sign_in(client, w.team.member)
    html = client.get(form_path(w)).get_data(as_text=True)
    assert f'accept="{uploads.accept_attribute(uploads.DOCUMENTS_AND_IMAGES)}"' in html
    assert "PDF, Word, PowerPoint, Excel" in html
    assert "PNG image" in html
    assert "at most 0.25 MB." in html


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.refused], ids=lambda a: a.name)
def test_each_hostile_upload_is_refused_next_to_the_field_and_nothing_is_kept(
    w, client, upload_dir: Path, attack: Attack
):
    sign_in(client, w.team.member)
    token = csrf_token(client)
    files_before, before = files_under(upload_dir), snapshot()
    response = post_measurement(client, w, attack.form_value(), token)
    assert response.status_code == (413 if attack.too_large else 200)
    html = response.get_data(as_text=True)
    assert 'id="evidence_file-error"' in html
    assert "Please correct the following" in html
    assert 'value="22.5"' in html  # what was typed is kept
    assert "Fall count" in html
    assert files_under(upload_dir) == files_before
    assert snapshot() == before


@pytest.mark.parametrize("attack", [a for a in ATTACKS if not a.refused], ids=lambda a: a.name)
def test_a_file_with_a_hostile_name_is_kept_under_a_clean_name(w, client, attack: Attack):
    sign_in(client, w.team.member)
    response = post_measurement(client, w, attack.form_value())
    assert response.status_code == 302
    measurement = db.session.scalars(sa.select(Measurement)).one()
    stored = db.session.get(StoredFile, measurement.evidence_file_id)
    assert stored.original_name == attack.cleaned_name


def test_a_request_far_over_the_limit_is_refused_before_anything_is_read(
    w, client, upload_dir: Path
):
    sign_in(client, w.team.member)
    token = csrf_token(client)
    files_before, before = files_under(upload_dir), snapshot()
    huge = (io.BytesIO(b"%PDF-1.4\n" + b"0" * (LIMIT + 200 * 1024)), "huge.pdf", "")
    response = post_measurement(client, w, huge, token)
    assert response.status_code == 413
    assert files_under(upload_dir) == files_before
    assert snapshot() == before


def test_an_upload_without_the_csrf_token_is_refused(w, client, upload_dir: Path):
    sign_in(client, w.team.member)
    files_before, before = files_under(upload_dir), snapshot()
    response = post_measurement(client, w, (io.BytesIO(valid_pdf()), "a.pdf", ""), token=False)
    assert response.status_code == 200
    assert "CSRF" in response.get_data(as_text=True)
    assert files_under(upload_dir) == files_before
    assert snapshot() == before


def test_a_file_and_a_link_together_are_refused(w, client, upload_dir: Path):
    sign_in(client, w.team.member)
    files_before, before = files_under(upload_dir), snapshot()
    response = post_measurement(
        client,
        w,
        (io.BytesIO(valid_pdf()), "a.pdf", ""),
        evidence_url="https://example.org/report",
    )
    assert response.status_code == 200
    assert "Give either a file or a link as evidence, not both." in response.get_data(as_text=True)
    assert files_under(upload_dir) == files_before
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("lottery results.pdf", valid_pdf("Lottery"), "application/pdf"),
        ("count.docx", valid_docx("Count"), uploads.KINDS["docx"].content_type),
        ("board photo.png", valid_png(8, 8), "image/png"),
    ],
)
def test_evidence_is_stored_and_downloaded_back_byte_for_byte(
    w, client, upload_dir: Path, name, data, kind
):
    sign_in(client, w.team.member)
    files_before = files_under(upload_dir)
    response = post_measurement(client, w, (io.BytesIO(data), name, "application/octet-stream"))
    assert response.status_code == 302
    measurement = db.session.scalars(sa.select(Measurement)).one()
    stored = db.session.get(StoredFile, measurement.evidence_file_id)
    assert stored.uploaded_by_id == w.team.member.id
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert len(files_under(upload_dir) - files_before) == 1
    link = f"/cycles/{w.cycle.id}/measurements/{measurement.id}/evidence"
    html = client.get(f"/cycles/{w.cycle.id}/goals/{w.goal.id}").get_data(as_text=True)
    assert f'href="{link}"' in html
    assert name in html
    download = client.get(link)
    assert download.status_code == 200
    body = download.get_data()
    download.close()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"].startswith(kind)


@pytest.mark.parametrize("who", PEOPLE)
def test_evidence_downloads_only_for_readers_of_that_cycle(w, client, who):
    sign_in(client, w.team.member)
    post_measurement(client, w, (io.BytesIO(valid_pdf()), "count.pdf", ""))
    measurement = db.session.scalars(sa.select(Measurement)).one()
    sign_in(client, w.person(who))
    response = client.get(f"/cycles/{w.cycle.id}/measurements/{measurement.id}/evidence")
    response.close()
    assert response.status_code == (200 if who in READERS else 403)


def test_evidence_is_not_reachable_through_another_cycle(w, client):
    sign_in(client, w.team.member)
    post_measurement(client, w, (io.BytesIO(valid_pdf()), "count.pdf", ""))
    measurement = db.session.scalars(sa.select(Measurement)).one()
    # the other school's lead teacher, through their own cycle's address
    sign_in(client, w.other_lead)
    response = client.get(f"/cycles/{w.other_cycle.id}/measurements/{measurement.id}/evidence")
    assert response.status_code == 404
    # a measurement without a file has nothing to download
    plain = MeasurementFactory(goal_id=GoalFactory(cycle_id=w.cycle.id).id)
    sign_in(client, w.staff)
    assert client.get(f"/cycles/{w.cycle.id}/measurements/{plain.id}/evidence").status_code == 404
