"""Every coaching test also watches for private notes leaking.

While a coaching test runs, every response the app serves is recorded with the person it
was served to; at the end of the test, each private note (of 16 characters or more, so that
a note like "ok" does not match ordinary text) may appear only in responses served to the
coach who wrote it - never to anyone else, never in a calendar feed, never in an email.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g, request_finished

from fellowship.coaching.models import CheckInPrivateNote
from fellowship.extensions import db
from fellowship.mail import OutboxMessage

MIN_NOTE_LENGTH = 16


def _served_to() -> int | None:
    """The person the page was rendered for, without loading anyone (no extra queries)."""
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return int(user.id)


@pytest.fixture(autouse=True)
def _private_notes_never_leak(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    served: list[tuple[int | None, str, str]] = []

    def record(sender: Any, response: Any, **extra: Any) -> None:
        if response.direct_passthrough or response.is_streamed:
            return
        from flask import request as current_request

        body = response.get_data(as_text=True)
        served.append((_served_to(), current_request.path, body))

    request_finished.connect(record, app)
    try:
        yield
    finally:
        request_finished.disconnect(record, app)
    notes = [
        (coach_id, body.strip())
        for coach_id, body in db.session.execute(
            sa.select(CheckInPrivateNote.coach_id, CheckInPrivateNote.body_md)
        )
        if len(body.strip()) >= MIN_NOTE_LENGTH
    ]
    leaks = [
        (path, reader, coach_id)
        for reader, path, body in served
        for coach_id, note in notes
        if note in body and reader != coach_id
    ]
    mail = [
        message.id
        for message in db.session.scalars(sa.select(OutboxMessage))
        for _coach_id, note in notes
        if note in f"{message.subject}\n{message.text}\n{message.html or ''}"
    ]
    assert leaks == [], f"private notes served to someone other than their writer: {leaks}"
    assert mail == [], f"private notes in emails: {mail}"
