"""Two enrollment imports at once, on PostgreSQL, with real connections and real commits: the
second waits for the first and is then refused ("changed since the preview"), so a
school-year never ends up holding a mix of both files; a confirm or command that cannot get
the database's lock in time says to try again instead of failing with an error page.

These tests run on their own scratch database (`<test database>_import_race`, created,
migrated and dropped by this module): the usual fixtures run every test inside one rolled-back
transaction on one connection, where two transactions can never overlap. On SQLite there is
nothing to race: a request or command that writes holds the database's write lock from its
first statement (`fellowship.db.configure_engine`), so these run on PostgreSQL only.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from fellowship.extensions import db
from fellowship.integration import import_services as counts
from fellowship.integration.models import EnrollmentCount
from fellowship.school_years import get_or_create
from tests.conftest import (
    TEST_DATABASE_URL,
    InApp,
    csrf_token,
    database_url_from,
    make_app,
    sign_in,
)
from tests.cycles.helpers import SchoolFactory
from tests.factories import StaffFactory
from tests.integration.helpers import add_counts
from tests.integration.import_helpers import csv_bytes, csv_text

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="PostgreSQL only: on SQLite a writing request holds the whole database, no race",
)

URL = "/integration/import"
YEAR = "2025-26"
HELD = {"black": 100, "white": 90}  # what the school-year holds before either import
FILE_A = {"black": 1, "asian": 5}
FILE_B = {"black": 2, "hispanic_latino": 7}
WAIT = 30  # seconds any step may take before the test gives up
BUSY = "the database refused a change (someone may have imported the same school-years"


def lines(code: str, values: dict[str, int]) -> list[str]:
    return [f"{code},{YEAR},,enrollment,{group},{count}" for group, count in values.items()]


# A scratch database ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def race_url() -> Iterator[str]:
    assert TEST_DATABASE_URL
    base = sa.engine.make_url(database_url_from(TEST_DATABASE_URL))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"{base.database}_import_race" + (f"_{worker}" if worker else "")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _app(url: str, uploads: Path, **settings: Any) -> Flask:
    return make_app(url, UPLOAD_DIR=str(uploads), RATELIMIT_ENABLED=False, **settings)


@pytest.fixture(scope="module")
def race_app(race_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = _app(race_url, tmp_path_factory.mktemp("race-uploads"))
    with application.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def impatient_app(race_app: Flask, race_url: str) -> Iterator[Flask]:
    """The same database, through connections that wait at most 0.3 s for any lock."""
    application = _app(
        race_url,
        Path(race_app.config["UPLOAD_DIR"]),
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options": "-c lock_timeout=300"}},
    )
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


# Helpers --------------------------------------------------------------------------------------


def seed(app: Flask, code: str) -> tuple[int, int]:
    """A school whose 2025-26 holds HELD, committed; (school id, year id)."""
    with app.app_context():
        school = SchoolFactory(code=code)
        school_year = get_or_create(YEAR)
        add_counts(school, school_year, HELD)
        db.session.commit()
        ids = (school.id, school_year.id)
        db.session.remove()
    return ids


def held(app: Flask, school_id: int, year_id: int) -> dict[str, int]:
    """What the school-year holds, as committed."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(EnrollmentCount.group, EnrollmentCount.count).where(
                EnrollmentCount.school_id == school_id, EnrollmentCount.school_year_id == year_id
            )
        ).all()
        db.session.remove()
    return {str(group.value): count for group, count in rows}


def blocked(app: Flask, thread: threading.Thread) -> bool:
    """Wait until a connection to the database waits for a lock (True), or `thread` ends
    without having had to (False)."""
    with app.app_context():
        engine = db.engine
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and thread.is_alive():
            waiting = connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting:
                return True
            time.sleep(0.02)
    return False


