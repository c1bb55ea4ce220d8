"""Demo convenings for the demo cohort: one past (with attendance) and three upcoming.

Called by `fellowship.demo`; idempotent (does nothing when the cohort has convenings).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort
from fellowship.convenings.models import (
    Attendance,
    AttendanceStatus,
    Convening,
    ConveningFacilitator,
    ConveningKind,
)
from fellowship.db import db, utcnow

PAST_AGENDA = """\
## Morning: the school model

- Welcome and introductions (9:00)
- **Keynote:** what diverse-by-design schools get right
- Table talk: the enrollment questions your community is asking

## Afternoon: coalition building

1. Mapping the people who can say yes
2. Practice round: the five-minute pitch
3. Commitments for the next month

Read before you come: *Chapter 1* of the cohort reader.
"""

WORKSHOP_AGENDA = """\
A 90-minute online workshop on reading enrollment data by subgroup.

- Where the numbers come from (October 1 counts)
- Spotting isolation: what the dissimilarity index tells you
- Breakout: one question for your own school

Bring the enrollment table of your school. Slides: [workshop folder](https://example.org/workshops/data)
"""

VISIT_AGENDA = """\
We visit a two-way immersion elementary school that opened as a diverse-by-design school.

- Arrival and sign-in at the front office (photo ID needed)
- Classroom walk in small groups
- Conversation with the principal and the family council
- Debrief over lunch

Wear comfortable shoes; we will be on our feet most of the morning.
"""

BOOK_AGENDA = """\
Book study, part 2: chapters 4-6.

- What surprised you?
- One idea you would try in your school next year
- Who should we invite to the next session?
"""


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    """`days` from today at hh:mm UTC (demo times land in US working hours)."""
    day = (utcnow() + timedelta(days=days)).date()
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def load_demo_convenings(
    cohort: Cohort, facilitators: Sequence[User], fellows: Sequence[User]
) -> list[Convening]:
    """Create the demo convenings of `cohort`; returns them (empty when it already had some)."""
    exists = db.session.scalar(
        sa.select(sa.func.count(Convening.id)).where(Convening.cohort_id == cohort.id)
    )
    if exists:
        return []
    creator = facilitators[0].id if facilitators else None
    specs = [
        (
            "Fall national convening: the school model",
            ConveningKind.NATIONAL,
            _at(-21, 14),
            _at(-21, 22),
            "Riverside Conference Center, 200 Main Street, Hartford, CT",
            None,
            PAST_AGENDA,
        ),
        (
            "Reading enrollment data by subgroup",
            ConveningKind.WORKSHOP,
            _at(6, 21),
            _at(6, 22, 30),
            None,
            "https://meet.example.org/fellowship-data-workshop",
            WORKSHOP_AGENDA,
        ),
        (
            "School visit: Dos Puentes Elementary",
            ConveningKind.SCHOOL_VISIT,
            _at(20, 13, 30),
            _at(20, 18),
            "Dos Puentes Elementary, 185 Wadsworth Avenue, New York, NY",
            None,
            VISIT_AGENDA,
        ),
        (
            "Book study: chapters 4-6",
            ConveningKind.BOOK_STUDY,
            _at(34, 23),
            _at(35, 0),
            None,
            "https://meet.example.org/fellowship-book-study",
            BOOK_AGENDA,
        ),
    ]
    created = []
    for title, kind, starts, ends, location, online_url, agenda in specs:
        convening = Convening(
            cohort_id=cohort.id,
            title=title,
            kind=kind,
            starts_at=starts,
            ends_at=ends,
            location=location,
            online_url=online_url,
            agenda_md=agenda,
            created_by_id=creator,
        )
        db.session.add(convening)
        created.append(convening)
    db.session.flush()
    for convening in created:
        for person in facilitators[:2]:
            db.session.add(ConveningFacilitator(convening_id=convening.id, user_id=person.id))

    past = created[0]
    mix = [
        (AttendanceStatus.PRESENT, ""),
        (AttendanceStatus.EXCUSED, "Family emergency; watched the keynote recording afterwards."),
        (AttendanceStatus.PRESENT, "Arrived after lunch (flight delay)."),
        (AttendanceStatus.ABSENT, ""),
        (AttendanceStatus.PRESENT, ""),
    ]
    for index, fellow in enumerate(fellows):
        status, note = mix[index % len(mix)]
        db.session.add(
            Attendance(
                convening_id=past.id,
                user_id=fellow.id,
                status=status,
                note=note,
                recorded_by_id=creator,
                recorded_at=past.ends_at,
            )
        )
    db.session.flush()
    return created
