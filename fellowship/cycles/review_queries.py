"""Read-only selectors of the yearly goals review: the packet, the meeting record, the
reviews of a cycle and the amendment chain.

The packet (`assemble_packet`) and the meeting record (`meeting_record`) are plain data —
strings, numbers, ISO dates, lists and dicts, never ORM objects — so the very same dict is
shown on the page, printed in the PDF and, once both have signed, stored as the review's
snapshot. Enum values stay values ("on_track", "met"); pages and the PDF translate them
when they show them, so a frozen packet reads in each reader's language.

A review page reads what it shows in a fixed number of queries, for any number of goals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from fellowship.auth.models import User
from fellowship.cycles.models import (
    CycleMembership,
    CycleRole,
    Driver,
    EngagementSession,
    Goal,
    GoalDirection,
    GoalRating,
    GoalsReview,
    ImprovementTest,
    ProposedGoal,
    ReviewStatus,
    SupportActivity,
    SupportKind,
)
from fellowship.cycles.queries import CycleContext, GoalSummary, goal_summaries, load_cycle
from fellowship.db import db
from fellowship.integration.packet import packet_figures

PACKET_FORMAT = 1  # bump when the shape of the packet changes; old snapshots keep theirs

# A trend word for a goal: is the latest value closer to the target than the baseline was?
IMPROVING = "improving"
WORSENING = "worsening"
STEADY = "steady"


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _number(value: float | int | None) -> float | None:
    return float(value) if value is not None else None


# The packet -----------------------------------------------------------------------------------


def trend_word(direction: str, baseline: float, latest: float | None, target: float) -> str | None:
    """IMPROVING / WORSENING / STEADY: the latest value compared with the baseline, in the
    goal's direction (for a hold goal: nearer to or further from the target). None without
    a measurement."""
    if latest is None:
        return None
    if direction == GoalDirection.HOLD.value:
        before, now = abs(baseline - target), abs(latest - target)
        if now < before:
            return IMPROVING
        return WORSENING if now > before else STEADY
    change = latest - baseline
    if change == 0:
        return STEADY
    better = change > 0 if direction == GoalDirection.RAISE.value else change < 0
    return IMPROVING if better else WORSENING


def _goal_entry(summary: GoalSummary) -> dict[str, Any]:
    goal = summary.goal
    latest = summary.latest
    latest_value = _number(latest.value) if latest is not None else None
    override = None
    if goal.status_override is not None:
        override = {"status": goal.status_override.value, "reason": goal.override_reason}
    return {
        "id": goal.id,
        "title": goal.title,
        "category": goal.category.value,
        "metric": goal.metric,
        "unit": goal.unit,
        "baseline": {"value": float(goal.baseline_value), "on": _day(goal.baseline_on)},
        "target": float(goal.target_value),
        "direction": goal.direction.value,
        "due_on": _day(goal.due_on),
        "latest": (
            {"value": latest_value, "on": _day(latest.measured_on)} if latest is not None else None
        ),
        "change": (
            round(latest_value - float(goal.baseline_value), 6)
            if latest_value is not None
            else None
        ),
        "trend": trend_word(
            goal.direction.value, float(goal.baseline_value), latest_value, goal.target_value
        ),
        "status": summary.status.value,
        "computed": summary.computed.value,
        "override": override,
        "stale": summary.stale,
        "measurements": [
            {"on": _day(m.measured_on), "value": float(m.value)} for m in summary.measurements
        ],
    }


def _support(cycle_id: int) -> dict[str, Any]:
    """Hours by kind and by partner, one query (grouped in SQL)."""
    provider = aliased(User)
    rows = db.session.execute(
        sa.select(
            SupportActivity.kind,
            SupportActivity.provider_id,
            SupportActivity.provider_name,
            provider.name,
            sa.func.sum(SupportActivity.hours),
            sa.func.count(SupportActivity.id),
        )
        .outerjoin(provider, provider.id == SupportActivity.provider_id)
        .where(SupportActivity.cycle_id == cycle_id)
        .group_by(
            SupportActivity.kind,
            SupportActivity.provider_id,
            SupportActivity.provider_name,
            provider.name,
        )
    ).all()
    by_kind: dict[str, list[float]] = {kind.value: [0.0, 0] for kind in SupportKind}
    by_partner: dict[tuple[str, str], float] = defaultdict(float)
    for kind, _provider_id, organisation, person, hours, count in rows:
        kind_value = getattr(kind, "value", kind)
        by_kind[kind_value][0] += float(hours or 0)
        by_kind[kind_value][1] += int(count or 0)
        by_partner[(person or "", organisation or "")] += float(hours or 0)
    total = sum(hours for hours, _count in by_kind.values())
    return {
        "total_hours": round(total, 2),
        "activities": int(sum(count for _hours, count in by_kind.values())),
        "by_kind": [
            {"kind": kind, "hours": round(hours, 2), "activities": int(count)}
            for kind, (hours, count) in by_kind.items()
        ],
        "by_partner": [
            {"name": person, "organisation": organisation, "hours": round(hours, 2)}
            for (person, organisation), hours in sorted(
                by_partner.items(), key=lambda item: (-item[1], item[0])
            )
        ],
    }


def _tests(cycle_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(ImprovementTest, Driver.text)
        .outerjoin(Driver, Driver.id == ImprovementTest.driver_id)
        .where(ImprovementTest.cycle_id == cycle_id)
        .order_by(
            ImprovementTest.started_on.is_(None),
            ImprovementTest.started_on,
            ImprovementTest.id,
        )
    ).all()
    return [
        {
            "id": test.id,
            "title": test.title,
            "change_idea": change_idea or "",
            "decision": test.decision.value if test.decision is not None else None,
            "started_on": _day(test.started_on),
            "ended_on": _day(test.ended_on),
        }
        for test, change_idea in rows
    ]


def _engagement(cycle_id: int) -> list[dict[str, Any]]:
    sessions = db.session.scalars(
        sa.select(EngagementSession)
        .where(EngagementSession.cycle_id == cycle_id)
        .order_by(EngagementSession.held_on, EngagementSession.id)
    )
    return [
        {
            "held_on": _day(session.held_on),
            "group": session.group.value,
            "participants": session.participants,
            "heard_md": session.heard_md,
            "changed_md": session.changed_md,
        }
        for session in sessions
    ]


def assemble_packet(cycle_id: int, today: date, ctx: CycleContext | None = None) -> dict[str, Any]:
    """The review packet of a cycle as it stands `today`: JSON-serialisable plain data.

    A fixed number of queries: the cycle (unless `ctx` has it), goals with their
    measurements, support, improvement tests, engagement sessions and the school's
    integration figures that year (from the figures store, see `fellowship.integration`)."""
    ctx = ctx or load_cycle(cycle_id)
    cycle, school, year = ctx.cycle, ctx.school, ctx.year
    summaries = goal_summaries([cycle.id], today)[cycle.id]
    return {
        "format": PACKET_FORMAT,
        "assembled_on": today.isoformat(),
        "school": {
            "id": school.id,
            "name": school.name,
            "code": school.code,
            "level": school.level.value,
            "pilot": bool(school.is_pilot),
            "magnet": bool(school.is_magnet),
            "theme": school.magnet_theme,
            "region": school.region,
        },
        "cycle": {"id": cycle.id, "stage": cycle.stage.value},
        "year": {
            "label": year.label,
            "starts_on": _day(year.starts_on),
            "ends_on": _day(year.ends_on),
        },
        "initiative": {
            "title": cycle.initiative_title,
            "challenge_md": cycle.equity_challenge_md,
            "aim_md": cycle.aim_md,
        },
        "goals": [_goal_entry(summary) for summary in summaries],
        "support": _support(cycle.id),
        "tests": _tests(cycle.id),
        "engagement": _engagement(cycle.id),
        # The school's published integration figures that year (never a hidden count), or
        # None without counts: the page says so.
        "integration": packet_figures(school.id, year.id),
    }


# The meeting record -------------------------------------------------------------------------


def ratings_of(review_id: int) -> list[GoalRating]:
    return list(
        db.session.scalars(
            sa.select(GoalRating).where(GoalRating.review_id == review_id).order_by(GoalRating.id)
        )
    )


def proposed_goals_of(review_id: int) -> list[ProposedGoal]:
    return list(
        db.session.scalars(
            sa.select(ProposedGoal)
            .where(ProposedGoal.review_id == review_id)
            .order_by(ProposedGoal.position, ProposedGoal.id)
        )
    )


def next_year_baseline(cycle_id: int, goal_id: int, today: date) -> tuple[float, date] | None:
    """Next year's baseline when a goal for next year continues this year's goal `goal_id`:
    its latest value and date (its own baseline when never measured), the way the packet
    and the signed snapshot record it. None when it is not one of the cycle's goals."""
    summary = next(
        (s for s in goal_summaries([cycle_id], today)[cycle_id] if s.goal.id == goal_id), None
    )
    if summary is None:
        return None
    if summary.latest is not None:
        return float(summary.latest.value), summary.latest.measured_on
    return float(summary.goal.baseline_value), summary.goal.baseline_on


