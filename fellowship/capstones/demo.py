"""Demo capstones for the demo cohort: every state, with reviews, decisions and one capstone
in the practice library.

Called by `fellowship.demo` after the curriculum; idempotent (does nothing when the cohort
already has capstones). The cohort gets the default rubric (`rubric.ensure_rubric`).

What the demo shows on purpose, fellow by fellow (the demo fellow first, then the cohort's
other fellows in order):

- the demo fellow (fellow@example.org): proposal approved, then the final (version 2) sent
  back with revisions requested a few days ago: two reviews and the decision to read;
- one capstone approved and published to the library, after a proposal sent back once; two
  of its three files are in the library;
- one approved a few days ago and not published yet;
- one draft, still being written;
- one proposal resubmitted after revisions, waiting for the demo reviewer to start;
- one proposal with reviews in progress: the demo reviewer's review is a draft, the other
  reviewer's is submitted (and hidden from the demo reviewer until she submits hers);
- one proposal submitted yesterday, no reviewers assigned yet;
- one proposal with revisions requested and the next version started;
- one proposal approved, the final started;
- one final waiting for the demo reviewer, the other review in;
- one final with both reviews in (they disagree), waiting for the decision;
- the last fellow has not started a capstone.

The demo reviewer (reviewer@example.org) is assigned to most submissions, so her queue has
work in it; decisions are by the demo facilitator, the other facilitator and staff
(staff@example.org). Each submission carries a small PDF drawn in code (the curriculum
demo's `render_pdf`). Dates count back from today: each capstone's story ends a day or a
few ago, and starts after the cohort did when it has run long enough (about three months);
in a younger cohort the stories are squeezed, and before it is about seven weeks old they
begin before the cohort does. Everything is drawn from a seeded random generator.

Graduate outcomes are not part of the demo: they are recorded after the program, and the
demo cohort is still running.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from fellowship.auth.models import User
from fellowship.auth.services import find_user_by_email
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneStatus,
    CapstoneVersion,
    CapstoneVersionFile,
    Recommendation,
    Review,
    ReviewAssignment,
    RubricCriterion,
    SchoolLevel,
    Stage,
)
from fellowship.capstones.rubric import ensure_rubric
from fellowship.cohorts.models import Cohort
from fellowship.curriculum.demo import Pdf, render_pdf
from fellowship.db import db, utcnow
from fellowship.uploads import store_file

DEMO_FELLOW_EMAIL = "fellow@example.org"
DEMO_REVIEWER_EMAIL = "reviewer@example.org"
DEMO_FACILITATOR_EMAIL = "facilitator@example.org"
DEMO_STAFF_EMAIL = "staff@example.org"

EARLIEST_AFTER_START = 7  # stories begin a week into the cohort at the earliest
SHORTEST_WINDOW = 45  # days: a younger cohort's stories start before it did


# The plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One fellow's school: the capstone's fields and what its narrative is made of."""

    title: str
    school: str
    summary: str
    level: SchoolLevel
    strand: str
    topics: str
    problem_md: str
    community_md: str
    place: str  # "the east side of Eastport"
    neighborhoods: tuple[str, str, str]
    grades: str
    seats: int
    lever: str  # how enrollment is designed, one sentence
    partner: str
    strength: str  # what reviewers like
    ask: str  # what reviewers ask for (the weak spot of the first version)
    fix: str  # how a later version answers it
    weak: int  # the rubric criterion (position) the first version is weakest on
    file_slug: str  # ASCII, for the PDFs


