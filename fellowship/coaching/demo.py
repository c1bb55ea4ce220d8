"""Demo check-ins for the demo cohort: months of coaching, one fellow clearly overdue.

Called by `fellowship.demo` once the coach assignments exist; idempotent (does nothing when
the cohort already has check-ins). Every pair of coach and fellow meets about every two weeks,
with the gaps real calendars have (a missed fortnight, the winter break), on weekdays, in
person, by video or by phone. Dates are relative to today and stay within the cohort and the
assignment: from the later of the cohort's start and a year ago (at least eight weeks back,
so the demo shows a rhythm even in a cohort's first weeks).

What the demo shows on purpose, on the caseload of the demo coach (coach@example.org) and
on the staff rhythm page:

- one of the demo coach's fellows is overdue: the last check-in was five weeks ago, and
  its action items are past due;
- another of her fellows is due soon; everyone else is on track;
- two coaches have a recent draft (not yet shared) after a shared check-in a week earlier;
- private notes on some check-ins, replies from fellows on others, action items mostly done.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from fellowship.auth.models import User
from fellowship.coaching.models import (
    ActionItem,
    CheckIn,
    CheckInFocus,
    CheckInMode,
    CheckInPrivateNote,
    CheckInReply,
)
from fellowship.cohorts.models import CoachAssignment, Cohort
from fellowship.db import db, utcnow

DEMO_COACH_EMAIL = "coach@example.org"
DEMO_FELLOW_EMAIL = "fellow@example.org"
OVERDUE_DAYS_AGO = 36  # about five weeks


@dataclass(frozen=True)
class Theme:
    strand: str  # one of the four corners; focus falls back to any strand when absent
    summary: str
    next_steps: str
    fellow_items: tuple[str, ...]
    coach_item: str | None = None


THEMES = (
    Theme(
        "Coalition building",
        "We looked at the family survey results {first} brought. The fall family night drew "
        "mostly families who already volunteer; Spanish- and Bengali-speaking families were "
        "barely there. {first} wants to try small coffee conversations hosted by parent "
        "ambassadors, at times that work for families on evening shifts.",
        "- Draft the invitation with two parent ambassadors\n"
        "- Ask the interpreter pool about Thursday evenings",
        (
            "Agree the first three coffee dates with the parent ambassadors",
            "Book interpreters for the first coffee conversation",
        ),
        "Share the family-engagement protocol Cohort 3 used",
    ),
    Theme(
        "The school model",
        "Most of the hour went on next year's budget. The weighted funding formula gives "
        "{first}'s school more per pupil for English learners, but the draft budget spreads "
        "it across general supplies. We walked through the lines and named the two that most "
        "directly serve newcomer students.",
        "- Give the English-learner allocation its own page in the budget narrative\n"
        "- Take the draft to the site council before the district deadline",
        (
            "Rewrite the budget narrative so the English-learner money stands on its own",
            "Put the budget on the site council agenda",
        ),
        "Find the district finance contact who approved last year's reallocation",
    ),
    Theme(
        "Foundational leadership skills",
        "{first} is hiring two teachers and a family liaison this spring. We talked about what "
        "diverse by design means for the hiring panel itself, and about questions that show "
        "how a candidate teaches a mixed-income, multilingual class rather than asking about "
        "it in the abstract.",
        "- Add a demonstration lesson with a debrief\n- Invite a parent and a student to the panel",
        (
            "Write three scenario questions about multilingual, mixed-ability classes",
            "Invite a parent and a student onto the hiring panel",
        ),
        "Send the sample rubric for demonstration lessons",
    ),
    Theme(
        "Coalition building",
        "We mapped who can say yes to the enrollment change {first} is proposing: the "
        "enrollment office, two board members, the PTA president and the neighborhood "
        "association that opposed last year's boundary change. {first} has talked to two of "
        "them so far.",
        "- One-to-ones with the PTA president and the neighborhood association chair before "
        "the board work session",
        (
            "Hold one-to-ones with the PTA president and the association chair",
            "Write the one-page case for the change in plain language",
        ),
        "Introduce {first} to the Cohort 2 fellow who led a similar change",
    ),
    Theme(
        "Personal development",
        "A harder conversation today: {first} is stretched thin after two weeks of covering "
        "vacancies and says the equity work is the first thing to slip. We went through the "
        "calendar together, protected two blocks a week and talked about what to hand to the "
        "assistant principal.",
        "- Protect Tuesday and Thursday mornings for instructional leadership\n"
        "- Hand the bus-duty schedule to the assistant principal",
        (
            "Block Tuesday and Thursday mornings and tell the front office",
            "Agree with the assistant principal which duties move to them",
        ),
    ),
    Theme(
        "The school model",
        "{first} shared the October enrollment counts by subgroup. The school is closer to the "
        "district average than last year, but the gifted program and the dual-language strand "
        "are still much less diverse than the school as a whole. We practised presenting the "
        "numbers to staff without it sounding like blame.",
        "- Present the enrollment picture at the next staff meeting\n"
        "- Ask the counselors how students are referred to the gifted program",
        (
            "Present the enrollment picture at the staff meeting",
            "Review gifted-program referrals with the counselors",
        ),
        "Share the universal screening study we discussed",
    ),
    Theme(
        "Foundational leadership skills",
        "The discipline data show Black and Latino boys referred at nearly three times the "
        "rate of their peers, mostly for defiance. {first} wants to pilot restorative circles "
        "in two grade levels; we talked about starting with the teachers who asked for it "
        "rather than mandating it.",
        "- Recruit two volunteer grade-level teams\n"
        "- Plan the first training day with the district's restorative practices lead",
        (
            "Recruit two volunteer grade-level teams for the pilot",
            "Set a training date with the restorative practices lead",
        ),
    ),
    Theme(
        "Foundational leadership skills",
        "{first} role-played the conversation with a veteran teacher who has pushed back on "
        "mixed grouping in math. We worked on opening with the goal they share and asking what "
        "support would make the change workable, instead of defending the decision.",
        "- Have the conversation this week\n- Offer co-planning time with the math coach",
        ("Hold the conversation with the math teacher and offer co-planning time",),
        "Send notes on the conversation framework we practised",
    ),
    Theme(
        "Coalition building",
        "We talked about the partnerships with the community health center and the public "
        "library. {first} wants after-school programs that do not only reach families who can "
        "pick up at five. The library can host on Saturdays; transport is the open question.",
        "- Ask the transportation office about Saturday routes\n"
        "- Draft a shared calendar with the library",
        (
            "Ask the transportation office about Saturday routes",
            "Draft a shared calendar with the library branch manager",
        ),
    ),
    Theme(
        "The school model",
        "We read the first draft of {first}'s capstone question: how to make the dual-language "
        "lottery reach families who have never applied. We narrowed it to two measures "
        "{first} can actually collect this year.",
        "- Tighten the question to one sentence\n- List the data sources and who owns each",
        (
            "Rewrite the capstone question in one sentence",
            "List the data sources and who owns each",
        ),
        "Read the revised capstone draft and send comments",
    ),
    Theme(
        "Personal development",
        "A reflection session. {first} named two wins — parents now lead the coffee "
        "conversations, and the staff meeting on enrollment went better than feared — and one "
        "regret: moving fast on the schedule change without the union representative.",
        "- A repair conversation with the union representative\n"
        "- Choose one leadership habit to keep through the spring",
        (
            "Meet the union representative about the schedule change",
            "Write a half-page reflection for the portfolio",
        ),
    ),
    Theme(
        "Coalition building",
        "{first} presents to the school board in three weeks. We worked through the likely "
        "questions — cost, fairness to current families, transport — and where a parent's or "
        "a teacher's voice would carry more than {first}'s own.",
        "- Ask a parent from the family council to speak\n- Time the presentation at seven minutes",
        (
            "Ask a family-council parent to speak at the board meeting",
            "Rehearse the presentation and keep it to seven minutes",
        ),
        "Come to the rehearsal and give feedback",
    ),
)

PRIVATE_NOTES = (
    "{first} seemed tired and flat today. Ask about workload before pushing on the timeline.",
    "The tension with the assistant principal came up again. Let {first} raise it first.",
    "Strong session. {first} is ready for a stretch goal — maybe the board presentation.",
    "{first} mentioned a family health issue in passing. Keep the next one short and flexible.",
    "I talked too much today. Next time: more questions, fewer suggestions.",
    "Connect {first} with another fellow who ran the same family survey last year.",
)

REPLIES = (
    "Thanks, this helped. I moved the coffee to Thursday evening and the ambassadors are in.",
    "Quick update: the site council meets on the 14th, so the draft will be ready by the 10th.",
    "I had the conversation. Better than I expected: we agreed to try co-planning for six weeks.",
    "Could we do the next one by video? I have a district meeting across town that afternoon.",
)

MODES = (CheckInMode.IN_PERSON, CheckInMode.VIDEO, CheckInMode.PHONE)
DURATIONS = {
    CheckInMode.IN_PERSON: (45, 60, 60, 90),
    CheckInMode.VIDEO: (30, 45, 45, 60),
    CheckInMode.PHONE: (20, 25, 30),
}


@dataclass(frozen=True)
class _Pair:
    fellow: User
    coach: User
    starts_on: date


def _weekday(day: date) -> date:
    """A weekend day moves back to the Friday before (never later, never into the future)."""
    return day - timedelta(days=max(0, day.weekday() - 4))


def _winter_break(day: date) -> bool:
    return (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 3)


def _land(dates: list[date], day: date, *, on_a_weekday: bool = True) -> list[date]:
    """`dates` with the last meeting on `day` (nothing in the week before it)."""
    if on_a_weekday:
        day = _weekday(day)
    return [*(d for d in dates if d <= day - timedelta(days=7)), day]


def _rhythm_dates(rng: random.Random, first: date, last: date, rhythm: int) -> list[date]:
    """Meetings about every `rhythm` days from `first` to `last`, with natural gaps."""
    dates = []
    day = first
    while day <= last:
        dates.append(_weekday(day))
        gap = rhythm + rng.randint(-3, 3)
        if rng.random() < 0.12:  # a missed fortnight: illness, a crisis at school
            gap += rng.randint(7, 12)
        if _winter_break(day + timedelta(days=gap)):
            gap += 10
        day += timedelta(days=gap)
    return [d for d in dates if d <= last]


def _at(day: date, hour: int) -> datetime:
    return min(datetime.combine(day, time(hour), tzinfo=UTC), utcnow())


def _pairs(cohort: Cohort) -> list[_Pair]:
    fellow, coach = aliased(User), aliased(User)
    rows = db.session.execute(
        sa.select(fellow, coach, CoachAssignment.starts_on)
        .join(fellow, fellow.id == CoachAssignment.fellow_id)
        .join(coach, coach.id == CoachAssignment.coach_id)
        .where(CoachAssignment.cohort_id == cohort.id, CoachAssignment.ends_on.is_(None))
        .order_by(CoachAssignment.id)
    )
    return [_Pair(f, c, starts_on) for f, c, starts_on in rows]


def _choose_overdue(pairs: list[_Pair]) -> _Pair:
    """The demo coach's last fellow (not the demo fellow account, whose page should be busy)."""
    mine = [p for p in pairs if p.coach.email == DEMO_COACH_EMAIL] or pairs
    return ([p for p in mine if p.fellow.email != DEMO_FELLOW_EMAIL] or mine)[-1]


