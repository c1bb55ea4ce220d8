"""A live server (real SQLite file, demo data, real SMTP server) and Debian's Chromium."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from werkzeug.serving import make_server

from fellowship.db import commit
from fellowship.demo import load_demo
from tests.conftest import IN_CI, SmtpServer, SmtpSink, free_port, make_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class LiveServer:
    url: str
    smtp: SmtpServer
    app: Flask

    def run_outbox_cron(self) -> None:
        """What `flask outbox deliver` does from cron: send whatever is still queued."""
        from fellowship.mail import deliver_outbox

        with self.app.app_context():
            deliver_outbox()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    smtp = SmtpServer(port=free_port(), sink=SmtpSink())
    smtp.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    database = tmp_path_factory.mktemp("e2e") / "e2e.db"
    app = make_app(
        f"sqlite:///{database}",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp.port,
        MAIL_SUPPRESS_SEND=False,
        BASE_URL=url,
        UPLOAD_DIR=str(tmp_path_factory.mktemp("e2e-uploads")),
    )
    with app.app_context():
        flask_migrate.upgrade()
        load_demo()
        commit()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(url=url, smtp=smtp, app=app)
    server.shutdown()
    thread.join(timeout=5)
    smtp.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def focus_on(control: Locator) -> None:
    """Give a control the keyboard focus, as Tab would. Several browser contexts (one per
    person in a journey) are open at once and only the front page's document has focus, so
    the control's page comes to the front first."""
    control.page.bring_to_front()
    control.focus()
    expect(control).to_be_focused()


def check_accessibility(page: Page, name: str | None = None) -> None:
    """axe-core on the page as shown: 0 WCAG 2.1 A/AA violations."""
    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    if name:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert results.violations_count == 0, results.generate_report()
    # axe (4.x) no longer reports duplicate ids, and matches a label by `for` even when that
    # id is taken by a heading first: a field can then have no name at all. Hidden inputs
    # (each form's CSRF token and version) are never labelled or pointed at: left out.
    duplicates = page.evaluate(
        """() => { const seen = {}; const dup = new Set();
            for (const el of document.querySelectorAll('[id]:not(input[type=hidden])')) {
              if (seen[el.id]) dup.add(el.id); seen[el.id] = true; }
            return [...dup]; }"""
    )
    assert duplicates == [], f"ids used more than once: {duplicates}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Werkzeug's development server (the live server here) leaves a static file's handle
    to the garbage collector when the browser drops a connection mid-response (navigating
    away while a font loads). That surfaces as an unraisable ResourceWarning in the server's
    thread; it is the test server's, not the app's, so the browser tests do not fail on it.
    Everything else keeps `filterwarnings = error`."""
    e2e_dir = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(e2e_dir):
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