PLANS: tuple[Plan, ...] = (
    Plan(
        title="Riverside Commons: a K-8 school for the whole east side",
        school="Riverside Commons",
        summary=(
            "A public K-8 school on the river, designed so that children from the three "
            "east-side neighborhoods the highway split apart learn in the same classrooms."
        ),
        level=SchoolLevel.K8,
        strand="The school model",
        topics="enrollment, weighted lottery, family engagement",
        problem_md=(
            "Eastport's east side is one of the most diverse parts of the city, yet its three "
            "elementary schools are each more than 80% one group of students. Families who "
            "can choose leave for magnet programs across town; the families who stay have "
            "the least say in where their children go.\n\n"
            "Achievement gaps between the schools have grown for five years, and **no "
            "school on the east side reflects the east side**."
        ),
        community_md=(
            "About 1,900 school-age children in Harbor Flats, Millbrook and Old Orchard: "
            "Black, Latino, Hmong and white families, a third of them speaking a language "
            "other than English at home. Many parents work shifts at the port and the "
            "hospital."
        ),
        place="the east side of Eastport",
        neighborhoods=("Harbor Flats", "Millbrook", "Old Orchard"),
        grades="kindergarten through eighth grade",
        seats=300,
        lever=(
            "a lottery weighted by neighborhood and family income, with 40% of seats held "
            "for students who qualify for free or reduced-price meals"
        ),
        partner="the Eastport Neighborhood Alliance",
        strength="the way the plan ties the enrollment targets to the three neighborhoods",
        ask=(
            "a budget that shows how transportation across the highway is paid for after "
            "the start-up grant ends"
        ),
        fix=(
            "The budget now shows transportation paid from the district's formula after "
            "year two, with a shared route with the middle school to keep the cost per "
            "student under $900."
        ),
        weak=3,
        file_slug="Riverside Commons",
    ),
    Plan(
        title="Crossroads Academy: a middle school across the rail line",
        school="Crossroads Academy",
        summary=(
            "A diverse-by-design public middle school on the rail line that has divided "
            "Fairview for a century, with enrollment, advisory and governance built for both "
            "sides of the tracks."
        ),
        level=SchoolLevel.MIDDLE,
        strand="Coalition building",
        topics="enrollment, transportation, community partnerships",
        problem_md=(
            "North of the tracks, Fairview's middle school is 70% white and middle-class; "
            "south of them, the middle school is 85% Black and Latino and has lost a third "
            "of its enrollment in ten years. Students meet for the first time in ninth "
            "grade, in a high school that tracks them apart again."
        ),
        community_md=(
            "Families of Northgate and Southside, and the faith leaders, coaches and youth "
            "workers who already bring the two together: the community league, two churches "
            "and the public library branch at the crossing."
        ),
        place="Fairview",
        neighborhoods=("Northgate", "Southside", "the Crossing"),
        grades="sixth through eighth grade",
        seats=360,
        lever="a controlled-choice plan: half of the seats for each side of the tracks",
        partner="the Fairview Community League",
        strength="the coalition of faith leaders and coaches already working on both sides",
        ask=(
            "evidence from families on both sides about what would make them choose the "
            "school, not only the enrollment data"
        ),
        fix=(
            "We held six listening sessions (two in Spanish) with 140 families; the section "
            "on enrollment now answers what they told us about safety, buses and advanced "
            "math."
        ),
        weak=0,
        file_slug="Crossroads Academy",
    ),
    Plan(
        title="Escuela Puente: a dual-language elementary school",
        school="Escuela Puente",
        summary=(
            "A two-way Spanish-English immersion school where native Spanish speakers and "
            "native English speakers are half of every classroom."
        ),
        level=SchoolLevel.ELEMENTARY,
        strand="The school model",
        topics="dual language, family engagement, staffing",
        problem_md=(
            "The district's only dual-language program is a strand inside a school in the "
            "wealthiest attendance zone, and its waiting list is 90% English-speaking "
            "families. Spanish-speaking children, the program's reason for being, hold "
            "fewer than a third of its seats."
        ),
        community_md=(
            "Spanish-speaking families of Valle Verde, many recently arrived, and "
            "English-speaking families across the city who want their children to be "
            "bilingual."
        ),
        place="Valle Verde",
        neighborhoods=("Valle Verde", "Las Lomas", "Cedar Park"),
        grades="kindergarten through fifth grade",
        seats=220,
        lever=(
            "two lotteries, one for native Spanish speakers and one for native English "
            "speakers, each filling half of every kindergarten class"
        ),
        partner="the Valle Verde Family Center",
        strength="the clear language-allocation model and the plan for bilingual staff",
        ask="a plan to keep Spanish-speaking families in the majority of the governing council",
        fix=(
            "The governing council now reserves five of nine family seats for parents of "
            "native Spanish speakers, with meetings in Spanish and interpretation into "
            "English."
        ),
        weak=2,
        file_slug="Escuela Puente",
    ),
    Plan(
        title="Open Doors High: a school without tracks",
        school="Open Doors High",
        summary=(
            "A new small high school where every ninth grader takes the same rigorous "
            "courses, with support built into the schedule instead of separate tracks."
        ),
        level=SchoolLevel.HIGH,
        strand="Foundational leadership skills",
        topics="detracking, master schedule, advanced coursework",
        problem_md=(
            "In our district's high schools, honors sections are 75% white and Asian while "
            "the students are 55% Black and Latino. Placement happens in eighth grade, "
            "often without the family knowing a choice was made."
        ),
        community_md=(
            "Ninth graders from all four middle schools of the North District, and the "
            "teachers who have asked for a school where placement does not decide a "
            "student's future."
        ),
        place="the North District",
        neighborhoods=("Lincoln Heights", "Bayview", "Northfield"),
        grades="ninth through twelfth grade",
        seats=400,
        lever="open enrollment from every middle school, with seats in proportion to each",
        partner="the North District teachers' union",
        strength="the honest account of how tracking works in the district today",
        ask="a master schedule showing where the support periods fit",
        fix="A sample master schedule is now part of the plan.",
        weak=3,
        file_slug="Open Doors High",
    ),
    Plan(
        title="Northside Collegiate: a regional high school for city and suburbs",
        school="Northside Collegiate",
        summary=(
            "A regional public high school that draws equally from the city and three "
            "suburbs, with early college courses open to every student."
        ),
        level=SchoolLevel.HIGH,
        strand="Coalition building",
        topics="regional enrollment, transportation, governance",
        problem_md=(
            "The city's high schools are 80% students of color; the three suburbs next door "
            "are 75% white. The metropolitan area is among the ten most segregated in the "
            "country, and school district lines do most of the work."
        ),
        community_md=(
            "Families in the city's north side and in Glenwood, Ashford and Maple Ridge, "
            "and the community college whose campus sits where the four meet."
        ),
        place="the northern metro area",
        neighborhoods=("the north side", "Glenwood", "Ashford"),
        grades="ninth through twelfth grade",
        seats=480,
        lever="a regional compact: each district sends a fixed share of students by lottery",
        partner="North Metro Community College",
        strength="the early-college partnership and the regional compact idea",
        ask=(
            "a governance plan that the four school boards could actually sign, and who "
            "decides when they disagree"
        ),
        fix=(
            "The compact now has a joint board with two members from each district and a "
            "family seat for each, and a mediation step before any district can withdraw."
        ),
        weak=2,
        file_slug="Northside Collegiate",
    ),
    Plan(
        title="Las Americas Community School: K-12 with shared governance",
        school="Las Americas Community School",
        summary=(
            "A K-12 community school run by a council of families, students and teachers, "
            "with health and adult-education services in the building."
        ),
        level=SchoolLevel.K12,
        strand="Coalition building",
        topics="governance, family engagement, community schools",
        problem_md=(
            "Families in Westlake move their children between schools an average of three "
            "times before high school; each move costs months of learning. None of the "
            "schools they move between is diverse, and none asks families to decide "
            "anything."
        ),
        community_md=(
            "Westlake's immigrant families from a dozen countries, the long-time Black "
            "community of Park Hill, and newer families in the lofts by the river."
        ),
        place="Westlake",
        neighborhoods=("Westlake", "Park Hill", "the Riverfront"),
        grades="kindergarten through twelfth grade",
        seats=650,
        lever="a weighted lottery with a preference for students who have moved schools",
        partner="the Westlake Health Collaborative",
        strength="the depth of the family voice in the design",
        ask="clearer enrollment targets and how the lottery reaches them",
        fix="",
        weak=1,
        file_slug="Las Americas Community School",
    ),
    Plan(
        title="Harbor STEM Middle: science for everyone, no entrance exam",
        school="Harbor STEM Middle",
        summary=(
            "A STEM middle school that admits by lottery instead of test scores, with "
            "summer bridge programs so that every student starts ready."
        ),
        level=SchoolLevel.MIDDLE,
        strand="The school model",
        topics="admissions, stem, enrollment",
        problem_md=(
            "The district's STEM magnet admits by exam; its students are 8% Black and "
            "Latino in a district where they are 60%. Families say the exam is a wall "
            "before the school even starts."
        ),
        community_md=(
            "Middle-school families of the harbor district, the shipyard's apprenticeship "
            "program, and the science teachers of its four elementary schools."
        ),
        place="the harbor district",
        neighborhoods=("Dockside", "Beacon Hill", "Seaview"),
        grades="sixth through eighth grade",
        seats=270,
        lever="a lottery with no exam, weighted toward students from under-represented schools",
        partner="the Harbor Shipyard Apprenticeship Program",
        strength="the summer bridge program",
        ask="how the school will keep its diversity once it becomes popular",
        fix="",
        weak=1,
        file_slug="Harbor STEM Middle",
    ),
    Plan(
        title="Cedar Grove Montessori: public Montessori for every family",
        school="Cedar Grove Montessori",
        summary=(
            "A public Montessori elementary school with a teacher-residency program, so "
            "that Montessori is no longer only for families who can pay for it."
        ),
        level=SchoolLevel.ELEMENTARY,
        strand="Personal development",
        topics="montessori, enrollment, teacher pipeline",
        problem_md=(
            "Every Montessori school within twenty miles of Cedar Grove charges tuition. "
            "The one public option closed in 2019 for lack of trained teachers, and the "
            "families on its waiting list were 70% white."
        ),
        community_md=(
            "Families of Cedar Grove and Elm Park, half of whom qualify for free meals, and "
            "paraprofessionals in the district who want to become lead teachers."
        ),
        place="Cedar Grove",
        neighborhoods=("Cedar Grove", "Elm Park", "Riverbend"),
        grades="pre-kindergarten through fifth grade",
        seats=180,
        lever="a lottery with half of the seats for families who qualify for free meals",
        partner="the State University Montessori Institute",
        strength="the residency that turns paraprofessionals into Montessori guides",
        ask="local evidence that families who qualify for free meals want Montessori",
        fix=(
            "I surveyed 210 families at the Elm Park health fair and the WIC office: 64% of "
            "those who qualify for free meals would apply, most of them for the longer day "
            "and the mixed-age classrooms."
        ),
        weak=0,
        file_slug="Cedar Grove Montessori",
    ),
    Plan(
        title="Lakeview Lab School: integrated learning with a university partner",
        school="Lakeview Lab School",
        summary=(
            "A K-8 laboratory school run with the university's school of education, where "
            "new teachers learn to teach in integrated classrooms."
        ),
        level=SchoolLevel.K8,
        strand="Foundational leadership skills",
        topics="partnerships, professional learning, staffing",
        problem_md=(
            "Most new teachers in the region trained in schools that were not diverse, and "
            "leave integrated schools at twice the rate of others within three years."
        ),
        community_md=(
            "Families around the university, in student housing and in the Lakeview "
            "neighborhoods, and the school of education's student teachers."
        ),
        place="Lakeview",
        neighborhoods=("University Park", "Lakeview", "South Shore"),
        grades="kindergarten through eighth grade",
        seats=320,
        lever="a lottery with seats for each of three zones around the campus",
        partner="the university's school of education",
        strength="the teacher-preparation model",
        ask="",
        fix="",
        weak=4,
        file_slug="Lakeview Lab School",
    ),
    Plan(
        title="Unity Prep: restorative practices in an integrated high school",
        school="Unity Prep",
        summary=(
            "A diverse-by-design high school where discipline is restorative from the first "
            "day, so that integration does not end at the classroom door."
        ),
        level=SchoolLevel.HIGH,
        strand="Personal development",
        topics="restorative practices, discipline, school culture",
        problem_md=(
            "In the county's integrated high schools, Black students are suspended at four "
            "times the rate of white students. Families of color told us the schools were "
            "diverse but not theirs."
        ),
        community_md=(
            "Families across the county, the youth court program, and students who have "
            "been suspended and want a say in what replaces suspension."
        ),
        place="Marion County",
        neighborhoods=("Marion", "Fox Run", "Clearwater"),
        grades="ninth through twelfth grade",
        seats=420,
        lever="a countywide lottery balanced by family income and home zip code",
        partner="the Marion County Youth Court",
        strength="the student voice in the discipline design",
        ask="",
        fix="",
        weak=4,
        file_slug="Unity Prep",
    ),
    Plan(
        title="Meridian Elementary: redrawing an attendance zone",
        school="Meridian Elementary",
        summary=(
            "A new elementary school whose attendance zone is drawn across the city's "
            "dividing avenue, with a plan to win the school board vote."
        ),
        level=SchoolLevel.ELEMENTARY,
        strand="Coalition building",
        topics="attendance zones, school board, enrollment",
        problem_md=(
            "Meridian Avenue separates the city's wealthiest and poorest elementary "
            "attendance zones. A new school is being built on the avenue itself: where its "
            "zone is drawn will decide who it serves for decades."
        ),
        community_md=(
            "Families on both sides of Meridian Avenue, the neighborhood associations that "
            "opposed the last rezoning, and the school board members who must vote on it."
        ),
        place="the Meridian corridor",
        neighborhoods=("Meridian Heights", "the Flats", "Oak Hill"),
        grades="kindergarten through fifth grade",
        seats=450,
        lever="an attendance zone drawn as a band across the avenue, with a small lottery",
        partner="the Meridian Neighborhood Council",
        strength="the map of board members and what each one needs to vote yes",
        ask="a plan for the families who organized against the last rezoning",
        fix=(
            "We met with both neighborhood associations; the plan now includes a "
            "guarantee for current students and a joint transition committee."
        ),
        weak=2,
        file_slug="Meridian Elementary",
    ),
)


