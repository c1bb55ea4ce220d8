"""The one upload store: every file people upload (curriculum, capstones, goal evidence).

`store_file()` streams an upload into a temporary file beside its final place, counting and
hashing it as it goes, refuses it as soon as it is over the limit, recognises its type from
its bytes (never from its name or the browser's word), checks Office and OpenDocument files
as archives without expanding them, then renames it to a server-made name and adds a
`StoredFile` row. A refused upload leaves nothing behind; a stored file whose transaction is
rolled back is removed again. `send_stored_file()` sends it back as an attachment that the
browser may neither sniff nor run. `sweep_upload_store()` (cron) removes what a killed
process left and files whose row was deleted: to delete a stored file, delete its row.

Files live in ``UPLOAD_DIR/ab/cd/<uuid hex>``: no extension and nothing the person typed ever
reaches the disk. The name they gave is kept, cleaned, in the row for display and download.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import filetype
import sqlalchemy as sa
from flask import Response, abort, current_app, request, send_file
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.datastructures import FileStorage

from fellowship.db import Base, db, utcnow

# Room for the multipart envelope and the other fields around the file itself.
FORM_OVERHEAD = 64 * 1024
CHUNK_BYTES = 64 * 1024
SNIFF_BYTES = 8192  # what filetype looks at
MAX_NAME_CHARS = 255

# Office Open XML and OpenDocument files are zip archives: limits checked from the archive's
# directory, before anything is expanded (nothing ever is, here).
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_EXPANSION = 20  # total uncompressed size at most this many times the upload limit
MAX_ZIP_RATIO = 200  # no member may expand to more than this many times its packed size
# Members smaller than this cannot harm anyone whatever their ratio (the total above still
# counts them); very repetitive small XML parts would otherwise refuse real documents.
ZIP_RATIO_FROM_BYTES = 64 * 1024


@dataclass(frozen=True)
class Kind:
    """A file kind the app accepts: its extensions (first = usual), content type and label."""

    key: str
    extensions: tuple[str, ...]
    content_type: str
    label: LazyString

    @property
    def extension(self) -> str:
        return self.extensions[0]


_OOXML = "application/vnd.openxmlformats-officedocument"
_ODF = "application/vnd.oasis.opendocument"

KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("pdf", ("pdf",), "application/pdf", _l("PDF")),
        Kind("docx", ("docx",), f"{_OOXML}.wordprocessingml.document", _l("Word")),
        Kind("pptx", ("pptx",), f"{_OOXML}.presentationml.presentation", _l("PowerPoint")),
        Kind("xlsx", ("xlsx",), f"{_OOXML}.spreadsheetml.sheet", _l("Excel")),
        Kind("odt", ("odt",), f"{_ODF}.text", _l("OpenDocument text")),
        Kind("odp", ("odp",), f"{_ODF}.presentation", _l("OpenDocument presentation")),
        Kind("ods", ("ods",), f"{_ODF}.spreadsheet", _l("OpenDocument spreadsheet")),
        Kind("png", ("png",), "image/png", _l("PNG image")),
        Kind("jpeg", ("jpg", "jpeg"), "image/jpeg", _l("JPEG image")),
        Kind("gif", ("gif",), "image/gif", _l("GIF image")),
        Kind("webp", ("webp",), "image/webp", _l("WebP image")),
    )
}

DOCUMENTS: frozenset[str] = frozenset({"pdf", "docx", "pptx", "xlsx", "odt", "odp", "ods"})
IMAGES: frozenset[str] = frozenset({"png", "jpeg", "gif", "webp"})
DOCUMENTS_AND_IMAGES: frozenset[str] = DOCUMENTS | IMAGES

# What filetype reports (by content type) → our kind. Animated PNG is still PNG.
_SNIFFED: dict[str, str] = {kind.content_type: kind.key for kind in KINDS.values()}
_SNIFFED["image/apng"] = "png"
_OOXML_PARTS = {"word/": "docx", "ppt/": "pptx", "xl/": "xlsx"}
_ODF_MIMETYPES = {KINDS[key].content_type: key for key in ("odt", "odp", "ods")}
_ZIPPED = frozenset(_OOXML_PARTS.values()) | frozenset(_ODF_MIMETYPES.values())
_ZIP_SIGNATURE = b"PK\x03\x04"

_HEX2 = re.compile(r"[0-9a-f]{2}")
_PART_FILE = re.compile(r"\.upload-[A-Za-z0-9_]+\.part")
_STORAGE_KEY = re.compile(r"(?P<a>[0-9a-f]{2})/(?P<b>[0-9a-f]{2})/(?P<name>[0-9a-f]{32})")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")
# Invisible format characters that can disguise a name (right-to-left override, BOM…);
# joiners and emoji tag characters are kept so emoji and scripts that need them survive.
_KEEP_FORMAT = frozenset({"\u200c", "\u200d"})
_PENDING_KEY = "uploads_written"
# Files untouched this long that no row points to are left over (see sweep_upload_store).
STALE_AFTER = timedelta(hours=1)


class StoredFile(Base):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    original_name: Mapped[str] = mapped_column(sa.String(255))
    storage_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.original_name!r}>"


class UploadRefused(Exception):
    """An upload that was not stored; `message` tells the person why and what to do."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.too_large = too_large


