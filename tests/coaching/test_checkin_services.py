"""Check-in rules: logging, editing with optimistic locking, sharing once, items, replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.coaching import queries, services
from fellowship.coaching.models import (
    ActionItem,
    CheckIn,
    CheckInFocus,
    CheckInMode,
    CheckInPrivateNote,
)
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from fellowship.notifications.models import Notification
from tests.coaching.helpers import coaching_pair, yesterday
from tests.conftest import rows_for_module
from tests.factories import CohortFactory

shared_pair = rows_for_module(coaching_pair)


@pytest.fixture
def pair(shared_pair, request):
    """What most tests here start from, built once for the module."""
    return shared_pair.thaw_for(request)


def data(pair, **overrides) -> services.CheckInData:
    values = {
        "held_on": yesterday(),
        "duration_minutes": 45,
        "mode": CheckInMode.PHONE,
        "focus_strand_ids": [pair.cohort.strands[0].id, pair.cohort.strands[2].id],
        "shared_summary_md": "We mapped allies.",
        "next_steps_md": "Meet the PTA chair.",
        "private_notes_md": "Seems tired; ask about the principal.",
        "next_checkin_on": yesterday() + timedelta(days=14),
        "items": [
            services.ItemData(None, pair.fellow.id, "Draft the memo", yesterday()),
            services.ItemData(None, pair.coach.id, "Send the article"),
        ],
    }
    values.update(overrides)
    return services.CheckInData(**values)


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_logging_a_check_in_saves_a_draft_with_notes_focus_and_items(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    db.session.commit()
    assert checkin.shared_at is None
    assert checkin.version == 1
    assert queries.private_notes_for(checkin.id, pair.coach.id) == (
        "Seems tired; ask about the principal."
    )
    assert queries.focus_names([checkin.id])[checkin.id] == [
        pair.cohort.strands[0].name,
        pair.cohort.strands[2].name,
    ]
    items = queries.action_items([checkin.id])[checkin.id]
    assert [(i.description, i.owner_id, i.position) for i in items] == [
        ("Draft the memo", pair.fellow.id, 0),
        ("Send the article", pair.coach.id, 1),
    ]
    assert outbox() == []  # a draft tells nobody


def test_the_audit_log_records_the_check_in_but_never_its_notes(pair, ctx):
    services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=True)
    db.session.commit()
    events = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.action for e in events][-2:] == ["checkin_logged", "checkin_shared"]
    assert all("tired" not in str(e.details) for e in events)


def test_private_notes_of_another_coach_are_not_returned_by_the_only_query_that_reads_them(
    pair, ctx
):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=True)
    db.session.commit()
    assert queries.private_notes_for(checkin.id, pair.fellow.id) is None
    assert queries.private_notes_for(checkin.id, pair.coach.id + 1000) is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"held_on": utcnow().date() + timedelta(days=2)}, "held_on"),
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 601}, "duration_minutes"),
        ({"next_checkin_on": yesterday() - timedelta(days=1)}, "next_checkin_on"),
    ],
    ids=["two days ahead", "too short", "too long", "next before this one"],
)
def test_a_check_in_that_breaks_a_rule_is_refused_with_the_field_named(pair, ctx, overrides, field):
    with pytest.raises(services.CheckInError) as caught:
        services.log_checkin(
            pair.coach, pair.cohort, pair.fellow, data(pair, **overrides), share=False
        )
    assert caught.value.field == field
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 0


def test_a_check_in_dated_tomorrow_is_accepted_because_time_zones_differ(pair, ctx):
    tomorrow = utcnow().date() + timedelta(days=1)
    checkin = services.log_checkin(
        pair.coach,
        pair.cohort,
        pair.fellow,
        data(pair, held_on=tomorrow, next_checkin_on=None),
        share=False,
    )
    assert checkin.held_on == tomorrow


def test_focus_areas_must_be_strands_of_the_cohort(pair, ctx):
    elsewhere = CohortFactory().strands[0].id
    with pytest.raises(services.CheckInError) as caught:
        services.log_checkin(
            pair.coach,
            pair.cohort,
            pair.fellow,
            data(pair, focus_strand_ids=[elsewhere]),
            share=False,
        )
    assert caught.value.field == "focus"


def test_an_action_item_belongs_to_the_fellow_or_the_coach(pair, ctx):
    items = [services.ItemData(None, pair.coach.id + pair.fellow.id + 7, "Someone else's")]
    with pytest.raises(services.CheckInError) as caught:
        services.log_checkin(
            pair.coach, pair.cohort, pair.fellow, data(pair, items=items), share=False
        )
    assert caught.value.field == "items"


def test_sharing_queues_one_email_to_the_fellow_without_the_private_notes(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    assert services.share_checkin(pair.coach, checkin) is True
    db.session.commit()
    assert services.share_checkin(pair.coach, checkin) is False
    db.session.commit()
    messages = outbox()
    assert len(messages) == 1
    message = messages[0]
    assert message.to == pair.fellow.email
    [notification] = db.session.scalars(sa.select(Notification)).all()
    assert (notification.user_id, notification.dedupe_key) == (
        pair.fellow.id,
        f"checkin-shared-{checkin.id}",
    )
    assert message.dedupe_key == f"notification-{notification.id}"
    assert "Cora Coach shared your check-in" in message.subject
    assert f"http://localhost/checkins/{checkin.id}" in message.text
    assert "Draft the memo" in message.text  # the fellow's action item
    assert "Send the article" not in message.text  # the coach's own item
    for part in (message.subject, message.text, message.html or ""):
        assert "tired" not in part


def test_sharing_writes_the_email_in_the_fellows_language(pair, ctx):
    pair.fellow.locale = "es"
    db.session.commit()
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=True)
    db.session.commit()
    assert outbox()[0].html.startswith('<!doctype html>\n<html lang="es">')
    assert checkin.shared_at is not None


def test_an_edit_from_a_form_opened_before_another_save_is_refused(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    db.session.commit()
    opened_at = checkin.version
    services.update_checkin(pair.coach, checkin, data(pair, duration_minutes=50), version=opened_at)
    db.session.commit()
    with pytest.raises(services.StaleEdit):
        services.update_checkin(
            pair.coach, checkin, data(pair, duration_minutes=90), version=opened_at
        )
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(CheckIn, checkin.id).duration_minutes == 50


def test_a_save_that_races_another_one_to_the_database_is_refused(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    db.session.commit()
    version = checkin.version
    # Another request committed in between: the row's version moved on under us.
    db.session.execute(
        sa.update(CheckIn).where(CheckIn.id == checkin.id).values(version=CheckIn.version + 1)
    )
    with pytest.raises(services.StaleEdit):
        services.update_checkin(pair.coach, checkin, data(pair), version=version)


def test_every_save_bumps_the_version_even_when_only_the_notes_change(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    db.session.commit()
    services.update_checkin(
        pair.coach, checkin, data(pair, private_notes_md="New thought."), version=1
    )
    db.session.commit()
    assert checkin.version == 2
    assert queries.private_notes_for(checkin.id, pair.coach.id) == "New thought."


def test_clearing_the_private_notes_removes_them(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    services.update_checkin(pair.coach, checkin, data(pair, private_notes_md="  "), version=1)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckInPrivateNote)) == 0


def test_an_edit_updates_adds_and_removes_items_and_replaces_the_focus(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    memo, article = queries.action_items([checkin.id])[checkin.id]
    items = [
        services.ItemData(memo.id, pair.fellow.id, "Draft the memo, second version"),
        services.ItemData(None, pair.fellow.id, "Call the union rep"),
    ]
    services.update_checkin(
        pair.coach,
        checkin,
        data(pair, items=items, focus_strand_ids=[pair.cohort.strands[1].id]),
        version=1,
        removed_items=[article.id],
    )
    db.session.commit()
    rows = queries.action_items([checkin.id])[checkin.id]
    assert [(r.id == memo.id, r.description) for r in rows] == [
        (True, "Draft the memo, second version"),
        (False, "Call the union rep"),
    ]
    strands = db.session.scalars(
        sa.select(CheckInFocus.strand_id).where(CheckInFocus.checkin_id == checkin.id)
    )
    assert list(strands) == [pair.cohort.strands[1].id]


def test_an_item_of_another_check_in_cannot_be_edited_through_this_one(pair, ctx):
    first = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    second = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    foreign = queries.action_items([first.id])[first.id][0]
    items = [services.ItemData(foreign.id, pair.fellow.id, "Hijacked")]
    with pytest.raises(services.CheckInError):
        services.update_checkin(pair.coach, second, data(pair, items=items), version=1)
    with pytest.raises(services.CheckInError):
        services.update_checkin(
            pair.coach, second, data(pair), version=1, removed_items=[foreign.id]
        )


def test_items_given_to_the_fellow_after_sharing_are_emailed_once(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=True)
    db.session.commit()
    existing = queries.action_items([checkin.id])[checkin.id]
    items = [
        *(services.ItemData(i.id, i.owner_id, i.description) for i in existing),
        services.ItemData(None, pair.fellow.id, "Visit the partner school"),
        services.ItemData(None, pair.coach.id, "Book the room"),
    ]
    services.update_checkin(pair.coach, checkin, data(pair, items=items), version=2)
    db.session.commit()
    saved = [
        services.ItemData(i.id, i.owner_id, i.description)
        for i in queries.action_items([checkin.id])[checkin.id]
    ]
    services.update_checkin(pair.coach, checkin, data(pair, items=saved), version=3)
    db.session.commit()
    messages = outbox()
    assert [m.template for m in messages] == [
        "coaching/checkin_shared",
        "coaching/action_items_assigned",
    ]
    assert "Visit the partner school" in messages[1].text
    assert "Book the room" not in messages[1].text


def test_an_edit_that_shares_a_draft_notifies_the_fellow(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    services.update_checkin(pair.coach, checkin, data(pair), version=1, share=True)
    db.session.commit()
    assert checkin.shared_at is not None
    assert [m.template for m in outbox()] == ["coaching/checkin_shared"]


def test_marking_an_item_done_and_open_again_records_who_and_when(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=True)
    item = queries.action_items([checkin.id])[checkin.id][0]
    assert services.toggle_action_item(pair.fellow, item) is True
    assert item.done_by_id == pair.fellow.id
    assert item.done_at is not None
    assert services.toggle_action_item(pair.fellow, item) is False
    assert (item.done_at, item.done_by_id) == (None, None)


def test_a_reply_needs_words(pair, ctx):
    checkin = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=True)
    with pytest.raises(services.CheckInError):
        services.reply_to_checkin(pair.fellow, checkin, "   ")
    reply = services.reply_to_checkin(pair.fellow, checkin, "  Thanks, done!  ")
    assert reply.body_md == "Thanks, done!"


def test_items_of_a_fellow_list_open_ones_first_soonest_due_first(pair, ctx):
    items = [
        services.ItemData(None, pair.fellow.id, "Later", yesterday() + timedelta(days=9)),
        services.ItemData(None, pair.fellow.id, "No date"),
        services.ItemData(None, pair.fellow.id, "Sooner", yesterday() + timedelta(days=2)),
        services.ItemData(None, pair.fellow.id, "Finished", yesterday()),
        services.ItemData(None, pair.coach.id, "The coach's own"),
    ]
    checkin = services.log_checkin(
        pair.coach, pair.cohort, pair.fellow, data(pair, items=items), share=True
    )
    draft = services.log_checkin(pair.coach, pair.cohort, pair.fellow, data(pair), share=False)
    finished = next(
        i for i in queries.action_items([checkin.id])[checkin.id] if i.description == "Finished"
    )
    services.toggle_action_item(pair.fellow, finished)
    db.session.commit()
    rows = queries.items_of_fellow(pair.cohort.id, pair.fellow.id)
    assert [r.item.description for r in rows] == ["Sooner", "Later", "No date", "Finished"]
    assert all(r.checkin.id != draft.id for r in rows)
    assert db.session.scalar(sa.select(sa.func.count(ActionItem.id))) == 7
