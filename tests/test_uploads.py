"""The shared upload store: limits, types from bytes, archives, names, storage and download."""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, request
from flask_babel import LazyString
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from fellowship import uploads
from fellowship.extensions import db
from fellowship.uploads import (
    DOCUMENTS,
    DOCUMENTS_AND_IMAGES,
    IMAGES,
    KINDS,
    StoredFile,
    UploadRefused,
    accept_attribute,
    allow_upload_request,
    describe_kinds,
    send_stored_file,
    store_file,
    stored_path,
)
from tests.factories import UserFactory
from tests.upload_attacks import (
    SVG_WITH_SCRIPT,
    WINDOWS_EXECUTABLE,
    Attack,
    attacks,
    docx_parts,
    valid_docx,
    valid_odt,
    valid_pdf,
    valid_png,
)

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
    """Every file in the store, hidden temporary ones included."""
    return {
        str(Path(folder, name).relative_to(root))
        for folder, _dirs, names in os.walk(root)
        for name in names
    }


def row_count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) or 0)


def upload(data: bytes, filename: str | None, content_type: str = "") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=filename, content_type=content_type)


def refusal(data: bytes, filename: str, allowed: frozenset[str] = DOCUMENTS) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        store_file(upload(data, filename), None, allowed)
    return caught.value


def download(stored: StoredFile) -> tuple[bytes, dict[str, str]]:
    response = send_stored_file(stored)
    with response:
        response.direct_passthrough = False
        return response.get_data(), dict(response.headers)


# The attack list ------------------------------------------------------------------------------


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.refused], ids=lambda a: a.name)
def test_each_hostile_upload_is_refused_leaving_no_file_and_no_row(
    ctx: None, upload_dir: Path, attack: Attack
) -> None:
    before_files, before_rows = files_under(upload_dir), row_count()

    with pytest.raises(UploadRefused) as caught:
        store_file(attack.file_storage(), None, DOCUMENTS)

    assert caught.value.too_large is attack.too_large
    assert caught.value.message
    assert str(caught.value) == caught.value.message
    assert files_under(upload_dir) == before_files
    assert not any(name.endswith(".part") for name in files_under(upload_dir))
    assert row_count() == before_rows


@pytest.mark.parametrize("attack", [a for a in ATTACKS if not a.refused], ids=lambda a: a.name)
def test_each_hostile_name_is_kept_only_as_a_cleaned_display_name(
    ctx: None, upload_dir: Path, attack: Attack
) -> None:
    before = files_under(upload_dir)

    stored = store_file(attack.file_storage(), None, DOCUMENTS)

    name = stored.original_name
    assert name == attack.cleaned_name
    assert not set(name) & {"/", "\\", "\x00"}
    assert not name.startswith(".")
    assert len(name) <= 255
    assert name.endswith(".pdf")
    assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}", stored.storage_key)
    assert files_under(upload_dir) - before == {stored.storage_key}
    assert stored_path(stored).read_bytes() == attack.data
    assert stored.sha256 == hashlib.sha256(attack.data).hexdigest()
    assert stored.size == len(attack.data)
    assert stored.content_type == "application/pdf"
    assert db.session.get(StoredFile, stored.id) is stored


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_each_attack_has_the_same_outcome_when_posted_through_a_form(
    app: Flask, upload_dir: Path, attack: Attack
) -> None:
    """The multipart parser between the browser and the view changes nothing that matters."""
    before = files_under(upload_dir)
    with app.test_request_context(
        method="POST", data={"file": attack.form_value()}, content_type="multipart/form-data"
    ):
        allow_upload_request()
        posted = request.files["file"]
        if attack.refused:
            with pytest.raises(UploadRefused) as caught:
                store_file(posted, None, DOCUMENTS)
            assert caught.value.too_large is attack.too_large
            assert files_under(upload_dir) == before
        else:
            assert store_file(posted, None, DOCUMENTS).original_name == attack.cleaned_name


def test_the_long_name_is_shortened_in_its_stem_and_keeps_its_emoji(ctx: None) -> None:
    attack = next(a for a in ATTACKS if a.name == "300 characters with emoji")
    stored = store_file(attack.file_storage(), None, DOCUMENTS)
    assert len(attack.filename) == 300
    assert len(stored.original_name) <= 255
    assert stored.original_name.startswith("📚 Équipe")
    assert stored.original_name.endswith(".pdf")