def load_demo_checkins(cohort: Cohort) -> int:
    """Create the demo check-ins of `cohort`; returns how many (0 when it already had some)."""
    if db.session.scalar(
        sa.select(sa.func.count(CheckIn.id)).where(CheckIn.cohort_id == cohort.id)
    ):
        return 0
    pairs = _pairs(cohort)
    if not pairs:
        return 0
    rng = random.Random(2026)  # noqa: S311 - demo content, not security
    today = utcnow().date()
    rhythm = cohort.checkin_rhythm_days
    earliest = min(max(cohort.starts_on, today - timedelta(days=365)), today - timedelta(days=56))
    overdue = _choose_overdue(pairs)
    others = [p for p in pairs if p is not overdue]
    # The demo coach's caseload shows all three statuses: one of her fellows is due soon.
    due_soon = next(
        (
            p
            for p in others
            if p.coach.id == overdue.coach.id and p.fellow.email != DEMO_FELLOW_EMAIL
        ),
        others[0] if others else None,
    )
    with_draft = [p for p in others if p is not due_soon][:2]
    strands = {strand.name: strand.id for strand in cohort.strands}
    strand_ids = list(strands.values())

    plans: list[tuple[_Pair, list[date]]] = []
    for index, pair in enumerate(pairs):
        start = max(earliest, pair.starts_on)
        if start > today - timedelta(days=56):
            start = earliest
        dates = _rhythm_dates(rng, start + timedelta(days=rng.randint(2, 8)), today, rhythm)
        if pair is overdue:
            dates = _land(dates, today - timedelta(days=OVERDUE_DAYS_AGO))
        elif pair is due_soon:
            # Exactly rhythm - 1 days ago (a weekend call if need be): due soon in UTC and in
            # every US time zone, which may still be on yesterday.
            dates = _land(dates, today - timedelta(days=rhythm - 1), on_a_weekday=False)
        elif pair in with_draft:
            # A shared check-in a week ago and yesterday's call still in draft: on track
            # either way, so staff (who never see drafts) and the coach agree.
            dates = _land(dates, today - timedelta(days=7 + index % 2))
            dates.append(today - timedelta(days=1 + index % 2))
        else:  # on track: the last meeting two days to a week and a half ago
            dates = _land(dates, today - timedelta(days=rng.randint(2, max(2, rhythm - 5))))
        plans.append((pair, dates))

    checkins: list[tuple[_Pair, CheckIn, Theme, int]] = []
    for index, (pair, dates) in enumerate(plans):
        first_name = pair.fellow.name.split()[0]
        for n, held_on in enumerate(dates):
            theme = THEMES[(index * 5 + n) % len(THEMES)]
            mode = rng.choices(MODES, weights=(4, 5, 2))[0]
            from_end = len(dates) - 1 - n
            draft = from_end == 0 and pair in with_draft
            checkin = CheckIn(
                cohort_id=cohort.id,
                coach_id=pair.coach.id,
                fellow_id=pair.fellow.id,
                held_on=held_on,
                duration_minutes=rng.choice(DURATIONS[mode]),
                mode=mode,
                shared_summary_md=theme.summary.format(first=first_name),
                next_steps_md=theme.next_steps.format(first=first_name),
                next_checkin_on=held_on + timedelta(days=rhythm) if not draft else None,
                shared_at=None if draft else _at(held_on + timedelta(days=rng.randint(0, 1)), 22),
                created_at=_at(held_on, 21),
                updated_at=_at(held_on, 21),
            )
            db.session.add(checkin)
            checkins.append((pair, checkin, theme, from_end))
    db.session.flush()

    # Besides the overdue fellow's, one item stays open past its due date.
    lingering = next((p for p in others if p is not due_soon and p not in with_draft), None)
    for pair, checkin, theme, from_end in checkins:
        first_name = pair.fellow.name.split()[0]
        focus = {strands.get(theme.strand) or rng.choice(strand_ids)}
        if rng.random() < 0.4:
            focus.add(rng.choice(strand_ids))
        for strand_id in sorted(focus):
            db.session.add(CheckInFocus(checkin_id=checkin.id, strand_id=strand_id))
        owners = [(text, pair.fellow) for text in theme.fellow_items]
        if theme.coach_item:
            owners.append((theme.coach_item.format(first=first_name), pair.coach))
        for position, (text, owner) in enumerate(owners):
            # Due around the next meeting; done by then, except on the latest check-in.
            due_on = checkin.held_on + timedelta(days=rhythm + rng.randint(0, 5))
            if pair is lingering and from_end == 1 and position == 0:
                due_on = checkin.held_on + timedelta(days=7)
                done = False
            else:
                done = from_end > 0 and due_on <= today
            done_at = _at(due_on - timedelta(days=rng.randint(0, 4)), 17) if done else None
            db.session.add(
                ActionItem(
                    checkin_id=checkin.id,
                    owner_id=owner.id,
                    description=text,
                    due_on=due_on,
                    done_at=done_at,
                    done_by_id=owner.id if done else None,
                    position=position,
                    created_at=checkin.created_at,
                )
            )
        if rng.random() < 0.3:
            db.session.add(
                CheckInPrivateNote(
                    checkin_id=checkin.id,
                    coach_id=pair.coach.id,
                    body_md=rng.choice(PRIVATE_NOTES).format(first=first_name),
                    updated_at=checkin.created_at,
                )
            )
        if checkin.shared_at is not None and rng.random() < 0.2:
            db.session.add(
                CheckInReply(
                    checkin_id=checkin.id,
                    author_id=pair.fellow.id,
                    body_md=rng.choice(REPLIES),
                    created_at=min(checkin.shared_at + timedelta(hours=20), utcnow()),
                )
            )
    db.session.flush()
    return len(checkins)
