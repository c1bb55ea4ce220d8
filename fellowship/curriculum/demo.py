"""Demo curriculum for the demo cohort: eight modules, two per strand, and fellows at every point.

Called by `fellowship.demo` after the check-ins; idempotent (does nothing when the cohort
already has modules). Dates are relative to today and, whenever the cohort has run long
enough, stay inside it: a module opens every three weeks (on a Monday) and is due eighteen
days later, placed so that today falls ten to sixteen days after the fifth module opened —
four modules are past their due date, the fifth is open and the last three are still locked.
Near the cohort's end the schedule slides back so that the last module is due by the cohort's
last day; in a cohort's first weeks the modules come closer together (a week apart at least);
and before a cohort is about five weeks old (or before it starts) the schedule begins before
the cohort does, so the demo still shows every state. No release or due date falls within a
day of today, so every fellow's state is the same in every US time zone.

What the demo shows on purpose (`queries.module_states` decides the states):

- the demo fellow (fellow@example.org) midway: the past modules complete, the open module
  in progress with a reflection draft, older reflections with the facilitator's feedback and
  the latest one handed in two days ago, after its due date, and waiting for feedback;
- one fellow with every released module complete, optional items too;
- one fellow overdue on the latest past module; another stuck on the first module's
  reflection (overdue, so the second module is locked behind its prerequisite); another two
  modules behind;
- one fellow with an extension granted by the demo facilitator, in progress and not overdue;
- everyone else on track, at different places in the open module;
- a feedback queue with the reflections submitted in the last few days.

Reflections are assembled from a few parts per module (the fellow's situation, a plan, now
and then a closing thought) so that no two fellows write the same thing; the feedback
answers the plan. Everything is drawn from a seeded random generator, so the demo is the
same on every machine for the same day.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from fellowship.auth.models import User
from fellowship.cohorts.models import DEFAULT_STRANDS, Cohort, Strand
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemKind,
    ItemProgress,
    Module,
    ModuleItem,
    ModulePrerequisite,
)
from fellowship.db import db, utcnow
from fellowship.uploads import store_file

DEMO_FELLOW_EMAIL = "fellow@example.org"

GAP_DAYS = 21  # a module every three weeks
DUE_AFTER_DAYS = 18  # released on a Monday, due on the Friday of the third week
MIN_GAP_DAYS = 7
OPEN_FOR_DAYS = 10  # today is this long after the fifth module opened
CURRENT = 4  # the fifth module (index) is the one open today
FEEDBACK_AFTER_DAYS = 8  # facilitators answer within about a week; newer ones wait


# Content ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pdf:
    """A one-page PDF drawn in code: a title, lines of text and an empty table to fill in."""

    filename: str
    title: str
    subtitle: str
    lines: tuple[str, ...]
    columns: tuple[tuple[str, int], ...]  # heading and width in points
    rows: tuple[str, ...]  # first-column labels; "" for an empty row
    landscape: bool = False


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    title: str
    body_md: str = ""
    url: str | None = None
    required: bool = True
    pdf: Pdf | None = None


@dataclass(frozen=True)
class Answers:
    """What fellows write to a module's reflection and what the facilitator answers.

    A response is one `situations` entry, one `plans` entry and, now and then, a `closings`
    entry; a draft is the situation alone. `feedback[i]` answers `plans[i]`.
    """

    situations: tuple[str, ...]
    plans: tuple[str, ...]
    feedback: tuple[str, ...]
    closings: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    strand: str
    title: str
    summary: str
    outcomes: tuple[str, ...]
    minutes: int
    items: tuple[Item, ...]
    answers: Answers
    requires: int | None = None  # index of the module this one needs complete first


def _table(*rows: tuple[str, ...]) -> str:
    """A Markdown table: the first row is the header."""
    lines = [f"| {' | '.join(row)} |" for row in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    return "\n".join(lines)


M1_READING = """\
## Why this matters

A school can be diverse on its enrollment report and still be segregated inside its walls.
Students from different backgrounds may share a building but not a classroom, a lunch table
or the feeling that the school belongs to them.

Schools that are **diverse by design** make deliberate choices so that students of
different races, incomes, languages and abilities learn together, and so that every family
has real power in the school.

## What the research says

- Students from low-income families in economically mixed schools tend to do better in
  reading and math than similar students in high-poverty schools, and their classmates do
  just as well.
- Students who learn in integrated classrooms show less prejudice and are more likely to
  choose diverse neighborhoods and workplaces as adults.
- The benefits depend on what happens *inside* the school: tracking, discipline and the
  way families are treated can undo them.

## Accident or design?

{table}

## Questions to keep in mind

1. Who is your school for, and who decides?
2. Which row of the table will be hardest for you?
3. What would a student at your school say the school believes about them?
""".replace(
    "{table}",
    _table(
        ("", "Diverse by accident", "Diverse by design"),
        (
            "Enrollment",
            "Whoever hears about the school applies",
            "Recruitment and a lottery built to reach every community",
        ),
        (
            "Classrooms",
            "Honors and intervention tracks sort students",
            "Mixed classes, with support built into the schedule",
        ),
        (
            "Staff",
            "Hired from the usual networks",
            "A staff that reflects the students, hired on purpose",
        ),
        (
            "Families",
            "Events for families who already feel at home",
            "Shared decisions, interpretation, meetings at times that work",
        ),
        (
            "Governance",
            "A board of the founders' friends",
            "Seats for families from every community the school serves",
        ),
    ),
)

M2_READING = """\
## The levers you control

Most founders have more say over enrollment than they think. Before you change anything,
find out which of these your charter, authorizer or district allows.

{table}

## Start with your data

Compare three numbers for each group of students: their share of the district, of your
applicants and of the students who enroll. The **gap between the district and your
applicants** is usually the widest, and it is the one recruitment can close. The worksheet
in this module walks you through it.

## Keeping the balance over time

A school that becomes popular drifts toward the families with the most time and
information. Plan now for:

- checking your numbers every year, after the lottery and again in October;
- sibling priority, which locks in this year's mix for the next decade;
- waitlist rules, which decide who gets the seats that open up in August.
""".replace(
    "{table}",
    _table(
        ("Lever", "How it works", "Watch out for"),
        (
            "Weighted lottery",
            "Applicants from a priority group get extra chances",
            "State law may cap or forbid weights",
        ),
        (
            "Set-aside seats",
            "A share of seats is held for a group, such as students who qualify for free lunch",
            "Unfilled seats need a clear fallback rule",
        ),
        (
            "Attendance zone",
            "A boundary drawn across neighborhoods",
            "Boundaries change slowly and draw public debate",
        ),
        (
            "Recruitment",
            "Where, when and in which languages you reach families",
            "The easiest families to reach apply first",
        ),
        (
            "Timeline",
            "When applications open and close",
            "Early deadlines favor families with the most information",
        ),
    ),
)

M3_READING = """\
*Based on the work of Ronald Heifetz and Marty Linsky on adaptive leadership.*

## Two kinds of problems