# Journeys -------------------------------------------------------------------------------


class Reviewer(enum.Enum):
    DEMO = "demo"  # reviewer@example.org
    OTHER = "other"


class ReviewState(enum.Enum):
    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Decider(enum.Enum):
    FACILITATOR = "facilitator"  # facilitator@example.org
    OTHER_FACILITATOR = "other_facilitator"
    STAFF = "staff"


@dataclass(frozen=True)
class Take:
    """One reviewer's part in a round: their review's state and recommendation."""

    reviewer: Reviewer
    state: ReviewState = ReviewState.SUBMITTED
    recommends: Recommendation | None = None


@dataclass(frozen=True)
class Round:
    """One submission: its stage, the reviews and, when decided, the decision."""

    stage: Stage
    takes: tuple[Take, ...] = ()
    decision: Recommendation | None = None
    decider: Decider = Decider.FACILITATOR


@dataclass(frozen=True)
class Journey:
    rounds: tuple[Round, ...]
    status: CapstoneStatus
    draft: bool = False  # the fellow has started the next version
    published: bool = False
    ends_days_ago: float = 2  # when the last thing happened


A, R = Recommendation.APPROVE, Recommendation.REVISE
P, F = Stage.PROPOSAL, Stage.FINAL
DEMO, OTHER = Reviewer.DEMO, Reviewer.OTHER
FAC, FAC2, STAFF = Decider.FACILITATOR, Decider.OTHER_FACILITATOR, Decider.STAFF


