"""Request helpers: require(), get_or_404, request ids, security headers, error pages."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from fellowship.db import db
from fellowship.forms import parse_int
from fellowship.markdown import remote_images_shown, render_markdown, render_reading

T = TypeVar("T")


def require(allowed: bool) -> None:
    """Stop the request with 403 unless the policy decision allowed it."""
    if not allowed:
        abort(403)


def page_arg() -> int:
    """The 1-based page number of a list page (`?page=`); anything odd means page 1."""
    return parse_int(request.args.get("page")) or 1


MAX_ID = 2**31 - 1  # id columns are 32-bit integers on PostgreSQL


def get_or_404(model: type[T], ident: Any) -> T:
    if isinstance(ident, int) and not 0 < ident <= MAX_ID:
        abort(404)  # no such row, and SQLite cannot even bind the number
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def safe_local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site ("/..."); None for anything that could leave it
    (a scheme, a host, "//", backslashes, or control characters browsers strip)."""
    if not target or any(ord(c) < 32 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def field_attrs(field: Any, hint: str | None, autofocus: bool = False) -> dict[str, Any]:
    """ARIA and HTML attributes that tie a form field to its hint and its errors."""
    described_by = []
    if hint:
        described_by.append(f"{field.id}-hint")
    if field.errors:
        described_by.append(f"{field.id}-error")
    attrs: dict[str, Any] = {}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    if autofocus:
        attrs["autofocus"] = True
    if field.flags.required:
        attrs["required"] = True
    return attrs


def _refuse_nul_bytes() -> None:
    """A NUL byte in an address or an ordinary form is never meant (and PostgreSQL refuses
    it in text): 400 before anything reads it. Uploads (multipart) check their own text."""
    values = list(request.args.values())
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        values += list(request.form.values())
    if "\x00" in request.path or any("\x00" in value for value in values):
        abort(400)


def _assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    valid = 8 <= len(incoming) <= 64 and all(c.isalnum() or c in "-_" for c in incoming)
    g.request_id = incoming if valid else uuid.uuid4().hex


def _security_headers(response: Response) -> Response:
    nonce = csp_nonce()
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; "
        f"img-src 'self' data:{' https:' if remote_images_shown() else ''}; "
        "font-src 'self'; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if current_app.config.get("HSTS"):
        response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    # Pages for a signed-in person are never cached (shared computers, back button).
    from flask_login import current_user

    if request.endpoint == "static":
        _cache_static(response)
    elif current_user and current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


# Static files: an address with the file's version (`?v=`, added by url_for) is cached for a
# year, since a new version has a new address; files the stylesheets point at (fonts, icons)
# for a day. A page then costs one request, not a dozen revalidations.
STATIC_VERSIONED_MAX_AGE = 365 * 24 * 3600
STATIC_MAX_AGE = 24 * 3600


def _cache_static(response: Response) -> None:
    if response.status_code not in (200, 304):
        return
    if request.args.get("v"):
        response.headers["Cache-Control"] = f"public, max-age={STATIC_VERSIONED_MAX_AGE}, immutable"
    else:
        response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}"


def static_version(filename: str) -> str:
    """The first 12 hex digits of the SHA-256 of a static file: the same on every server
    that has the same file. Worked out again when the file changes on disk."""
    static_folder = current_app.static_folder
    if static_folder is None:
        return ""
    path = Path(static_folder) / filename
    try:
        stat = path.stat()
    except OSError:
        return ""  # not there: the static route answers 404 as it would without a version
    known: dict[str, tuple[int, int, str]] = current_app.extensions.setdefault(
        "static_versions", {}
    )
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = known.get(filename)
    if cached is None or cached[:2] != stamp:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        cached = known[filename] = (*stamp, digest)
    return cached[2]


def _version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(values["filename"])
        if version:
            values["v"] = version


def _error_page(code: int) -> tuple[str, int]:
    titles = {
        400: _("Bad request"),
        403: _("Not allowed"),
        404: _("Page not found"),
        405: _("Method not allowed"),
        409: _("Someone else saved at the same moment"),
        413: _("File too large"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
        503: _("Temporarily unavailable"),
    }
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=titles.get(code, _("Error")),
            request_id=g.get("request_id", ""),
        ),
        code,
    )


def _handle_http_error(error: HTTPException) -> Any:
    code = error.code or 500
    body, status = _error_page(code)
    response = current_app.make_response((body, status))
    if code == 429:
        retry = getattr(error, "retry_after", None)
        response.headers.setdefault("Retry-After", str(retry or 60))
    return response


def _handle_write_conflict(error: sa.exc.IntegrityError) -> Any:
    """Two people saved the same thing at the same moment: nothing of this request was kept."""
    current_app.logger.warning(
        "write conflict (request %s): %s", g.get("request_id"), error.orig or error
    )
    with contextlib.suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    return _error_page(409)


def _handle_database_down(error: sa.exc.OperationalError) -> Any:
    current_app.logger.error("database unavailable (request %s): %s", g.get("request_id"), error)
    with contextlib.suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    # Render the page as signed out: loading the person would need the database again.
    from fellowship.extensions import login_manager

    g._login_user = login_manager.anonymous_user()
    body, status = _error_page(503)
    response = current_app.make_response((body, status))
    response.headers["Retry-After"] = "5"
    return response


def _handle_unexpected(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _handle_http_error(error)
    current_app.logger.exception("unhandled error (request %s)", g.get("request_id"))
    try:
        db.session.rollback()
    except Exception:
        current_app.logger.exception("rollback after error failed")
    return _error_page(500)


def healthz() -> Any:
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            db.session.rollback()
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="ok")


def format_number(value: float | int | None, places: int = 2) -> str:
    """A number in the reader's locale with at most `places` decimals (1,234.5 / 1.234,5);
    an empty string for None."""
    if value is None:
        return ""
    from flask_babel import format_decimal

    pattern = "#,##0." + "#" * places if places > 0 else "#,##0"
    return str(format_decimal(round(float(value), places), format=pattern))


def register_web(app: Flask) -> None:
    # First of all before-request functions, so every log line and error page has the id.
    app.before_request_funcs.setdefault(None, []).insert(0, _assign_request_id)
    app.before_request_funcs[None].insert(1, _refuse_nul_bytes)
    app.after_request(_security_headers)
    app.url_defaults(_version_static_urls)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(sa.exc.OperationalError, _handle_database_down)
    app.register_error_handler(sa.exc.IntegrityError, _handle_write_conflict)
    app.register_error_handler(Exception, _handle_unexpected)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["field_attrs"] = field_attrs
    # Every page that lists stored files says what they are the same way.
    from fellowship.uploads import kind_label, size_label

    app.jinja_env.globals["file_kind"] = kind_label
    app.jinja_env.globals["file_size"] = size_label
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["reading"] = render_reading
    app.jinja_env.filters["number"] = format_number
