"""Feedback on reflections: the rules of the service, stale forms, and the one email."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fellowship.curriculum import facilitation_services as services
from fellowship.curriculum.models import ItemProgress
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from fellowship.notifications.models import Notification
from tests.conftest import rows_for_module
from tests.curriculum.facilitation_helpers import reflection, world
from tests.factories import StaffFactory

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write your feedback before saving it."),
        ("   \n\t ", "Write your feedback before saving it."),
        ("x" * 20_001, "Feedback can be at most 20,000 characters."),
    ],
)
def test_feedback_must_say_something_and_not_too_much(w, ctx, text, message):
    row = reflection(w.item, w.fellow)
    with pytest.raises(services.CurriculumError) as raised:
        services.give_feedback(w.facilitator, row, text, row.version)
    assert (raised.value.field, raised.value.message) == ("feedback", message)
    db.session.rollback()
    db.session.expire_all()
    saved = db.session.get(ItemProgress, row.id)
    assert (saved.feedback_md, saved.feedback_at, saved.feedback_by_id) == ("", None, None)
    assert outbox() == []


def test_feedback_of_exactly_the_limit_is_saved(w, ctx):
    row = reflection(w.item, w.fellow)
    assert services.give_feedback(w.facilitator, row, "y" * 20_000, row.version) is True
    assert len(row.feedback_md) == 20_000


def test_a_draft_cannot_have_feedback(w, ctx):
    row = reflection(w.item, w.fellow, submitted=None)
    with pytest.raises(services.CurriculumError) as raised:
        services.give_feedback(w.facilitator, row, "Good start.", row.version)
    assert "not submitted" in raised.value.message


def test_the_first_feedback_is_saved_with_its_author_and_queues_one_email(w, ctx):
    row = reflection(w.item, w.fellow)
    first = services.give_feedback(w.facilitator, row, "  Strong analysis.  ", row.version)
    db.session.commit()
    assert first is True
    assert row.feedback_md == "Strong analysis."
    assert row.feedback_by_id == w.facilitator.id
    assert row.feedback_at is not None
    [message] = outbox()
    assert message.to == w.fellow.email
    [notification] = db.session.scalars(sa.select(Notification)).all()
    assert notification.dedupe_key == f"curriculum-feedback-{row.id}"
    assert message.dedupe_key == f"notification-{notification.id}"
    assert message.template == "curriculum/feedback_given"
    assert f"/modules/{w.module.id}#item-{w.item.id}" in message.text
    assert "Strong analysis." not in message.text  # the feedback is read in the app


def test_changing_feedback_later_updates_it_without_a_second_email(w, ctx):
    row = reflection(w.item, w.fellow)
    services.give_feedback(w.facilitator, row, "Strong analysis.", row.version)
    db.session.commit()
    given_at = row.feedback_at
    staff = StaffFactory(name="Sam Staff")
    changed = "Strong analysis; add a source."
    assert services.give_feedback(staff, row, changed, row.version) is False
    db.session.commit()
    assert row.feedback_md == "Strong analysis; add a source."
    assert row.feedback_by_id == staff.id
    assert row.feedback_at >= given_at
    assert len(outbox()) == 1


def test_a_stale_form_after_the_fellow_revised_says_so_and_saves_nothing(w, ctx):
    row = reflection(w.item, w.fellow)
    opened_at = row.version
    row.response_md = "Revised: the parents' association and the union."
    row.response_saved_at = row.submitted_at.replace(year=row.submitted_at.year + 1)
    db.session.commit()
    with pytest.raises(services.StaleReflection) as raised:
        services.give_feedback(w.facilitator, row, "Good.", opened_at)
    assert raised.value.message.startswith(
        "The fellow changed their reflection after you opened it; read the new version below"
    )
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(ItemProgress, row.id).feedback_md == ""
    assert outbox() == []


def test_a_stale_form_after_another_facilitator_gave_feedback_says_who_changed_it(w, ctx):
    row = reflection(w.item, w.fellow)
    opened_at = row.version
    services.give_feedback(StaffFactory(), row, "Theirs.", row.version)
    db.session.commit()
    with pytest.raises(services.StaleReflection) as raised:
        services.give_feedback(w.facilitator, row, "Mine.", opened_at)
    assert raised.value.message.startswith("Someone saved feedback on this reflection")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(ItemProgress, row.id).feedback_md == "Theirs."
    assert len(outbox()) == 1


def test_a_missing_version_counts_as_stale(w, ctx):
    row = reflection(w.item, w.fellow)
    with pytest.raises(services.StaleReflection):
        services.give_feedback(w.facilitator, row, "Good.", None)


def test_the_email_is_in_the_fellows_language(w, ctx):
    w.fellow.locale = "es"
    db.session.commit()
    row = reflection(w.item, w.fellow)
    services.give_feedback(w.facilitator, row, "Muy bien.", row.version)
    [message] = outbox()
    assert 'lang="es"' in (message.html or "")
    assert " de " in message.text  # the date written the Spanish way ("3 de noviembre de 2026")