def _proposed_entry(proposed: ProposedGoal, goals: dict[int, dict[str, Any]]) -> dict[str, Any]:
    continued = goals.get(proposed.goal_id) if proposed.goal_id is not None else None
    baseline: dict[str, Any] | None = None
    if continued is not None:
        # Next year's baseline is this year's latest value (the baseline, when never measured).
        source = continued["latest"] or continued["baseline"]
        baseline = {"value": source["value"], "on": source["on"], "from_goal": True}
    elif proposed.baseline_value is not None:
        baseline = {
            "value": float(proposed.baseline_value),
            "on": _day(proposed.baseline_on),
            "from_goal": False,
        }
    return {
        "id": proposed.id,
        "continues": (
            {"goal_id": continued["id"], "title": continued["title"]} if continued else None
        ),
        "title": proposed.title,
        "category": proposed.category.value,
        "metric": proposed.metric,
        "unit": proposed.unit,
        "baseline": baseline,
        "target": float(proposed.target_value),
        "direction": proposed.direction.value,
        "due_on": _day(proposed.due_on),
    }


@dataclass(frozen=True)
class Signer:
    name: str
    at: datetime | None


def meeting_record(
    review: GoalsReview,
    packet: dict[str, Any],
    *,
    lead: Signer | None,
    staff: Signer | None,
    ratings: list[GoalRating] | None = None,
    proposed: list[ProposedGoal] | None = None,
) -> dict[str, Any]:
    """The whole review as plain data — the shape of `GoalsReview.snapshot`: the packet, the
    ratings (in the packet's goal order), the notes, next year's goals, the meeting and who
    signed. Ratings and next year's goals are read unless given (two queries)."""
    ratings = ratings_of(review.id) if ratings is None else ratings
    proposed = proposed_goals_of(review.id) if proposed is None else proposed
    goals = {goal["id"]: goal for goal in packet.get("goals", [])}
    by_goal = {rating.goal_id: rating for rating in ratings}
    return {
        "packet": packet,
        "meeting": {
            "scheduled_for": _day(review.scheduled_for),
            "location": review.location,
            "participants": participant_lines(review.participants),
        },
        "ratings": [
            {
                "goal_id": goal_id,
                "title": goal["title"],
                "rating": by_goal[goal_id].rating.value,
                "comment": by_goal[goal_id].comment,
            }
            for goal_id, goal in goals.items()
            if goal_id in by_goal
        ],
        "notes_md": review.notes_md,
        "next_goals": [_proposed_entry(p, goals) for p in proposed],
        "signed": {
            "lead": {"name": lead.name, "at": _moment(lead.at)} if lead else None,
            "staff": {"name": staff.name, "at": _moment(staff.at)} if staff else None,
        },
        "amends_review_id": review.amends_review_id,
    }


