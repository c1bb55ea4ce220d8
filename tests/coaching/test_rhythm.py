"""Coaching rhythm across a cohort, for staff: check-ins per fellow per month, who is overdue,
per-coach totals."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from fellowship.coaching import caseload as rules
from fellowship.coaching.caseload import RhythmStatus
from fellowship.cohorts.models import CohortRole, MembershipStatus
from tests.coaching.caseload_helpers import (
    ago,
    assign,
    big_cohort,
    checkin,
    measure,
    member,
    running_cohort,
    today,
)
from tests.conftest import sign_in
from tests.factories import AdminFactory, StaffFactory

# Pure rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "ends", "today_", "first", "last", "count"),
    [
        # A long-running cohort: the last twelve months, this one included.
        (date(2025, 1, 10), date(2027, 6, 15), date(2026, 11, 29), date(2025, 12, 1), None, 12),
        # A cohort three and a half months old shows its months only.
        (date(2026, 8, 15), date(2027, 6, 15), date(2026, 11, 29), date(2026, 8, 1), None, 4),
        # An ended cohort shows its last twelve months.
        (date(2024, 8, 1), date(2025, 6, 15), date(2026, 11, 29), date(2024, 8, 1), "2025-06", 11),
        # Not started yet: nothing to show.
        (date(2027, 1, 5), date(2027, 6, 15), date(2026, 11, 29), None, None, 0),
    ],
)
def test_the_months_shown_are_the_last_twelve_within_the_cohort(
    starts, ends, today_, first, last, count
):
    months = rules.rhythm_months(starts, ends, today_)
    assert len(months) == count
    if count:
        assert months[0] == first
        assert all(m.day == 1 for m in months)
        assert months[-1].strftime("%Y-%m") == (last or today_.strftime("%Y-%m"))


def test_the_average_gap_pools_the_gaps_of_each_coach_and_fellow():
    pairs = [
        (3, date(2026, 9, 1), date(2026, 9, 29)),  # two gaps of 14 days in all
        (2, date(2026, 10, 1), date(2026, 10, 21)),  # one gap of 20 days
        (1, date(2026, 11, 1), date(2026, 11, 1)),  # no gap
    ]
    assert rules.average_gap(pairs) == 16.0
    assert rules.average_gap([(1, date(2026, 9, 1), date(2026, 9, 1))]) is None
    assert rules.average_gap([]) is None


# The aggregates ----------------------------------------------------------------------------


@pytest.fixture
def cohort_world(app):
    cohort = running_cohort()
    carmen = member(cohort, CohortRole.COACH, "Carmen Coach")
    grace = member(cohort, CohortRole.COACH, "Grace Obi")
    idle = member(cohort, CohortRole.COACH, "Idle Coach")
    amara = member(cohort, CohortRole.FELLOW, "Amara Okafor")
    diego = member(cohort, CohortRole.FELLOW, "Diego Ramírez")
    hannah = member(cohort, CohortRole.FELLOW, "Hannah Kim")
    nobody = member(cohort, CohortRole.FELLOW, "Tomás Nguyen")  # no coach
    member(cohort, CohortRole.FELLOW, "Withdrawn Fellow", MembershipStatus.WITHDRAWN)
    assign(cohort, amara, carmen, ago(150))
    assign(cohort, diego, carmen, ago(150))
    assign(cohort, hannah, grace, ago(150))
    for days in (70, 56, 42):  # Amara: every two weeks, then nothing for six weeks
        checkin(cohort, carmen, amara, ago(days))
    for days in (60, 40, 20, 5):  # Diego: every twenty days, the last one a draft
        checkin(cohort, carmen, diego, ago(days), shared=days != 5)
    for days in (25, 10):  # Hannah: Carmen first, then Grace; and a draft of Carmen's
        checkin(cohort, carmen if days == 25 else grace, hannah, ago(days))
    checkin(cohort, carmen, hannah, ago(2), shared=False)
    return {
        "cohort": cohort,
        "carmen": carmen,
        "grace": grace,
        "idle": idle,
        "nobody": nobody,
    }


def test_the_rhythm_counts_shared_check_ins_per_fellow_and_month(cohort_world):
    cohort = cohort_world["cohort"]
    rhythm = rules.cohort_rhythm(cohort, today())
    # The cohort is 200 days old: its months so far.
    assert (rhythm.months[0], rhythm.months[-1]) == (
        ago(200).replace(day=1),
        today().replace(day=1),
    )
    fellows = {f.name: f for f in rhythm.fellows}
    assert list(fellows) == ["Amara Okafor", "Diego Ramírez", "Hannah Kim", "Tomás Nguyen"]
    assert fellows["Amara Okafor"].total == 3
    assert fellows["Diego Ramírez"].total == 3  # the draft is not counted
    assert fellows["Hannah Kim"].total == 2  # nor is another coach's draft
    assert fellows["Tomás Nguyen"].total == 0
    month_of = {m: i for i, m in enumerate(rhythm.months)}
    for days in (70, 56, 42):
        day = ago(days)
        assert fellows["Amara Okafor"].monthly[month_of[day.replace(day=1)]] >= 1
    assert rhythm.total == 8
    assert sum(rhythm.monthly_totals) == 8


def test_the_rhythm_names_who_is_overdue_by_the_caseload_rule(cohort_world):
    rhythm = rules.cohort_rhythm(cohort_world["cohort"], today())
    fellows = {f.name: f for f in rhythm.fellows}
    assert (fellows["Amara Okafor"].days, fellows["Amara Okafor"].status) == (
        42,
        RhythmStatus.OVERDUE,
    )
    # Diego's coach's draft of 5 days ago counts on the coach's own caseload only: staff never
    # learn that a draft exists, so here his last check-in is the shared one, 20 days ago.
    assert (fellows["Diego Ramírez"].days, fellows["Diego Ramírez"].status) == (
        20,
        RhythmStatus.OVERDUE,
    )
    # Hannah's draft is by her previous coach: it does not count.
    assert fellows["Hannah Kim"].days == 10
    assert fellows["Tomás Nguyen"].status is None
    assert [f.name for f in rhythm.overdue] == ["Amara Okafor", "Diego Ramírez"]
    assert [f.name for f in rhythm.without_coach] == ["Tomás Nguyen"]


def test_per_coach_totals(cohort_world):
    rhythm = rules.cohort_rhythm(cohort_world["cohort"], today())
    coaches = {c.name: c for c in rhythm.coaches}
    assert list(coaches) == ["Carmen Coach", "Grace Obi", "Idle Coach"]
    carmen, grace, idle = coaches["Carmen Coach"], coaches["Grace Obi"], coaches["Idle Coach"]
    assert (carmen.fellows, carmen.overdue_fellows) == (2, 2)
    # Shared check-ins by Carmen: Amara 70, 56, 42; Diego 60, 40, 20; Hannah 25 days ago.
    assert (carmen.last_30_days, carmen.last_90_days) == (2, 7)
    # Gaps: Amara 14 + 14, Diego 20 + 20 → 68 days over 4 gaps.
    assert carmen.average_gap_days == 17.0
    assert (grace.fellows, grace.last_30_days, grace.last_90_days) == (1, 1, 1)
    assert grace.average_gap_days is None
    assert (idle.fellows, idle.last_30_days, idle.average_gap_days) == (0, 0, None)


def test_a_coach_who_left_but_still_has_fellows_is_listed(cohort_world):
    cohort = cohort_world["cohort"]
    gone = member(cohort, CohortRole.COACH, "Former Coach", MembershipStatus.WITHDRAWN)
    fellow = member(cohort, CohortRole.FELLOW, "Left Behind")
    assign(cohort, fellow, gone, ago(30))
    rhythm = rules.cohort_rhythm(cohort, today())
    former = next(c for c in rhythm.coaches if c.name == "Former Coach")
    assert (former.fellows, former.overdue_fellows) == (1, 1)


# The page ----------------------------------------------------------------------------------


def test_staff_see_the_rhythm_as_tables(client, cohort_world):
    cohort = cohort_world["cohort"]
    sign_in(client, StaffFactory())
    response = client.get(f"/cohorts/{cohort.id}/rhythm")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert f"Coaching rhythm in {cohort.name}" in html
    assert html.count("<caption") == 2
    months = len(rules.rhythm_months(cohort.starts_on, cohort.ends_on, today()))
    assert html.count('<th scope="col"') == 6 + 2 + months + 1  # coaches; fellow, coach, total
    assert "Fellows overdue (2)" in html
    assert re.search(r"Amara Okafor: 42 days since the last check-in", html)
    carmen = cohort_world["carmen"]
    assert f'href="/cohorts/{cohort.id}/coaches/{carmen.id}/caseload"' in html
    assert 'class="table-scroll" role="region"' in html
    assert "Tomás Nguyen" in html


def test_the_cohort_page_links_staff_to_the_rhythm(client, cohort_world):
    cohort = cohort_world["cohort"]
    sign_in(client, AdminFactory())
    html = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert f'href="/cohorts/{cohort.id}/rhythm"' in html
    assert f'href="/cohorts/{cohort.id}/caseload"' not in html  # staff do not coach here


def test_a_cohort_that_has_not_started_says_so(client, app):
    cohort = running_cohort(starts_on=today() + timedelta(days=30))
    member(cohort, CohortRole.FELLOW)
    sign_in(client, StaffFactory())
    html = client.get(f"/cohorts/{cohort.id}/rhythm").get_data(as_text=True)
    assert "The cohort has not started yet." in html


@pytest.mark.parametrize("who", ["carmen", "fellow", "facilitator"])
def test_only_staff_see_the_rhythm(client, cohort_world, who):
    cohort = cohort_world["cohort"]
    viewer = {
        "carmen": lambda: cohort_world["carmen"],
        "fellow": lambda: member(cohort, CohortRole.FELLOW),
        "facilitator": lambda: member(cohort, CohortRole.FACILITATOR),
    }[who]()
    sign_in(client, viewer)
    assert client.get(f"/cohorts/{cohort.id}/rhythm").status_code == 403


def test_the_rhythm_page_takes_the_same_queries_for_10_and_200_fellows(client, count_queries):
    results = {}
    sign_in(client, StaffFactory())
    for fellows in (10, 200):
        big = big_cohort(fellows, coaches=max(1, fellows // 20), label=f"rhythm{fellows}")
        url = f"/cohorts/{big.cohort.id}/rhythm"
        results[fellows] = measure(client, count_queries, url)
        html = client.get(url).get_data(as_text=True)
        assert html.count("<tr>") == fellows + len(big.coaches) + 3  # two heads, one foot
        print(
            f"\nrhythm, {fellows} fellows, {len(big.coaches)} coaches, 12 months: "
            f"{results[fellows].queries} queries, median {results[fellows].median_ms:.1f} ms"
        )
    assert results[10].status == results[200].status == 200
    assert results[10].queries == results[200].queries <= 15