def _done(reviewer: Reviewer, recommends: Recommendation) -> Take:
    return Take(reviewer, ReviewState.SUBMITTED, recommends)


# The demo fellow's journey first; then the others, in the order of the cohort's fellows.
JOURNEYS: tuple[Journey | None, ...] = (
    Journey(  # revisions requested on version 2 (the final)
        (
            Round(P, (_done(DEMO, A), _done(OTHER, A)), A, FAC),
            Round(F, (_done(DEMO, R), _done(OTHER, A)), R, FAC),
        ),
        CapstoneStatus.FINAL_REVISIONS,
        ends_days_ago=4,
    ),
    Journey(  # approved and in the practice library
        (
            Round(P, (_done(OTHER, R), _done(DEMO, R)), R, STAFF),
            Round(P, (_done(OTHER, A),), A, FAC),
            Round(F, (_done(DEMO, A), _done(OTHER, A)), A, FAC2),
        ),
        CapstoneStatus.APPROVED,
        published=True,
        ends_days_ago=9,
    ),
    Journey(  # approved, not published yet
        (
            Round(P, (_done(DEMO, A),), A, FAC),
            Round(F, (_done(OTHER, A),), A, STAFF),
        ),
        CapstoneStatus.APPROVED,
        ends_days_ago=3,
    ),
    Journey((), CapstoneStatus.DRAFT, draft=True, ends_days_ago=2),
    Journey(  # resubmitted; the demo reviewer has not started
        (
            Round(P, (_done(OTHER, R),), R, FAC2),
            Round(P, (Take(DEMO, ReviewState.NOT_STARTED),)),
        ),
        CapstoneStatus.PROPOSAL_SUBMITTED,
        ends_days_ago=2,
    ),
    Journey(  # reviews in progress: one draft, one submitted
        (Round(P, (Take(DEMO, ReviewState.DRAFT), _done(OTHER, A))),),
        CapstoneStatus.PROPOSAL_SUBMITTED,
        ends_days_ago=1,
    ),
    Journey((Round(P),), CapstoneStatus.PROPOSAL_SUBMITTED, ends_days_ago=1),  # unassigned
    Journey(  # revisions requested, the next version started
        (Round(P, (_done(DEMO, R), _done(OTHER, R)), R, FAC),),
        CapstoneStatus.PROPOSAL_REVISIONS,
        draft=True,
        ends_days_ago=2,
    ),
    Journey(  # proposal approved, the final started
        (Round(P, (_done(OTHER, A), _done(DEMO, A)), A, STAFF),),
        CapstoneStatus.PROPOSAL_APPROVED,
        draft=True,
        ends_days_ago=5,
    ),
    Journey(  # final waiting for the demo reviewer
        (
            Round(P, (_done(DEMO, A),), A, FAC2),
            Round(F, (Take(DEMO, ReviewState.NOT_STARTED), _done(OTHER, A))),
        ),
        CapstoneStatus.FINAL_SUBMITTED,
        ends_days_ago=2,
    ),
    Journey(  # final reviewed (the reviewers disagree), waiting for the decision
        (
            Round(P, (_done(OTHER, R),), R, FAC),
            Round(P, (_done(OTHER, A),), A, FAC),
            Round(F, (_done(DEMO, A), _done(OTHER, R))),
        ),
        CapstoneStatus.FINAL_SUBMITTED,
        ends_days_ago=1,
    ),
    None,  # has not started a capstone
)


# Narratives -----------------------------------------------------------------------------


VISIONS = (
    "{school} will be a public school for {grades} in {place}, open to every family and "
    "designed from the first day so that children of {n1}, {n2} and {n3} learn together. "
    "We will open with {seats} students and grow one grade at a time.",
    "Imagine a school where a child from {n1} and a child from {n3} share a table, a "
    "teacher and a future. {school} is that school: {grades}, {seats} students in its "
    "first year, in {place}.",
    "{school} starts from a simple promise: the school will look like {place}, and every "
    "family in it will have a real voice. It will serve {grades}, beginning with {seats} "
    "students drawn from {n1}, {n2} and {n3}.",
)

INSIDES = (
    "Integration does not end at the front door. Classes are mixed by design, with no "
    "separate honors or remedial tracks; support comes as extra time in the schedule, not a "
    "different room. Discipline is restorative, and we will publish our discipline data by "
    "student group every semester.",
    "Inside the building, every classroom mixes students on purpose. Advisory groups stay "
    "together for three years, the curriculum includes the histories of the families we "
    "serve, and teachers plan together every week to keep high expectations for every "
    "student.",
    "We will watch what happens inside the school as closely as who enrolls: who is in "
    "advanced courses, who is referred for discipline, whose parents come to conferences. "
    "When the numbers drift, the leadership team and the family council look at them "
    "together and act.",
)

COALITIONS = (
    "The plan was shaped with {partner} and with families from each neighborhood. We "
    "started with listening sessions at the library, the churches and the laundromat on "
    "the corner, and a design team of twelve parents now meets every month.",
    "{partner} is our first partner; the family design team is our most important one. "
    "We have met with the district's enrollment office, two school board members and the "
    "teachers' association, and we know who will oppose the plan and why.",
    "A school like this needs allies before it needs a building. With {partner} we mapped "
    "the people who can say yes or no, and we have met most of them. Families from "
    "{n1} and {n2} co-lead the outreach, in three languages.",
)

TIMELINES = (
    "1. This winter: listening sessions in every neighborhood and a first budget.\n"
    "2. Spring: the application to the authorizer, and a site decision.\n"
    "3. Next school year: hire the founding team; recruit families in every community.\n"
    "4. The year after: open with {seats} students.",
    "- **Months 1-3:** community design team, enrollment data, first conversations with "
    "the district.\n"
    "- **Months 4-8:** application, facility options, founding board.\n"
    "- **Months 9-18:** hiring, recruitment, lottery, summer bridge.\n"
    "- **Opening:** {seats} students.",
)

