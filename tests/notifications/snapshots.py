"""Snapshot files for rendered emails: `tests/notifications/snapshots/<name>`.

A missing snapshot is written on a developer's machine (then read it and commit it) and is a
failure under CI=true. `UPDATE_SNAPSHOTS=1 pytest ...` rewrites them after a deliberate change.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

SNAPSHOTS = Path(__file__).parent / "snapshots"

_TOKEN = re.compile(r"/notifications/unsubscribe/[A-Za-z0-9_.\-]+")


def normalised(text: str) -> str:
    """The parts that differ from run to run (signed tokens) replaced by fixed marks."""
    return _TOKEN.sub("/notifications/unsubscribe/TOKEN", text)


def assert_matches_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    text = normalised(text)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or (
        not path.exists() and os.environ.get("CI") != "true"
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; run the test locally to write it, then commit it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot"