# Limits and form helpers ------------------------------------------------------------------


def max_upload_bytes() -> int:
    """The largest file one upload accepts (config ``UPLOAD_MAX_BYTES``)."""
    return int(current_app.config["UPLOAD_MAX_BYTES"])


def allow_upload_request() -> None:
    """Let this request's body hold one upload (upload views call this first).

    Such views are ``@csrf.exempt`` (the app-wide hook would read the body before the limit
    is raised) and rely on their FlaskForm's own CSRF check.
    """
    request.max_content_length = max_upload_bytes() + FORM_OVERHEAD


def _kinds(keys: Iterable[str]) -> list[Kind]:
    wanted = set(keys)
    unknown = wanted - KINDS.keys()
    if unknown:
        raise ValueError(f"unknown upload kinds: {sorted(unknown)}")
    return [kind for kind in KINDS.values() if kind.key in wanted]


def accept_attribute(kinds: Iterable[str]) -> str:
    """The value of ``<input type=file accept=...>`` for these kinds (extensions and types)."""
    parts: list[str] = []
    for kind in _kinds(kinds):
        parts.extend(f".{extension}" for extension in kind.extensions)
        parts.append(kind.content_type)
    return ",".join(parts)


def describe_kinds(kinds: Iterable[str]) -> str:
    """The kinds in words, for hints and messages: "PDF, Word, PowerPoint…"."""
    return ", ".join(str(kind.label) for kind in _kinds(kinds))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


# Names ------------------------------------------------------------------------------------


def _keep_char(char: str) -> bool:
    category = unicodedata.category(char)
    if category in {"Cc", "Cs", "Co", "Zl", "Zp"}:
        return False
    if category == "Cf":
        return char in _KEEP_FORMAT or 0xE0020 <= ord(char) <= 0xE007F
    return True


def _split_name(filename: str | None) -> tuple[str, str]:
    """The cleaned stem and extension of the name the person gave (either may be empty).

    Only the part after the last ``/`` or ``\\`` counts; control and invisible format
    characters go; the text is NFC; leading dots and spaces and trailing dots and spaces
    (which Windows drops) go, before the extension is looked for, so ``..\\a`` and ``..a``
    (what werkzeug's form parser makes of it) are both just ``a``. The extension is what
    follows the last dot when it looks like one (1–10 letters or digits), so
    "Minutes v2.1 final" has none.
    """
    name = re.split(r"[/\\]", filename or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(char for char in name if _keep_char(char))
    name = name.strip().strip(". ").strip()
    stem, dot, extension = name.rpartition(".")
    if not dot or not _EXTENSION.fullmatch(extension):
        stem, extension = name, ""
    return stem.strip(), extension


def _display_name(stem: str, extension: str) -> str:
    """``stem.extension`` in at most 255 characters, shortening the stem only."""
    room = MAX_NAME_CHARS - len(extension) - 1
    stem = stem[:room].rstrip().rstrip("\u200d")
    return f"{stem or 'file'}.{extension}"


# Recognising files ------------------------------------------------------------------------


def _damaged() -> UploadRefused:
    return UploadRefused(
        _(
            "This file looks damaged, so it can’t be accepted. Open it, save it again, and "
            "upload the new copy."
        )
    )


@contextlib.contextmanager
def _archive_errors() -> Iterator[None]:
    """What zipfile raises on a malformed, truncated or oddly compressed archive → damaged."""
    try:
        yield
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,  # a compression method zipfile cannot read
        RuntimeError,  # an encrypted member
        EOFError,
        OSError,
        ValueError,
        UnicodeError,
        zlib.error,
    ) as error:
        raise _damaged() from error