REFLECTIONS = (
    "I grew up in a school that was diverse on paper and segregated at lunch. The "
    "fellowship made me name what I had accepted as normal. My coach pushed me to listen "
    "longer before proposing anything, and the plan is better for it.",
    "I have learned that I move fast when I am uncomfortable. In the listening sessions I "
    "practised staying in the room when families disagreed with me, and I changed the "
    "enrollment design twice because of what I heard.",
    "Leading this work means being trusted by people who have been let down by schools "
    "before. I am learning to make fewer promises and keep all of them.",
)

BUDGETS = (
    "The school is funded by the district's per-pupil formula once it opens. A start-up "
    "grant covers the planning year, and transportation is shared with the district "
    "routes after year two. The budget balances at {seats} students with a reserve of 3%.",
    "Start-up costs (planning year, founding staff, recruitment in three languages) come "
    "from a planning grant and the partner's in-kind support. From year one the school "
    "runs on public funding, with family liaisons and interpreters in the base budget "
    "rather than in grants.",
)

RISKS = (
    "- **Enrollment drift** as the school becomes popular: we review the numbers after "
    "every lottery and adjust outreach, not the rules, first.\n"
    "- **Opposition** to the enrollment design: we meet early and often with the groups "
    "most likely to oppose it.\n"
    "- **Staff turnover**: a founding team hired together, with mentoring in the first "
    "two years.",
    "- **Facility delays:** two site options, with a temporary space agreed with the "
    "district.\n"
    "- **Families not applying:** door-to-door outreach with paid parent ambassadors.\n"
    "- **Legal limits on weighted lotteries:** the design team reviewed it with the "
    "district's counsel.",
)

MEASURES = (
    "- Enrollment of each group within five points of the community's share.\n"
    "- No gap by student group in advanced courses or discipline.\n"
    "- At least 80% of families from every neighborhood say the school belongs to them.",
    "- Students of every group read on grade level by third grade at the same rate.\n"
    "- Family council seats filled from every neighborhood, every year.\n"
    "- Teacher retention above 85%, and a staff that reflects the students.",
)

GROUPS = ("Black", "Latino", "Asian", "White", "Multiracial or other")


def _shares(rng: random.Random) -> dict[str, int]:
    """A community's make-up in percent (sums to 100), plus income and language shares."""
    weights = [rng.randint(10, 40) for _ in GROUPS[:-1]]
    weights.append(rng.randint(3, 8))
    total = sum(weights)
    shares = [round(100 * w / total) for w in weights]
    shares[-1] += 100 - sum(shares)
    found = dict(zip(GROUPS, shares, strict=True))
    found["Low-income families"] = rng.randint(35, 65)
    found["English learners"] = rng.randint(8, 30)
    found["Students with disabilities"] = rng.randint(11, 16)
    return found


def _table(shares: dict[str, int]) -> str:
    lines = [
        "| Students | In the community | First-year target |",
        "|---|---|---|",
    ]
    for group, share in shares.items():
        low, high = max(0, share - 5), min(100, share + 5)
        lines.append(f"| {group} | {share}% | {low}-{high}% |")
    return "\n".join(lines)


def _fields(plan: Plan) -> dict[str, object]:
    n1, n2, n3 = plan.neighborhoods
    return {
        "school": plan.school,
        "grades": plan.grades,
        "place": plan.place,
        "n1": n1,
        "n2": n2,
        "n3": n3,
        "seats": plan.seats,
        "partner": plan.partner,
    }


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


SECTIONS = {
    "vision": VISIONS,
    "inside": INSIDES,
    "coalition": COALITIONS,
    "budget": BUDGETS,
    "risks": RISKS,
    "measures": MEASURES,
    "timeline": TIMELINES,
    "reflection": REFLECTIONS,
}


def pick_sections(rng: random.Random) -> dict[str, str]:
    """The wording of each section for one capstone (kept from version to version)."""
    return {name: rng.choice(pool) for name, pool in SECTIONS.items()}


def narrative(
    plan: Plan, stage: Stage, revised: bool, shares: dict[str, int], words: dict[str, str]
) -> str:
    """The narrative of a version: a proposal or a final; `revised` when it answers a
    request for revisions (it then says what changed)."""
    values = _fields(plan)
    parts = [
        "## Vision\n\n" + words["vision"].format(**values),
        "## Who the school is for\n\n"
        + f"Enrollment is designed, not left to chance: {plan.lever}.\n\n"
        + _table(shares),
        "## Inside the school\n\n" + words["inside"],
        "## Building the coalition\n\n" + words["coalition"].format(**values),
    ]
    if revised and plan.fix:
        parts.insert(1, f"## What changed since the last version\n\n{plan.fix}")
    if stage == Stage.FINAL:
        parts += [
            "## Budget and sustainability\n\n" + words["budget"].format(**values),
            "## Risks and how we will handle them\n\n" + words["risks"],
            "## How we will know it works\n\n" + words["measures"],
        ]
    parts += [
        "## Timeline\n\n" + words["timeline"].format(**values),
        "## What I am learning as a leader\n\n" + words["reflection"],
    ]
    return "\n\n".join(parts)


def draft_narrative(plan: Plan, words: dict[str, str]) -> str:
    """A first draft still being written."""
    values = _fields(plan)
    return (
        "## Vision\n\n"
        + words["vision"].format(**values)
        + "\n\n## Who the school is for\n\n"
        + f"Enrollment: {plan.lever}. *Still to do: the enrollment data for each group, and "
        "the timeline.*"
    )


# Reviews and decisions -----------------------------------------------------------------------

OPENINGS = {
    A: (
        "This is a strong, well-grounded submission.",
        "Thank you for a clear and thoughtful plan; it reads like a school that could open.",
        "I enjoyed reading this. The plan is specific and the voice of the community comes "
        "through.",
    ),
    R: (
        "There is a lot to admire here, and a few things to settle before approval.",
        "The vision is compelling; the plan needs more in one area before it is ready.",
        "Thank you for this draft. The direction is right, and I would like to see more "
        "detail before I can recommend approval.",
    ),
}

GENERIC_ASKS = (
    "Say who owns each milestone in the timeline.",
    "Add how you will measure whether students are integrated inside the school, not only "
    "enrolled in it.",
    "Name the two or three people whose support you most need, and your next step with each.",
    "Tell us more about what you learned from the families who disagreed with you.",
)

SUGGESTIONS = (
    "One suggestion for the next step: share the enrollment table with the family design "
    "team every year, not only the board.",
    "A small suggestion: the timeline would be easier to follow with owners for each step.",
    "Consider adding a line on how students themselves will shape the school's culture.",
)

