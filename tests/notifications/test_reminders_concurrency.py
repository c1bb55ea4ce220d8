"""Two `flask reminders run` at the same moment (two cron jobs, two servers): every reminder is
one notification and one email, on SQLite and on PostgreSQL.

These tests need real connections and real commits, so they run on a scratch database of
their own (a file on SQLite; `<test database>_reminders_race` on PostgreSQL), migrated here,
emptied after each test and dropped at the end: the usual fixtures run each test inside one
rolled-back transaction, where two transactions can never overlap.

- Two runs in threads, each with its own connection, forced to overlap: the first run holds
  the commit of its first reminders until the second run is waiting for them (PostgreSQL: on
  the notifications' unique key; SQLite: on the database's write lock). Then two deliverers
  at once.
- Two real `flask reminders run --deliver` processes started together.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship.extensions import db
from fellowship.mail import OutboxMessage, deliver_outbox
from fellowship.notifications import reminders
from fellowship.notifications.models import Notification
from fellowship.notifications.reminders import run_reminders
from tests.conftest import (
    DATABASES,
    TEST_DATABASE_URL,
    InApp,
    SmtpServer,
    SmtpSink,
    database_url_from,
    free_port,
    make_app,
)
from tests.notifications.test_reminders import NOW, World, build_world, expected_counts

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60  # seconds any step may take before the test gives up


# A scratch database ---------------------------------------------------------------------------


def _scratch_postgresql() -> tuple[str, sa.Engine]:
    assert TEST_DATABASE_URL
    base = sa.engine.make_url(database_url_from(TEST_DATABASE_URL))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"{base.database}_reminders_race" + (f"_{worker}" if worker else "")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False), admin


@pytest.fixture(scope="module", params=DATABASES)
def race_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp(f"reminders-race-{request.param}")
    admin: sa.Engine | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'race.db'}"
    else:
        url, admin = _scratch_postgresql()
    application = make_app(url, UPLOAD_DIR=str(folder / "uploads"), RATELIMIT_ENABLED=False)
    with application.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    try:
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        if admin is not None:
            name = sa.engine.make_url(url).database
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


@pytest.fixture
def seeded(race_app: Flask) -> Iterator[World]:
    """The test's rows, committed; every table emptied again afterwards."""
    with race_app.app_context():
        world = build_world()
        db.session.remove()
    try:
        yield world
    finally:
        with race_app.app_context():
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
            db.session.remove()


@pytest.fixture
def mail_server(race_app: Flask) -> Iterator[SmtpServer]:
    server = SmtpServer(port=free_port(), sink=SmtpSink())
    server.start()
    saved = {key: race_app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    race_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    race_app.config["MAIL_SUPPRESS_SEND"] = False
    try:
        yield server
    finally:
        race_app.config.update(saved, MAIL_SUPPRESS_SEND=True)
        server.stop()


def waits_for_a_lock(app: Flask, thread: threading.Thread) -> bool:
    """True once another connection waits for a lock (PostgreSQL), or after a moment in which
    `thread` did not finish (SQLite: it waits in BEGIN IMMEDIATE, which nothing reports)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        thread.join(0.5)
        return thread.is_alive()
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


def stored(app: Flask) -> tuple[list[str], list[str]]:
    """(notification keys, outbox dedupe keys) as committed, sorted."""
    with app.app_context():
        keys = sorted(db.session.scalars(sa.select(Notification.dedupe_key)))
        mails = sorted(db.session.scalars(sa.select(OutboxMessage.dedupe_key)))
        db.session.remove()
    return keys, mails


def assert_each_once(world: World, messages: list[Any]) -> None:
    pairs = Counter((m["X-Envelope-To"], m["Subject"]) for m in messages)
    assert len(messages) == world.total
    assert max(pairs.values()) == 1, [pair for pair, n in pairs.items() if n > 1]
    assert {m["X-Envelope-To"] for m in messages} == set().union(*world.expected.values())


# The races ------------------------------------------------------------------------------------


def test_two_runs_at_once_make_each_reminder_and_each_email_exactly_once(
    race_app, seeded, mail_server
):
    held, go = threading.Event(), threading.Event()

    def first_run() -> dict[str, int]:
        def hold_first_commit(session: Any) -> None:
            inserted = session.scalar(sa.select(sa.func.count(Notification.id)))
            if inserted and not held.is_set():
                held.set()  # its first batch of reminders is inserted, not committed
                assert go.wait(WAIT)

        sa.event.listen(db.session(), "before_commit", hold_first_commit)
        return run_reminders(NOW)

    first = InApp(race_app, first_run)
    first.start()
    assert held.wait(WAIT), first.error
    second = InApp(race_app, lambda: run_reminders(NOW))
    second.start()
    waited = waits_for_a_lock(race_app, second)
    go.set()
    counts_a, counts_b = first.outcome(), second.outcome()

    assert waited, "the second run did not have to wait for the first"
    expected = expected_counts(seeded)
    assert {kind: counts_a[kind] + counts_b[kind] for kind in expected} == expected
    # The second run waited for the first one's first batch and then added nothing to it.
    assert counts_a[reminders.MODULE_DUE_SOON] == 1
    assert counts_b[reminders.MODULE_DUE_SOON] == 0
    keys, mails = stored(race_app)
    assert len(keys) == len(set(keys)) == seeded.total
    assert len(mails) == len(set(mails)) == seeded.total

    # Two deliverers at once send each message once.
    senders = [InApp(race_app, lambda: deliver_outbox(limit=1000)) for _ in range(2)]
    for sender in senders:
        sender.start()
    sent = [sender.outcome() for sender in senders]
    assert sum(counts["sent"] for counts in sent) == seeded.total
    assert_each_once(seeded, mail_server.messages)

    # And a third run, later, adds nothing.
    with race_app.app_context():
        assert sum(run_reminders(NOW).values()) == 0
        db.session.remove()
    assert stored(race_app) == (keys, mails)


def test_two_flask_reminders_run_processes_at_once_send_each_reminder_once(
    race_app, seeded, mail_server, tmp_path
):
    with race_app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    environment = {
        **os.environ,
        "FLASK_APP": "fellowship",
        "FLASK_CONFIG": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "INSTANCE_PATH": str(tmp_path),
        "BASE_URL": "http://localhost",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_server.port),
        "MAIL_SUPPRESS_SEND": "0",
    }
    command = [
        str(Path(sys.executable).parent / "flask"),
        "reminders",
        "run",
        "--now",
        NOW.isoformat(),
        "--deliver",
    ]
    processes = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=WAIT) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, out + err
    made = [int(out.split("new reminders: ")[1].split()[0]) for out, _err in outputs]
    assert sum(made) == seeded.total
    keys, mails = stored(race_app)
    assert len(keys) == len(set(keys)) == seeded.total
    assert len(mails) == seeded.total
    assert_each_once(seeded, mail_server.messages)