def _declared_entries(path: Path) -> int:
    """The member count in the archive's end record, read before zipfile lists every member
    (a 25 MB directory of tiny members would otherwise take hundreds of MB to list)."""
    with path.open("rb") as file:
        file.seek(0, os.SEEK_END)
        tail_size = min(file.tell(), 22 + 0xFFFF)  # end record + the longest comment
        file.seek(-tail_size, os.SEEK_END)
        tail = file.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise zipfile.BadZipFile("no end of central directory record")
    return int.from_bytes(tail[at + 10 : at + 12], "little")  # total entries (0xFFFF: zip64)


def _zip_kind(path: Path) -> str | None:
    """docx/pptx/xlsx/odt/odp/ods from the archive's parts, or None for any other zip."""
    if _declared_entries(path) > MAX_ZIP_ENTRIES:
        raise _damaged()
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _damaged()
        names = {info.filename for info in infos}
        if "[Content_Types].xml" in names:
            found = {
                kind
                for prefix, kind in _OOXML_PARTS.items()
                if any(n.startswith(prefix) for n in names)
            }
            return found.pop() if len(found) == 1 else None
        if "mimetype" in names:
            info = archive.getinfo("mimetype")
            if info.file_size > 100 or info.compress_size > 200:
                return None
            with archive.open(info) as member:
                value = member.read(101).decode("ascii", "replace").strip()
            return _ODF_MIMETYPES.get(value)
    return None


def _sniff(path: Path, head: bytes) -> tuple[str | None, str]:
    """The kind the bytes are (or None) and what to call them in a message."""
    if head.startswith(_ZIP_SIGNATURE):
        with _archive_errors():
            kind = _zip_kind(path)
        if kind is not None:
            return kind, str(KINDS[kind].label)
        guess = filetype.guess(head)
        return None, (guess.extension if guess else "zip").upper()
    guess = filetype.guess(head)
    if guess is None:
        return None, ""
    kind = _SNIFFED.get(guess.mime)
    return kind, str(KINDS[kind].label) if kind else str(guess.extension).upper()


def _check_archive(path: Path, kind: str, limit: int) -> None:
    """Refuse a zip-based document that is malformed, encrypted, has macros or is a bomb.

    Only the archive's directory is read: sizes as declared there, never expanded.
    """
    file_size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _damaged()
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise UploadRefused(
                    _(
                        "This file is protected with a password, so it can’t be accepted. "
                        "Save a copy without the password and upload that."
                    )
                )
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _damaged()
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise _damaged()
            if info.header_offset + info.compress_size > file_size:
                raise _damaged()
            if _is_macro_part(kind, info.filename):
                raise _macros()
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > ZIP_RATIO_FROM_BYTES and ratio > MAX_ZIP_RATIO:
                raise _bomb()
        if total > MAX_ZIP_EXPANSION * limit:
            raise _bomb()
        if kind in _OOXML_PARTS.values() and _declares_macros(archive):
            raise _macros()


# Office macros: OOXML keeps VBA in a vbaProject part (any name: the content types say what
# it is) and macro-enabled files declare a macroEnabled main type; OpenDocument keeps Basic
# and scripts in folders of those names.
_MACRO_CONTENT_TYPES = (b"vbaproject", b"macroenabled", b"vbadata")
_ODF_MACRO_FOLDERS = ("basic/", "scripts/")


def _is_macro_part(kind: str, name: str) -> bool:
    lowered = name.lower()
    if kind in _OOXML_PARTS.values():
        return lowered.endswith(("vbaproject.bin", "vbadata.xml"))
    return kind in _ODF_MIMETYPES.values() and lowered.startswith(_ODF_MACRO_FOLDERS)