CLOSINGS = (
    "I look forward to the next version.",
    "Well done.",
    "Thank you for the work behind this.",
    "",
)


def _first_name(user: User) -> str:
    return user.name.split()[0] if user.name else ""


def review_text(plan: Plan, recommends: Recommendation, rng: random.Random) -> str:
    parts = [rng.choice(OPENINGS[recommends])]
    parts.append(f"The strongest part is {plan.strength}.")
    if recommends == R:
        asks = [plan.ask] if plan.ask else []
        asks.append(rng.choice(GENERIC_ASKS))
        parts.append(
            "**Before approval:**\n\n" + "\n".join(f"- {_capitalised(ask)}" for ask in asks)
        )
    else:
        parts.append(rng.choice(SUGGESTIONS))
    closing = rng.choice(CLOSINGS)
    if closing:
        parts.append(closing)
    return "\n\n".join(parts)


def review_draft_text(plan: Plan) -> str:
    return (
        f"Notes so far: {_capitalised(plan.strength)} is convincing. Still checking the "
        "enrollment table against the district's numbers."
    )


def decision_text(
    plan: Plan, stage: Stage, outcome: Recommendation, fellow: User, rng: random.Random
) -> str:
    name = _first_name(fellow)
    if outcome == R:
        asks = [plan.ask] if plan.ask else []
        asks.append(rng.choice(GENERIC_ASKS))
        what = "final capstone" if stage == Stage.FINAL else "proposal"
        return (
            f"Thank you, {name}. The reviewers see real promise in {plan.school}, and we "
            f"are asking for revisions before the {what} can be approved:\n\n"
            + "\n".join(f"- {_capitalised(ask)}" for ask in asks)
            + "\n\nPlease add a short section on what changed when you resubmit. Your coach "
            "can help you plan the next few weeks."
        )
    if stage == Stage.PROPOSAL:
        return (
            f"Congratulations, {name}: your proposal for {plan.school} is approved. For the "
            "final capstone, add the budget, the main risks and how you will know the school "
            "is working. The reviewers' comments are worth reading before you start."
        )
    return (
        f"Congratulations, {name}! Your final capstone is approved. {plan.school} is ready "
        "to show the world; please consider sharing it in the practice library so that "
        "future fellows can learn from it."
    )


def _scores(
    criteria: Sequence[int], plan: Plan, recommends: Recommendation, rng: random.Random
) -> dict[str, int]:
    scores: dict[str, int] = {}
    for position, criterion_id in enumerate(criteria):
        if recommends == A:
            score = rng.choice((3, 3, 4, 4, 4))
        else:
            score = 2 if position == plan.weak else rng.choice((2, 3, 3, 3))
        scores[str(criterion_id)] = score
    return scores


# Files ----------------------------------------------------------------------------------


def enrollment_pdf(plan: Plan, shares: dict[str, int]) -> Pdf:
    return Pdf(
        filename=f"{plan.file_slug} enrollment plan.pdf",
        title=f"{plan.file_slug}: enrollment plan",
        subtitle="Capstone - Who the school is for",
        lines=(
            f"Seats in the first year: {plan.seats}.",
            "Targets: each group within five points of its share of the community.",
            "The lottery runs in March; the numbers are checked again on October 1.",
        ),
        columns=(("Students: community share and first-year target", 380), ("Notes", 124)),
        rows=tuple(
            f"{group}: {share}% of the community, target {max(0, share - 5)}-{share + 5}%"
            for group, share in shares.items()
        ),
    )


def budget_pdf(plan: Plan, rng: random.Random) -> Pdf:
    per_student = rng.randint(11, 15) * 1000
    planning = rng.randint(25, 45) * 10_000
    return Pdf(
        filename=f"{plan.file_slug} budget overview.pdf",
        title=f"{plan.file_slug}: budget overview",
        subtitle="Capstone - Budget and sustainability",
        lines=(
            f"Planning year: ${planning:,} from a start-up grant and in-kind support.",
            f"From opening: public funding of about ${per_student:,} per student.",
            "Family liaisons and interpreters are in the base budget, not in grants.",
        ),
        columns=(("Year and main costs", 380), ("Funded by", 124)),
        rows=(
            "Planning year: founding principal, outreach, design team stipends",
            f"Year 1: {plan.seats} students, founding staff, transportation",
            f"Year 2: {plan.seats + plan.seats // 3} students, second grade band added",
            "Year 3: full enrollment, transportation shared with district routes",
            "Reserve: 3% of revenue every year",
        ),
    )


def listening_pdf(plan: Plan) -> Pdf:
    n1, n2, n3 = plan.neighborhoods
    return Pdf(
        filename=f"{plan.file_slug} listening sessions.pdf",
        title=f"{plan.file_slug}: what families told us",
        subtitle="Capstone - Community and coalition",
        lines=(
            "Six listening sessions, two of them in Spanish, with 140 families.",
            "What we heard most often, and what the plan does about it:",
        ),
        columns=(("What families said", 380), ("Where the plan answers", 124)),
        rows=(
            "Safe, reliable buses matter more than the building",
            "Advanced math must be open to every student, not by invitation",
            f"Families from {n1} want to be on the board, not only asked",
            f"Families from {n2} and {n3} worry about losing their seats",
            "Interpretation at every meeting, not only the big ones",
        ),
    )


# Loading --------------------------------------------------------------------------------


@dataclass
class _Clock:
    """Turns "days ago" into times in US working hours, never before `floor`, never after
    now."""

    rng: random.Random
    now: datetime

    def at(self, days_ago: float, floor: datetime | None = None) -> datetime:
        day = (self.now - timedelta(days=days_ago)).date()
        moment = datetime.combine(
            day, time(self.rng.randint(14, 23), self.rng.randint(0, 59)), tzinfo=UTC
        )
        if floor is not None:
            moment = max(moment, floor + timedelta(minutes=self.rng.randint(20, 90)))
        return min(moment, self.now - timedelta(minutes=5))


@dataclass
class _Cast:
    """Who plays each part in the demo."""

    reviewers: dict[Reviewer, User]
    deciders: dict[Decider, User]
    assigner: User | None


@dataclass
class _Marks:
    """Where one round's events fall in its story (indexes into `_Story.days`)."""

    submitted: int
    assigned: int | None = None
    reviews: list[int | None] = field(default_factory=list)  # None: not started
    decided: int | None = None


