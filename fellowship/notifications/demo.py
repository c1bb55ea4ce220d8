"""Demo notifications: a staff announcement to the demo cohort, the reminders the demo data
calls for today (modules due, check-ins due, reviews waiting, stale goals...), a few already
read, a coach who takes coaching news as a daily digest, and one email that bounced so the
admin's outbox page shows a failure with its error. Idempotent (every notification has its
dedupe key; the announcement is sent once)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.auth.services import find_user_by_email
from fellowship.coaching.models import ActionItem, CheckIn
from fellowship.cohorts.models import Cohort
from fellowship.curriculum.models import ItemProgress, Module, ModuleItem
from fellowship.db import db, utcnow
from fellowship.mail import OutboxMessage, OutboxStatus
from fellowship.notifications.announcement_services import new_send_key, send_announcement
from fellowship.notifications.models import (
    Announcement,
    Audience,
    Category,
    Frequency,
    Notification,
)
from fellowship.notifications.reminders import run_reminders
from fellowship.notifications.services import app_path, notify, set_preferences

ANNOUNCEMENT_SUBJECT = "Winter convening: bring your capstone question"
ANNOUNCEMENT_BODY = """\
Our winter convening is the first Saturday after the break. Please bring:

- the **question** your capstone project sets out to answer, in one sentence;
- one piece of evidence from your school that made you ask it.

Coaches will pair you up for a 20-minute protocol in the morning.
"""
BOUNCED_ERROR = (
    "SMTPRecipientsRefused: {'%s': (550, b'5.1.1 The email account that you tried to "
    "reach does not exist')}"
)


def load_notifications_demo(cohort_name: str) -> None:
    staff = find_user_by_email("staff@example.org")
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == cohort_name))
    if staff is None or cohort is None:
        return
    coach = find_user_by_email("coach@example.org")
    if coach is not None:
        set_preferences(coach, {Category.COACHING: Frequency.DAILY})
    sent = db.session.scalar(
        sa.select(Announcement.id).where(
            Announcement.cohort_id == cohort.id, Announcement.subject == ANNOUNCEMENT_SUBJECT
        )
    )
    if sent is None:
        send_announcement(
            staff,
            audience=Audience.COHORT,
            target_id=cohort.id,
            subject=ANNOUNCEMENT_SUBJECT,
            body_md=ANNOUNCEMENT_BODY,
            send_key=new_send_key(),
        )
        _bounce_one(cohort_name)
    fellow = find_user_by_email("fellow@example.org")
    if fellow is not None:
        _tell_the_demo_fellow(fellow)
    db.session.commit()  # the reminders job commits batch by batch
    run_reminders(utcnow())
    _read_the_oldest()


def _tell_the_demo_fellow(fellow: User) -> None:
    """What the demo fellow was told as the demo's history happened: their latest shared
    check-in and the latest feedback on a reflection (the services' own kinds and keys, so
    nothing is told twice)."""
    checkin = db.session.scalar(
        sa.select(CheckIn)
        .where(CheckIn.fellow_id == fellow.id, CheckIn.shared_at.is_not(None))
        .order_by(CheckIn.held_on.desc())
    )
    if checkin is not None:
        coach = db.session.get(User, checkin.coach_id)
        items = db.session.scalars(
            sa.select(ActionItem).where(
                ActionItem.checkin_id == checkin.id, ActionItem.owner_id == fellow.id
            )
        )
        notify(
            fellow,
            "coaching/checkin_shared",
            key=f"checkin-shared-{checkin.id}",
            link=app_path("coaching.checkin", checkin_id=checkin.id),
            coach=coach.name if coach else "",
            held_on=checkin.held_on,
            next_checkin_on=checkin.next_checkin_on,
            items=[(item.description, item.due_on) for item in items],
        )
    row = db.session.execute(
        sa.select(ItemProgress, ModuleItem, Module, User)
        .join(ModuleItem, ModuleItem.id == ItemProgress.item_id)
        .join(Module, Module.id == ModuleItem.module_id)
        .join(User, User.id == ItemProgress.feedback_by_id)
        .where(ItemProgress.fellow_id == fellow.id, ItemProgress.feedback_at.is_not(None))
        .order_by(ItemProgress.feedback_at.desc())
    ).first()
    if row is not None:
        progress, item, module, facilitator = row
        notify(
            fellow,
            "curriculum/feedback_given",
            key=f"curriculum-feedback-{progress.id}",
            link=app_path("curriculum.module", module_id=module.id, _anchor=f"item-{item.id}"),
            facilitator=facilitator.name,
            module_title=module.title,
            item_title=item.title,
            submitted_at=progress.submitted_at,
        )


def _bounce_one(cohort_name: str) -> None:
    """The announcement to the last demo fellow bounced: 8 tries, then failed."""
    message = db.session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.template == "notifications/announcement")
        .order_by(OutboxMessage.id.desc())
    )
    if message is None:
        return
    message.status = OutboxStatus.FAILED
    message.attempts = 8
    message.last_error = BOUNCED_ERROR % message.to
    message.next_attempt_at = utcnow() - timedelta(hours=3)


def _read_the_oldest() -> None:
    """Half of each person's notifications read a while ago, as in a program under way."""
    rows = db.session.execute(
        sa.select(Notification.id, Notification.user_id).order_by(
            Notification.user_id, Notification.created_at, Notification.id
        )
    ).all()
    by_user: dict[int, list[int]] = {}
    for notification_id, user_id in rows:
        by_user.setdefault(user_id, []).append(notification_id)
    read = [n for ids in by_user.values() for n in ids[: len(ids) // 2]]
    if read:
        db.session.execute(
            sa.update(Notification)
            .where(Notification.id.in_(read), Notification.read_at.is_(None))
            .values(read_at=utcnow() - timedelta(days=1))
        )
