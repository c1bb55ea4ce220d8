"""Builders for check-in tests: a coach with a fellow, notes, items, form data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fellowship.auth.models import User
from fellowship.coaching.models import ActionItem, CheckIn, CheckInFocus, CheckInPrivateNote
from fellowship.cohorts.models import CoachAssignment, Cohort, CohortRole
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import csrf_token
from tests.factories import (
    CheckInFactory,
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    UserFactory,
)


@dataclass
class Pair:
    cohort: Cohort
    coach: User
    fellow: User


def coaching_pair(**cohort_kwargs: object) -> Pair:
    """A cohort with one coach who coaches one fellow now."""
    cohort = CohortFactory(**cohort_kwargs)
    coach = UserFactory(name="Cora Coach")
    fellow = UserFactory(name="Felix Fellow")
    MembershipFactory(cohort=cohort, user=coach, role=CohortRole.COACH)
    MembershipFactory(cohort=cohort, user=fellow, role=CohortRole.FELLOW)
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.id, coach_id=coach.id)
    return Pair(cohort, coach, fellow)


def member(cohort: Cohort, role: CohortRole, name: str | None = None) -> User:
    person = UserFactory(**({"name": name} if name else {}))
    MembershipFactory(cohort=cohort, user=person, role=role)
    return person


def reassign(pair: Pair, new_coach: User) -> None:
    """End the current coach's assignment and give the fellow `new_coach` (a cohort coach)."""
    current = db.session.query(CoachAssignment).filter_by(
        cohort_id=pair.cohort.id, fellow_id=pair.fellow.id, ends_on=None
    )
    for row in current:
        row.ends_on = utcnow().date()
    db.session.flush()
    db.session.add(
        CoachAssignment(
            cohort_id=pair.cohort.id,
            fellow_id=pair.fellow.id,
            coach_id=new_coach.id,
            starts_on=utcnow().date(),
        )
    )
    db.session.commit()


def checkin(pair: Pair, **kwargs: object) -> CheckIn:
    return CheckInFactory(
        cohort_id=pair.cohort.id, coach_id=pair.coach.id, fellow_id=pair.fellow.id, **kwargs
    )


def private_note(item: CheckIn, body: str) -> None:
    db.session.add(CheckInPrivateNote(checkin_id=item.id, coach_id=item.coach_id, body_md=body))
    db.session.commit()


def action_item(item: CheckIn, owner: User, description: str, **kwargs: object) -> ActionItem:
    row = ActionItem(checkin_id=item.id, owner_id=owner.id, description=description, **kwargs)
    db.session.add(row)
    db.session.commit()
    return row


def focus(item: CheckIn, cohort: Cohort, *positions: int) -> None:
    for position in positions:
        db.session.add(CheckInFocus(checkin_id=item.id, strand_id=cohort.strands[position].id))
    db.session.commit()


def yesterday() -> date:
    return utcnow().date() - timedelta(days=1)


def form_data(client, path: str, **overrides: object) -> dict[str, object]:
    """A filled check-in form as the browser sends it (save as draft unless overridden)."""
    values: dict[str, object] = {
        "csrf_token": csrf_token(client),
        "held_on": yesterday().isoformat(),
        "duration_minutes": "45",
        "mode": "video",
        "shared_summary": "We mapped **allies** for the budget vote.",
        "next_steps": "- Meet the PTA chair",
        "private_notes": "",
        "next_checkin_on": (yesterday() + timedelta(days=14)).isoformat(),
        "items-0-id": "",
        "items-0-owner": "fellow",
        "items-0-description": "Draft the memo to the board",
        "items-0-due_on": (yesterday() + timedelta(days=7)).isoformat(),
        "items-1-id": "",
        "items-1-owner": "coach",
        "items-1-description": "Send the article on coalitions",
        "items-1-due_on": "",
        "items-2-id": "",
        "items-2-owner": "fellow",
        "items-2-description": "",
        "items-2-due_on": "",
        "version": "",
        "save": "Save as draft",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}
