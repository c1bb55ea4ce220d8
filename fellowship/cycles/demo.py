"""Demo school cycles: a district's magnet schools working on diverse enrollment and
belonging, from three pilot schools last year to twenty this year.

Called at the end of `fellowship.demo.load_demo`; idempotent (does nothing when the first
pilot school exists). What it shows on purpose:

- three pilot schools (STEM, Arts, International Baccalaureate; North, Central, South) with
  last school year's cycle closed after a goals review signed by the lead teacher and staff
  (every goal rated, notes, next year's goals) and this year's cycle opened from it (the
  agreed goals became this year's goals) and implementing;
- seventeen more magnet schools in their first year, planning or implementing;
- initiatives about minority group isolation and diverse enrollment, each with a driver
  diagram (primary drivers, secondary drivers, change ideas), two to four goals, monthly
  measurements, improvement tests with decisions, engagement sessions and partner support;
- goal statuses of every kind (met, on track, at risk, off track, no data), one goal not
  measured for more than two months, one status set by hand with a reason;
- one goals review scheduled in the next weeks, at the demo lead teacher's pilot school.

People: the demo lead teacher (lead@example.org, Luis) leads Coral Ridge's cycles both
years; the demo staff member (staff@example.org) is the pilot schools' staff liaison; the
demo partner (partner@example.org, Priya, Bridges Collaborative) and two more partners log
support. Every other school has its own lead teacher (an example.org account with the demo
password). Dates count from today, school years by `school_years.label_for`; measurement
values are drawn so that the status rule (`cycles.status`) gives each goal the status it is
meant to show today. A seeded random generator makes the demo the same on every machine for
the same day.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from fellowship.auth.models import Role, User
from fellowship.auth.services import find_user_by_email
from fellowship.cycles import review_services, setup_services
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    CycleRole,
    CycleStage,
    Driver,
    DriverKind,
    EngagementGroup,
    EngagementSession,
    Goal,
    GoalCategory,
    GoalDirection,
    GoalRating,
    GoalsReview,
    GoalStatus,
    ImprovementTest,
    Measurement,
    PdsaDecision,
    ProposedGoal,
    Rating,
    ReviewStatus,
    School,
    SchoolLevel,
    SupportActivity,
    SupportKind,
)
from fellowship.cycles.status import HOLD_TOLERANCE, GoalFacts, Point, goal_status
from fellowship.db import db, utcnow
from fellowship.school_years import SchoolYear, get_or_create, label_for

BRIDGES = "Bridges Collaborative"
UNIVERSITY = "University Center for Equity in Schools"

LEAD_EMAIL = "lead@example.org"
STAFF_EMAIL = "staff@example.org"
PARTNER_EMAIL = "partner@example.org"


# People -----------------------------------------------------------------------------------------

# (email, name, locale) of the people this demo adds; the demo lead teacher, staff member and
# partner come from `fellowship.demo.DEMO_PEOPLE`.
PARTNERS = [
    (PARTNER_EMAIL, "Priya Partner", BRIDGES),
    ("marcus.bell@example.org", "Dr. Marcus Bell", UNIVERSITY),
    ("ana.torres@example.org", "Ana Lucía Torres", BRIDGES),
]
TEAM_MEMBERS = [  # one per pilot school
    ("ramon.diaz@example.org", "Ramón Díaz", "es"),
    ("tanya.brooks@example.org", "Tanya Brooks", "en"),
    ("omar.farouk@example.org", "Omar Farouk", "en"),
]


@dataclass(frozen=True)
class SchoolSpec:
    code: str
    name: str
    level: SchoolLevel
    theme: str
    region: str
    lead: tuple[str, str, str]  # email, name, locale
    initiative: str  # a key of INITIATIVES
    stage: CycleStage = CycleStage.IMPLEMENTING
    partners: tuple[int, ...] = (0,)  # indexes into PARTNERS


PILOTS = [
    SchoolSpec(
        "FL-13-0041",
        "Coral Ridge STEM Magnet Elementary",
        SchoolLevel.ELEMENTARY,
        "STEM",
        "North",
        (LEAD_EMAIL, "Luis Lead Teacher", "es"),
        "applicants",
        partners=(0,),
    ),
    SchoolSpec(
        "FL-13-0187",
        "Westbrook Academy of the Arts",
        SchoolLevel.MIDDLE,
        "Arts",
        "Central",
        ("keisha.robinson@example.org", "Keisha Robinson", "en"),
        "belonging",
        partners=(0, 1),
    ),
    SchoolSpec(
        "FL-13-0262",
        "Harbor View International Baccalaureate High",
        SchoolLevel.HIGH,
        "International Baccalaureate",
        "South",
        ("mei.zhang@example.org", "Mei Lin Zhang", "en"),
        "advanced",
        partners=(1,),
    ),
]

_PLAN = CycleStage.PLANNING
FIRST_YEAR = [
    SchoolSpec(
        "FL-13-0312",
        "Bayside Marine Science Magnet Elementary",
        SchoolLevel.ELEMENTARY,
        "Marine Science",
        "South",
        ("aisha.bello@example.org", "Aisha Bello", "en"),
        "applicants",
        partners=(2,),
    ),
    SchoolSpec(
        "FL-13-0355",
        "Riverside Performing Arts Magnet Middle",
        SchoolLevel.MIDDLE,
        "Performing Arts",
        "Central",
        ("brian.oconnell@example.org", "Brian O'Connell", "en"),
        "attendance",
        partners=(0,),
    ),
    SchoolSpec(
        "FL-13-0398",
        "Palmetto Dual Language Academy",
        SchoolLevel.ELEMENTARY,
        "Dual Language",
        "North",
        ("camila.reyes@example.org", "Camila Reyes", "es"),
        "families",
        _PLAN,
        partners=(2,),
    ),
    SchoolSpec(
        "FL-13-0421",
        "Sunrise Montessori Magnet",
        SchoolLevel.ELEMENTARY,
        "Montessori",
        "Central",
        ("daniel.kim@example.org", "Daniel Kim", "en"),
        "applicants",
        partners=(0,),
    ),
    SchoolSpec(
        "FL-13-0467",
        "Northgate Engineering Magnet Middle",
        SchoolLevel.MIDDLE,
        "Engineering",
        "North",
        ("esperanza.morales@example.org", "Esperanza Morales", "es"),
        "advanced",
        partners=(1,),
    ),
    SchoolSpec(
        "FL-13-0503",
        "Southshore Health Sciences Magnet High",
        SchoolLevel.HIGH,
        "Health Sciences",
        "South",
        ("fatima.noor@example.org", "Fatima Noor", "en"),
        "attendance",
        _PLAN,
        partners=(1,),
    ),
    SchoolSpec(
        "FL-13-0538",
        "Cypress Visual Arts Magnet Elementary",
        SchoolLevel.ELEMENTARY,
        "Visual Arts",
        "South",
        ("gabriel.santos@example.org", "Gabriel Santos", "en"),
        "belonging",
        partners=(2,),
    ),
    SchoolSpec(
        "FL-13-0572",
        "Everglades Environmental Science Magnet",
        SchoolLevel.K8,
        "Environmental Science",
        "South",
        ("hope.adeyemi@example.org", "Hope Adeyemi", "en"),
        "families",
        partners=(0,),
    ),
    SchoolSpec(
        "FL-13-0609",
        "Midtown Computer Science Magnet High",
        SchoolLevel.HIGH,
        "Computer Science",
        "Central",
        ("isaac.levine@example.org", "Isaac Levine", "en"),
        "advanced",
        _PLAN,
        partners=(1,),
    ),
    SchoolSpec(
        "FL-13-0644",
        "Liberty Leadership and Public Service Academy",
        SchoolLevel.MIDDLE,
        "Leadership and Public Service",
        "Central",
        ("jasmine.carter@example.org", "Jasmine Carter", "en"),
        "belonging",
        partners=(0,),
    ),
    SchoolSpec(
        "FL-13-0681",
        "Skyway Aerospace Magnet Middle",
        SchoolLevel.MIDDLE,
        "Aerospace",
        "North",
        ("kofi.mensah@example.org", "Kofi Mensah", "en"),
        "applicants",
        partners=(2,),
    ),
    SchoolSpec(
        "FL-13-0715",
        "Pinecrest Biomedical Magnet High",
        SchoolLevel.HIGH,
        "Biomedical Sciences",
        "North",
        ("laura.jimenez@example.org", "Laura Jiménez", "es"),
        "attendance",
        _PLAN,
        partners=(1,),
    ),
    SchoolSpec(
        "FL-13-0752",
        "Lakeside Global Studies Magnet Elementary",
        SchoolLevel.ELEMENTARY,
        "Global Studies",
        "Central",
        ("minh.tran@example.org", "Minh Tran", "en"),
        "families",
        partners=(0,),
    ),
    SchoolSpec(
        "FL-13-0788",
        "Oakwood Fine Arts Magnet K-8",
        SchoolLevel.K8,
        "Fine Arts",
        "North",
        ("nicole.baptiste@example.org", "Nicole Baptiste", "en"),
        "belonging",
        _PLAN,
        partners=(2,),
    ),
    SchoolSpec(
        "FL-13-0823",
        "Seminole Communication and Media Magnet Middle",
        SchoolLevel.MIDDLE,
        "Communication and Media",
        "South",
        ("oscar.villanueva@example.org", "Oscar Villanueva", "es"),
        "advanced",
        partners=(1,),
    ),
    SchoolSpec(
        "FL-13-0857",
        "Redland Agriscience Magnet",
        SchoolLevel.K8,
        "Agriscience",
        "South",
        ("priscilla.owusu@example.org", "Priscilla Owusu", "en"),
        "applicants",
        _PLAN,
        partners=(0,),
    ),
    SchoolSpec(
        "FL-13-0894",
        "Heritage Classical Academy Magnet Elementary",
        SchoolLevel.ELEMENTARY,
        "Classical Studies",
        "Central",
        ("quentin.dubois@example.org", "Quentin Dubois", "en"),
        "attendance",
        partners=(2,),
    ),
]


# Goals ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalSpec:
    title: str
    category: GoalCategory
    metric: str
    unit: str
    direction: GoalDirection
    baseline: float
    target: float
    whole: bool = False  # counted in whole numbers (families, students)


GOALS = {
    "applicants": GoalSpec(
        "Share of kindergarten applicants from outside the attendance zone",
        GoalCategory.ENROLLMENT_DIVERSITY,
        "Kindergarten applications with a home address outside the attendance zone, as a "
        "share of all kindergarten applications (district lottery file, monthly)",
        "%",
        GoalDirection.RAISE,
        18.0,
        30.0,
    ),
    "majority_share": GoalSpec(
        "Largest racial group's share of new enrollment",
        GoalCategory.ENROLLMENT_DIVERSITY,
        "Newly enrolled students of the largest racial or ethnic group, as a share of all "
        "new enrollment (student information system)",
        "%",
        GoalDirection.LOWER,
        71.0,
        60.0,
    ),
    "absence": GoalSpec(
        "Chronic absence among Black students",
        GoalCategory.ACHIEVEMENT,
        "Black students absent 10 % or more of school days so far, as a share of Black "
        "students enrolled (attendance report)",
        "%",
        GoalDirection.LOWER,
        21.0,
        15.0,
    ),
    "council": GoalSpec(
        "Families attending an advisory council meeting",
        GoalCategory.FAMILY_ENGAGEMENT,
        "Families with at least one adult at a school advisory council meeting this school "
        "year (sign-in sheets)",
        "families",
        GoalDirection.RAISE,
        12.0,
        40.0,
        whole=True,
    ),
    "belonging": GoalSpec(
        "Students saying they belong",
        GoalCategory.CLIMATE,
        "Students agreeing or strongly agreeing with “I belong at this school” on the "
        "climate survey (pulse survey each term)",
        "%",
        GoalDirection.HOLD,
        78.0,
        78.0,
    ),
    "suspensions": GoalSpec(
        "Suspensions of Black and Hispanic students",
        GoalCategory.CLIMATE,
        "Out-of-school suspensions of Black and Hispanic students per 100 Black and "
        "Hispanic students enrolled (discipline report)",
        "per 100",
        GoalDirection.LOWER,
        9.0,
        5.0,
    ),
    "advanced_math": GoalSpec(
        "Hispanic students in advanced math",
        GoalCategory.ACHIEVEMENT,
        "Hispanic students enrolled in an advanced or accelerated math course, as a share "
        "of Hispanic students (course rosters)",
        "%",
        GoalDirection.RAISE,
        14.0,
        22.0,
    ),
    "ib_diploma": GoalSpec(
        "Students of color in IB Diploma courses",
        GoalCategory.ACHIEVEMENT,
        "Black and Hispanic students in at least one IB Diploma course, as a share of all "
        "IB Diploma students (course rosters)",
        "%",
        GoalDirection.RAISE,
        31.0,
        40.0,
    ),
}


# Initiatives ------------------------------------------------------------------------------------

# A driver diagram: primary drivers, each with secondary drivers holding change ideas, and
# change ideas of its own.
Tree = list[tuple[str, list[tuple[str, list[str]]], list[str]]]


@dataclass(frozen=True)
class Initiative:
    title: str
    challenge: str
    root_causes: str
    aim: str  # "{end}": replaced by the end of the school year
    drivers: Tree
    goals: tuple[str, ...]  # keys of GOALS
    tests: tuple[tuple[str, str, str, str, str, PdsaDecision | None], ...]
    engagement: tuple[tuple[EngagementGroup, int, str, str], ...]
    support_topics: tuple[tuple[SupportKind, str], ...]


INITIATIVES = {
    "applicants": Initiative(
        title="Every family chooses us",
        challenge=(
            "Four in five of our kindergartners come from the two neighbourhoods closest to "
            "the school, and **78 %** of them are of one racial group, while the district "
            "is far more mixed. Families from the east side rarely apply, even though the "
            "magnet programme is open to all."
        ),
        root_causes=(
            "- Recruitment happens at events families from other neighbourhoods do not "
            "attend.\n- Our materials are in English only.\n- There is no bus stop east of "
            "the river, so families assume the school is out of reach.\n- The lottery "
            "deadline falls before many pre-kindergarten centres talk to families about "
            "kindergarten."
        ),
        aim=(
            "By {end}, at least 30 % of our kindergarten applicants live outside the "
            "attendance zone, and no racial group is more than 60 % of the incoming class."
        ),
        drivers=[
            (
                "Families across the district know the school and its programme",
                [
                    (
                        "Outreach where families already are",
                        [
                            "Open houses at east-side libraries",
                            "Tours in Spanish and Haitian Creole",
                        ],
                    ),
                    ("Materials every family can read", ["Translate the application guide"]),
                ],
                ["Parent ambassadors from each neighbourhood"],
            ),
            (
                "Getting to school is not a barrier",
                [("Transport families can count on", ["Ask the district for an east-side stop"])],
                [],
            ),
            (
                "Applying is simple and on time",
                [],
                ["Application help nights at pre-K centres", "Text reminders before the deadline"],
            ),
        ],
        goals=("applicants", "majority_share", "council", "belonging"),
        tests=(
            (
                "Open house at the east-side library",
                "Hold one Saturday open house at the Eastview branch library with a bilingual "
                "tour guide.",
                "Twenty families come; eight of them start an application.",
                "Twenty-six families came, most with younger siblings; childcare helped.",
                "Eleven applications started, nine finished. Families asked about the bus.",
                PdsaDecision.ADOPT,
            ),
            (
                "Text reminders before the lottery deadline",
                "Send three text reminders in the family's language to everyone who started "
                "an application.",
                "Three in four unfinished applications get finished.",
                "Reminders went to 64 families; the third one went out a day late.",
                "Half the unfinished applications were finished; timing matters more than "
                "number. Send the last one a week earlier.",
                PdsaDecision.ADAPT,
            ),
            (
                "Parent ambassadors at pre-K centres",
                "Two parent ambassadors visit four pre-K centres in October and November.",
                "Each visit leads to at least three tour sign-ups.",
                "",
                "",
                None,
            ),
        ),
        engagement=(
            (
                EngagementGroup.ADVISORY_COUNCIL,
                14,
                "Members asked why the magnet fair is held on a weekday morning.",
                "The next fair moved to a Saturday, with childcare.",
            ),
            (
                EngagementGroup.FAMILIES,
                38,
                "East-side families said the school felt far away and unfamiliar; several had "
                "never heard it was open to them.",
                "We added library open houses and asked the district about a bus stop.",
            ),
        ),
        support_topics=(
            (SupportKind.TECHNICAL_ASSISTANCE, "Reading the lottery data by neighbourhood"),
            (SupportKind.COACHING, "Planning the open houses with the parent ambassadors"),
            (SupportKind.PROFESSIONAL_DEVELOPMENT, "Welcoming families across languages"),
        ),
    ),
    "attendance": Initiative(
        title="Present every day",
        challenge=(
            "Black students are chronically absent at more than twice the rate of their "
            "classmates (**21 %** against 9 %), and most of them came to us through the "
            "magnet lottery from outside the neighbourhood."
        ),
        root_causes=(
            "- Long bus rides and missed buses.\n- Families are called only after the tenth "
            "absence.\n- Few students have an adult at school who checks in with them."
        ),
        aim="By {end}, chronic absence among Black students falls to 15 % or below.",
        drivers=[
            (
                "Every student has an adult who notices",
                [("Mentoring", ["Morning check-in with a staff mentor"])],
                ["Positive calls home in the first month"],
            ),
            (
                "Getting here is reliable",
                [("Transport", ["Bus-late passes that do not count as tardies"])],
                [],
            ),
        ],
        goals=("absence", "suspensions", "belonging"),
        tests=(
            (
                "Morning check-ins for twenty students",
                "Ten staff mentors each check in with two students every morning for six weeks.",
                "Absences of those students fall by a third.",
                "Mentors met their students on 82 % of mornings.",
                "Absences fell by a quarter; students asked to keep their mentor.",
                PdsaDecision.ADOPT,
            ),
            (
                "Positive calls home",
                "Teachers make one positive call home per student in September.",
                "Families answer school calls more often afterwards.",
                "",
                "",
                None,
            ),
        ),
        engagement=(
            (
                EngagementGroup.STUDENTS,
                22,
                "Students said the first class after a late bus felt like punishment.",
                "Late-bus arrivals are now welcomed at the door, not sent to the office.",
            ),
        ),
        support_topics=(
            (SupportKind.COACHING, "Coaching the mentor team"),
            (SupportKind.TECHNICAL_ASSISTANCE, "Setting up the attendance early warning list"),
        ),
    ),
    "families": Initiative(
        title="Families at the table",
        challenge=(
            "Our advisory council is twelve families, all from the same neighbourhood and "
            "mostly English-speaking, while half of our students speak Spanish or Haitian "
            "Creole at home."
        ),
        root_causes=(
            "- Meetings are at 4 pm on weekdays.\n- No interpretation.\n- Invitations go "
            "home on paper in English."
        ),
        aim=(
            "By {end}, forty families take part in the advisory council, in the same "
            "proportions as our students' home languages."
        ),
        drivers=[
            (
                "Meetings every family can attend",
                [("Time and place", ["Evening meetings with dinner and childcare"])],
                ["Interpretation at every meeting"],
            ),
            (
                "Families are invited personally",
                [],
                ["Invitations by text in the home language", "Teachers invite two families each"],
            ),
        ],
        goals=("council", "applicants", "belonging"),
        tests=(
            (
                "Evening meeting with dinner",
                "Hold the October council meeting at 6 pm with dinner, childcare and "
                "interpretation.",
                "Twice as many families come.",
                "Thirty-one families came; nine needed interpretation.",
                "Attendance more than doubled. Keep evenings; dinner cost is the question.",
                PdsaDecision.ADAPT,
            ),
        ),
        engagement=(
            (
                EngagementGroup.ADVISORY_COUNCIL,
                31,
                "Families asked for the agenda a week ahead, in their language.",
                "Agendas now go out by text in three languages a week before.",
            ),
            (
                EngagementGroup.COMMUNITY,
                18,
                "Church and community leaders offered meeting space on the west side.",
                "One meeting a term will be held at the community centre.",
            ),
        ),
        support_topics=(
            (SupportKind.TECHNICAL_ASSISTANCE, "Designing the family invitation plan"),
            (SupportKind.PROFESSIONAL_DEVELOPMENT, "Running bilingual meetings"),
        ),
    ),
    "belonging": Initiative(
        title="We all belong here",
        challenge=(
            "Our enrollment is more diverse every year, but Black and Hispanic students are "
            "suspended at three times the rate of their classmates and fewer of them say "
            "they belong."
        ),
        root_causes=(
            "- Discipline is handled differently from room to room.\n- Students of colour "
            "rarely see themselves in the curriculum.\n- There is no restorative option "
            "before a suspension."
        ),
        aim=(
            "By {end}, out-of-school suspensions of Black and Hispanic students fall to 5 "
            "per 100, and at least 78 % of every group say they belong."
        ),
        drivers=[
            (
                "Fair, consistent discipline",
                [("Shared expectations", ["One school-wide behaviour matrix"])],
                ["Restorative circles before any suspension"],
            ),
            (
                "Students see themselves in school",
                [("Curriculum", ["Student-chosen texts in every English class"])],
                [],
            ),
            (
                "Every adult builds relationships",
                [],
                ["Two-by-ten conversations with students who struggle"],
            ),
        ],
        goals=("suspensions", "belonging", "absence"),
        tests=(
            (
                "Restorative circles in grade 7",
                "Grade 7 teams use a restorative circle before referring a student for "
                "suspension, for one term.",
                "Grade 7 suspensions halve.",
                "Forty-two circles held; two teachers need more coaching.",
                "Suspensions fell by 40 %; repeat incidents fell most.",
                PdsaDecision.ADOPT,
            ),
            (
                "Student-chosen texts",
                "Students vote on one of three texts for each English unit.",
                "More students finish the reading.",
                "Done in four classes.",
                "No clear change in finishing; students liked it but the texts were too "
                "similar. Dropped in favour of a wider booklist.",
                PdsaDecision.ABANDON,
            ),
        ),
        engagement=(
            (
                EngagementGroup.STUDENTS,
                26,
                "Students said consequences depend on which teacher you have.",
                "The behaviour matrix was rewritten with a student panel.",
            ),
            (
                EngagementGroup.STAFF,
                40,
                "Teachers asked for practice before running circles.",
                "Two practice sessions were added to the PD calendar.",
            ),
        ),
        support_topics=(
            (SupportKind.PROFESSIONAL_DEVELOPMENT, "Restorative practices for teaching teams"),
            (SupportKind.COACHING, "Coaching the discipline team on the new matrix"),
        ),
    ),
    "advanced": Initiative(
        title="Open doors to advanced coursework",
        challenge=(
            "Hispanic and Black students are a majority of our school but a small minority "
            "in advanced math and IB courses (**14 %** of Hispanic students take advanced "
            "math, against 35 % of their classmates)."
        ),
        root_causes=(
            "- Placement relies on teacher recommendation alone.\n- Families do not know "
            "advanced courses are open to their children.\n- There is no support class "
            "for students who move up."
        ),
        aim=(
            "By {end}, at least 22 % of Hispanic students take an advanced math course, "
            "and students of colour are 40 % of IB Diploma students."
        ),
        drivers=[
            (
                "Placement is open and based on evidence",
                [("Universal screening", ["Place every student who scores above the cut-off"])],
                ["Opt-in letters to families in their language"],
            ),
            (
                "Students who move up succeed",
                [("Support", ["A support period for new advanced students"])],
                [],
            ),
        ],
        goals=("advanced_math", "ib_diploma", "belonging"),
        tests=(
            (
                "Place by test score",
                "Place every grade 8 student scoring above the 70th percentile in algebra.",
                "Twice as many Hispanic students take algebra.",
                "Forty-one students placed; six families asked questions first.",
                "Hispanic enrollment in algebra rose from 14 to 19 %; keep, add family "
                "conversations.",
                PdsaDecision.ADOPT,
            ),
            (
                "Support period",
                "A support period three times a week for students new to advanced math.",
                "Nine in ten stay in the course.",
                "",
                "",
                None,
            ),
        ),
        engagement=(
            (
                EngagementGroup.FAMILIES,
                45,
                "Families did not know they could ask for an advanced placement.",
                "Opt-in letters now go home in English, Spanish and Haitian Creole.",
            ),
        ),
        support_topics=(
            (SupportKind.TECHNICAL_ASSISTANCE, "Placement data by group"),
            (SupportKind.COACHING, "Coaching the math department on the support period"),
        ),
    ),
}


# Measurements that give a goal the status it is meant to show ------------------------------------

_WOBBLE = (0.0, 0.35, -0.25, 0.2, -0.3, 0.15, -0.1, 0.25, -0.2, 0.1, 0.0, -0.15)
_PACES = {
    GoalStatus.ON_TRACK: (1.08, 1.15, 1.25, 1.4, 1.03, 1.6),
    GoalStatus.AT_RISK: (0.87, 0.83, 0.91, 0.8, 0.95, 0.78),
    GoalStatus.OFF_TRACK: (0.4, 0.2, -0.3),
    GoalStatus.MET: (1.0,),
}


def _days(start: date, end: date, step: int = 30) -> list[date]:
    """About monthly measurement days after `start`, up to `end`."""
    days, day = [], start + timedelta(days=step)
    while day <= end:
        days.append(day)
        day += timedelta(days=step)
    return days


def _values(facts: GoalFacts, days: Sequence[date], pace: float, whole: bool) -> list[float]:
    """A steady move from the baseline that reaches `pace` of the way to the target by the
    due date (a hold goal drifts `pace` bands away), with a little noise."""
    span = max((facts.due_on - facts.baseline_on).days, 1)
    gap = facts.target_value - facts.baseline_value
    band = abs(facts.target_value) * HOLD_TOLERANCE or HOLD_TOLERANCE
    values = []
    for i, day in enumerate(days):
        share = (day - facts.baseline_on).days / span
        if facts.direction == GoalDirection.HOLD:
            value = facts.target_value - band * pace * share * 3 + band * _WOBBLE[i % 12] * 0.3
        else:
            value = facts.baseline_value + gap * pace * share + abs(gap) * 0.04 * _WOBBLE[i % 12]
        values.append(float(round(value)) if whole else round(value, 1))
    return values


def series(
    facts: GoalFacts, days: Sequence[date], want: GoalStatus, today: date, whole: bool = False
) -> list[float]:
    """Values on `days` for which the status rule says `want` today (as near as it can)."""
    if not days or want == GoalStatus.NO_DATA:
        return []
    if facts.direction == GoalDirection.HOLD and want != GoalStatus.OFF_TRACK:
        want = GoalStatus.MET  # a hold goal inside its band is met: it shows met or off track
    if want == GoalStatus.MET:  # on the way, then past the target (or inside the band)
        reached = _values(facts, days, 0.9, whole)
        step = 1.0 if whole else 0.4
        beyond = {GoalDirection.RAISE: step, GoalDirection.LOWER: -step, GoalDirection.HOLD: 0.2}
        reached[-1] = round(facts.target_value + beyond[facts.direction], 1)
        return reached
    paces = (1.5, 2.5) if facts.direction == GoalDirection.HOLD else _PACES[want]
    values: list[float] = []
    for pace in paces:
        values = _values(facts, days, pace, whole)
        points = [Point(day, value) for day, value in zip(days, values, strict=True)]
        if goal_status(facts, points, today) == want:
            break
    return values


# Loading ------------------------------------------------------------------------------------------


@dataclass
class _People:
    staff: User
    partners: list[tuple[User, str]]
    leads: dict[str, User] = field(default_factory=dict)  # by email
    members: list[User] = field(default_factory=list)


def _person(email: str, name: str, role: Role, locale: str, password_hash: str) -> User:
    user = find_user_by_email(email)
    if user is None:
        user = User(email=email, name=name, role=role, locale=locale, password_hash=password_hash)
        db.session.add(user)
        db.session.flush()
    return user


def _people(password_hash: str) -> _People:
    people = _People(
        staff=_person(STAFF_EMAIL, "Sofía Staff", Role.STAFF, "en", password_hash),
        partners=[
            (_person(email, name, Role.MEMBER, "en", password_hash), organisation)
            for email, name, organisation in PARTNERS
        ],
        members=[
            _person(email, name, Role.MEMBER, locale, password_hash)
            for email, name, locale in TEAM_MEMBERS
        ],
    )
    for spec in (*PILOTS, *FIRST_YEAR):
        email, name, locale = spec.lead
        people.leads[email] = _person(email, name, Role.MEMBER, locale, password_hash)
    return people


def load_cycles_demo(password_hash: str | None = None) -> None:
    """Create the demo district's schools and cycles unless they exist (idempotent)."""
    if db.session.scalar(sa.select(School.id).where(School.code == PILOTS[0].code)):
        return
    if password_hash is None:
        from fellowship.auth.services import hash_password
        from fellowship.demo import DEMO_PASSWORD

        password_hash = hash_password(DEMO_PASSWORD)
    today = utcnow().date()
    this_label = label_for(today)
    first = int(this_label[:4]) - 1
    last_year = get_or_create(f"{first}-{(first + 1) % 100:02d}")
    this_year = get_or_create(this_label)
    people = _people(password_hash)
    rng = random.Random(f"cycles-{today.isoformat()}")  # noqa: S311 - demo content
    builder = _Builder(rng, today, people)
    for spec in PILOTS:
        builder.pilot(spec, last_year, this_year)
    for i, spec in enumerate(FIRST_YEAR):
        builder.first_year(spec, this_year, i)
    db.session.flush()


