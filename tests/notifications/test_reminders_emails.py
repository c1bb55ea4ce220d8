"""The reminder emails: each template rendered with a fixed context, in English and Spanish,
text and HTML, compared with its snapshot (tests/notifications/snapshots/reminders/).

Spanish falls back to the English text until the translators run; dates and numbers are
Spanish already. The timezone is the recipient's: the capstone assignment made at 03:30 UTC
on 21 November is "November 20" in New York.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from markupsafe import escape

from fellowship.auth.models import User
from fellowship.notifications import reminders
from fellowship.notifications.services import Entry, app_path, preview
from tests.notifications.snapshots import assert_matches_snapshot

COHORT = "Cohort of 2027"

CONTEXTS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    # kind: [(variant, link endpoint and values as "endpoint|name=value,...", context)]
    reminders.MODULE_DUE_SOON: [
        (
            "in-3-days",
            "curriculum.module|module_id=12",
            {
                "module": "Coalition maps",
                "cohort": COHORT,
                "due_on": date(2026, 12, 4),
                "days": 3,
                "extended": False,
                "steps_done": 1,
                "steps_total": 4,
            },
        ),
        (
            "tomorrow-extended",
            "curriculum.module|module_id=12",
            {
                "module": "Coalition maps",
                "cohort": COHORT,
                "due_on": date(2026, 12, 2),
                "days": 1,
                "extended": True,
                "steps_done": 0,
                "steps_total": 1,
            },
        ),
    ],
    reminders.MODULE_OVERDUE: [
        (
            "overdue",
            "curriculum.module|module_id=9",
            {
                "module": "The school model",
                "cohort": COHORT,
                "due_on": date(2026, 11, 29),
                "days": -2,
                "extended": False,
                "steps_done": 2,
                "steps_total": 5,
            },
        ),
        (
            "extended-no-steps",
            "curriculum.module|module_id=10",
            {
                "module": "Reading week",
                "cohort": COHORT,
                "due_on": date(2026, 11, 30),
                "days": -1,
                "extended": True,
                "steps_done": 0,
                "steps_total": 0,
            },
        ),
    ],
    reminders.CHECKIN_DUE_SOON: [
        (
            "due-soon",
            "coaching.fellow_checkins|cohort_id=3,fellow_id=41",
            {
                "fellow": "Felix Fellow",
                "cohort": COHORT,
                "last_checkin_on": date(2026, 11, 19),
                "assigned_on": date(2026, 8, 1),
                "days": 12,
                "rhythm_days": 14,
                "due_on": date(2026, 12, 3),
            },
        )
    ],
    reminders.CHECKIN_OVERDUE: [
        (
            "never-met",
            "coaching.fellow_checkins|cohort_id=3,fellow_id=42",
            {
                "fellow": "Gina Fellow",
                "cohort": COHORT,
                "last_checkin_on": None,
                "assigned_on": date(2026, 8, 1),
                "days": 122,
                "rhythm_days": 14,
                "due_on": date(2026, 8, 15),
            },
        )
    ],
    reminders.ACTION_ITEM_DUE: [
        (
            "due-tomorrow",
            "coaching.checkin|checkin_id=77,_anchor=items-heading",
            {
                "item": "Call the PTA chair about the open house",
                "due_on": date(2026, 12, 2),
                "held_on": date(2026, 11, 28),
                "cohort": COHORT,
                "with_name": "Cora Coach",
            },
        )
    ],
    reminders.REVIEW_WAITING: [
        (
            "final-with-draft",
            "capstones.review|assignment_id=5",
            {
                "title": "Open doors",
                "fellow": "Gina Fellow",
                "cohort": COHORT,
                "number": 2,
                "final": True,
                "assigned_at": datetime(2026, 11, 21, 3, 30, tzinfo=UTC),
                "days": 11,
                "draft": True,
            },
        ),
        (
            "proposal",
            "capstones.review|assignment_id=6",
            {
                "title": "Open doors",
                "fellow": "Gina Fellow",
                "cohort": COHORT,
                "number": 1,
                "final": False,
                "assigned_at": datetime(2026, 11, 21, 15, 0, tzinfo=UTC),
                "days": 10,
                "draft": False,
            },
        ),
    ],
    reminders.MEASUREMENT_STALE: [
        (
            "measured",
            "cycles.goal_show|cycle_id=8,goal_id=31,_anchor=measurements",
            {
                "goal": "Belonging survey",
                "school": "Coral Ridge Elementary",
                "year": "2026-27",
                "last_measured_on": date(2026, 9, 20),
                "since": date(2026, 9, 20),
                "days": 72,
                "stale_days": 60,
            },
        ),
        (
            "baseline-only",
            "cycles.goal_show|cycle_id=8,goal_id=32,_anchor=measurements",
            {
                "goal": "Families at the open house",
                "school": "Coral Ridge Elementary",
                "year": "2026-27",
                "last_measured_on": None,
                "since": date(2026, 8, 15),
                "days": 108,
                "stale_days": 60,
            },
        ),
    ],
    reminders.GOALS_REVIEW_IN_7_DAYS: [
        (
            "lead",
            "cycles.review_show|cycle_id=8,review_id=4",
            {
                "school": "Coral Ridge Elementary",
                "year": "2026-27",
                "on": date(2026, 12, 8),
                "days": 7,
                "location": "District office, room 204",
                "lead": True,
            },
        )
    ],
    reminders.GOALS_REVIEW_TOMORROW: [
        (
            "staff",
            "cycles.review_show|cycle_id=8,review_id=4",
            {
                "school": "Coral Ridge Elementary",
                "year": "2026-27",
                "on": date(2026, 12, 2),
                "days": 1,
                "location": "",
                "lead": False,
            },
        )
    ],
}

CASES = [
    pytest.param(kind, variant, link, context, id=f"{kind}-{variant}")
    for kind, variants in CONTEXTS.items()
    for variant, link, context in variants
]


@pytest.fixture
def job(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def reader(locale: str = "en") -> User:
    """A recipient that is never stored (the preview writes nothing)."""
    return User(
        id=7,
        name="Ana Example",
        email="ana@example.org",
        locale=locale,
        timezone="America/New_York",
    )


def path_of(spec: str) -> str:
    endpoint, _, raw = spec.partition("|")
    values: dict[str, Any] = {}
    for pair in raw.split(","):
        name, _, value = pair.partition("=")
        values[name] = value if name.startswith("_") else int(value)
    return app_path(endpoint, **values)


def test_every_reminder_kind_has_a_snapshot_case():
    assert set(CONTEXTS) == set(reminders.REMINDER_KINDS)


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize(("kind", "variant", "link", "context"), CASES)
def test_reminder_email_matches_its_snapshot(job, kind, variant, link, context, locale):
    entry = Entry(reader(locale), f"{kind}:snapshot", path_of(link), context)
    subject, text, html = preview(kind, entry)
    name = f"reminders/{kind.replace('/', '__')}.{variant}.{locale}"
    assert_matches_snapshot(f"{name}.txt", f"Subject: {subject}\n\n{text}")
    assert_matches_snapshot(f"{name}.html", html)


@pytest.mark.parametrize(("kind", "variant", "link", "context"), CASES)
def test_reminder_email_has_a_subject_the_link_and_the_unsubscribe_footer(
    job, kind, variant, link, context
):
    path = path_of(link)
    subject, text, html = preview(kind, Entry(reader(), f"{kind}:check", path, context))
    assert subject
    assert "\n" not in subject
    assert "{" not in subject
    assert f"http://localhost{path}" in text
    assert f'href="http://localhost{path}"' in html
    assert "Unsubscribe from these emails: http://localhost/notifications/unsubscribe/" in text
    assert "Change how often we email you: http://localhost/notifications/preferences" in text
    assert "/notifications/unsubscribe/" in html
    assert f"<title>{escape(subject)}</title>" in html
    assert "Hello Ana Example," in text


def test_reminder_html_escapes_what_people_typed_and_the_text_keeps_it(job):
    context = dict(CONTEXTS[reminders.ACTION_ITEM_DUE][0][2])
    context["item"] = '<script>alert("x")</script> & more'
    path = app_path("coaching.checkin", checkin_id=77)
    subject, text, html = preview(
        reminders.ACTION_ITEM_DUE, Entry(reader(), "escape", path, context)
    )
    assert subject == 'Due tomorrow: <script>alert("x")</script> & more'
    assert '<script>alert("x")</script> & more' in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html


def test_reminder_dates_follow_the_recipients_language_and_timezone(job):
    context = CONTEXTS[reminders.REVIEW_WAITING][0][2]
    path = app_path("capstones.review", assignment_id=5)
    _, text_ny, _ = preview(reminders.REVIEW_WAITING, Entry(reader(), "tz", path, context))
    madrid = reader("es")
    madrid.timezone = "Europe/Madrid"
    _, text_madrid, _ = preview(reminders.REVIEW_WAITING, Entry(madrid, "tz", path, context))
    assert "November 20, 2026" in text_ny  # 03:30 UTC is the evening before in New York
    assert "21 de noviembre de 2026" in text_madrid
