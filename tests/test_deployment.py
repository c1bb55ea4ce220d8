"""Several gunicorn workers behave as one app: nothing that matters lives in one process."""

from __future__ import annotations

import http.cookiejar
import os
import re
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

from tests.conftest import IN_CI, free_port

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def gunicorn_with_redis(tmp_path):
    if not redis_available():
        if IN_CI:
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    env = {
        **os.environ,
        "FLASK_CONFIG": "development",
        "SECRET_KEY": "x" * 48,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'workers.db'}",
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "INSTANCE_PATH": str(tmp_path),
        "MAIL_SUPPRESS_SEND": "1",
    }
    flask = [sys.executable, "-m", "flask", "--app", "fellowship"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
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
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_login_throttling_is_shared_by_every_gunicorn_worker(gunicorn_with_redis):
    base = gunicorn_with_redis
    statuses = []
    for _ in range(11):
        # A new connection each time, so the requests spread over the four workers.
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base}/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
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