def participant_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def normalise_record(record: dict[str, Any] | None) -> dict[str, Any]:
    """A stored snapshot with every key the page and the PDF read (a damaged or hand-made
    snapshot shows empty sections instead of failing)."""
    record = _dict(record)
    packet = _dict(record.get("packet"))
    support = _dict(packet.get("support"))
    signed = _dict(record.get("signed"))
    meeting = _dict(record.get("meeting"))
    return {
        **record,
        "packet": {
            **packet,
            "school": _dict(packet.get("school")),
            "year": _dict(packet.get("year")),
            "initiative": _dict(packet.get("initiative")),
            "goals": _list(packet.get("goals")),
            "support": {
                **support,
                "total_hours": support.get("total_hours") or 0,
                "activities": support.get("activities") or 0,
                "by_kind": _list(support.get("by_kind")),
                "by_partner": _list(support.get("by_partner")),
            },
            "tests": _list(packet.get("tests")),
            "engagement": _list(packet.get("engagement")),
            "integration": packet.get("integration"),
        },
        "meeting": {**meeting, "participants": _list(meeting.get("participants"))},
        "ratings": _list(record.get("ratings")),
        "notes_md": str(record.get("notes_md") or ""),
        "next_goals": _list(record.get("next_goals")),
        "signed": {"lead": signed.get("lead"), "staff": signed.get("staff")},
    }