**Technical problems** have known solutions. Someone has the expertise and the fix can be
applied: a new bell schedule, a better attendance system, a boiler that works.

**Adaptive challenges** ask people to change their beliefs, habits or loyalties. No expert
can solve them for you, because the people who have the problem have to do the work.

| | Technical problem | Adaptive challenge |
|---|---|---|
| The problem | Clear | Needs learning to define |
| The solution | Known | Has to be discovered |
| Who does the work | Experts and authorities | The people with the problem |
| The usual mistake | Overthinking it | Treating it as technical |

## Getting on the balcony

Leaders spend most of the day on the dance floor, in the middle of the action. Adaptive
work asks you to climb to the balcony regularly and ask:

- What is really going on here?
- Whose values, loyalties and losses are at stake?
- What would each group have to give up?

## Giving the work back

The temptation is to take the problem on yourself. Instead:

1. Name the challenge in a way people can hear.
2. Keep the heat high enough that people engage, but not so high that they shut down.
3. Protect the voices that raise hard questions, even when they make you uncomfortable.
"""

M4_READING = """\
## Why stories

People join a cause because of what they feel, not only because they agree with an
argument. Marshall Ganz's *public narrative* gives leaders a way to share the values that
move them so that others can act on theirs.

## The three parts

- **Story of self**: why you were called to this work. A moment of challenge, the choice
  you made and what happened.
- **Story of us**: what you share with the people you are speaking to: values,
  experiences, hopes.
- **Story of now**: the urgent challenge you face together, the choice it asks of you and
  what hope looks like.

## Writing your story of self

1. Choose one moment, not your whole biography.
2. Give us the details that let us see it: a place, a person, something that was said.
3. Name the choice you made and what you learned from it.
4. Keep it to two minutes out loud.

> Tell it to someone who doesn't know you before you write it down, and notice where they
> lean in.
"""

M5_READING = """\
## What a coalition map is

A coalition map (often called a power map) is a picture of everyone who can decide, block
or sway one specific decision. Founders who draw one before a big decision are far less
likely to be surprised at the meeting where it is made.

## Five steps

1. **Name the decision.** "Support for integration" is not a decision; "the board approves
   the new enrollment zone in March" is.
2. **List the decision makers**: the people who can actually say yes.
3. **List the influencers**: who do the decision makers listen to?
4. **Mark each one's stance and influence.** Be honest about what you don't know.
5. **Choose your first moves.** Usually one-to-one conversations with the people who are
   neutral but influential.

## An example

| Person or group | Role in the decision | Stance | Influence |
|---|---|---|---|
| Board member, District 3 | Votes on the zone | Undecided | High |
| Neighborhood association | Speaks at public comment | Opposed | Medium |
| PTA president | Trusted by many families | Supportive | Medium |
| Pastor, Greater Hope Baptist | Hosts community meetings | Unknown | High |

## Common traps

- Mapping only the people you already know.
- Treating "opposed" as permanent.
- Forgetting students: they are often the most persuasive voices in the room.

Use the template in this module to map one decision you need to win this year.
"""

M6_READING = """\
## A ladder of family engagement

Many schools work hard at outreach (newsletters, events, surveys) and stop there.
Diverse-by-design schools keep climbing:

1. **Informing**: families hear what the school has decided.
2. **Consulting**: families are asked for their views; the school decides.
3. **Involving**: families help shape the options before decisions are made.
4. **Collaborating**: families and staff decide together.
5. **Leading**: families set priorities and lead work of their own.

## What keeps families away

- Meetings at times that clash with shift work.
- No interpretation, or interpretation as an afterthought.
- Committees whose real decisions are made somewhere else.
- A long history of being told rather than asked.

## Practices that work

- Meet where families already gather, with food and childcare.
- Pay a stipend to family members who give their time to committees.
- Treat interpretation as a right, not a favor: headsets, seating, materials in every
  language, in the room from the start.
- Report back: tell families what changed because of what they said.
"""

M7_READING = """\
## Why these conversations are hard

Conversations about race, class and language touch people's identity and their sense of
being a good teacher. That is why they are so often postponed, and why students pay the
price when they are.

## Agreements that help

Many schools use the four agreements of Glenn Singleton's *Courageous Conversations*:

- Stay engaged.
- Speak your truth.
- Experience discomfort.
- Expect and accept non-closure.

## Choosing a protocol

| Protocol | Use it when | Time |
|---|---|---|
| Compass | People need to notice how they react before they discuss | 20 minutes |
| Text-based discussion | You want a shared text to talk about instead of each other | 45 minutes |
| Looking at student work | The conversation keeps drifting away from students | 60 minutes |
| Fishbowl | A few voices dominate while others watch | 40 minutes |

## Opening well

- Say why this conversation matters to you, and to students.
- Say what will happen with what people share.
- Go first: share something that costs you a little.

## When it gets hard

Slow down. Name what you notice ("several people have gone quiet"). Take a break rather
than rushing to a conclusion, and follow up one to one with anyone who left upset.
"""

M8_READING = """\
## The founder's paradox

The qualities that get a school founded (urgency, stamina, the willingness to carry
everything) are the ones that wear founders out in the second and third years. A school
that is diverse by design needs leaders who stay long enough to see it through.

## An energy audit

For two weeks, write down at the end of each day:

- what gave you energy;
- what drained it;
- what you did that only you could have done.

## A weekly rhythm

| When | Protect it for | For example |
|---|---|---|
| Monday morning | Planning the week with your team | An hour, no email |
| Two mornings | Being in classrooms | Tuesday and Thursday, 8 to 10 |
| One afternoon | Thinking and writing | Wednesday, 2 to 4 |
| One full day | Rest | Saturday or Sunday, phone off |

## Boundaries are a leadership act