@dataclass
class _Story:
    """The events of one journey as days from its start (later scaled to fit the cohort)."""

    rng: random.Random
    days: list[float] = field(default_factory=lambda: [0.0])  # 0: the capstone started

    def step(self, low: float, high: float, after: float | None = None) -> int:
        """A new event `low`..`high` days after `after` (default: the latest event)."""
        start = max(self.days) if after is None else after
        self.days.append(start + self.rng.uniform(low, high))
        return len(self.days) - 1

    @property
    def total(self) -> float:
        return max(self.days)


def _cast(reviewers: Sequence[User], facilitators: Sequence[User]) -> _Cast:
    demo_reviewer = next((r for r in reviewers if r.email == DEMO_REVIEWER_EMAIL), None)
    demo_reviewer = demo_reviewer or (reviewers[0] if reviewers else None)
    other = next((r for r in reviewers if r is not demo_reviewer), demo_reviewer)
    cast_reviewers = {}
    if demo_reviewer is not None and other is not None:
        cast_reviewers = {Reviewer.DEMO: demo_reviewer, Reviewer.OTHER: other}
    facilitator = next((f for f in facilitators if f.email == DEMO_FACILITATOR_EMAIL), None)
    facilitator = facilitator or (facilitators[0] if facilitators else None)
    other_facilitator = next((f for f in facilitators if f is not facilitator), facilitator)
    staff = find_user_by_email(DEMO_STAFF_EMAIL) or facilitator
    deciders = {
        role: user
        for role, user in (
            (Decider.FACILITATOR, facilitator),
            (Decider.OTHER_FACILITATOR, other_facilitator),
            (Decider.STAFF, staff),
        )
        if user is not None
    }
    return _Cast(cast_reviewers, deciders, staff or facilitator)


def _window(cohort: Cohort, today: date) -> float:
    """How many days back the stories may start."""
    since_start = (today - cohort.starts_on).days - EARLIEST_AFTER_START
    return float(max(since_start, SHORTEST_WINDOW))


def load_demo_capstones(
    cohort: Cohort,
    fellows: Sequence[User],
    reviewers: Sequence[User],
    facilitators: Sequence[User],
    today: date | None = None,
) -> list[Capstone]:
    """Create the demo capstones of `cohort`; returns them (empty when it had some).

    `today` is for tests that check other days; timestamps then count from noon (UTC).
    """
    exists = db.session.scalar(
        sa.select(sa.func.count(Capstone.id)).where(Capstone.cohort_id == cohort.id)
    )
    if exists:
        return []
    now = utcnow()
    if today is not None and today != now.date():
        now = datetime.combine(today, time(12), tzinfo=UTC)
    rng = random.Random(2026)  # noqa: S311 - demo content
    rubric = ensure_rubric(cohort)
    criteria = list(
        db.session.scalars(
            sa.select(RubricCriterion.id)
            .where(RubricCriterion.rubric_id == rubric.id)
            .order_by(RubricCriterion.position, RubricCriterion.id)
        )
    )
    cast = _cast(reviewers, facilitators)
    strands = {strand.name: strand.id for strand in cohort.strands}
    window = _window(cohort, now.date())
    demo_index = next(
        (i for i, fellow in enumerate(fellows) if fellow.email == DEMO_FELLOW_EMAIL), None
    )
    ordered = list(fellows)
    if demo_index is not None:
        ordered.insert(0, ordered.pop(demo_index))
    created: list[Capstone] = []
    for fellow, journey, plan in zip(ordered, JOURNEYS, PLANS, strict=False):
        if journey is None:
            continue
        loader = _Loader(rng, _Clock(rng, now), cast, criteria, fellow, plan)
        created.append(loader.load(cohort, journey, strands.get(plan.strand), window))
    db.session.flush()
    return created


