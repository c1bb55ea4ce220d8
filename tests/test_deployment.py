"""Several gunicorn workers behave as one app: nothing that matters lives in one process."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis

from fellowship.demo import DEMO_PASSWORD
from tests.conftest import IN_CI, free_port

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def environment(folder: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "FLASK_CONFIG": "development",
        "SECRET_KEY": "x" * 48,
        "DATABASE_URL": f"sqlite:///{folder / 'workers.db'}",
        "INSTANCE_PATH": str(folder),
        "MAIL_SUPPRESS_SEND": "1",
        **settings,
    }


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated and loaded with the demo by the real commands, once for the
    module; each test serves its own copy."""
    folder = tmp_path_factory.mktemp("deployment")
    flask = [sys.executable, "-m", "flask", "--app", "fellowship"]
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(
            [*flask, *command], env=environment(folder), cwd=ROOT, check=True, capture_output=True
        )
    return folder / "workers.db"


def start_gunicorn(demo_database: Path, tmp_path: Path, **settings: str):
    """Serve a copy of the demo database with four gunicorn workers on 127.0.0.1."""
    port = free_port()
    shutil.copyfile(demo_database, tmp_path / "workers.db")
    log = demo_database.with_name("workers.db-wal")  # WAL mode: what is not checkpointed yet
    if log.exists():
        shutil.copyfile(log, tmp_path / "workers.db-wal")
    env = environment(tmp_path, **settings)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "fellowship:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}"


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    _, errors = process.communicate(timeout=15)
    return errors or ""


@pytest.fixture
def gunicorn_with_redis(demo_database, tmp_path):
    if not redis_available():
        if IN_CI:
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    process, url = start_gunicorn(demo_database, tmp_path, RATELIMIT_STORAGE_URI=REDIS_URL)
    yield url
    stop(process)
    redis.Redis.from_url(REDIS_URL).flushdb()


def browser(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A cookie-keeping client and the CSRF token of its new session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return opener, token


def test_login_throttling_is_shared_by_every_gunicorn_worker(gunicorn_with_redis):
    base = gunicorn_with_redis
    statuses = []
    for _ in range(11):
        # A new connection each time, so the requests spread over the four workers.
        opener, token = browser(base)
        data = urllib.parse.urlencode(
            {"email": "target@example.org", "password": "wrong password here", "csrf_token": token}
        ).encode()
        try:
            statuses.append(opener.open(f"{base}/login", data=data).status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
            retry_after = error.headers.get("Retry-After")
    assert statuses == [200] * 10 + [429]
    assert int(retry_after) > 0


def test_sqlite_under_four_workers_and_twenty_users_never_reports_a_locked_database(
    demo_database, tmp_path
):
    """20 people sign in (a write: last sign-in, audit row) and read pages, concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    process, base = start_gunicorn(demo_database, tmp_path, RATELIMIT_ENABLED="0")
    emails = [
        f"{role}@example.org"
        for role in (
            "admin",
            "staff",
            "fellow",
            "coach",
            "facilitator",
            "reviewer",
            "lead",
            "partner",
        )
    ]

    def user_session(n: int) -> list[int]:
        statuses = []
        for round_ in range(3):
            opener, token = browser(base)
            data = urllib.parse.urlencode(
                {
                    "email": emails[(n + round_) % len(emails)],
                    "password": DEMO_PASSWORD,
                    "csrf_token": token,
                }
            ).encode()
            for url, body in [
                (f"{base}/login", data),
                (f"{base}/", None),
                (f"{base}/profile", None),
            ]:
                try:
                    statuses.append(opener.open(url, data=body, timeout=30).status)
                except urllib.error.HTTPError as error:
                    statuses.append(error.code)
        return statuses

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = [s for batch in pool.map(user_session, range(20)) for s in batch]
    finally:
        errors = stop(process)
    assert "database is locked" not in errors
    assert len(results) == 20 * 3 * 3
    assert set(results) == {200}


def test_parallel_guesses_cannot_slip_past_the_limit(gunicorn_with_redis):
    """Every attempt is counted before the password is checked, so racing does not help."""
    from concurrent.futures import ThreadPoolExecutor

    base = gunicorn_with_redis
    browsers = [browser(base) for _ in range(30)]

    def attempt(pair):
        opener, token = pair
        data = urllib.parse.urlencode(
            {"email": "raced@example.org", "password": "guess guess guess", "csrf_token": token}
        ).encode()
        try:
            return opener.open(f"{base}/login", data=data).status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(attempt, browsers))
    assert statuses.count(200) == 10
    assert statuses.count(429) == 20