def test_a_file_over_the_limit_is_refused_before_it_is_read_to_the_end(ctx: None) -> None:
    class Endless(io.RawIOBase):
        read_so_far = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            buffer[:] = b"%" * len(buffer)
            self.read_so_far += len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(UploadRefused) as caught:
        store_file(FileStorage(io.BufferedReader(stream), filename="huge.pdf"), None, DOCUMENTS)
    assert caught.value.too_large
    assert "0.25 MB" in caught.value.message
    assert stream.read_so_far <= LIMIT + uploads.CHUNK_BYTES


def test_an_upload_that_breaks_midway_leaves_no_partial_file(ctx: None, upload_dir: Path) -> None:
    class Broken(io.RawIOBase):
        calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            self.calls += 1
            if self.calls > 2:
                raise ConnectionResetError("client went away")
            buffer[:] = b"%" * len(buffer)
            return len(buffer)

    before = files_under(upload_dir)
    with pytest.raises(ConnectionResetError):
        store_file(FileStorage(io.BufferedReader(Broken()), filename="a.pdf"), None, DOCUMENTS)
    assert files_under(upload_dir) == before


# Types come from the bytes ---------------------------------------------------------------------


def test_a_pdf_named_docx_is_refused_naming_what_it_really_is(ctx: None) -> None:
    error = refusal(valid_pdf(), "plan.docx")
    assert "PDF" in error.message
    assert "“.docx”" in error.message
    assert "“.pdf”" in error.message
    assert not error.too_large


def test_an_executable_renamed_pdf_is_refused_as_a_kind_not_accepted(ctx: None) -> None:
    error = refusal(WINDOWS_EXECUTABLE, "invoice.pdf")
    assert "EXE" in error.message
    assert describe_kinds(DOCUMENTS) in error.message


def test_svg_is_never_accepted_even_where_images_are(ctx: None) -> None:
    for name in ("logo.svg", "logo.png", "logo"):
        error = refusal(SVG_WITH_SCRIPT, name, DOCUMENTS_AND_IMAGES)
        assert "isn’t accepted" in error.message


def test_a_real_file_of_a_kind_the_form_does_not_take_is_refused(ctx: None) -> None:
    error = refusal(valid_png(), "photo.png", DOCUMENTS)
    assert "PNG" in error.message
    assert refusal(valid_pdf(), "cv.pdf", IMAGES).message


def test_a_plain_zip_is_not_a_document(ctx: None) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    error = refusal(buffer.getvalue(), "notes.docx")
    assert "ZIP" in error.message


def test_an_empty_upload_and_a_missing_file_are_refused_with_what_to_do(ctx: None) -> None:
    assert "empty" in refusal(b"", "notes.pdf").message
    assert "Choose a file" in refusal(b"", "").message


def test_a_name_without_extension_is_named_after_its_type(ctx: None) -> None:
    assert store_file(upload(valid_pdf(), "Minutes v2.1 final"), None, DOCUMENTS).original_name == (
        "Minutes v2.1 final.pdf"
    )
    assert store_file(upload(valid_pdf(), ".pdf"), None, DOCUMENTS).original_name == "pdf.pdf"
    assert store_file(upload(valid_pdf(), "..a"), None, DOCUMENTS).original_name == "a.pdf"
    assert store_file(upload(valid_pdf(), "../.."), None, DOCUMENTS).original_name == "file.pdf"
    assert store_file(upload(valid_pdf(), None), None, DOCUMENTS).original_name == "file.pdf"


def test_invisible_characters_that_disguise_a_name_are_removed(ctx: None) -> None:
    # U+202E would show "invoice‮fdp.exe" as "invoiceexe.pdf".
    error = refusal(valid_pdf(), "invoice\u202efdp.exe")
    assert "“.exe”" in error.message
    stored = store_file(upload(valid_pdf(), "\ufeffRe\u0301sume\u0301\t.PDF. "), None, DOCUMENTS)
    assert stored.original_name == "Résumé.PDF"


