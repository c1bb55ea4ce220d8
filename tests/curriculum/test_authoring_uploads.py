"""File items: the upload attack list against the form, a valid file stored and shared,
and an edit that keeps the current file."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import FileStorage

from fellowship import uploads
from fellowship.curriculum.models import ItemKind, ModuleItem
from fellowship.extensions import db
from fellowship.uploads import StoredFile
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.curriculum.authoring_helpers import modules, world
from tests.curriculum.helpers import ItemFactory
from tests.upload_attacks import Attack, attacks, valid_docx, valid_pdf

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


def count(model) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def new_file_path(module) -> str:
    return f"/modules/{module.id}/items/new?kind=file"


def test_the_file_form_says_which_files_and_how_large(w, client):
    (module,) = modules(w.cohort, ["Slides"])
    sign_in(client, w.facilitator)
    response = client.get(new_file_path(module))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert f'accept="{uploads.accept_attribute(uploads.DOCUMENTS)}"' in html
    assert "PDF, Word, PowerPoint" in html
    assert "at most 0.25 MB" in html
    assert 'type="file"' in html
    assert "required" in html


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.refused], ids=lambda a: a.name)
def test_each_hostile_upload_is_refused_next_to_the_field_and_nothing_is_kept(
    w, client, upload_dir: Path, attack: Attack
):
    (module,) = modules(w.cohort, ["Slides"])
    sign_in(client, w.facilitator)
    path = new_file_path(module)
    token = csrf_token(client)
    files_before, rows_before = files_under(upload_dir), count(StoredFile)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "title": "Typed title",
            "required": "y",
            "file": attack.form_value(),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == (413 if attack.too_large else 200)
    html = response.get_data(as_text=True)
    assert 'id="file-error"' in html
    assert 'value="Typed title"' in html
    assert files_under(upload_dir) == files_before
    assert count(StoredFile) == rows_before
    assert count(ModuleItem) == 0


@pytest.mark.parametrize("attack", [a for a in ATTACKS if not a.refused], ids=lambda a: a.name)
def test_a_file_with_a_hostile_name_is_kept_under_a_clean_name(w, client, attack: Attack):
    (module,) = modules(w.cohort, ["Slides"])
    sign_in(client, w.staff)
    path = new_file_path(module)
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            "title": "Handout",
            "file": attack.form_value(),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    item = db.session.scalar(sa.select(ModuleItem))
    stored = db.session.get(StoredFile, item.stored_file_id)
    assert stored.original_name == attack.cleaned_name


def test_a_valid_pdf_is_stored_and_its_item_created(w, client, app: Flask, upload_dir: Path):
    (module,) = modules(w.cohort, ["Slides"])
    sign_in(client, w.facilitator)
    path = new_file_path(module)
    pdf = valid_pdf("Coalition map")
    files_before = files_under(upload_dir)
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            "title": "The coalition map",
            "required": "y",
            "file": (io.BytesIO(pdf), "coalition map.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    item = db.session.scalar(sa.select(ModuleItem))
    assert item.kind == ItemKind.FILE
    assert item.title == "The coalition map"
    stored = db.session.get(StoredFile, item.stored_file_id)
    assert stored.original_name == "coalition map.pdf"
    assert stored.sha256 == hashlib.sha256(pdf).hexdigest()
    assert stored.uploaded_by_id == w.facilitator.id
    assert len(files_under(upload_dir) - files_before) == 1
    with app.app_context():
        assert uploads.stored_path(stored).read_bytes() == pdf
    html = client.get(f"/modules/{module.id}/items").get_data(as_text=True)
    assert "coalition map.pdf" in html


def test_a_file_upload_without_the_csrf_token_is_refused(w, client, upload_dir: Path):
    (module,) = modules(w.cohort, ["Slides"])
    sign_in(client, w.staff)
    files_before = files_under(upload_dir)
    response = client.post(
        new_file_path(module),
        data={"title": "No token", "file": (io.BytesIO(valid_pdf()), "a.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "CSRF" in response.get_data(as_text=True)
    assert count(ModuleItem) == 0
    assert count(StoredFile) == 0
    assert files_under(upload_dir) == files_before


def test_a_new_file_item_needs_a_file(w, client):
    (module,) = modules(w.cohort, ["Slides"])
    sign_in(client, w.staff)
    path = new_file_path(module)
    response = client.post(
        path,
        data={"csrf_token": csrf_token(client), "title": "Forgot the file"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Choose a file to upload." in response.get_data(as_text=True)
    assert count(ModuleItem) == 0


def _file_item(app: Flask, module_id: int, staff_id: int) -> ModuleItem:
    """A file item holding agenda.pdf (stored the way the app stores uploads)."""
    with app.test_request_context():
        stored = uploads.store_file(
            FileStorage(io.BytesIO(valid_pdf()), filename="agenda.pdf"),
            staff_id,
            uploads.DOCUMENTS,
        )
        stored_id = stored.id
        db.session.commit()
    return ItemFactory(
        module_id=module_id,
        position=0,
        kind=ItemKind.FILE,
        title="Slides-file",
        body_md="",
        stored_file_id=stored_id,
    )


def test_editing_a_file_item_keeps_its_file_unless_a_new_one_is_chosen(w, client, app: Flask):
    (module,) = modules(w.cohort, ["Slides"])
    item = _file_item(app, module.id, w.staff.id)
    first_file = item.stored_file_id
    sign_in(client, w.staff)
    path = f"/items/{item.id}/edit"
    html = client.get(path).get_data(as_text=True)
    assert "agenda.pdf" in html
    assert "Leave this empty to keep it" in html
    assert "Replace the file" in html
    token = csrf_token(client)
    response = client.post(
        path,
        data={"csrf_token": token, "title": "Renamed", "version": str(item.version)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(ModuleItem, item.id)
    assert (item.title, item.stored_file_id) == ("Renamed", first_file)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "title": "Renamed",
            "version": str(item.version),
            "file": (io.BytesIO(valid_docx()), "agenda v2.docx", ""),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(ModuleItem, item.id)
    assert item.stored_file_id != first_file
    assert db.session.get(StoredFile, item.stored_file_id).original_name == "agenda v2.docx"


def test_a_refused_replacement_keeps_the_current_file(w, client, app: Flask):
    (module,) = modules(w.cohort, ["Slides"])
    item = _file_item(app, module.id, w.staff.id)
    first_file = item.stored_file_id
    sign_in(client, w.staff)
    path = f"/items/{item.id}/edit"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            "title": "Renamed",
            "version": str(item.version),
            "file": (io.BytesIO(b"MZ not a document"), "agenda.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="file-error"' in html
    assert "agenda.pdf" in html
    db.session.expire_all()
    item = db.session.get(ModuleItem, item.id)
    assert (item.title, item.stored_file_id) == ("Slides-file", first_file)


def test_a_request_far_over_the_limit_is_refused_before_anything_is_read(
    w, client, upload_dir: Path
):
    (module,) = modules(w.cohort, ["Slides"])
    sign_in(client, w.staff)
    path = new_file_path(module)
    token = csrf_token(client)
    files_before = files_under(upload_dir)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "title": "Huge",
            "file": (io.BytesIO(b"%PDF-1.4\n" + b"0" * (LIMIT + 200 * 1024)), "huge.pdf", ""),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert count(StoredFile) == 0
    assert count(ModuleItem) == 0
    assert files_under(upload_dir) == files_before
