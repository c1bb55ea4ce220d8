"""A fellow's work: marking items done, drafts, submissions, revisions, stale versions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from fellowship.curriculum import learning_services as services
from fellowship.curriculum import queries
from fellowship.curriculum.models import ItemKind, ItemProgress
from fellowship.curriculum.queries import State
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.curriculum.learning_helpers import (
    item,
    learning_world,
    open_module,
    progress_of,
    submitted,
    today,
)


@pytest.fixture
def setup(ctx):
    world = learning_world()
    module = open_module(world.cohort, title="Coalition mapping")
    reading = item(module, title="Read the case")
    reflection = item(module, ItemKind.REFLECTION, title="What did you notice?")
    return world, module, reading, reflection


def rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ItemProgress)) or 0


def state(module, fellow) -> State:
    return queries.module_states([module], [fellow.id], today())[(fellow.id, module.id)].state


# Marking done ---------------------------------------------------------------------------


def test_marking_an_item_done_and_not_done_again(setup):
    world, module, reading, _reflection = setup
    services.mark_item_done(world.fellow, reading, True)
    db.session.commit()
    first = progress_of(reading, world.fellow)
    assert first is not None
    assert first.completed_at is not None
    assert state(module, world.fellow) == State.IN_PROGRESS

    services.mark_item_done(world.fellow, reading, False)
    db.session.commit()
    assert progress_of(reading, world.fellow).completed_at is None
    assert rows() == 1


def test_a_double_click_on_mark_as_done_keeps_one_row_and_the_first_time(setup):
    world, _module, reading, _reflection = setup
    services.mark_item_done(world.fellow, reading, True)
    db.session.commit()
    when = progress_of(reading, world.fellow).completed_at
    services.mark_item_done(world.fellow, reading, True)
    db.session.commit()
    assert rows() == 1
    assert progress_of(reading, world.fellow).completed_at == when


def test_a_reflection_cannot_be_ticked_done(setup):
    world, _module, _reading, reflection = setup
    with pytest.raises(services.CurriculumError, match="once you submit it"):
        services.mark_item_done(world.fellow, reflection, True)
    assert rows() == 0


def test_one_fellows_progress_is_not_anothers(setup):
    world, module, reading, _reflection = setup
    services.mark_item_done(world.fellow, reading, True)
    db.session.commit()
    assert progress_of(reading, world.other_fellow) is None
    assert state(module, world.other_fellow) == State.NOT_STARTED


# Reflections ------------------------------------------------------------------------------


def test_a_draft_is_saved_without_submitting_it(setup):
    world, module, _reading, reflection = setup
    row = services.save_reflection(world.fellow, reflection, "  A first thought.  ", False, None)
    db.session.commit()
    assert row.response_md == "A first thought."
    assert row.response_saved_at is not None
    assert row.submitted_at is None
    assert row.completed_at is None
    assert state(module, world.fellow) == State.IN_PROGRESS


def test_submitting_sets_the_submission_and_completion_times(setup):
    world, module, reading, reflection = setup
    draft = services.save_reflection(world.fellow, reflection, "Draft", False, None)
    db.session.commit()
    row = services.save_reflection(world.fellow, reflection, "Final text", True, draft.version)
    db.session.commit()
    assert row.submitted_at is not None
    assert row.completed_at == row.submitted_at
    assert row.response_md == "Final text"
    services.mark_item_done(world.fellow, reading, True)
    db.session.commit()
    assert state(module, world.fellow) == State.COMPLETE
    assert rows() == 2


@pytest.mark.parametrize(
    ("text", "submit", "message"),
    [
        ("", True, "Write your reflection before submitting it."),
        ("   \n  ", True, "Write your reflection before submitting it."),
        ("", False, "There is nothing to save yet"),
        ("x" * 20_001, False, "at most 20,000 characters"),
        ("x" * 20_001, True, "at most 20,000 characters"),
    ],
    ids=["empty", "blank", "empty draft", "too long draft", "too long submission"],
)
def test_a_reflection_that_breaks_a_rule_is_refused_and_nothing_is_written(
    setup, text, submit, message
):
    world, _module, _reading, reflection = setup
    with pytest.raises(services.CurriculumError, match=message) as error:
        services.save_reflection(world.fellow, reflection, text, submit, None)
    assert error.value.field == "response"
    db.session.rollback()
    assert rows() == 0


def test_twenty_thousand_characters_are_accepted(setup):
    world, _module, _reading, reflection = setup
    row = services.save_reflection(world.fellow, reflection, "x" * 20_000, True, None)
    assert len(row.response_md) == 20_000


def test_a_revision_after_submission_keeps_it_submitted(setup):
    world, _module, _reading, reflection = setup
    first = services.save_reflection(world.fellow, reflection, "First", True, None)
    db.session.commit()
    submitted_at, saved_at, version = first.submitted_at, first.response_saved_at, first.version
    # "Save draft" crafted after submission: still submitted, never back to a draft.
    again = services.save_reflection(world.fellow, reflection, "Second", False, version)
    db.session.commit()
    assert again.response_md == "Second"
    assert again.submitted_at == submitted_at
    assert again.completed_at is not None
    assert again.response_saved_at >= saved_at
    assert again.version > version


def test_a_submitted_reflection_cannot_be_emptied(setup):
    world, _module, _reading, reflection = setup
    row = services.save_reflection(world.fellow, reflection, "First", True, None)
    db.session.commit()
    with pytest.raises(services.CurriculumError, match="cannot be empty"):
        services.save_reflection(world.fellow, reflection, "", True, row.version)


def test_after_feedback_a_reflection_can_no_longer_be_changed(setup):
    world, _module, _reading, reflection = setup
    row = submitted(
        reflection,
        world.fellow,
        "My answer",
        feedback_md="Good start.",
        feedback_by_id=world.facilitator.id,
        feedback_at=utcnow(),
    )
    with pytest.raises(services.CurriculumError, match="already given feedback") as error:
        services.save_reflection(world.fellow, reflection, "Changed", True, row.version)
    assert not isinstance(error.value, services.StaleReflection)
    db.session.rollback()
    assert progress_of(reflection, world.fellow).response_md == "My answer"


def test_feedback_given_while_the_fellow_was_writing_is_a_stale_version(setup):
    world, _module, _reading, reflection = setup
    row = services.save_reflection(world.fellow, reflection, "My answer", True, None)
    db.session.commit()
    opened_at = row.version
    row.feedback_md, row.feedback_at = "Thank you.", utcnow()  # the facilitator, meanwhile
    row.feedback_by_id = world.facilitator.id
    db.session.commit()
    with pytest.raises(services.StaleReflection, match="while you were writing"):
        services.save_reflection(world.fellow, reflection, "Better answer", True, opened_at)
    db.session.rollback()
    assert progress_of(reflection, world.fellow).response_md == "My answer"


@pytest.mark.parametrize("opened_with", ["nothing saved", "an older version"])
def test_a_save_from_another_tab_makes_this_form_stale(setup, opened_with):
    world, _module, _reading, reflection = setup
    expected = None
    if opened_with == "an older version":
        first = services.save_reflection(world.fellow, reflection, "Tab one, early", False, None)
        db.session.commit()
        expected = first.version
    other_tab = services.save_reflection(world.fellow, reflection, "Tab two", False, expected)
    db.session.commit()
    with pytest.raises(services.StaleReflection, match="another tab"):
        services.save_reflection(world.fellow, reflection, "Tab one, later", False, expected)
    db.session.rollback()
    assert progress_of(reflection, world.fellow).response_md == "Tab two"
    # Saving again from the version now shown is a deliberate choice, and it works.
    services.save_reflection(world.fellow, reflection, "Tab one, later", False, other_tab.version)
    db.session.commit()
    assert progress_of(reflection, world.fellow).response_md == "Tab one, later"
    assert rows() == 1


def test_only_reflections_take_a_written_answer(setup):
    world, _module, reading, _reflection = setup
    with pytest.raises(services.CurriculumError, match="not a reflection"):
        services.save_reflection(world.fellow, reading, "Text", True, None)


def test_a_reflections_submission_is_recent(setup):
    world, _module, _reading, reflection = setup
    row = services.save_reflection(world.fellow, reflection, "Text", True, None)
    assert utcnow() - row.submitted_at < timedelta(minutes=1)
