"""Shared fixtures.

One app per database per session (migrated once with Alembic); every test runs inside an
outer transaction that is rolled back, with each session joining it through a SAVEPOINT, so
app code can commit and the next test still starts clean. The suite runs on SQLite, and
again on PostgreSQL when TEST_DATABASE_URL is set. Under CI=true a missing PostgreSQL or
browser is a failure, never a skip.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask, has_app_context
from flask.globals import app_ctx
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import orm

from config import database_url
from fellowship import create_app
from fellowship.auth.models import User
from fellowship.auth.services import start_login
from fellowship.extensions import db, limiter

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


# Property tests: a fixed seed under CI (a failure there is reproducible from its output);
# random locally, so runs keep finding new cases.
hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")


def pytest_sessionstart(session: pytest.Session) -> None:
    if IN_CI and not TEST_DATABASE_URL:
        raise pytest.UsageError("CI=true needs TEST_DATABASE_URL: the suite must run on PostgreSQL")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and session.config.pluginmanager.get_plugin("terminalreporter"):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = reporter.stats.get("skipped", [])
        if skipped:
            reporter.write_line(f"CI=true: {len(skipped)} skipped tests count as failures")
            session.exitstatus = 1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs two workers) each file of browser journeys stays on
    one worker, in order (a worker starts its own live server with the demo data, and both
    workers share the journeys out); the deployment tests share Redis and stay together. A
    module with shared rows (`module_rows`) stays on one worker too, so they are built once
    per database rather than each time a worker comes back to the module."""
    for item in items:
        path = item.path.as_posix()
        if "/tests/e2e/" in path:
            item.add_marker(pytest.mark.xdist_group(f"e2e:{item.path.stem}"))
        elif path.endswith("/tests/test_deployment.py"):
            item.add_marker(pytest.mark.xdist_group("deployment"))
        elif uses_module_rows(item):
            item.add_marker(pytest.mark.xdist_group(f"rows:{item.path.stem}"))
    items[:] = shared_rows_last(items)


def uses_module_rows(item: pytest.Item) -> bool:
    return "module_rows" in getattr(item, "fixturenames", ())


def shared_rows_last(items: list[pytest.Item]) -> list[pytest.Item]:
    """In each run of one module's tests, those that do not use the module's shared rows go
    first: the rows are built at the first test that asks for them and stay until the
    module ends, and a test that did not ask must not find them."""
    ordered: list[pytest.Item] = []
    run: list[pytest.Item] = []
    for item in [*items, None]:
        if run and (item is None or item.path != run[0].path):
            ordered += [i for i in run if not uses_module_rows(i)]
            ordered += [i for i in run if uses_module_rows(i)]
            run = []
        if item is not None:
            run.append(item)
    return ordered


# Databases -----------------------------------------------------------------------------


