"""A small world for the fellow's learning tests: a cohort with people in every role, and
modules dated relative to today (so the tests hold whatever day they run)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage

from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, CohortRole, MembershipStatus
from fellowship.curriculum.models import ItemKind, ItemProgress, Module, ModuleItem
from fellowship.curriculum.queries import local_today
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.uploads import store_file
from tests.curriculum.helpers import ItemFactory, ModuleFactory, ProgressFactory
from tests.factories import (
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    StaffFactory,
    UserFactory,
)


def today() -> date:
    """Today where the factory users live (release and due dates are their calendar days)."""
    return local_today("America/New_York")


def days(n: int) -> date:
    return today() + timedelta(days=n)


@dataclass
class World:
    cohort: Cohort
    fellow: User
    other_fellow: User
    coach: User
    facilitator: User
    reviewer: User
    staff: User


def member(
    cohort: Cohort,
    role: CohortRole,
    name: str | None = None,
    status: MembershipStatus = MembershipStatus.ACTIVE,
) -> User:
    person = UserFactory(**({"name": name} if name else {}))
    MembershipFactory(cohort=cohort, user=person, role=role, status=status)
    return person


def learning_world(**cohort_kwargs: object) -> World:
    cohort = CohortFactory(**cohort_kwargs)
    fellow = member(cohort, CohortRole.FELLOW, "Felix Fellow")
    other = member(cohort, CohortRole.FELLOW, "Olive Otherfellow")
    coach = member(cohort, CohortRole.COACH, "Cora Coach")
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.id, coach_id=coach.id)
    facilitator = member(cohort, CohortRole.FACILITATOR, "Farah Facilitator")
    reviewer = member(cohort, CohortRole.REVIEWER, "Rex Reviewer")
    return World(cohort, fellow, other, coach, facilitator, reviewer, StaffFactory())


def open_module(cohort: Cohort, **kwargs: object) -> Module:
    """A module released a month ago and due in ten days (unless told otherwise)."""
    values: dict[str, object] = {
        "cohort_id": cohort.id,
        "release_on": days(-30),
        "due_on": days(10),
    }
    values.update(kwargs)
    return ModuleFactory(**values)


def item(module: Module, kind: ItemKind = ItemKind.READING, **kwargs: object) -> ModuleItem:
    return ItemFactory(module_id=module.id, kind=kind, **kwargs)


def done(item_: ModuleItem, fellow: User) -> ItemProgress:
    return ProgressFactory(item_id=item_.id, fellow_id=fellow.id, completed_at=utcnow())


def submitted(item_: ModuleItem, fellow: User, text: str, **kwargs: object) -> ItemProgress:
    now = utcnow()
    return ProgressFactory(
        item_id=item_.id,
        fellow_id=fellow.id,
        response_md=text,
        response_saved_at=now,
        submitted_at=now,
        completed_at=now,
        **kwargs,
    )


def progress_of(item_: ModuleItem, fellow: User) -> ItemProgress | None:
    db.session.expire_all()
    return db.session.query(ItemProgress).filter_by(item_id=item_.id, fellow_id=fellow.id).first()


def stored_pdf(app: Flask, data: bytes, name: str = "Reading guide.pdf") -> int:
    """The id of a file in the upload store, as an editor's upload leaves it."""
    with app.test_request_context():
        stored = store_file(FileStorage(stream=io.BytesIO(data), filename=name), None, {"pdf"})
        db.session.commit()
        return stored.id


def page_csrf(client: FlaskClient, path: str) -> str:
    """The CSRF token of a page that has only prefixed or hand-written forms."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'name="[\w-]*csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)