class HeldImport:
    """Import A: applied in a thread that does not commit until told to."""

    def __init__(self, app: Flask, code: str) -> None:
        self.applied = threading.Event()
        self.go = threading.Event()
        with app.app_context():
            self.plan = counts.plan_counts_import(csv_text(*lines(code, FILE_A)))
            db.session.remove()
        self.thread = InApp(app, self._run)

    def _run(self) -> None:
        counts.apply_counts_import(None, self.plan)
        self.applied.set()
        assert self.go.wait(WAIT)
        db.session.commit()

    def start(self) -> None:
        self.thread.start()
        assert self.applied.wait(WAIT), self.thread.error

    def commit(self) -> None:
        self.go.set()
        self.thread.outcome()


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    with app.app_context():
        sign_in(client, StaffFactory())
        db.session.remove()
    return client


def preview_token(client: FlaskClient, data: bytes) -> str:
    response = client.post(
        URL,
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(data), "b.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    marker = 'name="token" type="hidden" value="'
    assert marker in html, html
    return html.split(marker)[1].split('"')[0]


def confirm(client: FlaskClient, token: str) -> Any:
    return client.post(URL, data={"csrf_token": csrf_token(client), "token": token})


# The races ------------------------------------------------------------------------------------


def test_a_second_import_waits_for_the_first_and_is_refused_so_the_files_never_mix(race_app):
    """Both previewed before either is applied; A applied, not committed; B starts; A commits."""
    school_id, year_id = seed(race_app, "RACE-1")
    first = HeldImport(race_app, "RACE-1")
    with race_app.app_context():
        plan_b = counts.plan_counts_import(csv_text(*lines("RACE-1", FILE_B)))
        db.session.remove()
    first.start()

    def import_b() -> str:
        try:
            counts.apply_counts_import(None, plan_b)
        except counts.CountsImportError as error:
            db.session.rollback()
            return error.message
        db.session.commit()
        return "imported"

    second = InApp(race_app, import_b)
    second.start()
    waited = blocked(race_app, second)
    first.commit()
    outcome = second.outcome()
    assert waited, "B did not wait for A"
    assert "changed since the preview" in outcome
    assert held(race_app, school_id, year_id) == FILE_A


def test_a_confirm_while_another_import_is_applied_waits_then_shows_the_new_preview(race_app):
    school_id, year_id = seed(race_app, "RACE-2")
    client = signed_in(race_app)
    token = preview_token(client, csv_bytes(*lines("RACE-2", FILE_B)))
    first = HeldImport(race_app, "RACE-2")
    first.start()
    second = InApp(race_app, lambda: confirm(client, token))
    second.start()
    waited = blocked(race_app, second)
    first.commit()
    response = second.outcome()
    assert waited, "the confirm did not wait for the import being applied"
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Nothing was imported: the counts of these schools changed since the preview" in html
    assert held(race_app, school_id, year_id) == FILE_A
    # The new preview says what B's file does now; confirmed, the school-year holds B's file.
    new_token = html.split('name="token" type="hidden" value="')[1].split('"')[0]
    assert confirm(client, new_token).status_code == 302
    assert held(race_app, school_id, year_id) == FILE_B


def test_a_confirm_or_command_that_cannot_get_the_lock_in_time_says_to_try_again(
    race_app, impatient_app, tmp_path
):
    school_id, year_id = seed(race_app, "RACE-3")
    data = csv_bytes(*lines("RACE-3", FILE_B))
    client = signed_in(impatient_app)
    token = preview_token(client, data)
    first = HeldImport(race_app, "RACE-3")
    first.start()
    try:
        response = confirm(client, token)
        assert response.status_code == 302
        assert BUSY in client.get(URL).get_data(as_text=True)
        path = tmp_path / "b.csv"
        path.write_bytes(data)
        result = impatient_app.test_cli_runner().invoke(args=["integration", "import", str(path)])
        assert result.exit_code == 1, result.output
        assert BUSY in result.output
    finally:
        first.commit()
    assert held(race_app, school_id, year_id) == FILE_A
    # Nothing is left half done: once the lock is free, the same preview is confirmed... as
    # a new preview (the counts are A's now), which then imports.
    response = confirm(client, token)
    assert response.status_code == 409