def _declares_macros(archive: zipfile.ZipFile) -> bool:
    """Whether [Content_Types].xml names a macro part (read only when it is small)."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return False
    if info.file_size > 1024 * 1024:
        return True  # no honest document has a megabyte of content types
    declared = archive.read(info).lower()
    return any(marker in declared for marker in _MACRO_CONTENT_TYPES)


def _macros() -> UploadRefused:
    return UploadRefused(
        _(
            "This file contains macros, which aren’t accepted. Save it as an "
            "ordinary document without macros and upload it again."
        )
    )


def _bomb() -> UploadRefused:
    return UploadRefused(
        _(
            "This file would expand to a huge size when opened, so it can’t be accepted. If it "
            "is a real document, open it, save it again, and upload the new copy."
        )
    )


# Storing ----------------------------------------------------------------------------------


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]).absolute()


def stored_path(stored: StoredFile) -> Path:
    """Where a stored file is on disk; a storage key of any other shape is refused."""
    match = _STORAGE_KEY.fullmatch(stored.storage_key or "")
    if not match or match["name"][:2] != match["a"] or match["name"][2:4] != match["b"]:
        raise ValueError(f"not a storage key: {stored.storage_key!r}")
    return upload_root() / match["a"] / match["b"] / match["name"]


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _receive(upload: FileStorage, fd: int, limit: int) -> tuple[int, str, bytes]:
    """Copy the upload into `fd`: (size, sha256, first bytes); refuse past `limit`."""
    stream = upload.stream
    with contextlib.suppress(AttributeError, OSError, ValueError):
        stream.seek(0)  # a validator may have read it already
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    with os.fdopen(fd, "wb", closefd=False) as out:
        while chunk := stream.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise UploadRefused(
                    _(
                        "This file is larger than %(mb)s MB, the largest accepted. Make it "
                        "smaller (for example, compress its pictures or save it as PDF) and "
                        "upload it again.",
                        mb=_megabytes(limit),
                    ),
                    too_large=True,
                )
            digest.update(chunk)
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest(), bytes(head)


def _check_type(
    path: Path, head: bytes, filename: str | None, allowed: frozenset[str]
) -> tuple[Kind, str]:
    """The kind of the received bytes and the display name, or UploadRefused."""
    kind_key, what = _sniff(path, head)
    accepted = describe_kinds(allowed)
    if kind_key is None or kind_key not in allowed:
        if what:
            raise UploadRefused(
                _(
                    "This file is in %(type)s format, which isn’t accepted here. Upload one "
                    "of these instead: %(kinds)s.",
                    type=what,
                    kinds=accepted,
                )
            )
        raise UploadRefused(
            _(
                "This kind of file isn’t accepted here. Upload one of these instead: %(kinds)s.",
                kinds=accepted,
            )
        )
    kind = KINDS[kind_key]
    stem, extension = _split_name(filename)
    if not extension:
        extension = kind.extension  # "report" or "../../etc/passwd": named after its type
    elif extension.lower() not in kind.extensions:
        raise UploadRefused(
            _(
                "This file is really a %(type)s file, but its name ends in “.%(extension)s”. "
                "Rename it to end in “.%(right)s” and upload it again.",
                type=str(kind.label),
                extension=extension,
                right=kind.extension,
            )
        )
    return kind, _display_name(stem, extension)


def store_file(
    upload: FileStorage, uploaded_by_id: int | None, allowed: frozenset[str] | set[str]
) -> StoredFile:
    """Keep an upload of one of the `allowed` kinds and add its row (flushed, not committed).

    Raises UploadRefused (with a message for the person) when the file is empty, too large,
    of a kind not allowed, named for another kind, or a damaged, encrypted, macro-carrying
    or bomb-like archive. Nothing is left on disk then; nor, after a rollback, for a file
    that was stored.
    """
    allowed = frozenset(allowed)
    _kinds(allowed)  # unknown kinds are a programming error
    limit = max_upload_bytes()
    key = uuid.uuid4().hex
    directory = upload_root() / key[:2] / key[2:4]
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / key
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
    temp = Path(temp_name)
    try:
        try:
            size, sha256, head = _receive(upload, fd, limit)
        finally:
            os.close(fd)
        if size == 0:
            if not upload.filename:
                raise UploadRefused(_("Choose a file to upload."))
            raise UploadRefused(
                _("This file is empty. Check that it was saved properly and upload it again.")
            )
        kind, name = _check_type(temp, head, upload.filename, allowed)
        if kind.key in _ZIPPED:
            with _archive_errors():
                _check_archive(temp, kind.key, limit)
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    stored = StoredFile(
        sha256=sha256,
        size=size,
        content_type=kind.content_type,
        original_name=name,
        storage_key=f"{key[:2]}/{key[2:4]}/{key}",
        uploaded_by_id=uploaded_by_id,
    )
    try:
        db.session.add(stored)
        db.session.flush()
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    db.session.info.setdefault(_PENDING_KEY, []).append(str(final))
    return stored


@event.listens_for(Session, "after_commit")
def _keep_committed_files(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_uncommitted_files(session: Session, transaction: Any) -> None:
    """Files stored in a transaction that ended without a commit have no row: remove them.

    Covers a rollback and a session closed without committing (the end of a request that
    refused its form after storing). A savepoint ending is not the end: the outer
    transaction may still commit.
    """
    if transaction.parent is not None:
        return
    for name in session.info.pop(_PENDING_KEY, []):
        with contextlib.suppress(OSError):
            Path(name).unlink(missing_ok=True)


# Sweeping ----------------------------------------------------------------------------------


def _hex_folders(parent: Path) -> Iterator[Path]:
    with os.scandir(parent) as entries:
        for entry in entries:
            if _HEX2.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                yield Path(entry.path)


def sweep_upload_store(older_than: timedelta = STALE_AFTER) -> int:
    """Remove what no row points to: the number of files removed (for a cron command).

    That is temporary ``.part`` files an interrupted upload left (the process was killed
    mid-write), and stored files whose row was never committed (killed between the rename
    and the commit) or has since been deleted. Only files untouched for `older_than` count,
    so uploads in progress are safe; folders other than the store's own (``imports/``) are
    never looked at.
    """
    root = upload_root()
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    unclaimed: dict[str, Path] = {}
    for first in _hex_folders(root):
        for second in _hex_folders(first):
            with os.scandir(second) as entries:
                for entry in entries:
                    try:
                        if not entry.is_file(follow_symlinks=False):
                            continue
                        if entry.stat(follow_symlinks=False).st_mtime > cutoff:
                            continue
                    except FileNotFoundError:
                        continue
                    key = f"{first.name}/{second.name}/{entry.name}"
                    if _PART_FILE.fullmatch(entry.name):
                        Path(entry.path).unlink(missing_ok=True)
                        removed += 1
                    elif _STORAGE_KEY.fullmatch(key):
                        unclaimed[key] = Path(entry.path)
    keys = list(unclaimed)
    for start in range(0, len(keys), 500):
        batch = keys[start : start + 500]
        known = set(
            db.session.scalars(
                sa.select(StoredFile.storage_key).where(StoredFile.storage_key.in_(batch))
            )
        )
        for key in batch:
            if key not in known:
                unclaimed[key].unlink(missing_ok=True)
                removed += 1
    return removed


# Sending ----------------------------------------------------------------------------------


def send_stored_file(stored: StoredFile) -> Response:
    """The file as a download: attachment, its recognised type, never sniffed nor run.

    The app's own header hook must leave this response's Content-Security-Policy alone.
    """
    try:
        path = stored_path(stored)
    except ValueError:
        current_app.logger.error("stored file %s has a malformed storage key", stored.id)
        abort(404)
    if not path.is_file():
        current_app.logger.error("stored file %s is missing from the upload store", stored.id)
        abort(404)
    try:
        response = send_file(
            path,
            mimetype=stored.content_type,
            as_attachment=True,
            download_name=stored.original_name,
            max_age=0,
            etag=stored.sha256,
        )
    except FileNotFoundError:
        abort(404)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Showing files -----------------------------------------------------------------------------


def size_label(size: int) -> str:
    """A file size for people: "850 bytes", "12.5 KB", "3.2 MB" in their locale."""
    from flask_babel import format_decimal

    if size < 1024:
        return _("%(num)s bytes", num=format_decimal(size))
    if size < 1024 * 1024:
        return _("%(num)s KB", num=format_decimal(round(size / 1024, 1)))
    return _("%(num)s MB", num=format_decimal(round(size / (1024 * 1024), 1)))


def kind_label(stored: StoredFile) -> str:
    """What a stored file is, in words ("PDF", "Word document")."""
    for kind in KINDS.values():
        if kind.content_type == stored.content_type:
            return str(kind.label)
    return stored.content_type
