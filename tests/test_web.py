"""Headers, error pages, health check, configuration guards."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask

from config import UnsafeConfiguration, check_production
from fellowship import create_app
from fellowship.forms import parse_int
from tests.conftest import sign_in
from tests.factories import StaffFactory, UserFactory


def test_every_page_sends_the_security_headers_with_a_fresh_nonce(client):
    first = client.get("/login")
    second = client.get("/login")
    csp = first.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in first.get_data(as_text=True)
    assert nonce not in second.headers["Content-Security-Policy"]
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_signed_in_pages_are_never_cached(client):
    sign_in(client, UserFactory())
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_static_files_carry_their_version_and_a_versioned_one_is_cached_for_a_year(client):
    import hashlib
    from pathlib import Path

    page = client.get("/login").get_data(as_text=True)
    href = re.search(r'href="(/static/css/app\.css\?v=([0-9a-f]+))"', page)
    assert href, "the stylesheet's address carries its version"
    css = Path(client.application.static_folder) / "css/app.css"
    assert href.group(2) == hashlib.sha256(css.read_bytes()).hexdigest()[:12]
    versioned = client.get(href.group(1))
    versioned.close()
    assert versioned.status_code == 200
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # A font the stylesheet points at has no version: cached for a day.
    font = client.get("/static/vendor/uswds/fonts/source-sans-pro/sourcesanspro-bold-webfont.woff2")
    font.close()
    assert font.headers["Cache-Control"] == "public, max-age=86400"
    assert client.get("/static/no-such-file.css?v=1").status_code == 404


def test_a_changed_static_file_gets_a_new_version(app: Flask, tmp_path, monkeypatch):
    from fellowship.web import static_version

    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    sheet = tmp_path / "site.css"
    sheet.write_text("body { color: black; }")
    with app.test_request_context():
        first = static_version("site.css")
        assert static_version("site.css") == first
        sheet.write_text("body { color: navy; } /* longer */")
        assert static_version("site.css") not in ("", first)
        assert static_version("missing.css") == ""


def test_a_signed_in_persons_static_files_cost_no_query(client, count_queries):
    sign_in(client, UserFactory())
    with count_queries() as counter:
        response = client.get("/static/css/app.css")
        response.close()
    assert response.status_code == 200
    assert "no-store" not in response.headers["Cache-Control"]
    assert counter.count == 0


def test_the_session_cookie_is_http_only_and_same_site(client):
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_an_unknown_page_is_a_friendly_404_with_a_request_id(client):
    response = client.get("/no/such/page", headers={"X-Request-ID": "req-12345678"})
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Page not found" in body
    assert "req-12345678" in body
    assert response.headers["X-Request-ID"] == "req-12345678"


def test_a_500_shows_a_request_id_and_no_traceback(app: Flask, client, monkeypatch):
    def explode():
        raise RuntimeError("secret internals")

    app.view_functions["healthz"], original = explode, app.view_functions["healthz"]
    try:
        response = client.get("/healthz")
    finally:
        app.view_functions["healthz"] = original
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "Request id:" in body
    assert "secret internals" not in body
    assert "Traceback" not in body


def test_health_check_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_check_answers_503_when_the_database_does_not(tmp_path):
    broken = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
        },
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_pages_answer_503_with_retry_after_while_the_database_is_down():
    broken = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
        },
    )
    client = broken.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"
    response = client.get("/profile")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"SECRET_KEY": "change-me"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short-but-random-3f9a"}, "SECRET_KEY"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"DEBUG": True}, "debug"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"}, "SQLite"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "RATELIMIT_STORAGE_URI"),
    ],
    ids=[
        "example secret",
        "short secret",
        "missing secret",
        "debug on",
        "sqlite by accident",
        "per-process rate limits",
    ],
)
def test_production_refuses_to_start_with_unsafe_settings(settings, problem):
    config = {
        "SECRET_KEY": "x" * 40,
        "DEBUG": False,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/fellowship",
        "RATELIMIT_STORAGE_URI": "redis://cache:6379/0",
    }
    config.update(settings)
    with pytest.raises(UnsafeConfiguration, match=problem):
        check_production(config)


def test_production_starts_with_safe_settings_and_may_allow_sqlite_explicitly():
    redis = "redis://cache:6379/0"
    check_production(
        {
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/f",
            "RATELIMIT_STORAGE_URI": redis,
        }
    )
    check_production(
        {
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": "sqlite:///x.db",
            "ALLOW_SQLITE_IN_PRODUCTION": True,
            "RATELIMIT_STORAGE_URI": redis,
        }
    )


def test_demo_data_is_refused_under_the_production_configuration(app, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "refusing" in result.output


def test_demo_data_creates_one_account_per_role_and_is_idempotent(app):
    from fellowship.auth.models import User
    from fellowship.extensions import db

    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    second = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "(8 new accounts)" in first.output
    assert "(0 new accounts)" in second.output
    emails = set(db.session.scalars(sa.select(User.email).where(User.email.like("%@example.org"))))
    assert {
        "admin@example.org",
        "staff@example.org",
        "fellow@example.org",
        "coach@example.org",
        "facilitator@example.org",
        "reviewer@example.org",
        "lead@example.org",
        "partner@example.org",
    } <= emails


def test_get_never_writes_a_forbidden_page_has_no_side_effects(client):
    sign_in(client, UserFactory())
    assert client.get("/admin/people").status_code == 403


def test_require_aborts_with_403():
    from werkzeug.exceptions import Forbidden

    from fellowship.web import require

    app = Flask(__name__)
    with app.test_request_context(), pytest.raises(Forbidden):
        require(False)


def test_an_oversized_form_post_is_refused_with_413_before_it_is_read(client):
    response = client.post("/login", data={"email": "x" * (3 * 1024 * 1024), "password": "y"})
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_a_write_that_collides_with_another_gets_a_409_page_and_keeps_nothing(app, client):
    """E.g. two staff assigning a coach at the same instant on PostgreSQL."""
    from fellowship.auth.models import User
    from fellowship.extensions import db

    existing = UserFactory(email="taken@example.org")

    def collide():
        db.session.add(User(email="taken@example.org", name="Duplicate"))
        db.session.flush()

    app.view_functions["healthz"], original = collide, app.view_functions["healthz"]
    try:
        response = client.get("/healthz")
    finally:
        app.view_functions["healthz"] = original
    assert response.status_code == 409
    assert "Someone else saved at the same moment" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count(User.id)).where(User.email == "taken@example.org")
        )
        == 1
    )
    assert existing.id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        ("0", 0),
        ("", None),
        (None, None),
        ("-1", None),
        ("1.5", None),
        ("²", None),  # "²".isdigit() is true, int("²") is an error
        ("٣", None),  # an Arabic-Indic digit
        ("2147483647", 2**31 - 1),
        ("2147483648", None),
        ("9" * 19, None),
        ("9" * 5000, None),  # int() refuses more than 4300 digits
    ],
)
def test_a_number_from_a_client_is_read_strictly(value, expected):
    assert parse_int(value) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/cohorts/99999999999999999999",
        "/modules/99999999999999999999",
        "/cohorts/9223372036854775808/curriculum",
        "/cohorts/3000000000",
        "/capstones/3000000000",
    ],
)
def test_an_id_too_large_for_the_database_is_not_found(client, path):
    sign_in(client, StaffFactory())
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/library?q=a%00b", None),
        ("POST", "/profile", {"name": "A\x00B"}),
    ],
)
def test_a_nul_byte_is_a_bad_request_not_a_server_error(client, method, path, data):
    sign_in(client, StaffFactory())
    assert client.open(path, method=method, data=data).status_code == 400