# Each pilot school's goals last year, how far each got (a share of the way to the target:
# 1 or more is met), and what the goals agreed in the review (the same, in the same order,
# plus Harbor View's new one) show this year.
PILOT_GOALS = {
    "FL-13-0041": ("applicants", "majority_share", "council", "belonging"),
    "FL-13-0187": ("suspensions", "belonging", "council"),
    "FL-13-0262": ("advanced_math", "belonging"),
}
PILOT_THIS_YEAR = {
    "FL-13-0041": (GoalStatus.ON_TRACK, GoalStatus.AT_RISK, GoalStatus.MET, GoalStatus.MET),
    "FL-13-0187": (GoalStatus.OFF_TRACK, GoalStatus.MET, GoalStatus.ON_TRACK),
    "FL-13-0262": (GoalStatus.OFF_TRACK, GoalStatus.MET, GoalStatus.NO_DATA),
}
PILOT_LAST_YEAR = {
    "FL-13-0041": (1.1, 0.6, 1.05, 1.0),
    "FL-13-0187": (0.55, 1.0, 0.3),
    "FL-13-0262": (0.7, 1.2),
}
STALE_GOAL = ("FL-13-0041", 3)  # Coral Ridge's belonging survey: not measured for months
OVERRIDDEN = ("FL-13-0262", 0)  # Harbor View's first goal: set to "at risk" by hand
OVERRIDE_REASON = (
    "The spring placement test has not been given yet and fall numbers always dip when "
    "students change schedules; we expect to be at 20 % after placement in February."
)
NEXT_REVIEW_SCHOOL = "FL-13-0041"  # the review scheduled in the next weeks