When you answer email at midnight, your team learns that midnight is a working hour.
Sustainable habits are part of the culture you are building, for adults who will stay long
enough to see your first students graduate.
"""

COALITION_MAP = Pdf(
    filename="Coalition map template.pdf",
    title="Coalition map template",
    subtitle="Leadership Institute - Coalition building - Mapping your coalition",
    lines=(
        "1. Name the decision you need to win: who has to say yes, and by when?",
        "2. List every person or group who can say yes, say no, or sway those who do.",
        "3. Mark each one's stance today (ally, neutral, opposed, unknown) and their influence "
        "(high, medium, low).",
        "4. Circle the two or three people to meet first and write your next step with each.",
        "",
        "The decision: ______________________________________________   "
        "Decided by: ____________   By when: ____________",
    ),
    columns=(
        ("Person or group", 150),
        ("Role in the decision", 130),
        ("Stance", 70),
        ("Influence", 70),
        ("What they care about", 150),
        ("Next step", 130),
    ),
    rows=("",) * 10,
    landscape=True,
)

ENROLLMENT_WORKSHEET = Pdf(
    filename="Enrollment data worksheet.pdf",
    title="Enrollment data worksheet",
    subtitle="Leadership Institute - The school model - Enrollment for integration",
    lines=(
        "Fill in each group's share of the district, of your applicants, of the students",
        "offered a seat and of the students enrolled on October 1. Use percentages.",
        "The last column is the gap between your enrolled students and the district.",
    ),
    columns=(
        ("Student group", 150),
        ("District", 66),
        ("Applicants", 66),
        ("Offered", 66),
        ("Enrolled", 66),
        ("Gap", 54),
    ),
    rows=(
        "Free or reduced-price lunch",
        "English learners",
        "Students with disabilities",
        "Black",
        "Latino",
        "Asian",
        "White",
        "Multiracial",
        "Other groups",
    ),
)

MODULES: tuple[Spec, ...] = (
    Spec(
        strand="The school model",
        title="Why diverse by design",
        summary=(
            "What research and experience tell us about schools that are diverse by race, "
            "income and language on purpose, and what “by design” asks of a founder."
        ),
        outcomes=(
            "Explain in your own words why integration matters for every student",
            "Name the design choices that separate a school that is diverse by design from "
            "one that is diverse by accident",
            "Describe the diversity goals of your own school in one paragraph",
        ),
        minutes=75,
        items=(
            Item(ItemKind.READING, "Diverse by accident, diverse by design", M1_READING),
            Item(
                ItemKind.LINK,
                "Research brief: integration and student outcomes",
                "A twelve-page summary of the research on socioeconomic and racial integration. "
                "Read the executive summary and section 3.",
                "https://example.org/library/integration-outcomes-brief",
            ),
            Item(
                ItemKind.VIDEO,
                "Founders’ panel: three schools, three starting points",
                "A 25-minute conversation with three founders of diverse-by-design schools. "
                "Captions in English and Spanish.",
                "https://example.org/videos/founders-panel",
            ),
            Item(
                ItemKind.REFLECTION,
                "Your school’s why",
                "Why will your school be diverse by design? Write about who you want in the "
                "building, why it matters to you, and one design choice you already know you "
                "will make. A few paragraphs is plenty.",
            ),
        ),
        answers=Answers(
            situations=(
                "I grew up two miles from the school I'm founding. My elementary school was "
                "almost entirely Black and low-income, and the one across the highway was "
                "almost entirely white; nobody planned it on paper, but the boundary line did "
                "the planning for us.",
                "Our neighborhood has changed a lot in ten years: longtime Dominican and Puerto "
                "Rican families, newer professional families and a growing West African "
                "community. They live side by side, but their children go to different schools.",
                "I taught for eight years at a school that called itself diverse because the "
                "building was. The honors track was mostly white and Asian and the intervention "
                "classes were mostly Black and Latino, and I don't want to build that again.",
            ),
            plans=(
                "The design choice I already know I'll make is no tracking in grades 6 to 8: "
                "every student takes the same core courses, with extra help built into the "
                "schedule instead of separate classes.",
                "One choice is made already: a weighted lottery that gives about half of our "
                "seats to students who qualify for free or reduced-price lunch, so we reflect "
                "the whole district and not just the families who hear about us first.",
                "I'm committing to hire a family coordinator before a second assistant "
                "principal, because the families I most want to reach won't come to us through "
                "an open house.",
                "We'll run a dual-language program from kindergarten, with Spanish-speaking and "
                "English-speaking children learning together, so that the language families "
                "bring is treated as an asset from the first day.",
            ),
            feedback=(
                "Detracking is a strong, concrete commitment, and the research brief backs it "
                "up. Founders often underestimate the pushback from families used to honors "
                "classes, so start thinking now about how you will explain it and what you "
                "will measure in the first year to show it is working.",
                "A weighted lottery is one of the strongest levers you have. Check early with "
                "your authorizer on what your state allows, and plan your recruitment: a "
                "set-aside only works if the families who qualify actually apply.",
                "I love that family engagement is going into the org chart instead of being "
                "everyone's side job. Think about what this person will own in the first 90 "
                "days, so the role doesn't turn into covering the front desk.",
                "Dual language is a powerful integration model, and also one where the balance "
                "can tip toward English-dominant families once the program is popular. Module 2 "
                "has tools for protecting that balance; bring your questions to the convening.",
            ),
            closings=(
                "I'm still not sure how to talk about this with families who chose the "
                "neighborhood for the school it is now.",
                "What scares me is that good intentions aren't a plan, which is why I'm glad "
                "we're starting here.",
                "Writing this made me realize how much of my why comes from my own kids.",
            ),
        ),
    ),
    Spec(
        strand="The school model",
        title="Enrollment for integration",
        summary=(
            "The enrollment levers a founder controls (lotteries, set-asides, recruitment, "
            "timelines) and how to keep a diverse school diverse once it becomes popular."
        ),
        outcomes=(
            "Compare your applicants with your district, group by group",
            "Choose the enrollment levers your charter or district allows",
            "Plan recruitment that reaches the families you are most likely to miss",
        ),
        minutes=90,
        items=(
            Item(ItemKind.READING, "How enrollment decides who walks in the door", M2_READING),
            Item(
                ItemKind.FILE,
                "Enrollment data worksheet",
                "Fill it in with your district's numbers and your own, and bring it to your "
                "next check-in.",
                pdf=ENROLLMENT_WORKSHEET,
            ),
            Item(
                ItemKind.REFLECTION,
                "Who is missing from your applicant pool?",
                "Look at your applicants (or your feeder schools' enrollment). Which families "
                "are you likely to miss with the recruitment you do now, and what one change "
                "would reach them?",
            ),
        ),
        answers=Answers(
            situations=(
                "Last year 61% of our applications came from two ZIP codes, both on the east "
                "side where most families own their homes. The apartment complexes on the west "
                "side, mostly Latino and Haitian families, sent us eleven applications in all.",
                "Families who speak a language other than English at home are 30% of the "
                "district but only 9% of our applicants. All of our materials were in English, "
                "and the application was online only.",
                "Every information session was on a weekday evening at the school, and the "
                "families who came mostly had a parent working from home or a job with "
                "flexible hours.",
            ),
            plans=(
                "I want to go where families already are: the laundromat on Fifth Street, the "
                "Saturday soccer league and the two churches that run food pantries. I'll ask "
                "two parents from the west side to come with me.",
                "We'll translate the application into Spanish and Haitian Creole, and offer "
                "paper copies at the library branch and the family resource center, with "
                "someone there to help on two Saturday mornings.",
                "I'll ask the district for the list of pre-K programs in the neighborhood and "
                "visit each one in January, before the lottery opens, instead of waiting for "
                "families to find us.",
                "We're moving the application deadline two weeks later and adding a Saturday "
                "session with childcare, because right now the deadline falls before most "
                "community organizations have even heard about us.",
            ),
            feedback=(
                "Going where families are, with parents who can vouch for the school, is the "
                "shift that works. Track where each application comes from, so you know which "
                "places were worth the Saturday.",
                "Translation and paper copies remove real barriers. One more step: have a "
                "native speaker read each translation before it goes out; a machine translation "
                "of “weighted lottery” can confuse or even alarm families.",
                "Pre-K programs are a smart pipeline, and directors are usually glad to help. "
                "Ask each one what families ask about kindergarten; you will learn a lot about "
                "what your materials need to say.",
                "Moving the deadline is a concrete, low-cost change. Check that it still fits "
                "the district's lottery and notification timeline, and tell community partners "
                "the new date as early as you can.",
            ),
            closings=(
                "I want to look at these numbers again after the lottery to see if anything moved.",
                "It's humbling how much of our recruitment only reached people like us.",
                "I'd welcome ideas from anyone in the cohort who has tried this already.",
            ),
        ),
        requires=0,
    ),
    Spec(
        strand="Foundational leadership skills",
        title="Leading adaptive change",
        summary=(
            "Telling technical problems from adaptive challenges, and leading the kind of "
            "change that asks people, including you, to learn something new."
        ),
        outcomes=(
            "Tell a technical problem from an adaptive challenge in your own school",
            "Use “the balcony” to look at a challenge from outside the action",
            "Plan how to give the work back to the people who have the problem",
        ),
        minutes=80,
        items=(
            Item(ItemKind.READING, "Technical problems and adaptive challenges", M3_READING),
            Item(
                ItemKind.VIDEO,
                "On the balcony and on the dance floor",
                "A 14-minute talk with examples from school leaders. Captions available.",
                "https://example.org/videos/balcony-and-dance-floor",
            ),
            Item(
                ItemKind.LINK,
                "Case study: the schedule nobody wanted to change",
                "Optional: how one middle school moved to mixed-ability advisory groups, told by "
                "its principal and two teachers.",
                "https://example.org/cases/schedule-change",
                required=False,
            ),
            Item(
                ItemKind.REFLECTION,
                "An adaptive challenge in your school",
                "Describe one challenge in your school that you have been treating as a "
                "technical problem but that is really adaptive. What would change if you "
                "treated it as adaptive?",
            ),
        ),
        answers=Answers(
            situations=(
                "For two years we've treated chronic absence as a technical problem: automated "
                "calls, attendance letters, a monthly raffle. The numbers barely moved, "
                "especially for our students who live in the shelter on Grant Avenue.",
                "I keep trying to fix our staff meetings with better agendas and tighter "
                "timekeeping. The real problem is that people don't say what they think in the "
                "room and then say it in the parking lot.",
                "We bought a new math curriculum to close the gap in algebra readiness between "
                "our Black and white students. Six months in, teachers are using it, and the "
                "same students still end up in the lower groups.",
            ),
            plans=(
                "Treating it as adaptive means asking families why their children miss school "
                "instead of telling them that attendance matters. I'll join our social worker "
                "on three home visits before I change anything else.",
                "It means naming the pattern out loud, which I've avoided. At the next meeting "
                "I'll share what I've noticed and ask the team what would make it safe to "
                "disagree in the room.",
                "The adaptive work is about beliefs: who teachers think can do grade-level math. "
                "I want to start with a small group of teachers looking at student work "
                "together, not at data dashboards.",
                "From the balcony I can see that I've been the one holding the problem. I'm "
                "going to give it to a team of teachers and parents and hold back from "
                "proposing the solution myself.",
            ),
            feedback=(
                "Listening before acting is a hard discipline when the numbers look bad, and "
                "it's the right instinct here. Go in with two or three open questions and "
                "resist the urge to solve problems during the visits.",
                "Naming the pattern is a big step, and it can feel risky. Consider going first: "
                "tell them about a time you didn't say what you thought in a meeting. It gives "
                "people permission.",
                "Student work is a great way in because it keeps the conversation concrete. "
                "Choose work that surprises people, such as a strong answer from a student they "
                "may have underestimated.",
                "Giving the work back is the heart of adaptive leadership, and the hardest part "
                "for founders used to having the answers. Be clear about what you are handing "
                "over and what you are keeping, so the team knows the real boundaries.",
            ),
            closings=(
                "I'll report back on how it goes.",
                "This reading came at exactly the right time.",
                "I'm nervous about it, which probably means it's the right thing to try.",
            ),
        ),
    ),
    Spec(
        strand="Personal development",
        title="Your leadership story",
        summary=(
            "Public narrative as a leadership skill: telling the story of why you do this "
            "work in a way that invites others to join it."
        ),
        outcomes=(
            "Describe the three parts of a public narrative",
            "Draft a two-minute story of self",
            "Connect your story to the families and staff you want to bring with you",
        ),
        minutes=60,
        items=(
            Item(ItemKind.READING, "Story of self, story of us, story of now", M4_READING),
            Item(
                ItemKind.LINK,
                "Public narrative worksheet",
                "Plan your story with the worksheet before you write the reflection.",
                "https://example.org/tools/public-narrative-worksheet",
            ),
            Item(
                ItemKind.REFLECTION,
                "Draft your story of self",
                "Write a first draft of your story of self: a moment (a challenge, a choice, an "
                "outcome) that explains why you lead this work. Keep it under 300 words; you "
                "will tell it out loud at the winter convening.",
            ),
        ),
        answers=Answers(
            situations=(
                "When I was nine my family moved from Lagos to Houston, and I spent my first "
                "year as the only student in my class who didn't speak English well. One "
                "teacher, Ms. Alvarez, sat me next to a boy who spoke Yoruba and Spanish, and "
                "for the first time I felt that someone expected me to succeed.",
                "In my first year of teaching I had a student named Marisol who read two grade "
                "levels above her placement. She was in the low group because she had "
                "transferred mid-year without records, and nobody, me included, looked again "
                "until March.",
                "I'm the first person in my family to finish college. My mother cleaned offices "
                "downtown at night, and my school sent its best teachers to the gifted program "
                "across town.",
            ),
            plans=(
                "The choice in my story is the moment I left law school to teach, and the "
                "outcome is this school. I'm still working on saying it without it sounding "
                "like a speech.",
                "What I want the story to say is that schools make choices about who is seen, "
                "and I want to build one that makes those choices on purpose. I think the "
                "challenge part needs more detail.",
                "I wrote two versions: one that starts in a classroom and one that starts on my "
                "daughter's first day of kindergarten. The second feels more honest, so I'll "
                "probably tell that one.",
                "I want to connect it to the story of us: many of our families know what it's "
                "like to be placed in the lower track. That's the bridge to why they should "
                "join us.",
            ),
            feedback=(
                "That is a compelling turning point. When you tell it, slow down at the moment "
                "of choice: what did you see or hear that day that tipped the decision? That "
                "detail is what people will remember.",
                "“Schools make choices about who is seen” is powerful; it's your story of now "
                "in one line. Give us one more concrete moment in the challenge part, the way "
                "you did with the student's placement.",
                "Trust the version that feels more honest; listeners can tell. Practice it with "
                "someone who doesn't know you, and notice where they lean in.",
                "You're already bridging to the story of us, which many fellows find the "
                "hardest part. Make sure the story of self stays yours first: the bridge lands "
                "better once we have felt your moment.",
            ),
            closings=(
                "Writing this was harder than I expected.",
                "I'll practice it with my coach before the convening.",
                "I haven't told this story at work before.",
            ),
        ),
    ),
    Spec(
        strand="Coalition building",
        title="Mapping your coalition",
        summary=(
            "Who can say yes, who can say no, and who they listen to: drawing the map of one "
            "decision you need to win this year."
        ),
        outcomes=(
            "Name one decision precisely enough to map it",
            "Map decision makers and influencers with their stance and influence",
            "Choose the first three conversations to have",
        ),
        minutes=90,
        items=(
            Item(ItemKind.READING, "Who can say yes, who can say no", M5_READING),
            Item(
                ItemKind.FILE,
                "Coalition map template",
                "Print it or fill it in on screen. Bring your map to your next check-in.",
                pdf=COALITION_MAP,
            ),
            Item(
                ItemKind.VIDEO,
                "Power mapping in ten minutes",
                "A former district organizer maps a real boundary decision, step by step. "
                "Captions available.",
                "https://example.org/videos/power-mapping",
            ),
            Item(
                ItemKind.REFLECTION,
                "Your first coalition map",
                "Fill in the coalition map template for one decision you need to win this "
                "year, then describe it here: who can say yes, who can block it, who you don't "
                "know yet, and your first move.",
            ),
        ),
        answers=Answers(
            situations=(
                "My decision is the board approving an enrollment zone that crosses the "
                "highway. The yes votes are the superintendent and two board members; the real "
                "blocker is the neighborhood association on the north side, which fought the "
                "last boundary change.",
                "I mapped our plan to share the building with the community health clinic. The "
                "principal next door and the facilities office can both stop it, and I realized "
                "I have no relationship with the facilities director at all.",
                "My decision is getting the teachers' union to agree to a longer day for our "
                "advisory block. I put the union representative in the “opposed” box out of "
                "habit, but I don't actually know her position.",
            ),
            plans=(
                "My next step is one-to-one meetings with the three people in the neutral but "
                "influential box, starting with the PTA president, before anything goes to a "
                "vote.",
                "I'll ask a parent leader who already has relationships on the north side to "
                "host a small coffee with me, so I can listen before I make the case.",
                "I'll ask our board chair to introduce me to the people I don't know, and I'll "
                "bring data on the families the change would serve rather than a pitch.",
                "I'll meet the union representative and ask what teachers would need to make a "
                "longer day work, before I say anything about our plan.",
            ),
            feedback=(
                "Starting with the neutral, influential people is exactly right; they often "
                "decide which way a room goes. After each one-to-one, write down what they care "
                "about in their own words.",
                "Listening first, hosted by someone they trust, is a strong move. Expect people "
                "to raise things that aren't about enrollment at all; that is often where the "
                "real concerns are.",
                "An introduction from the board chair carries weight. Pair the data with one "
                "family's story: decision makers remember both.",
                "Asking before telling will change the relationship, whatever she decides. Go "
                "in ready to change your plan if she raises something you hadn't considered.",
            ),
            closings=(
                "The template helped more than I expected; the empty box was a wake-up call.",
                "I want to redraw the map in a month and see what moved.",
                "Happy to share my map at the next convening if it's useful.",
            ),
        ),
    ),
    Spec(
        strand="Coalition building",
        title="Families as partners in power",
        summary=(
            "Moving from outreach to shared decisions: bringing the families your school "
            "serves, all of them, into the choices that shape it."
        ),
        outcomes=(
            "Place your school's family engagement on the ladder from informing to leading",
            "Name the barriers that keep some families away",
            "Plan one change that gives families a real decision",
        ),
        minutes=75,
        items=(
            Item(ItemKind.READING, "From outreach to shared power", M6_READING),
            Item(
                ItemKind.LINK,
                "Toolkit: hosting family listening sessions",
                "Agendas, invitations in six languages and a note-taking template.",
                "https://example.org/toolkits/family-listening-sessions",
            ),
            Item(
                ItemKind.LINK,
                "Language access checklist",
                "Optional: a one-page checklist for meetings, documents and the front office.",
                "https://example.org/toolkits/language-access-checklist",
                required=False,
            ),
            Item(
                ItemKind.REFLECTION,
                "Whose voices are not yet at your table?",
                "Name one group of families or community members who are not yet part of your "
                "school's decisions. What do you think keeps them away, and how will you invite "
                "them into real decisions, not only events?",
            ),
        ),
        answers=Answers(
            situations=(
                "Our family council has eight parents, and seven of them are English-speaking "
                "homeowners. Our Vietnamese-speaking families, about a fifth of the school, have "
                "never had a seat.",
                "Fathers and grandparents are almost invisible in our family engagement. Our "
                "events happen at 5 pm and the flyers still say “Muffins with Mom”.",
                "Families from the housing development across the street come to everything "
                "social, but nobody from there has ever joined a committee that decides "
                "anything.",
            ),
            plans=(
                "I'll ask two Vietnamese-speaking parents to co-lead a listening session with "
                "interpretation, and commit to bringing what we hear to the council as a "
                "standing agenda item.",
                "We're renaming the events, moving one to Saturday morning and asking the "
                "grandparents who already do pickup what they would want to be part of.",
                "I'll offer a stipend and childcare to committee members, and hold the budget "
                "committee in the development's community room instead of at school.",
                "I want to change how the council is elected, so that each of our language "
                "communities has seats, and I'll take the proposal to the council itself first.",
            ),
            feedback=(
                "Co-leading with parents, and a standing agenda item, turn a listening session "
                "into shared power. Plan how you'll report back to the families who came, so "
                "they see what changed.",
                "Small changes to names and times send a big signal. Asking the grandparents "
                "directly is right: they will tell you what they would like to own.",
                "Stipends and location are real equity moves. Check your budget and district "
                "rules on stipends early; some founders pay them through a partner "
                "organization.",
                "Reserved seats are a structural change, which is what the reading argues for. "
                "Expect current members to have mixed feelings, and give them a real role in "
                "designing it.",
            ),
            closings=(
                "I'm a bit embarrassed it took this module for me to notice.",
                "I'd like advice on whether stipends are realistic in our district.",
                "This connects to the coalition map from the last module.",
            ),
        ),
        requires=4,
    ),
    Spec(
        strand="Foundational leadership skills",
        title="Facilitating courageous conversations",
        summary=(
            "Leading staff and community conversations about race, class and language: "
            "agreements, protocols and what to do when it gets hard."
        ),
        outcomes=(
            "Choose a protocol that fits the conversation you need to have",
            "Open a hard conversation in a way that invites honesty",
            "Plan the follow-up after the meeting ends",
        ),
        minutes=90,
        items=(
            Item(ItemKind.READING, "Holding conversations about race and class", M7_READING),
            Item(
                ItemKind.VIDEO,
                "A staff meeting, annotated",
                "Twenty minutes of a real staff conversation about discipline data, with the "
                "principal's commentary. Shared with the staff's permission.",
                "https://example.org/videos/staff-meeting-annotated",
            ),
            Item(
                ItemKind.REFLECTION,
                "A conversation you need to have",
                "Describe a conversation about race, class or language that you need to have "
                "with your staff or community. What makes it hard? Which agreement or protocol "
                "from the reading will you use, and how will you open?",
            ),
        ),
        answers=Answers(
            situations=(
                "Our discipline data show Black boys referred to the office at three times the "
                "rate of their classmates, mostly for “defiance”. I've shared the numbers, but "
                "the conversation always turns to individual students.",
                "A group of parents wants us to bring back an honors section in seventh grade. "
                "Some teachers privately agree, and I need to talk about it openly without it "
                "becoming us against them.",
                "Several of our newer teachers are from the neighborhood and most veterans are "
                "not, and there is tension about whose judgment counts. Nobody names it, but "
                "everyone feels it.",
            ),
            plans=(
                "I'll use the Compass so people notice where they are before we discuss, and "
                "open with a time I got this wrong as a teacher.",
                "I'll start with the agreements, especially “expect and accept non-closure”, "
                "because one meeting won't settle this and I want people to know that's okay.",
                "I'll use a text-based protocol with a short article, so we discuss a shared "
                "text rather than each other, and ask our coach to facilitate so I can take "
                "part.",
                "Before the whole-staff conversation I'll meet small groups of teachers from "
                "both sides, so that the first time people hear each other isn't in front of "
                "forty colleagues.",
            ),
            feedback=(
                "Opening with your own story models the vulnerability you are asking for. Keep "
                "the data in view throughout, so the conversation can't drift back to "
                "individual students.",
                "Naming non-closure up front lowers the stakes. Have a clear next step ready "
                "for the end, even if it's only the date you'll continue.",
                "A shared text is a good way to lower the temperature at first, and an outside "
                "facilitator is wise. Agree with them beforehand on when you will step in as "
                "the leader.",
                "Small groups first is a thoughtful sequence. Tell the whole staff that these "
                "conversations are happening, so they don't look like side deals.",
            ),
            closings=(
                "It's on the calendar for next month; I'll let you know how it goes.",
                "Any advice on what to do if someone walks out would help.",
                "Writing this down made me see I've been postponing it for a year.",
            ),
        ),
    ),
    Spec(
        strand="Personal development",
        title="Leadership for the long haul",
        summary=(
            "Energy, boundaries and support: building habits that let you lead a school for "
            "years, not only through its first."
        ),
        outcomes=(
            "Notice what gives you energy and what drains it",
            "Set one boundary and tell your team about it",
            "Build a support network beyond your school",
        ),
        minutes=60,
        items=(
            Item(ItemKind.READING, "Leadership for the long haul", M8_READING),
            Item(
                ItemKind.LINK,
                "Energy audit worksheet",
                "A two-week log to fill in before you write the reflection.",
                "https://example.org/tools/energy-audit",
            ),
            Item(
                ItemKind.REFLECTION,
                "Your sustainability plan",
                "Look back at your last two weeks. What gives you energy, what drains it, and "
                "what one boundary will you put in place before the end of the year?",
            ),
        ),
        answers=Answers(
            situations=(
                "What gives me energy is being in classrooms and at dismissal with families. "
                "What drains me is email after 9 pm and the meetings I attend just to be seen "
                "there.",
                "I've worked most Saturdays since our charter was approved. My partner pointed "
                "out that I haven't taken a real day off since October.",
                "The hardest part isn't the hours, it's carrying every decision alone. I don't "
                "have anyone at school I can think out loud with.",
            ),
            plans=(
                "My boundary: no email between 8 pm and 6 am, and I'll tell my team so they "
                "know I'm not ignoring them.",
                "I'm blocking Sundays as a full day off, and I'll ask my assistant to protect "
                "two afternoons a month for thinking time.",
                "I'm setting up a monthly call with two other fellows from this cohort, just "
                "for thinking out loud, with no agenda.",
                "I'm stepping down from two committees I joined last year and giving those "
                "hours to classroom visits.",
            ),
            feedback=(
                "A clear, public boundary is easier to keep than a private one. Consider "
                "scheduling your late-night emails to send in the morning, so they don't set "
                "the norm for your team.",
                "Protected time holds best when it goes on the calendar before anything else. "
                "I'd love to hear in a month what you did with the thinking time.",
                "Peer support is one of the things fellows miss most after the program ends; "
                "starting now is a gift to yourself and to them.",
                "Saying no is a skill, and you are practicing it. Trading committee time for "
                "classroom time also matches what you said gives you energy.",
            ),
            closings=(
                "I'm curious how others in the cohort manage this.",
                "My coach is going to hold me to it.",
                "This is the module I needed most, and I would have skipped it if it were "
                "optional.",
            ),
        ),
    ),
)

EXTENSION_REASON = (
    "Out for two weeks after a family member's surgery; we agreed on the new date at our check-in."
)


# The schedule -----------------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def module_dates(starts_on: date, ends_on: date, today: date) -> list[tuple[date, date]]:
    """(release, due) for each demo module, as the module docstring describes."""
    count = len(MODULES)
    gap = GAP_DAYS
    first = today - timedelta(days=CURRENT * gap + OPEN_FOR_DAYS)
    latest_first = ends_on - timedelta(days=(count - 1) * gap + DUE_AFTER_DAYS)
    if latest_first >= starts_on:
        first = min(first, latest_first)
    if first < starts_on:
        # A young cohort: modules closer together from its first day, so some are due.
        gap = min(GAP_DAYS, ((today - starts_on).days - OPEN_FOR_DAYS) // CURRENT)
        if gap >= MIN_GAP_DAYS:
            first = starts_on
        else:  # not a month old (or not started): start before the cohort does
            gap = MIN_GAP_DAYS
            first = today - timedelta(days=CURRENT * gap + OPEN_FOR_DAYS)
    elif _monday(first) >= starts_on:
        first = _monday(first)
    dates: list[tuple[date, date]] = []
    for index in range(count):
        release = first + timedelta(days=index * gap)
        due = release + timedelta(days=DUE_AFTER_DAYS)
        # Keep a day's distance from today either way: "today" differs across time zones.
        if abs((release - today).days) <= 1:
            previous = dates[-1][0] if dates else date.min
            release = today - timedelta(days=2)
            if release <= previous:
                release = today + timedelta(days=2)
        if abs((due - today).days) <= 1:
            due = today + timedelta(days=2)
        dates.append((release, max(due, release)))
    return dates


# Files ------------------------------------------------------------------------------------


def _pdf_text(value: str) -> str:
    if not value.isascii():
        raise ValueError(f"demo PDF text must be ASCII: {value!r}")
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _text(x: float, y: float, size: int, value: str, *, bold: bool = False) -> str:
    font = "F2" if bold else "F1"
    return f"BT /{font} {size} Tf {x:.0f} {y:.0f} Td ({_pdf_text(value)}) Tj ET"


def render_pdf(spec: Pdf) -> bytes:
    """A small, valid one-page PDF 1.4 (Helvetica, text and ruled table), built by hand."""
    width, height = (792, 612) if spec.landscape else (612, 792)
    margin = 54
    ops = [
        _text(margin, height - margin - 10, 20, spec.title, bold=True),
        _text(margin, height - margin - 30, 10, spec.subtitle),
    ]
    y = height - margin - 58
    for line in spec.lines:
        if line:
            ops.append(_text(margin, y, 10, line))
        y -= 15
    y -= 10
    row_height = 30 if spec.landscape else 32
    table_width = sum(w for _, w in spec.columns)
    top = y
    ops.append("0.92 g")  # the heading row's grey band
    ops.append(f"{margin} {top - 22} {table_width} 22 re f")
    ops.append("0 g")
    x = margin
    for heading, column_width in spec.columns:
        ops.append(_text(x + 4, top - 15, 9, heading, bold=True))
        x += column_width
    bottom = top - 22 - row_height * len(spec.rows)
    for index, label in enumerate(spec.rows):
        if label:
            ops.append(_text(margin + 4, top - 22 - row_height * index - 19, 9, label))
    ops.append("0.6 w")
    for line_y in [
        top,
        top - 22,
        *(top - 22 - row_height * (i + 1) for i in range(len(spec.rows))),
    ]:
        ops.append(f"{margin} {line_y} m {margin + table_width} {line_y} l S")
    x = margin
    for _, column_width in (*spec.columns, ("", 0)):
        ops.append(f"{x} {top} m {x} {bottom} l S")
        x += column_width
    ops.append(
        _text(margin, margin - 20, 8, "Fellowship demo material. Copy freely for your team.")
    )
    content = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            "/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>"
        ).encode("ascii"),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        f"<< /Title ({_pdf_text(spec.title)}) /Producer (Fellowship demo) >>".encode("ascii"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# Fellows ----------------------------------------------------------------------------------


class Pace(enum.Enum):
    MIDWAY = "midway"  # the demo fellow: past modules done, the open one under way
    AHEAD = "ahead"  # every released module complete
    ON_TRACK = "on_track"
    OVERDUE = "overdue"  # the latest past module unfinished
    EXTENDED = "extended"  # the same, with an extension
    STUCK = "stuck"  # the first module's reflection never submitted
    BEHIND = "behind"  # the two latest past modules unfinished


# Everyone but the demo fellow, in order (mostly on track, a few behind).
PACES = (
    Pace.AHEAD,
    Pace.OVERDUE,
    Pace.EXTENDED,
    Pace.ON_TRACK,
    Pace.ON_TRACK,
    Pace.STUCK,
    Pace.ON_TRACK,
    Pace.ON_TRACK,
    Pace.BEHIND,
    Pace.ON_TRACK,
    Pace.ON_TRACK,
)


class Outcome(enum.Enum):
    DONE = "done"  # every required item done, reflection submitted
    DRAFTED = "drafted"  # the other items done, reflection drafted
    STARTED = "started"  # the reading done, nothing more
    NONE = "none"


@dataclass
class _Module:
    row: Module
    spec: Spec
    items: list[ModuleItem] = field(default_factory=list)

    @property
    def release(self) -> date:
        assert self.row.release_on is not None
        return self.row.release_on

    @property
    def due(self) -> date:
        assert self.row.due_on is not None
        return self.row.due_on


def _plan(
    pace: Pace, past: list[_Module], current: list[_Module], rng: random.Random
) -> dict[int, Outcome]:
    """{module id: outcome} for one fellow (modules not named: no progress)."""
    plan = {m.row.id: Outcome.DONE for m in past}
    for m in current:
        plan[m.row.id] = Outcome.NONE
    latest = past[-1].row.id if past else None
    if pace == Pace.MIDWAY:
        if current:
            plan[current[0].row.id] = Outcome.DRAFTED
    elif pace == Pace.AHEAD:
        plan.update({m.row.id: Outcome.DONE for m in current})
    elif pace == Pace.ON_TRACK:
        for index, m in enumerate(current):
            choices, weights = (
                ((Outcome.DONE, Outcome.DRAFTED, Outcome.STARTED, Outcome.NONE), (3, 3, 2, 2))
                if index == 0
                else ((Outcome.DONE, Outcome.STARTED, Outcome.NONE), (1, 1, 3))
            )
            plan[m.row.id] = rng.choices(choices, weights)[0]
    elif pace == Pace.OVERDUE and latest is not None:
        plan[latest] = Outcome.STARTED
    elif pace == Pace.EXTENDED and latest is not None:
        plan[latest] = Outcome.DRAFTED
    elif pace == Pace.STUCK and past:
        plan[past[0].row.id] = Outcome.DRAFTED
        if current:
            plan[current[0].row.id] = Outcome.STARTED
    elif pace == Pace.BEHIND and len(past) >= 2:
        plan[past[-2].row.id] = Outcome.STARTED
        plan[past[-1].row.id] = Outcome.NONE
    return plan


def _lock_prerequisites(plan: dict[int, Outcome], prerequisites: dict[int, int]) -> None:
    """Nothing can be done in a module whose prerequisite the fellow has not completed."""
    for module_id, required_id in prerequisites.items():
        if plan.get(required_id, Outcome.NONE) != Outcome.DONE:
            plan[module_id] = Outcome.NONE


# Loading ----------------------------------------------------------------------------------


@dataclass
class _Loader:
    rng: random.Random
    today: date
    now: datetime
    rows: list[ItemProgress] = field(default_factory=list)

    def at(self, day: date, *, floor: datetime | None = None) -> datetime:
        """A time on `day` in US working hours (UTC), never after now nor before `floor`."""
        moment = datetime.combine(
            day, time(self.rng.randint(13, 23), self.rng.randint(0, 59)), tzinfo=UTC
        )
        moment = min(moment, self.now - timedelta(minutes=5))
        return max(moment, floor) if floor is not None else moment

    def day_between(self, first: date, last: date, *, late: bool = False) -> date:
        span = max(0, (last - first).days)
        low = span // 2 if late else 0
        return first + timedelta(days=self.rng.randint(low, span))


def _strand_ids(cohort: Cohort) -> dict[str, int | None]:
    strands: list[Strand] = list(cohort.strands)
    by_name = {strand.name: strand.id for strand in strands}
    result: dict[str, int | None] = {}
    for index, name in enumerate(DEFAULT_STRANDS):
        fallback = strands[index % len(strands)].id if strands else None
        result[name] = by_name.get(name, fallback)
    return result


def load_demo_curriculum(
    cohort: Cohort,
    facilitators: Sequence[User],
    fellows: Sequence[User],
    today: date | None = None,
) -> list[Module]:
    """Create the demo curriculum of `cohort`; returns its modules (empty when it had some).

    `today` is for tests that check the schedule on other days; timestamps then count from
    noon (UTC) that day.
    """
    exists = db.session.scalar(
        sa.select(sa.func.count(Module.id)).where(Module.cohort_id == cohort.id)
    )
    if exists:
        return []
    now = utcnow()
    if today is not None and today != now.date():
        now = datetime.combine(today, time(12), tzinfo=UTC)
    today = now.date()
    loader = _Loader(random.Random(2026), today, now)  # noqa: S311 - demo content
    author = facilitators[0] if facilitators else None
    schedule = module_dates(cohort.starts_on, cohort.ends_on, today)
    strands = _strand_ids(cohort)
    written = min(schedule[0][0], cohort.starts_on) - timedelta(days=12)
    created = datetime.combine(min(written, today), time(16), tzinfo=UTC)

    modules: list[_Module] = []
    for position, (spec, (release, due)) in enumerate(zip(MODULES, schedule, strict=True)):
        row = Module(
            cohort_id=cohort.id,
            strand_id=strands.get(spec.strand),
            position=position,
            title=spec.title,
            summary=spec.summary,
            outcomes_md="\n".join(f"- {outcome}" for outcome in spec.outcomes),
            release_on=release,
            due_on=due,
            estimated_minutes=spec.minutes,
            created_at=created,
            updated_at=created,
        )
        db.session.add(row)
        modules.append(_Module(row, spec))
    db.session.flush()
    prerequisites: dict[int, int] = {}
    for m in modules:
        if m.spec.requires is not None:
            required = modules[m.spec.requires].row
            prerequisites[m.row.id] = required.id
            db.session.add(ModulePrerequisite(module_id=m.row.id, requires_module_id=required.id))
    for m in modules:
        for position, part in enumerate(m.spec.items):
            stored_id = None
            if part.pdf is not None:
                upload = FileStorage(
                    BytesIO(render_pdf(part.pdf)),
                    filename=part.pdf.filename,
                    content_type="application/pdf",
                )
                stored = store_file(upload, author.id if author else None, {"pdf"})
                stored_id = stored.id
            item = ModuleItem(
                module_id=m.row.id,
                position=position,
                kind=part.kind,
                title=part.title,
                body_md=part.body_md,
                url=part.url,
                stored_file_id=stored_id,
                required=part.required,
                created_at=created,
                updated_at=created,
            )
            db.session.add(item)
            m.items.append(item)
    db.session.flush()

    released = [m for m in modules if m.release <= today]
    past = [m for m in released if m.due < today]
    current = [m for m in released if m.due >= today]
    combos = {
        m.row.id: loader.rng.sample(
            [
                (s, p)
                for s in range(len(m.spec.answers.situations))
                for p in range(len(m.spec.answers.plans))
            ],
            k=len(m.spec.answers.situations) * len(m.spec.answers.plans),
        )
        for m in modules
    }
    demo_index = next(
        (i for i, fellow in enumerate(fellows) if fellow.email == DEMO_FELLOW_EMAIL), 0
    )
    others = iter(PACES * (1 + len(fellows) // len(PACES)))
    for index, fellow in enumerate(fellows):
        pace = Pace.MIDWAY if index == demo_index else next(others)
        plan = _plan(pace, past, current, loader.rng)
        _lock_prerequisites(plan, prerequisites)
        waiting = past[-1].row.id if pace == Pace.MIDWAY and past else None
        for m in released:
            outcome = plan.get(m.row.id, Outcome.NONE)
            if outcome != Outcome.NONE:
                combo = combos[m.row.id][index % len(combos[m.row.id])]
                _progress(loader, m, fellow, outcome, pace, combo, facilitators, waiting)
        if pace == Pace.EXTENDED and past:
            _extend(loader, past[-1], fellow, author, cohort.ends_on)
    db.session.add_all(loader.rows)
    db.session.flush()
    return [m.row for m in modules]


def _progress(
    loader: _Loader,
    m: _Module,
    fellow: User,
    outcome: Outcome,
    pace: Pace,
    combo: tuple[int, int],
    facilitators: Sequence[User],
    waiting: int | None,
) -> None:
    """The fellow's progress rows on one module's items, for the given outcome."""
    rng = loader.rng
    answers = m.spec.answers
    situation, plan = combo
    last_day = min(m.due, loader.today - timedelta(days=1))
    if pace == Pace.MIDWAY and m.row.id == waiting:
        # Handed in a couple of days ago, after the due date: waiting for feedback, and
        # not for long (the facilitators answer everything older).
        finish = max(m.release, loader.today - timedelta(days=2))
    else:
        finish = loader.day_between(m.release, last_day, late=rng.random() < 0.5)
    reflection = next(item for item in m.items if item.kind == ItemKind.REFLECTION)
    steps = [item for item in m.items if item.kind != ItemKind.REFLECTION]
    if outcome == Outcome.STARTED:
        steps = steps[:1]
    else:
        steps = [s for s in steps if s.required or pace == Pace.AHEAD or rng.random() < 0.5]
    days = sorted(loader.day_between(m.release, finish) for _ in steps)
    floor = datetime.combine(m.release, time(0), tzinfo=UTC)
    for item, day in zip(steps, days, strict=True):
        done = loader.at(day, floor=floor)
        floor = done
        loader.rows.append(ItemProgress(item_id=item.id, fellow_id=fellow.id, completed_at=done))
    if outcome == Outcome.DRAFTED:
        loader.rows.append(
            ItemProgress(
                item_id=reflection.id,
                fellow_id=fellow.id,
                response_md=answers.situations[situation],
                response_saved_at=loader.at(finish, floor=floor),
            )
        )
    if outcome != Outcome.DONE:
        return
    parts = [answers.situations[situation], answers.plans[plan]]
    if rng.random() < 0.6:
        parts.append(rng.choice(answers.closings))
    submitted = loader.at(finish, floor=floor)
    progress = ItemProgress(
        item_id=reflection.id,
        fellow_id=fellow.id,
        completed_at=submitted,
        response_md=" ".join(parts) if rng.random() < 0.5 else "\n\n".join(parts),
        response_saved_at=submitted,
        submitted_at=submitted,
    )
    old_enough = (loader.today - finish).days >= FEEDBACK_AFTER_DAYS
    if facilitators and old_enough and m.row.id != waiting:
        by = facilitators[0] if pace == Pace.MIDWAY or rng.random() < 0.7 else facilitators[-1]
        day = min(finish + timedelta(days=rng.randint(1, 3)), loader.today)
        progress.feedback_md = answers.feedback[plan]
        progress.feedback_by_id = by.id
        progress.feedback_at = loader.at(day, floor=submitted + timedelta(hours=2))
    loader.rows.append(progress)


def _extend(
    loader: _Loader, m: _Module, fellow: User, author: User | None, cohort_ends: date
) -> None:
    """A later due date for `fellow` on `m`, granted before the original one passed."""
    today = loader.today
    due_on = m.due + timedelta(days=14)
    if due_on < today + timedelta(days=4):
        due_on = today + timedelta(days=7)
    if due_on > cohort_ends >= today + timedelta(days=4):
        due_on = cohort_ends
    granted = max(m.release, m.due - timedelta(days=2))
    db.session.add(
        DueDateExtension(
            module_id=m.row.id,
            fellow_id=fellow.id,
            due_on=due_on,
            reason=EXTENSION_REASON,
            granted_by_id=author.id if author else None,
            created_at=loader.at(min(granted, today)),
        )
    )
