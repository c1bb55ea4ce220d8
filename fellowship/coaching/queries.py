"""Read-only selectors for check-ins, each in a fixed number of queries.

`private_notes_for` is the only function in the app that selects `CheckInPrivateNote`, and it
filters on the writing coach in SQL: a page that serves anyone else has no way to ask for
another person's notes. Everything else here reads shared parts and metadata only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from fellowship.auth.models import User
from fellowship.coaching.models import (
    ActionItem,
    CheckIn,
    CheckInFocus,
    CheckInPrivateNote,
    CheckInReply,
)
from fellowship.cohorts.models import CoachAssignment, Strand
from fellowship.db import Page, db, paginate

if TYPE_CHECKING:
    from fellowship.calendar.queries import CalendarEvent


def private_notes_for(checkin_id: int, coach_id: int) -> str | None:
    """The private notes of `checkin_id` written by `coach_id`, or None (one query).

    Callers pass the id of the person the page is for; another coach's notes never match.
    """
    body = db.session.scalar(
        sa.select(CheckInPrivateNote.body_md).where(
            CheckInPrivateNote.checkin_id == checkin_id,
            CheckInPrivateNote.coach_id == coach_id,
        )
    )
    return None if body is None else str(body)


# Parts of check-ins, for many at once ---------------------------------------------------


def focus_ids(checkin_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(CheckInFocus.strand_id).where(CheckInFocus.checkin_id == checkin_id)
        )
    )


def focus_names(checkin_ids: Iterable[int]) -> dict[int, list[str]]:
    """{checkin_id: [strand names in the cohort's order]} (one query)."""
    ids = list(checkin_ids)
    names: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return names
    rows = db.session.execute(
        sa.select(CheckInFocus.checkin_id, Strand.name)
        .join(Strand, Strand.id == CheckInFocus.strand_id)
        .where(CheckInFocus.checkin_id.in_(ids))
        .order_by(Strand.position, Strand.id)
    )
    for checkin_id, name in rows:
        names[checkin_id].append(name)
    return names


def action_items(checkin_ids: Iterable[int]) -> dict[int, list[ActionItem]]:
    """{checkin_id: [items in their order]} (one query)."""
    ids = list(checkin_ids)
    found: dict[int, list[ActionItem]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = db.session.scalars(
        sa.select(ActionItem)
        .where(ActionItem.checkin_id.in_(ids))
        .order_by(ActionItem.position, ActionItem.id)
    )
    for item in rows:
        found[item.checkin_id].append(item)
    return found


@dataclass(frozen=True)
class Reply:
    reply: CheckInReply
    author_name: str


def replies(checkin_ids: Iterable[int]) -> dict[int, list[Reply]]:
    """{checkin_id: [replies, oldest first, with their authors' names]} (one query)."""
    ids = list(checkin_ids)
    found: dict[int, list[Reply]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = db.session.execute(
        sa.select(CheckInReply, User.name)
        .join(User, User.id == CheckInReply.author_id)
        .where(CheckInReply.checkin_id.in_(ids))
        .order_by(CheckInReply.created_at, CheckInReply.id)
    )
    for reply, name in rows:
        found[reply.checkin_id].append(Reply(reply, name))
    return found


def people(user_ids: Iterable[int]) -> dict[int, User]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


# Pages ---------------------------------------------------------------------------------


@dataclass
class Entry:
    """One check-in as a history list shows it.

    `items` and `replies` are only loaded for readers of the shared parts (`details=True`).
    """

    checkin: CheckIn
    coach_name: str
    focus: list[str] = field(default_factory=list)
    items: list[ActionItem] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)


def _entries(rows: list[tuple[CheckIn, str]], *, details: bool) -> list[Entry]:
    ids = [checkin.id for checkin, _name in rows]
    focus = focus_names(ids)
    items = action_items(ids) if details else {}
    answers = replies(ids) if details else {}
    return [
        Entry(
            checkin,
            coach_name,
            focus[checkin.id],
            items.get(checkin.id, []),
            answers.get(checkin.id, []),
        )
        for checkin, coach_name in rows
    ]


def fellow_history(
    cohort_id: int,
    fellow_id: int,
    *,
    drafts_of: int | None,
    details: bool,
    page: int = 1,
    per_page: int = 20,
) -> Page[Entry]:
    """A fellow's check-ins in a cohort, newest first: the shared ones (whoever wrote them)
    and the drafts of `drafts_of` (the coach looking), in five queries at most."""
    visible: sa.ColumnElement[bool] = CheckIn.shared_at.is_not(None)
    if drafts_of is not None:
        visible = sa.or_(visible, CheckIn.coach_id == drafts_of)
    query = (
        sa.select(CheckIn, User.name)
        .join(User, User.id == CheckIn.coach_id)
        .where(CheckIn.cohort_id == cohort_id, CheckIn.fellow_id == fellow_id, visible)
        .order_by(CheckIn.held_on.desc(), CheckIn.id.desc())
    )
    result = paginate(query, page, per_page)
    result.items = _entries([(row[0], row[1]) for row in result.items], details=details)
    return result


@dataclass(frozen=True)
class FellowItem:
    item: ActionItem
    checkin: CheckIn


def items_of_fellow(cohort_id: int, fellow_id: int) -> list[FellowItem]:
    """The fellow's own action items across their shared check-ins: open ones first (soonest
    due first), then the done ones, most recently done first (one query)."""
    rows = db.session.execute(
        sa.select(ActionItem, CheckIn)
        .join(CheckIn, CheckIn.id == ActionItem.checkin_id)
        .where(
            CheckIn.cohort_id == cohort_id,
            CheckIn.fellow_id == fellow_id,
            CheckIn.shared_at.is_not(None),
            ActionItem.owner_id == fellow_id,
        )
        .order_by(
            ActionItem.done_at.is_not(None),
            ActionItem.due_on.is_(None),
            ActionItem.due_on,
            ActionItem.done_at.desc(),
            CheckIn.held_on.desc(),
            ActionItem.position,
            ActionItem.id,
        )
    )
    return [FellowItem(item, checkin) for item, checkin in rows]


def latest_checkin(cohort_id: int, coach_id: int, fellow_id: int) -> CheckIn | None:
    """The coach's most recent check-in with the fellow (defaults for the next one)."""
    return db.session.scalar(
        sa.select(CheckIn)
        .where(
            CheckIn.cohort_id == cohort_id,
            CheckIn.coach_id == coach_id,
            CheckIn.fellow_id == fellow_id,
        )
        .order_by(CheckIn.held_on.desc(), CheckIn.id.desc())
        .limit(1)
    )


# Calendar ------------------------------------------------------------------------------


def next_checkin_events(user: User, now: datetime) -> list[CalendarEvent]:
    """The next planned check-in of each current coach–fellow pair the person is in, as an
    all-day event in both people's feeds (one query).

    The date comes from the pair's latest check-in: for the coach their latest (a draft
    too), for the fellow the latest shared one. Nothing but the date and the other
    person's name goes into the event.
    """
    from fellowship.calendar.queries import HISTORY, CalendarEvent, absolute_url

    mine = sa.or_(
        CheckIn.coach_id == user.id,
        sa.and_(CheckIn.fellow_id == user.id, CheckIn.shared_at.is_not(None)),
    )
    ranked = (
        sa.select(
            CheckIn.id.label("checkin_id"),
            sa.func.row_number()
            .over(
                partition_by=(CheckIn.cohort_id, CheckIn.coach_id, CheckIn.fellow_id),
                order_by=(CheckIn.held_on.desc(), CheckIn.id.desc()),
            )
            .label("rank"),
        )
        .where(mine)
        .subquery()
    )
    coach, fellow = aliased(User), aliased(User)
    rows = db.session.execute(
        sa.select(CheckIn, coach.name, fellow.name)
        .join(ranked, ranked.c.checkin_id == CheckIn.id)
        .join(coach, coach.id == CheckIn.coach_id)
        .join(fellow, fellow.id == CheckIn.fellow_id)
        .join(
            CoachAssignment,
            sa.and_(
                CoachAssignment.cohort_id == CheckIn.cohort_id,
                CoachAssignment.fellow_id == CheckIn.fellow_id,
                CoachAssignment.coach_id == CheckIn.coach_id,
                CoachAssignment.ends_on.is_(None),
            ),
        )
        .where(
            ranked.c.rank == 1,
            CheckIn.next_checkin_on.is_not(None),
            CheckIn.next_checkin_on >= (now - HISTORY).date(),
        )
        .order_by(CheckIn.next_checkin_on, CheckIn.id)
    ).tuples()
    events = []
    for checkin, coach_name, fellow_name in rows:
        assert checkin.next_checkin_on is not None
        other = fellow_name if checkin.coach_id == user.id else coach_name
        page = absolute_url("coaching.checkin", checkin_id=checkin.id)
        events.append(
            CalendarEvent(
                uid=f"checkin-next-{checkin.id}@fellowship",
                title=_("Coaching check-in with %(name)s", name=other),
                starts=checkin.next_checkin_on,
                ends=checkin.next_checkin_on + timedelta(days=1),
                stamp=checkin.updated_at,
                sequence=max(checkin.version - 1, 0),
                url=page,
                description=_(
                    "Planned at the check-in of %(date)s. In Fellowship: %(url)s",
                    date=checkin.held_on.isoformat(),
                    url=page,
                ),
                categories=(_("Coaching"),),
            )
        )
    return events
