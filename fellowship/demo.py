"""Demo data: one account per role, so a newcomer sees the app working in a minute.

Later domains extend `load_demo` with their own realistic content. Idempotent.
"""

from __future__ import annotations

from fellowship.auth.models import Role, User
from fellowship.auth.services import find_user_by_email, hash_password
from fellowship.db import db

DEMO_PASSWORD = "fellowship-demo-2026"

DEMO_PEOPLE = [
    ("admin@example.org", "Alma Administrator", Role.ADMIN, "en", "America/New_York"),
    ("staff@example.org", "Sofía Staff", Role.STAFF, "en", "America/New_York"),
    ("fellow@example.org", "Femi Fellow", Role.MEMBER, "en", "America/Chicago"),
    ("coach@example.org", "Carmen Coach", Role.MEMBER, "en", "America/New_York"),
    ("facilitator@example.org", "Farid Facilitator", Role.MEMBER, "en", "America/Los_Angeles"),
    ("reviewer@example.org", "Rosa Reviewer", Role.MEMBER, "en", "America/Denver"),
    ("lead@example.org", "Luis Lead Teacher", Role.MEMBER, "es", "America/New_York"),
    ("partner@example.org", "Priya Partner", Role.MEMBER, "en", "America/New_York"),
]


def load_demo() -> int:
    """Create the demo accounts that do not exist yet; returns how many were created."""
    password_hash = hash_password(DEMO_PASSWORD)
    created = 0
    for email, name, role, locale, timezone in DEMO_PEOPLE:
        if find_user_by_email(email) is not None:
            continue
        db.session.add(
            User(
                email=email,
                name=name,
                role=role,
                locale=locale,
                timezone=timezone,
                password_hash=password_hash,
            )
        )
        created += 1
    db.session.flush()
    return created
