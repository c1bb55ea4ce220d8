"""Who may do what with a cohort's curriculum: every kind of person × every decision."""

from __future__ import annotations

from datetime import date

import pytest

from fellowship import policy
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole, CohortStatus, MembershipStatus
from fellowship.curriculum.models import ItemKind
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import rows_for_module
from tests.curriculum.helpers import (
    ItemFactory,
    ModuleFactory,
    ProgressFactory,
    require_module,
)
from tests.factories import (
    AdminFactory,
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    StaffFactory,
    UserFactory,
)

PEOPLE = [
    "the fellow",
    "another fellow",
    "a withdrawn fellow",
    "an alumni fellow",
    "the fellow's coach",
    "another coach",
    "facilitator",
    "reviewer",
    "staff",
    "admin",
    "member of no cohort",
]
EDITORS = {"facilitator", "staff", "admin"}
READERS = {
    "the fellow",
    "another fellow",
    "an alumni fellow",
    "the fellow's coach",
    "another coach",
} | EDITORS
PROGRESS_READERS = {"the fellow", "the fellow's coach"} | EDITORS

#  decision                           object             who may
TABLE = [
    ("can_view_curriculum", "cohort", EDITORS),
    ("can_edit_curriculum", "cohort", EDITORS),
    ("can_view_learning", "cohort", {"the fellow", "another fellow", "an alumni fellow"}),
    ("can_view_module", "released module", READERS),
    ("can_view_module", "unreleased module", EDITORS),
    ("can_work_on_module", "released module", {"the fellow", "another fellow"}),
    ("can_work_on_module", "unreleased module", set()),
    # The fellow has not finished the prerequisite; another fellow has.
    ("can_work_on_module", "module after a prerequisite", {"another fellow"}),
    ("can_view_fellow_progress", "cohort + the fellow", PROGRESS_READERS),
    ("can_view_reflection", "submitted reflection", PROGRESS_READERS),
    ("can_view_reflection", "draft reflection", PROGRESS_READERS),
    ("can_give_feedback", "submitted reflection", EDITORS),
    ("can_give_feedback", "draft reflection", set()),
    ("can_view_feedback_queue", "cohort", EDITORS),
    ("can_view_progress_grid", "cohort", EDITORS),
    ("can_grant_extension", "released module", EDITORS),
]
DECISIONS = {row[0] for row in TABLE} | {"can_copy_curriculum", "can_view_my_learning"}


def build_world():
    cohort = CohortFactory()

    def member(role, status=MembershipStatus.ACTIVE):
        return MembershipFactory(cohort=cohort, role=role, status=status).user_id

    ids = {
        "the fellow": member(CohortRole.FELLOW),
        "another fellow": member(CohortRole.FELLOW),
        "a withdrawn fellow": member(CohortRole.FELLOW, MembershipStatus.WITHDRAWN),
        "an alumni fellow": member(CohortRole.FELLOW, MembershipStatus.COMPLETED),
        "the fellow's coach": member(CohortRole.COACH),
        "another coach": member(CohortRole.COACH),
        "facilitator": member(CohortRole.FACILITATOR),
        "reviewer": member(CohortRole.REVIEWER),
        "staff": StaffFactory().id,
        "admin": AdminFactory().id,
        "member of no cohort": UserFactory().id,
    }
    CoachAssignmentFactory(
        cohort_id=cohort.id, fellow_id=ids["the fellow"], coach_id=ids["the fellow's coach"]
    )
    CoachAssignmentFactory(
        cohort_id=cohort.id, fellow_id=ids["another fellow"], coach_id=ids["another coach"]
    )
    released = ModuleFactory(cohort_id=cohort.id, release_on=date(2020, 1, 1), due_on=None)
    unreleased = ModuleFactory(
        cohort_id=cohort.id, release_on=date(2999, 1, 1), due_on=date(2999, 2, 1)
    )
    after = ModuleFactory(cohort_id=cohort.id, release_on=None, due_on=None)
    require_module(after, released)
    reading = ItemFactory(module_id=released.id)
    reflection = ItemFactory(module_id=released.id, kind=ItemKind.REFLECTION)
    ProgressFactory(item_id=reading.id, fellow_id=ids["another fellow"], completed_at=utcnow())
    ProgressFactory(item_id=reflection.id, fellow_id=ids["another fellow"], completed_at=utcnow())
    submitted = ProgressFactory(
        item_id=reflection.id,
        fellow_id=ids["the fellow"],
        response_md="What I learned",
        submitted_at=utcnow(),
        completed_at=utcnow(),
    )
    draft = ProgressFactory(
        item_id=reading.id, fellow_id=ids["the fellow"], response_md="Half a thought"
    )
    objects = {
        "cohort": (cohort,),
        "released module": (released,),
        "unreleased module": (unreleased,),
        "module after a prerequisite": (after,),
        "cohort + the fellow": (cohort, ids["the fellow"]),
        "submitted reflection": (submitted, released),
        "draft reflection": (draft, released),
    }
    people = {name: db.session.get(User, user_id) for name, user_id in ids.items()}
    return cohort, people, objects