@pytest.mark.parametrize(
    ("data", "filename", "kind"),
    [
        pytest.param(valid_pdf(), "a.pdf", "pdf", id="pdf"),
        pytest.param(valid_docx(), "a.docx", "docx", id="docx"),
        pytest.param(valid_odt(), "a.odt", "odt", id="odt"),
        pytest.param(valid_png(), "a.png", "png", id="png"),
        # For these only the signature matters to the store.
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64), "a.jpeg", "jpeg", id="jpeg"),
        pytest.param(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "a.gif", "gif", id="gif"),
        pytest.param(b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(32), "a.webp", "webp", id="webp"),
    ],
)
def test_each_kind_is_recognised_from_its_bytes(
    ctx: None, data: bytes, filename: str, kind: str
) -> None:
    stored = store_file(upload(data, filename, "application/octet-stream"), None, {kind})
    assert stored.content_type == KINDS[kind].content_type


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param(
            [("[Content_Types].xml", b"<Types/>"), ("ppt/presentation.xml", b"<p/>")], id="pptx"
        ),
        pytest.param(
            [("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<w/>")], id="xlsx"
        ),
    ],
)
def test_office_documents_are_told_apart_by_their_parts_not_their_names(
    ctx: None, parts: list[tuple[str, bytes]]
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            archive.writestr(name, data)
    kind = parts[1][0].split("/")[0].replace("ppt", "pptx").replace("xl", "xlsx")
    stored = store_file(upload(buffer.getvalue(), f"deck.{kind}"), None, DOCUMENTS)
    assert stored.content_type == KINDS[kind].content_type
    assert "Word" in refusal(valid_docx(), f"deck.{kind}").message


# Archives are checked without being expanded ---------------------------------------------------


def docx_with(*extra: tuple[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in [*docx_parts(), *extra]:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_the_zip_bomb_is_refused_from_its_directory_without_being_opened(
    ctx: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member of the archive was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    bomb = next(a for a in ATTACKS if a.name == "zip bomb disguised as .docx")
    error = refusal(bomb.data, bomb.filename)
    assert "expand" in error.message
    assert not error.too_large


def test_one_member_that_expands_too_far_is_refused_even_under_the_total(ctx: None) -> None:
    data = docx_with(("word/media/zeros.bin", b"\x00" * (2 * 1024 * 1024)))
    assert uploads.MAX_ZIP_EXPANSION * LIMIT > 2 * 1024 * 1024  # only the ratio refuses it
    assert "expand" in refusal(data, "plan.docx").message


def test_an_archive_whose_total_expands_too_far_is_refused(
    ctx: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_ZIP_RATIO", 10**9)
    data = docx_with(("word/media/zeros.bin", b"\x00" * (uploads.MAX_ZIP_EXPANSION * LIMIT)))
    assert "expand" in refusal(data, "plan.docx").message


def test_an_archive_with_too_many_members_is_refused(
    ctx: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_ZIP_ENTRIES", 3)
    assert "damaged" in refusal(docx_with(("word/styles.xml", b"<s/>")), "a.docx").message


def test_too_many_members_are_refused_from_the_end_record_before_they_are_listed(
    ctx: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the archive was listed")

    data = docx_with(("word/styles.xml", b"<s/>"))
    monkeypatch.setattr(zipfile, "ZipFile", never)
    monkeypatch.setattr(uploads, "MAX_ZIP_ENTRIES", 3)
    assert "damaged" in refusal(data, "a.docx").message


def test_a_truncated_document_is_refused_as_damaged(ctx: None) -> None:
    data = valid_docx()
    assert "damaged" in refusal(data[: len(data) // 2], "a.docx").message


def test_an_unsupported_compression_method_is_refused_as_damaged(ctx: None) -> None:
    data = docx_with(("word/styles.xml", b"<s/>" * 100), compression=zipfile.ZIP_LZMA)
    assert "damaged" in refusal(data, "a.docx").message


def test_a_password_protected_archive_is_refused(ctx: None) -> None:
    # zipfile cannot encrypt: set the "encrypted" flag in every local and central header.
    data = bytearray(docx_with(compression=zipfile.ZIP_STORED))
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        for match in re.finditer(re.escape(signature), bytes(data)):
            data[match.start() + flags_at] |= 0x1
    assert "password" in refusal(bytes(data), "a.docx").message


def test_a_document_with_macros_is_refused(ctx: None) -> None:
    data = docx_with(("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 512))
    assert "macros" in refusal(data, "a.docx").message


def zipped(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_macro_part_under_another_name_is_refused_by_its_declared_type(ctx: None) -> None:
    parts = dict(docx_parts())
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/word/harmless.bin" '
        b'ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    data = zipped([*parts.items(), ("word/harmless.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 64)])
    assert "macros" in refusal(data, "a.docx").message


def test_an_opendocument_with_basic_macros_is_refused(ctx: None) -> None:
    buffer = io.BytesIO(valid_odt())
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("Basic/Standard/Module1.xml", b"<script/>")
    data = buffer.getvalue()
    assert "macros" in refusal(data, "a.odt").message


# Storage and download --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "kind"),
    [
        (valid_pdf(), "Plan de équipe – 2025 📚.pdf", "pdf"),
        (valid_docx(), "Agenda.docx", "docx"),
        (valid_png(), "Diagram.png", "png"),
    ],
    ids=["pdf", "docx", "png"],
)
def test_a_normal_file_downloads_back_byte_for_byte_as_a_sandboxed_attachment(
    ctx: None, data: bytes, filename: str, kind: str
) -> None:
    person = UserFactory()
    stored = store_file(upload(data, filename, "text/html"), person.id, DOCUMENTS_AND_IMAGES)
    db.session.commit()
    db.session.expire_all()
    assert stored.uploaded_by_id == person.id

    body, headers = download(stored)

    assert hashlib.sha256(body).hexdigest() == stored.sha256 == hashlib.sha256(data).hexdigest()
    assert body == data
    assert headers["Content-Type"].split(";")[0] == KINDS[kind].content_type
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert headers["Cache-Control"] == "private, no-store"


def test_a_non_ascii_name_is_sent_as_rfc_6266_utf8_filename(ctx: None) -> None:
    stored = store_file(upload(valid_pdf(), "Plan de équipe – 2025 📚.pdf"), None, DOCUMENTS)
    _body, headers = download(stored)
    disposition = headers["Content-Disposition"]
    assert "filename*=UTF-8''Plan%20de%20%C3%A9quipe%20%E2%80%93%202025%20%F0%9F%93%9A.pdf" in (
        disposition
    )
    assert 'filename="Plan de equipe  2025 .pdf"' in disposition  # the ASCII fallback


def test_an_ascii_name_with_quotes_is_quoted_safely(ctx: None) -> None:
    stored = store_file(upload(valid_pdf(), 'My "best" plan.pdf'), None, DOCUMENTS)
    _body, headers = download(stored)
    assert headers["Content-Disposition"] == 'attachment; filename="My \\"best\\" plan.pdf"'


def test_a_file_missing_from_disk_is_not_found(ctx: None) -> None:
    stored = store_file(upload(valid_pdf(), "a.pdf"), None, DOCUMENTS)
    stored_path(stored).unlink()
    with pytest.raises(NotFound):
        send_stored_file(stored)


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "ab/cd/../../../etc/passwd",
        "/etc/passwd",
        "ab/cd/abcd" + "0" * 28 + "/x",
        "AB/CD/ABCD" + "0" * 28,
        "ab/cd/ef01" + "0" * 28,  # folders that do not match the name
        "ab\\cd\\abcd" + "0" * 28,
        "",
    ],
)
def test_stored_path_refuses_a_tampered_storage_key(ctx: None, key: str) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        stored_path(StoredFile(storage_key=key))
    with pytest.raises(NotFound):
        send_stored_file(StoredFile(storage_key=key))


def test_stored_path_is_inside_the_upload_folder(ctx: None, upload_dir: Path) -> None:
    stored = StoredFile(storage_key="ab/cd/abcd" + "0" * 28)
    assert stored_path(stored) == upload_dir.absolute() / "ab" / "cd" / ("abcd" + "0" * 28)


def test_the_same_file_twice_is_two_stored_files(ctx: None) -> None:
    first = store_file(upload(valid_pdf(), "a.pdf"), None, DOCUMENTS)
    second = store_file(upload(valid_pdf(), "a.pdf"), None, DOCUMENTS)
    assert first.sha256 == second.sha256
    assert first.storage_key != second.storage_key


def test_a_stored_file_is_removed_when_its_transaction_is_rolled_back(ctx: None) -> None:
    stored = store_file(upload(valid_pdf(), "a.pdf"), None, DOCUMENTS)
    path = stored_path(stored)
    assert path.is_file()
    db.session.rollback()
    assert not path.exists()


def test_a_committed_file_stays_when_a_later_transaction_is_rolled_back(ctx: None) -> None:
    kept = store_file(upload(valid_pdf(), "kept.pdf"), None, DOCUMENTS)
    db.session.commit()
    dropped = store_file(upload(valid_pdf(), "dropped.pdf"), None, DOCUMENTS)
    kept_path, dropped_path = stored_path(kept), stored_path(dropped)
    db.session.rollback()
    assert kept_path.is_file()
    assert not dropped_path.exists()
    kept_path.unlink()  # the test's rollback removes the row; tidy the file too


def test_a_savepoint_rolled_back_inside_the_transaction_keeps_the_files_before_it(
    ctx: None,
) -> None:
    stored = store_file(upload(valid_pdf(), "a.pdf"), None, DOCUMENTS)
    with db.session.begin_nested() as savepoint:
        savepoint.rollback()
    assert stored_path(stored).is_file()


def test_the_sweep_removes_only_old_leftovers_that_no_row_points_to(
    ctx: None, upload_dir: Path
) -> None:
    long_ago = time.time() - 2 * 3600

    def make(relative: str, *, old: bool) -> Path:
        path = upload_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-")
        if old:
            os.utime(path, (long_ago, long_ago))
        return path

    kept = store_file(upload(valid_pdf(), "kept.pdf"), None, DOCUMENTS)
    db.session.commit()
    os.utime(stored_path(kept), (long_ago, long_ago))
    key = "9a/bc/9abc" + "1" * 28
    stale_part = make("9a/bc/.upload-abc123_x.part", old=True)
    fresh_part = make("9a/bc/.upload-def456.part", old=False)
    orphan = make(key, old=True)
    fresh_orphan = make("9a/bc/9abc" + "2" * 28, old=False)
    roster_upload = make("imports/abcd.csv", old=True)
    stranger = make("9a/bc/notes.txt", old=True)

    assert uploads.sweep_upload_store() == 2

    assert not stale_part.exists()
    assert not orphan.exists()
    for path in (fresh_part, fresh_orphan, roster_upload, stranger, stored_path(kept)):
        assert path.exists()
    for path in (fresh_part, fresh_orphan, roster_upload, stranger, stored_path(kept)):
        path.unlink()


# Forms -------------------------------------------------------------------------------------------


def test_allow_upload_request_raises_this_request_s_body_limit(app: Flask) -> None:
    with app.test_request_context(method="POST"):
        assert request.max_content_length == app.config["MAX_CONTENT_LENGTH"]
        allow_upload_request()
        assert request.max_content_length == LIMIT + uploads.FORM_OVERHEAD
        assert uploads.max_upload_bytes() == LIMIT


def test_the_default_limit_is_25_megabytes() -> None:
    from config import Config

    assert Config.UPLOAD_MAX_BYTES == 25 * 1024 * 1024


def test_accept_attribute_and_description_list_the_kinds_in_order(ctx: None) -> None:
    assert accept_attribute(IMAGES) == (
        ".png,image/png,.jpg,.jpeg,image/jpeg,.gif,image/gif,.webp,image/webp"
    )
    assert accept_attribute({"pdf"}) == ".pdf,application/pdf"
    assert describe_kinds(DOCUMENTS).startswith("PDF, Word, PowerPoint, Excel, OpenDocument")
    assert describe_kinds(DOCUMENTS_AND_IMAGES).endswith("GIF image, WebP image")
    assert DOCUMENTS_AND_IMAGES == DOCUMENTS | IMAGES == set(KINDS)
    with pytest.raises(ValueError, match="unknown upload kinds"):
        accept_attribute({"svg"})
    with pytest.raises(ValueError, match="unknown upload kinds"):
        store_file(upload(valid_pdf(), "a.pdf"), None, {"pdf", "exe"})


def test_labels_are_lazy_so_they_follow_the_reader_s_language() -> None:
    assert all(isinstance(kind.label, LazyString) for kind in KINDS.values())


@pytest.fixture
def sent_through_the_app(app: Flask) -> Iterator[dict[str, str]]:
    with app.test_request_context():
        stored = store_file(upload(valid_pdf(), "a.pdf"), None, DOCUMENTS)
        response = app.process_response(send_stored_file(stored))
        with response:
            yield dict(response.headers)


def test_the_download_keeps_its_sandbox_after_the_app_s_header_hook(
    sent_through_the_app: dict[str, str],
) -> None:
    assert sent_through_the_app["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert sent_through_the_app["X-Content-Type-Options"] == "nosniff"