# Reviews of a cycle ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    """A review with the names of the two signers."""

    review: GoalsReview
    lead_name: str | None
    staff_name: str | None

    @property
    def lead(self) -> Signer | None:
        if self.review.lead_signed_at is None:
            return None
        return Signer(self.lead_name or "", self.review.lead_signed_at)

    @property
    def staff(self) -> Signer | None:
        if self.review.staff_signed_at is None:
            return None
        return Signer(self.staff_name or "", self.review.staff_signed_at)


def reviews_of_cycle(cycle_id: int) -> list[ReviewRow]:
    """Every review and amendment of the cycle with its signers' names (one query), the
    most recent meeting first."""
    lead = aliased(User)
    staff = aliased(User)
    rows = db.session.execute(
        sa.select(GoalsReview, lead.name, staff.name)
        .outerjoin(lead, lead.id == GoalsReview.lead_signed_by_id)
        .outerjoin(staff, staff.id == GoalsReview.staff_signed_by_id)
        .where(GoalsReview.cycle_id == cycle_id)
        .order_by(GoalsReview.scheduled_for.desc(), GoalsReview.id.desc())
    ).all()
    return [ReviewRow(review, lead_name, staff_name) for review, lead_name, staff_name in rows]


def review_row(review: GoalsReview) -> ReviewRow:
    """The review's signer names (one query)."""
    ids = [i for i in (review.lead_signed_by_id, review.staff_signed_by_id) if i is not None]
    names: dict[int, str] = {}
    if ids:
        rows = db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids)))
        names = {user_id: name for user_id, name in rows}
    return ReviewRow(
        review,
        names.get(review.lead_signed_by_id) if review.lead_signed_by_id else None,
        names.get(review.staff_signed_by_id) if review.staff_signed_by_id else None,
    )


@dataclass(frozen=True)
class Chain:
    """Where a review sits among its cycle's reviews: the one it corrects, and the
    amendments that correct it (the open one, if any, and the signed ones)."""

    amends: GoalsReview | None
    amendments: list[GoalsReview]

    @property
    def open_amendment(self) -> GoalsReview | None:
        return next((a for a in self.amendments if a.frozen_at is None), None)


def chain_of(review: GoalsReview, rows: list[ReviewRow]) -> Chain:
    """The amendment chain around `review`, from the cycle's reviews already loaded."""
    by_id = {row.review.id: row.review for row in rows}
    amendments = sorted(
        (row.review for row in rows if row.review.amends_review_id == review.id),
        key=lambda r: r.id,
    )
    amends = by_id.get(review.amends_review_id) if review.amends_review_id else None
    return Chain(amends=amends, amendments=amendments)


def open_amendment_of(review_id: int) -> GoalsReview | None:
    return db.session.scalar(
        sa.select(GoalsReview)
        .where(GoalsReview.amends_review_id == review_id, GoalsReview.frozen_at.is_(None))
        .order_by(GoalsReview.id)
        .limit(1)
    )


def open_review_of_cycle(cycle_id: int) -> GoalsReview | None:
    """The cycle's yearly review (not an amendment) when there is one, signed or not."""
    return db.session.scalar(
        sa.select(GoalsReview)
        .where(GoalsReview.cycle_id == cycle_id, GoalsReview.amends_review_id.is_(None))
        .order_by(GoalsReview.frozen_at.is_not(None), GoalsReview.id.desc())
        .limit(1)
    )


def agreed_review(cycle_id: int) -> GoalsReview | None:
    """The review whose record stands for the cycle: the signed one that no signed amendment
    corrects (its next year's goals are the ones agreed). None before anything is signed."""
    return db.session.scalar(
        sa.select(GoalsReview)
        .where(GoalsReview.cycle_id == cycle_id, GoalsReview.status == ReviewStatus.SIGNED)
        .order_by(GoalsReview.frozen_at.desc(), GoalsReview.id.desc())
        .limit(1)
    )


def lead_teachers(cycle_id: int) -> list[User]:
    """The cycle's active lead teachers (for mail)."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(CycleMembership, CycleMembership.user_id == User.id)
            .where(
                CycleMembership.cycle_id == cycle_id,
                CycleMembership.role == CycleRole.LEAD_TEACHER,
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def cycle_goal_ids(cycle_id: int) -> dict[int, str]:
    """{goal id: title} of the cycle's goals, in order."""
    rows = db.session.execute(
        sa.select(Goal.id, Goal.title)
        .where(Goal.cycle_id == cycle_id)
        .order_by(Goal.position, Goal.id)
    ).all()
    return {goal_id: title for goal_id, title in rows}