def reset_postgresql(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def database_for(kind: str, directory: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{directory / 'test.db'}"
    assert TEST_DATABASE_URL
    url = database_url_from(TEST_DATABASE_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:  # parallel workers: one database each, so their resets never collide
        url = own_database(url, worker)
    reset_postgresql(url)
    return url


def own_database(url: str, worker: str) -> str:
    """`<database>_<worker>` next to the configured test database, created if missing."""
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def database_url_from(raw: str) -> str:
    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = raw
    try:
        return database_url(raw)
    finally:
        if old is None:
            del os.environ["DATABASE_URL"]
        else:
            os.environ["DATABASE_URL"] = old


def make_app(url: str, **overrides: Any) -> Flask:
    settings = {"SQLALCHEMY_DATABASE_URI": url, "BASE_URL": "http://localhost"}
    settings.update(overrides)
    return create_app("testing", settings)


@pytest.fixture(scope="session", params=DATABASES)
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    url = database_for(request.param, tmp_path_factory.mktemp(f"db-{request.param}"))
    uploads = tmp_path_factory.mktemp(f"uploads-{request.param}")
    application = make_app(url, UPLOAD_DIR=str(uploads))
    with application.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    yield application
    with application.app_context():
        db.engine.dispose()


def _session_scope() -> int:
    """One session per app context (each request), and one for the test body itself."""
    return id(app_ctx._get_current_object()) if has_app_context() else 0


# A module's shared rows: id(app) -> the connection of the module's outer transaction.
_MODULE_CONNECTIONS: dict[int, sa.Connection] = {}


@pytest.fixture(autouse=True)
def _database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run the test inside a transaction that is rolled back at the end: its own, or, in a
    module with shared rows (`module_rows`), a SAVEPOINT inside the module's transaction."""
    if "app" not in request.fixturenames:
        yield
        return
    application: Flask = request.getfixturevalue("app")
    shared = _MODULE_CONNECTIONS.get(id(application))
    if shared is not None:
        connection = shared
        transaction = connection.begin_nested()
    else:
        with application.app_context():
            connection = db.engine.connect()
        transaction = connection.begin()
    factory = orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    original = db.session
    db.session = orm.scoped_session(factory, scopefunc=_session_scope)
    limiter.reset()
    try:
        yield
    finally:
        db.session.remove()
        db.session = original
        transaction.rollback()
        if shared is None:
            connection.close()


@pytest.fixture(scope="module")
def module_rows(app: Flask) -> Iterator[sa.Connection]:
    """The module's own transaction, for rows its tests share (see `rows_for_module`).
    Every test of the module then runs in a SAVEPOINT inside it: what a test changes in
    the shared rows is rolled back after it, and the rows themselves after the module."""
    with app.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    _MODULE_CONNECTIONS[id(app)] = connection
    try:
        yield connection
    finally:
        del _MODULE_CONNECTIONS[id(app)]
        transaction.rollback()
        connection.close()


def rows_for_module(build: Callable[[], Any]) -> Any:
    """A module-scoped fixture: what `build()` makes, made once per module (and database)
    in the module's transaction, frozen; a test's own fixture calls `.thaw()` for the
    objects in its session. For tables of rules and pages read many times over the same
    cast of people and records."""

    @pytest.fixture(scope="module")
    def fixture(app: Flask, module_rows: sa.Connection) -> Frozen:
        factory = orm.sessionmaker(bind=module_rows, join_transaction_mode="create_savepoint")
        original = db.session
        db.session = orm.scoped_session(factory, scopefunc=_session_scope)
        try:
            with app.test_request_context():
                value = build()
                db.session.commit()
                return Frozen(_freeze(value))
        finally:
            db.session.remove()
            db.session = original

    return fixture


@dataclass(frozen=True)
class _Row:
    model: type
    identity: tuple[Any, ...]


@dataclass(frozen=True)
class Frozen:
    """What a `module_rows` build returned, with each model object replaced by its class and
    primary key; `thaw()` loads them again in the current session."""

    value: Any

    def thaw(self) -> Any:
        return _thaw(self.value)

    def thaw_for(self, request: pytest.FixtureRequest) -> Any:
        """`thaw()` in the session the test body uses: inside its request context (`ctx`)
        when it has one, whatever order its fixtures come in."""
        if "ctx" in request.fixturenames:
            request.getfixturevalue("ctx")
        return self.thaw()


_NOT_A_ROW = object()


def _rebuild(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """`value` with each part `leaf` turns into something else replaced, through
    dataclasses, dicts, lists and tuples."""
    turned = leaf(value)
    if turned is not _NOT_A_ROW:
        return turned
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f.name for f in dataclasses.fields(value) if f.init]
        return dataclasses.replace(
            value, **{name: _rebuild(getattr(value, name), leaf) for name in fields}
        )
    if isinstance(value, dict):
        return {key: _rebuild(item, leaf) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_rebuild(item, leaf) for item in value)
    return value


def _freeze(value: Any) -> Any:
    def leaf(part: Any) -> Any:
        state = sa.inspect(part, raiseerr=False)
        if not isinstance(state, orm.InstanceState) or state.identity is None:
            return _NOT_A_ROW  # not a model object, or one never saved: kept as it is
        return _Row(type(part), state.identity)

    return _rebuild(value, leaf)


def _thaw(value: Any) -> Any:
    def leaf(part: Any) -> Any:
        if not isinstance(part, _Row):
            return _NOT_A_ROW
        found = db.session.get(part.model, part.identity)
        assert found is not None, f"{part.model.__name__} {part.identity} is gone"
        return found

    return _rebuild(value, leaf)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """A request context, for calling services and queries directly."""
    with app.test_request_context():
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# Signing in ----------------------------------------------------------------------------


def sign_in(client: FlaskClient, user: User) -> FlaskClient:
    """Start a session for `user` the way the login view does, without the password round."""
    app = client.application
    with app.test_request_context():
        start_login(user, ip="127.0.0.1")
        user_id = user.get_id()
        db.session.commit()
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = user_id
        session["_fresh"] = True
        session["seen_at"] = int(time.time())
        session.permanent = True
    return client


@pytest.fixture
def login_as(client: FlaskClient) -> Any:
    def _login(user: User) -> FlaskClient:
        return sign_in(client, user)

    return _login


def csrf_token(client: FlaskClient, path: str | None = None) -> str:
    """A valid CSRF token for the client's session, made the way Flask-WTF makes the one in
    every form (the browser journeys prove the forms carry it). With `path`, the page is
    fetched first and the token read from its form, for a test whose POST needs that
    page's visit (the two-factor page puts the secret to confirm in the session)."""
    if path is not None:
        return csrf_token_from_page(client, path)
    app = client.application
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


def csrf_token_from_page(client: FlaskClient, path: str) -> str:
    """The CSRF token read from the form on `path`."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


# Mail ----------------------------------------------------------------------------------


@dataclass
class SmtpSink:
    """Collects what a real SMTP server received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpServer:
    port: int
    sink: SmtpSink
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Message]:
        return self.sink.messages


@pytest.fixture
def smtp_server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on a free port; the app sends to it for this test."""
    server = SmtpServer(port=free_port(), sink=SmtpSink())
    server.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_SUPPRESS_SEND", False)
    yield server
    server.stop()


class InApp(threading.Thread):
    """Runs `work` in its own app context (its own session and connection), for tests of
    two things at once; `outcome()` returns its result or raises its error."""

    def __init__(self, app: Flask, work: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.work = work
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        with self.app.app_context():
            try:
                self.result = self.work()
            except BaseException as error:  # reported by outcome()
                self.error = error
            finally:
                db.session.remove()

    def outcome(self, wait: float = 60) -> Any:
        self.join(wait)
        assert not self.is_alive(), "still running"
        if self.error is not None:
            raise self.error
        return self.result


def main_of(html: str) -> str:
    """The page's own content: what is inside <main> (not the header's bell icon and menus)."""
    start = html.index('<main id="main-content"')
    return html[start : html.index("</main>", start)]


def subject_of(message: Message) -> str:
    """The Subject as a person reads it (non-ASCII subjects travel as encoded words)."""
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))


def body_of(message: Message, subtype: str = "plain") -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


# Query counting --------------------------------------------------------------------------


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Any:
    """`with count_queries() as counter: ...` counts the SQL statements sent."""
    from contextlib import contextmanager

    @contextmanager
    def _count() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return _count