class _Builder:
    def __init__(self, rng: random.Random, today: date, people: _People) -> None:
        self.rng = rng
        self.today = today
        self.people = people

    # Schools and cycles ---------------------------------------------------------------------

    def _school(self, spec: SchoolSpec, pilot: bool) -> School:
        school = School(
            code=spec.code,
            name=spec.name,
            level=spec.level,
            is_magnet=True,
            magnet_theme=spec.theme,
            is_pilot=pilot,
            region=spec.region,
            is_active=True,
        )
        db.session.add(school)
        db.session.flush()
        return school

    def _cycle(
        self, school: School, year: SchoolYear, spec: SchoolSpec, stage: CycleStage
    ) -> Cycle:
        initiative = INITIATIVES[spec.initiative]
        cycle = Cycle(
            school_id=school.id,
            school_year_id=year.id,
            stage=stage,
            initiative_title=initiative.title,
            equity_challenge_md=initiative.challenge,
            root_causes_md=initiative.root_causes,
            aim_md=initiative.aim.format(end=f"June {year.ends_on.year}"),
        )
        db.session.add(cycle)
        db.session.flush()
        return cycle

    def _team(self, cycle: Cycle, spec: SchoolSpec, member: User | None, liaison: bool) -> None:
        rows = [(self.people.leads[spec.lead[0]], CycleRole.LEAD_TEACHER, "")]
        if member is not None:
            rows.append((member, CycleRole.TEAM_MEMBER, ""))
        for index in spec.partners:
            partner, organisation = self.people.partners[index]
            rows.append((partner, CycleRole.PARTNER, organisation))
        if liaison:
            rows.append((self.people.staff, CycleRole.STAFF_LIAISON, ""))
        db.session.add_all(
            CycleMembership(cycle_id=cycle.id, user_id=user.id, role=role, organisation=org)
            for user, role, org in rows
        )

    def _drivers(self, cycle: Cycle, spec: SchoolSpec) -> list[Driver]:
        """The initiative's driver diagram; returns its change ideas."""
        ideas: list[Driver] = []

        def add(kind: DriverKind, text: str, parent: Driver | None, position: int) -> Driver:
            node = Driver(
                cycle_id=cycle.id,
                parent_id=parent.id if parent else None,
                kind=kind,
                text=text,
                position=position,
            )
            db.session.add(node)
            db.session.flush()
            if kind == DriverKind.CHANGE_IDEA:
                ideas.append(node)
            return node

        for p, (primary_text, secondaries, direct) in enumerate(
            INITIATIVES[spec.initiative].drivers
        ):
            primary = add(DriverKind.PRIMARY, primary_text, None, p)
            for s, (secondary_text, change_ideas) in enumerate(secondaries):
                secondary = add(DriverKind.SECONDARY, secondary_text, primary, s)
                for c, idea in enumerate(change_ideas):
                    add(DriverKind.CHANGE_IDEA, idea, secondary, c)
            for c, idea in enumerate(direct):
                add(DriverKind.CHANGE_IDEA, idea, primary, len(secondaries) + c)
        return ideas

    # Goals and measurements -----------------------------------------------------------------

    def _goal(
        self, cycle: Cycle, key: str, position: int, baseline_on: date, nudge: float = 0.0
    ) -> Goal:
        spec = GOALS[key]
        baseline = spec.baseline + nudge
        target = spec.target + (nudge if spec.direction == GoalDirection.HOLD else 0.0)
        goal = Goal(
            cycle_id=cycle.id,
            title=spec.title,
            category=spec.category,
            metric=spec.metric,
            unit=spec.unit,
            baseline_value=round(baseline, 1),
            baseline_on=baseline_on,
            target_value=round(target, 1),
            direction=spec.direction,
            due_on=None,
            position=position,
        )
        db.session.add(goal)
        db.session.flush()
        return goal

    def _measure(
        self,
        goal: Goal,
        year: SchoolYear,
        want: GoalStatus,
        until: date,
        recorder: User,
        today: date | None = None,
    ) -> None:
        facts = GoalFacts(
            goal.direction,
            goal.baseline_value,
            goal.baseline_on,
            goal.target_value,
            goal.due_on or year.ends_on,
        )
        start = max(goal.baseline_on, year.starts_on + timedelta(days=10))
        days = _days(start, until)
        whole = goal.unit == "families"
        values = series(facts, days, want, today or self.today, whole)
        if not values:  # no data: nothing measured since the baseline
            return
        notes = ("", "", "From the monthly report.", "", "Counted again after a correction.")
        db.session.add_all(
            Measurement(
                goal_id=goal.id,
                measured_on=day,
                value=value,
                note=notes[i % len(notes)],
                recorded_by_id=recorder.id,
            )
            for i, (day, value) in enumerate(zip(days, values, strict=True))
        )

    def _final_values(
        self, goal: Goal, year: SchoolYear, reach: float, until: date, recorder: User
    ) -> None:
        """Last year's measurements: a steady move that got `reach` of the way by `until`."""
        facts = GoalFacts(
            goal.direction, goal.baseline_value, goal.baseline_on, goal.target_value, until
        )
        days = _days(goal.baseline_on, until)
        whole = goal.unit == "families"
        if goal.direction == GoalDirection.HOLD:
            reach = 0.1 if reach >= 1 else 1.5  # inside the band, or drifting out of it
        values = _values(facts, days, reach, whole)
        if days and reach >= 1:
            values[-1] = _values(facts, [until], reach, whole)[0]
        db.session.add_all(
            Measurement(goal_id=goal.id, measured_on=day, value=value, recorded_by_id=recorder.id)
            for day, value in zip(days, values, strict=True)
        )

    # Logs -------------------------------------------------------------------------------------

    def _tests(
        self,
        cycle: Cycle,
        spec: SchoolSpec,
        ideas: list[Driver],
        start: date,
        end: date,
        lead: User,
        decided_only: bool = False,
    ) -> None:
        tests = INITIATIVES[spec.initiative].tests
        span = max((end - start).days, 1)
        for i, (title, plan, prediction, done, study, decision) in enumerate(tests):
            if decision is None and decided_only:
                continue
            started = start + timedelta(days=span * (i + 1) // (len(tests) + 1))
            if started > end:
                continue
            db.session.add(
                ImprovementTest(
                    cycle_id=cycle.id,
                    driver_id=ideas[i % len(ideas)].id if ideas else None,
                    title=title,
                    plan_md=plan,
                    prediction_md=prediction,
                    do_md=done,
                    study_md=study,
                    decision=decision,
                    started_on=started,
                    ended_on=min(started + timedelta(days=42), end) if decision else None,
                    created_by_id=lead.id,
                )
            )

    def _engagement(
        self, cycle: Cycle, spec: SchoolSpec, start: date, end: date, lead: User
    ) -> None:
        sessions = INITIATIVES[spec.initiative].engagement
        span = max((end - start).days, 1)
        for i, (group, participants, heard, changed) in enumerate(sessions):
            db.session.add(
                EngagementSession(
                    cycle_id=cycle.id,
                    held_on=start + timedelta(days=span * (i + 1) // (len(sessions) + 1)),
                    group=group,
                    participants=participants + self.rng.randint(-3, 3),
                    heard_md=heard,
                    changed_md=changed,
                    recorded_by_id=lead.id,
                )
            )

    def _support(
        self,
        cycle: Cycle,
        spec: SchoolSpec,
        start: date,
        end: date,
        sessions: int,
        goals: list[Goal],
    ) -> None:
        topics = INITIATIVES[spec.initiative].support_topics
        span = max((end - start).days, 1)
        for i in range(sessions):
            partner, organisation = self.people.partners[spec.partners[i % len(spec.partners)]]
            kind, topic = topics[i % len(topics)]
            db.session.add(
                SupportActivity(
                    cycle_id=cycle.id,
                    provider_id=partner.id,
                    provider_name=organisation,
                    kind=kind,
                    held_on=start + timedelta(days=span * (i + 1) // (sessions + 1)),
                    hours=self.rng.choice((1.0, 1.5, 2.0, 2.5, 3.0, 4.0)),
                    participants=self.rng.randint(3, 18),
                    topic=topic,
                    notes="",
                    goal_id=goals[i % len(goals)].id if goals and i % 2 == 0 else None,
                    recorded_by_id=partner.id,
                )
            )

    # The pilots: last year, the signed review, this year ---------------------------------------

    def pilot(self, spec: SchoolSpec, last_year: SchoolYear, this_year: SchoolYear) -> None:
        index = PILOTS.index(spec)
        school = self._school(spec, pilot=True)
        lead = self.people.leads[spec.lead[0]]
        member = self.people.members[index]
        last = self._cycle(school, last_year, spec, CycleStage.YEARLY_REVIEW)
        self._team(last, spec, member, liaison=True)
        ideas = self._drivers(last, spec)
        keys = PILOT_GOALS[spec.code]
        baseline_on = last_year.starts_on + timedelta(days=40)
        meeting = last_year.ends_on - timedelta(days=34)
        goals = []
        for position, (key, reach) in enumerate(zip(keys, PILOT_LAST_YEAR[spec.code], strict=True)):
            goal = self._goal(last, key, position, baseline_on, nudge=self.rng.choice((-1, 0, 1)))
            self._final_values(goal, last_year, reach, meeting - timedelta(days=10), lead)
            goals.append((goal, reach))
        year_start, year_end = last_year.starts_on + timedelta(days=30), meeting - timedelta(days=7)
        self._tests(last, spec, ideas, year_start, year_end, lead, decided_only=True)
        self._engagement(last, spec, year_start, year_end, lead)
        self._support(last, spec, year_start, year_end, 6, [g for g, _ in goals])
        db.session.flush()

        self._signed_review(last, spec, goals, meeting, lead)
        last.stage = CycleStage.CLOSED
        db.session.flush()

        # This year's cycle, opened from last year's with the goals agreed in the review.
        [plan] = setup_services.plan_next_cycles([(last, school, last_year)], self.today)
        [cycle] = setup_services.carry_forward(self.people.staff, [plan])
        cycle.stage = CycleStage.IMPLEMENTING
        db.session.flush()
        new_goals = list(
            db.session.scalars(
                sa.select(Goal).where(Goal.cycle_id == cycle.id).order_by(Goal.position)
            )
        )
        new_ideas = list(
            db.session.scalars(
                sa.select(Driver).where(
                    Driver.cycle_id == cycle.id, Driver.kind == DriverKind.CHANGE_IDEA
                )
            )
        )
        for position, (goal, want) in enumerate(
            zip(new_goals, PILOT_THIS_YEAR[spec.code], strict=False)
        ):
            until = self.today - timedelta(days=3)
            if (spec.code, position) == STALE_GOAL:
                until = self.today - timedelta(days=75)
            self._measure(goal, this_year, want, until, lead)
            if (spec.code, position) == OVERRIDDEN:
                goal.status_override = GoalStatus.AT_RISK
                goal.override_reason = OVERRIDE_REASON
                goal.override_by_id = lead.id
                goal.override_at = utcnow()
        start = this_year.starts_on + timedelta(days=20)
        end = self.today - timedelta(days=2)
        if end > start:  # not in the year's first weeks
            self._tests(cycle, spec, new_ideas, start, end, lead)
            self._engagement(cycle, spec, start, end, lead)
            self._support(cycle, spec, start, end, 4, new_goals)
        if spec.code == NEXT_REVIEW_SCHOOL:
            db.session.add(
                GoalsReview(
                    cycle_id=cycle.id,
                    scheduled_for=self.today + timedelta(days=18),
                    location="District office, room 204",
                    participants=f"{lead.name} (lead teacher)\n{self.people.staff.name} (staff)\n"
                    f"{self.people.partners[0][0].name} ({BRIDGES})",
                    status=ReviewStatus.SCHEDULED,
                    scheduled_by_id=self.people.staff.id,
                )
            )
        db.session.flush()

    def _signed_review(
        self,
        cycle: Cycle,
        spec: SchoolSpec,
        goals: list[tuple[Goal, float]],
        meeting: date,
        lead: User,
    ) -> None:
        """Last year's goals review: every goal rated, notes, next year's goals, then signed
        by the lead teacher and staff through the review service (so the snapshot is real)."""
        staff = self.people.staff
        review = GoalsReview(
            cycle_id=cycle.id,
            scheduled_for=meeting,
            location="District office, room 204",
            participants=f"{lead.name} (lead teacher)\n{staff.name} (staff reviewer)",
            status=ReviewStatus.IN_MEETING,
            scheduled_by_id=staff.id,
            notes_md=(
                f"We looked at each goal's trend with the team. **What worked:** "
                f"{INITIATIVES[spec.initiative].tests[0][0].lower()}. **What did not:** the "
                "spring measurements came late, so the team decided to measure monthly next "
                "year. Next year's goals below keep what we started and raise the bar where "
                "we got there."
            ),
        )
        db.session.add(review)
        db.session.flush()
        comments = {
            Rating.MET: "Reached the target; we keep the practice that got us there.",
            Rating.PROGRESSING: "Moving the right way, not there yet.",
            Rating.NOT_MET: "Little movement; the change ideas need rethinking.",
        }
        for position, (goal, reach) in enumerate(goals):
            rating = (
                Rating.MET if reach >= 1 else Rating.PROGRESSING if reach >= 0.5 else Rating.NOT_MET
            )
            db.session.add(
                GoalRating(
                    review_id=review.id,
                    goal_id=goal.id,
                    rating=rating,
                    comment=comments[rating],
                    rated_by_id=staff.id,
                )
            )
            # Next year: continue the goal (its baseline is its latest value); a goal reached
            # gets a more ambitious target.
            target = goal.target_value
            if reach >= 1 and goal.direction != GoalDirection.HOLD:
                target += 5 if goal.direction == GoalDirection.RAISE else -3
            db.session.add(
                ProposedGoal(
                    review_id=review.id,
                    goal_id=goal.id,
                    title=goal.title,
                    category=goal.category,
                    metric=goal.metric,
                    unit=goal.unit,
                    target_value=target,
                    direction=goal.direction,
                    position=position,
                )
            )
        if spec.code == "FL-13-0262":  # a new goal, with its own baseline
            ib = GOALS["ib_diploma"]
            db.session.add(
                ProposedGoal(
                    review_id=review.id,
                    title=ib.title,
                    category=ib.category,
                    metric=ib.metric,
                    unit=ib.unit,
                    baseline_value=ib.baseline,
                    baseline_on=meeting,
                    target_value=ib.target,
                    direction=ib.direction,
                    position=len(goals),
                )
            )
        db.session.flush()
        review_services.sign_review(
            lead, review, review_services.LEAD, review.version, today=meeting, notify=False
        )
        review_services.sign_review(
            staff, review, review_services.STAFF, review.version, today=meeting, notify=False
        )

    # First-year schools --------------------------------------------------------------------------

    _WANTS = (
        (GoalStatus.ON_TRACK, GoalStatus.AT_RISK, GoalStatus.MET),
        (GoalStatus.OFF_TRACK, GoalStatus.ON_TRACK),
        (GoalStatus.AT_RISK, GoalStatus.ON_TRACK, GoalStatus.OFF_TRACK),
        (GoalStatus.MET, GoalStatus.ON_TRACK, GoalStatus.AT_RISK),
    )

    def first_year(self, spec: SchoolSpec, this_year: SchoolYear, i: int) -> None:
        school = self._school(spec, pilot=False)
        lead = self.people.leads[spec.lead[0]]
        cycle = self._cycle(school, this_year, spec, spec.stage)
        self._team(cycle, spec, None, liaison=False)
        ideas = self._drivers(cycle, spec)
        keys = [
            key
            for key in INITIATIVES[spec.initiative].goals
            if key != "ib_diploma" or spec.level == SchoolLevel.HIGH  # IB Diploma: high schools
        ][: 2 + i % 2]
        baseline_on = min(this_year.starts_on + timedelta(days=35), self.today - timedelta(days=40))
        planning = spec.stage == CycleStage.PLANNING
        wants = self._WANTS[i % len(self._WANTS)]
        goals = []
        for position, key in enumerate(keys):
            goal = self._goal(
                cycle, key, position, baseline_on, nudge=self.rng.choice((-2, -1, 0, 1, 2))
            )
            goals.append(goal)
            if planning:
                continue  # measuring starts once the plan is in place
            self._measure(
                goal, this_year, wants[position % len(wants)], self.today - timedelta(days=4), lead
            )
        start = this_year.starts_on + timedelta(days=25)
        end = self.today - timedelta(days=2)
        if end > start:  # not in the year's first weeks
            if not planning:
                self._tests(cycle, spec, ideas[:2], start, end, lead)
                self._engagement(cycle, spec, start, end, lead)
            self._support(cycle, spec, start, end, 1 if planning else 3, goals)
        db.session.flush()
