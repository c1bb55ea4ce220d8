"""Two "Send" clicks of the same announcement preview at the same moment, on PostgreSQL, with
real connections and real commits: the second waits for the first (the author's row is
locked) and then finds it, so the announcement goes out once.

On its own scratch database (`<test database>_announce_race`): the usual fixtures run every
test inside one rolled-back transaction on one connection, where two transactions never
overlap. On SQLite a request that writes holds the database's write lock from its first
statement, so there is no race to test there.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship.extensions import db
from fellowship.notifications import announcement_services as services
from fellowship.notifications.models import Announcement, Audience, Notification
from tests.conftest import TEST_DATABASE_URL, InApp, database_url_from, make_app
from tests.factories import CohortFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="PostgreSQL only: on SQLite a writing request holds the whole database, no race",
)

WAIT = 30  # seconds any step may take before the test gives up
KEY = "the-same-preview-key-1"


@pytest.fixture(scope="module")
def race_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    assert TEST_DATABASE_URL
    base = sa.engine.make_url(database_url_from(TEST_DATABASE_URL))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = f"{base.database}_announce_race" + (f"_{worker}" if worker else "")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    uploads: Path = tmp_path_factory.mktemp("announce-race-uploads")
    application = make_app(url, UPLOAD_DIR=str(uploads), OUTBOX_DELIVER_AFTER_COMMIT=False)
    with application.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    try:
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def waits_for_a_lock(app: Flask, thread: threading.Thread) -> bool:
    """True once a connection waits for a lock; False if `thread` ends without waiting."""
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


def test_two_sends_of_the_same_preview_at_once_send_one_announcement(race_app):
    with race_app.app_context():
        author_id = StaffFactory().id
        cohort = CohortFactory()
        for _ in range(3):
            MembershipFactory(cohort=cohort)
        cohort_id = cohort.id
        db.session.remove()

    first_sent, go = threading.Event(), threading.Event()

    def send(hold: bool) -> tuple[int, bool]:
        from fellowship.auth.models import User

        author = db.session.get(User, author_id)
        sent = services.send_announcement(
            author,
            audience=Audience.COHORT,
            target_id=cohort_id,
            subject="Convening moved",
            body_md="It is on **Friday** now.",
            send_key=KEY,
        )
        if hold:  # the first click: sent, not yet committed
            first_sent.set()
            assert go.wait(WAIT)
        db.session.commit()
        return sent.announcement.id, sent.again

    first = InApp(race_app, lambda: send(hold=True))
    first.start()
    assert first_sent.wait(WAIT)
    second = InApp(race_app, lambda: send(hold=False))
    second.start()
    assert waits_for_a_lock(race_app, second), "the second send did not wait for the first"
    go.set()
    first_id, first_again = first.outcome()
    second_id, second_again = second.outcome()

    assert (first_again, second_again) == (False, True)
    assert first_id == second_id
    with race_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Announcement.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 3
        db.session.remove()