@dataclass
class _Loader:
    rng: random.Random
    clock: _Clock
    cast: _Cast
    criteria: list[int]
    fellow: User
    plan: Plan
    shares: dict[str, int] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)  # the wording of each section

    def load(
        self, cohort: Cohort, journey: Journey, strand_id: int | None, window: float
    ) -> Capstone:
        rng, plan = self.rng, self.plan
        self.shares = _shares(rng)
        self.words = pick_sections(rng)
        story, marks, saved, published = self._story(journey)
        room = max(window - journey.ends_days_ago, 1.0)
        scale = min(1.0, room / story.total) if story.total else 1.0

        def ago(index: int) -> float:
            return journey.ends_days_ago + (story.total - story.days[index]) * scale

        started = self.clock.at(ago(0))
        capstone = Capstone(
            cohort_id=cohort.id,
            fellow_id=self.fellow.id,
            title=plan.title,
            summary=plan.summary,
            problem_md=plan.problem_md,
            community_md=plan.community_md,
            strand_id=strand_id,
            school_level=plan.level,
            topics=plan.topics,
            status=journey.status,
            status_changed_at=started,
            created_at=started,
            updated_at=started,
        )
        db.session.add(capstone)
        db.session.flush()
        files: list[int] = []  # stored file ids, carried from version to version
        kept_back: set[int] = set()  # files not offered to the library
        last = started
        revised = False  # the next version answers a request for revisions
        for number, (round_, mark) in enumerate(zip(journey.rounds, marks, strict=True), 1):
            if number == 1:
                files.append(self._store(enrollment_pdf(plan, self.shares)))
            if round_.stage == Stage.FINAL and not kept_back:
                budget = self._store(budget_pdf(plan, rng))
                kept_back.add(budget)
                files.append(budget)
            if journey.published and number == len(journey.rounds):
                files.append(self._store(listening_pdf(plan)))
            last = self._round(capstone, number, round_, mark, ago, files, last, revised)
            revised = round_.decision == R
        if saved is not None:
            last = self._draft(capstone, journey, ago(saved), files, last)
        if published is not None:
            last = self._publish(capstone, ago(published), last, kept_back)
        capstone.updated_at = last
        return capstone

    def _story(self, journey: Journey) -> tuple[_Story, list[_Marks], int | None, int | None]:
        """When each event happens, in days from the start: the marks of each round, the
        draft's last save and the publication (None when the journey has none)."""
        story = _Story(self.rng)
        marks: list[_Marks] = []
        previous: Round | None = None
        for round_ in journey.rounds:
            if previous is None:
                gap = (10.0, 18.0)
            elif previous.decision == R:
                gap = (7.0, 12.0)
            else:
                gap = (16.0, 24.0)  # writing the final
            mark = _Marks(submitted=story.step(*gap))
            if round_.takes:
                mark.assigned = story.step(0.5, 2.5)
                assigned = story.days[mark.assigned]
                for take in round_.takes:
                    if take.state == ReviewState.NOT_STARTED:
                        mark.reviews.append(None)
                    elif take.state == ReviewState.DRAFT:
                        mark.reviews.append(story.step(1, 4, after=assigned))
                    else:
                        mark.reviews.append(story.step(3, 8, after=assigned))
            if round_.decision is not None:
                mark.decided = story.step(1, 3)
            marks.append(mark)
            previous = round_
        saved = story.step(2, 7) if journey.draft else None
        published = story.step(2, 6) if journey.published else None
        return story, marks, saved, published

    def _store(self, spec: Pdf) -> int:
        upload = FileStorage(
            BytesIO(render_pdf(spec)), filename=spec.filename, content_type="application/pdf"
        )
        return store_file(upload, self.fellow.id, {"pdf"}).id

    def _version(
        self,
        capstone: Capstone,
        number: int,
        stage: Stage,
        text: str,
        files: list[int],
        created: datetime,
        submitted: datetime | None,
    ) -> CapstoneVersion:
        version = CapstoneVersion(
            capstone_id=capstone.id,
            number=number,
            stage=stage,
            narrative_md=text,
            created_at=created,
            updated_at=submitted or created,
            submitted_at=submitted,
        )
        db.session.add(version)
        db.session.flush()
        for position, stored_id in enumerate(files):
            db.session.add(
                CapstoneVersionFile(
                    version_id=version.id, stored_file_id=stored_id, position=position
                )
            )
        return version

    def _round(
        self,
        capstone: Capstone,
        number: int,
        round_: Round,
        mark: _Marks,
        days: Callable[[int], float],
        files: list[int],
        last: datetime,
        revised: bool,
    ) -> datetime:
        clock, rng, plan = self.clock, self.rng, self.plan
        submitted = clock.at(days(mark.submitted), floor=last)
        started = clock.at(days(mark.submitted) + rng.uniform(3, 8), floor=last)
        text = narrative(plan, round_.stage, revised, self.shares, self.words)
        version = self._version(
            capstone,
            number,
            round_.stage,
            text,
            files,
            created=min(started, submitted - timedelta(minutes=30)),
            submitted=submitted,
        )
        capstone.status_changed_at = submitted
        last = submitted
        if mark.assigned is not None:
            assigned = clock.at(days(mark.assigned), floor=submitted)
            last = assigned
            reviewed: list[datetime] = []
            seen: set[int] = set()
            for take, step in zip(round_.takes, mark.reviews, strict=True):
                reviewer = self.cast.reviewers.get(take.reviewer)
                if reviewer is None or reviewer.id in seen:
                    continue
                seen.add(reviewer.id)
                assignment = ReviewAssignment(
                    version_id=version.id,
                    reviewer_id=reviewer.id,
                    assigned_by_id=self.cast.assigner.id if self.cast.assigner else None,
                    assigned_at=assigned,
                )
                db.session.add(assignment)
                db.session.flush()
                if step is None:
                    continue
                at = clock.at(days(step), floor=assigned)
                reviewed.append(at)
                db.session.add(self._review(assignment, take, at))
            last = max([last, *reviewed])
        if round_.decision is not None and mark.decided is not None:
            decided = clock.at(days(mark.decided), floor=last)
            decider = self.cast.deciders.get(round_.decider)
            db.session.add(
                CapstoneDecision(
                    version_id=version.id,
                    decided_by_id=decider.id if decider else None,
                    outcome=round_.decision,
                    message_md=decision_text(plan, round_.stage, round_.decision, self.fellow, rng),
                    decided_at=decided,
                )
            )
            capstone.status_changed_at = decided
            last = decided
        return last

    def _review(self, assignment: ReviewAssignment, take: Take, at: datetime) -> Review:
        if take.state == ReviewState.DRAFT:
            scores = _scores(self.criteria, self.plan, A, self.rng)
            partial = dict(list(scores.items())[:2])
            return Review(
                assignment_id=assignment.id,
                scores=partial,
                comments_md=review_draft_text(self.plan),
                recommendation=None,
                updated_at=at,
                submitted_at=None,
            )
        recommends = take.recommends or A
        return Review(
            assignment_id=assignment.id,
            scores=_scores(self.criteria, self.plan, recommends, self.rng),
            comments_md=review_text(self.plan, recommends, self.rng),
            recommendation=recommends,
            updated_at=at,
            submitted_at=at,
        )

    def _draft(
        self,
        capstone: Capstone,
        journey: Journey,
        saved_days_ago: float,
        files: list[int],
        last: datetime,
    ) -> datetime:
        """The fellow's working draft of the next version."""
        number = len(journey.rounds) + 1
        if not journey.rounds:
            text = draft_narrative(self.plan, self.words)
            stage = Stage.PROPOSAL
        else:
            final = journey.status == CapstoneStatus.PROPOSAL_APPROVED
            stage = Stage.FINAL if final else Stage.PROPOSAL
            revised = journey.rounds[-1].decision == R
            text = narrative(self.plan, stage, revised, self.shares, self.words)
            if final:
                text = text.split("## Budget and sustainability")[0] + (
                    "## Budget and sustainability\n\n*Working on this with the district's "
                    "finance office.*"
                )
        saved = self.clock.at(saved_days_ago, floor=last)
        started = self.clock.at(saved_days_ago + self.rng.uniform(1, 3), floor=last)
        created = min(started, saved - timedelta(minutes=30))
        version = self._version(capstone, number, stage, text, files, created, None)
        version.updated_at = saved
        return saved

    def _publish(
        self, capstone: Capstone, days_ago: float, last: datetime, kept_back: set[int]
    ) -> datetime:
        """Published with consent, with the final's files except those `kept_back`."""
        at = self.clock.at(days_ago, floor=last)
        capstone.consent_at = at
        capstone.published_at = at
        final = db.session.scalar(
            sa.select(CapstoneVersion)
            .where(CapstoneVersion.capstone_id == capstone.id)
            .order_by(CapstoneVersion.number.desc())
            .limit(1)
        )
        assert final is not None
        assert final.stage == Stage.FINAL
        links = db.session.scalars(
            sa.select(CapstoneVersionFile).where(CapstoneVersionFile.version_id == final.id)
        )
        for link in links:
            link.in_library = link.stored_file_id not in kept_back
        return at
