"""Every event email, rendered the way `notify()` renders it (`services.preview`), against its
snapshot: subject, plain text and HTML, for a recipient in English (New York) and one in
Spanish (Los Angeles) — Spanish text falls back to English until the translators run, but
dates, times and time zones are already the recipient's. The context is fixed: no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from fellowship.auth.models import User
from fellowship.convenings.forms import KIND_LABELS
from fellowship.notifications import services
from tests.notifications.snapshots import assert_matches_snapshot

RECIPIENTS = {
    "en": ("America/New_York", "Ana Fellow"),
    "es": ("America/Los_Angeles", "Ana Becaria"),
}

CONVENING = {
    "title": "Coalition building workshop",
    "kind": KIND_LABELS["workshop"],
    "cohort": "Cohort 2026",
    "starts_at": datetime(2026, 12, 15, 17, 0, tzinfo=UTC),
    "ends_at": datetime(2026, 12, 15, 21, 30, tzinfo=UTC),
    "location": "District office, room 204",
    "online_url": "https://meet.example.org/coalition",
    "facilitators": ["Farah Facilitator", "Gus Guide"],
    "by": "Sam Staff",
}

CYCLE = {"school": "Lincoln Elementary", "year": "2026-27"}

# (kind, variant, link, context)
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "coaching/checkin_shared",
        "",
        "/checkins/7",
        {
            "coach": "Dana Coach",
            "held_on": date(2026, 11, 24),
            "next_checkin_on": date(2026, 12, 8),
            "items": [("Draft the memo", date(2026, 12, 1)), ("Call the PTA chair", None)],
        },
    ),
    (
        "coaching/checkin_shared",
        "nothing_for_you",
        "/checkins/7",
        {
            "coach": "Dana Coach",
            "held_on": date(2026, 11, 24),
            "next_checkin_on": None,
            "items": [],
        },
    ),
    (
        "coaching/action_items_assigned",
        "",
        "/checkins/7",
        {
            "coach": "Dana Coach",
            "held_on": date(2026, 11, 24),
            "items": [("Visit the partner school", date(2026, 12, 10))],
        },
    ),
    (
        "curriculum/feedback_given",
        "",
        "/modules/12#item-40",
        {
            "facilitator": "Farah Facilitator",
            "module_title": "Equity audits",
            "item_title": "What did the audit show?",
            # 03:30 UTC on the 21st is still the 20th in New York and Los Angeles.
            "submitted_at": datetime(2026, 11, 21, 3, 30, tzinfo=UTC),
        },
    ),
    (
        "capstones/reviewer_assigned",
        "proposal",
        "/reviews/31",
        {
            "assigned_by": "Sam Staff",
            "fellow": "Felix Fellow",
            "title": "The Commons School",
            "cohort": "Cohort 2026",
            "number": 1,
            "final": False,
            "submitted_at": datetime(2026, 11, 20, 18, 0, tzinfo=UTC),
        },
    ),
    (
        "capstones/review_submitted",
        "approve",
        "/capstone-versions/9/decision",
        {
            "reviewer": "Rita Reviewer",
            "fellow": "Felix Fellow",
            "title": "The Commons School",
            "cohort": "Cohort 2026",
            "number": 1,
            "final": False,
            "approve": True,
            "submitted_at": datetime(2026, 11, 25, 19, 45, tzinfo=UTC),
            "done": 1,
            "assigned": 2,
        },
    ),
    (
        "capstones/review_submitted",
        "revise_final",
        "/capstone-versions/9/decision",
        {
            "reviewer": "Rita Reviewer",
            "fellow": "Felix Fellow",
            "title": "The Commons School",
            "cohort": "Cohort 2026",
            "number": 3,
            "final": True,
            "approve": False,
            "submitted_at": datetime(2026, 11, 25, 19, 45, tzinfo=UTC),
            "done": 2,
            "assigned": 2,
        },
    ),
    (
        "capstones/decision",
        "proposal_approved",
        "/capstones/5",
        {
            "decided_by": "Sam Staff",
            "title": "The Commons School",
            "number": 1,
            "final": False,
            "approved": True,
            "status": "proposal_approved",
            "message": "The **plan** is clear.",
        },
    ),
    (
        "capstones/decision",
        "final_revisions",
        "/capstones/5",
        {
            "decided_by": "Sam Staff",
            "title": "The Commons School",
            "number": 3,
            "final": True,
            "approved": False,
            "status": "final_revisions",
            "message": "Add the family survey results.",
        },
    ),
    ("convenings/scheduled", "", "/convenings/14", CONVENING),
    (
        "convenings/scheduled",
        "two_days_no_place",
        "/convenings/14",
        {
            **CONVENING,
            "ends_at": datetime(2026, 12, 16, 23, 0, tzinfo=UTC),
            "location": None,
            "online_url": None,
            "facilitators": [],
        },
    ),
    (
        "convenings/changed",
        "time_and_place",
        "/convenings/14",
        {
            **CONVENING,
            "was_starts_at": datetime(2026, 12, 14, 17, 0, tzinfo=UTC),
            "was_ends_at": datetime(2026, 12, 14, 21, 30, tzinfo=UTC),
            "was_location": "Room 4",
            "was_online_url": CONVENING["online_url"],
            "time_changed": True,
            "place_changed": True,
            "online_changed": False,
        },
    ),
    (
        "convenings/changed",
        "online_link",
        "/convenings/14",
        {
            **CONVENING,
            "was_starts_at": CONVENING["starts_at"],
            "was_ends_at": CONVENING["ends_at"],
            "was_location": CONVENING["location"],
            "was_online_url": None,
            "time_changed": False,
            "place_changed": False,
            "online_changed": True,
        },
    ),
    (
        "cycles/review_scheduled",
        "",
        "/cycles/3/reviews/8",
        {
            **CYCLE,
            "on": date(2027, 5, 20),
            "location": "District office, room 204",
            "participants": ["Luis Lead", "Sam Staff"],
            "scheduled_by": "Sam Staff",
        },
    ),
    (
        "cycles/review_signed",
        "by_staff",
        "/cycles/3/reviews/8",
        {**CYCLE, "signer": "Sam Staff", "as_lead": False},
    ),
    (
        "cycles/packet_ready",
        "from_lead",
        "/cycles/3/reviews/8#packet",
        {**CYCLE, "on": date(2027, 5, 20), "sender": "Luis Lead", "as_lead": True},
    ),
    (
        "cycles/packet_ready",
        "from_staff",
        "/cycles/3/reviews/8#packet",
        {**CYCLE, "on": date(2027, 5, 20), "sender": "Sam Staff", "as_lead": False},
    ),
]


def recipient(locale: str) -> User:
    zone, name = RECIPIENTS[locale]
    return User(id=7, name=name, email="ana@example.org", locale=locale, timezone=zone)


@pytest.mark.parametrize("locale", sorted(RECIPIENTS))
@pytest.mark.parametrize(
    ("kind", "variant", "link", "context"),
    CASES,
    ids=[f"{kind}-{variant}" if variant else kind for kind, variant, _, _ in CASES],
)
def test_the_event_email_matches_its_snapshot(ctx, kind, variant, link, context, locale):
    entry = services.Entry(recipient(locale), f"snapshot:{kind}:{variant}", link, dict(context))
    subject, text, html = services.preview(kind, entry)
    name = ".".join(part for part in (kind.replace("/", "_"), variant, locale) if part)
    assert_matches_snapshot(f"{name}.txt", f"Subject: {subject}\n\n{text}")
    assert_matches_snapshot(f"{name}.html", html)


@pytest.mark.parametrize(
    ("kind", "variant", "link", "context"),
    CASES,
    ids=[f"{kind}-{variant}" if variant else kind for kind, variant, _, _ in CASES],
)
def test_every_event_email_links_to_its_page_and_offers_the_unsubscribe_link(
    ctx, kind, variant, link, context
):
    entry = services.Entry(recipient("en"), "snapshot", link, dict(context))
    subject, text, html = services.preview(kind, entry)
    assert subject
    assert "\n" not in subject
    page = f"http://localhost{link}"
    assert page in text
    assert f'href="{page}"' in html
    for body in (text, html):
        assert "/notifications/unsubscribe/" in body
        assert "/notifications/preferences" in body
    assert html.count("<h1") == 1
    assert '<html lang="en">' in html