built_world = rows_for_module(build_world)


@pytest.fixture
def world(ctx, built_world):
    return built_world.thaw()


CASES = [
    pytest.param(decision, target, who, who in allowed, id=f"{decision}-{target}-{who}")
    for decision, target, allowed in TABLE
    for who in PEOPLE
]


@pytest.mark.parametrize(("decision", "target", "who", "expected"), CASES)
def test_the_curriculum_access_table_holds(world, decision, target, who, expected):
    _, people, objects = world
    assert getattr(policy, decision)(people[who], *objects[target]) is expected


@pytest.mark.parametrize(
    ("decision", "target"),
    [
        ("can_edit_curriculum", "cohort"),
        ("can_work_on_module", "released module"),
        ("can_give_feedback", "submitted reflection"),
        ("can_grant_extension", "released module"),
    ],
)
@pytest.mark.parametrize("who", PEOPLE)
def test_nobody_changes_the_curriculum_of_an_archived_cohort(world, decision, target, who):
    cohort, people, objects = world
    cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    assert getattr(policy, decision)(people[who], *objects[target]) is False


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("staff", True),
        ("admin", True),
        ("a facilitator of both cohorts", True),
        ("a facilitator of the target only", False),
        ("a fellow of both cohorts", False),
    ],
)
def test_a_curriculum_is_copied_only_by_people_who_see_the_source_and_edit_the_target(
    ctx, who, expected
):
    source, target = CohortFactory(), CohortFactory()
    if who == "staff":
        person = StaffFactory()
    elif who == "admin":
        person = AdminFactory()
    else:
        role = CohortRole.FELLOW if "fellow" in who else CohortRole.FACILITATOR
        person = UserFactory()
        MembershipFactory(cohort=target, user=person, role=role)
        if "both" in who:
            MembershipFactory(cohort=source, user=person, role=role)
    assert policy.can_copy_curriculum(person, target, source) is expected
    assert policy.can_copy_curriculum(person, target, target) is False


@pytest.mark.parametrize("who", PEOPLE)
def test_my_learning_is_in_the_menu_of_present_and_past_fellows_only(world, who):
    _, people, _ = world
    expected = who in {"the fellow", "another fellow", "an alumni fellow"}
    assert policy.can_view_my_learning(people[who]) is expected


def test_a_fellow_keeps_a_module_they_completed_when_its_release_date_moves_ahead(world):
    _, people, objects = world
    (released,) = objects["released module"]
    fellow, other = people["the fellow"], people["another fellow"]
    released.release_on = date(2999, 1, 1)
    db.session.commit()
    # Another fellow completed both items; the fellow has only a submitted reflection.
    assert policy.can_view_module(other, released) is True
    assert policy.can_work_on_module(other, released) is True
    assert policy.can_view_module(fellow, released) is False
    assert policy.can_work_on_module(fellow, released) is False
    assert policy.can_view_module(people["another coach"], released) is False
