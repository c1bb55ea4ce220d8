"""The capstone pipeline: every capstone and every active fellow without one, statuses in
words, waiting time and its flag, reviews done of assigned, decisions, links, the counts, the
filter, the sort, pagination, and a fixed number of queries at 12 and at 400 capstones."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import pytest

from fellowship.auth.models import User
from fellowship.capstones.models import CapstoneStatus, Recommendation, Stage
from fellowship.cohorts.models import Cohort, CohortRole, MembershipStatus
from tests.capstones.helpers import AssignmentFactory, DecisionFactory, VersionFactory
from tests.capstones.test_staff_helpers import (
    big_pipeline,
    measure,
    member,
    review,
    running_cohort,
    submitted,
)
from tests.conftest import sign_in
from tests.factories import StaffFactory

S = CapstoneStatus


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()


def rows(html: str) -> dict[str, list[str]]:
    """{fellow: [the text of each cell]} from the table body, in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    result = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        name = text_of(re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, re.S)[1])
        result[name] = [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return result


def pipeline_url(cohort, **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/cohorts/{cohort.id}/capstones" + (f"?{query}" if query else "")


@dataclass
class Small:
    cohort: Cohort
    facilitator: User
    ana_version: int
    eve_version: int
    ben_capstone: int


@pytest.fixture
def small(app) -> Small:
    cohort = running_cohort()
    facilitator = member(cohort, CohortRole.FACILITATOR, "Fay Facilitator")
    # Days waiting are counted on the viewer's calendar: in UTC, "30 days ago" is 30 calendar
    # days at any hour, also across a daylight-saving change (New York's can make it 29).
    facilitator.timezone = "UTC"
    rita = member(cohort, CohortRole.REVIEWER, "Rita Reviewer")
    raul = member(cohort, CohortRole.REVIEWER, "Raul Reviewer")
    ana = member(cohort, CohortRole.FELLOW, "Ana Alvarez")
    ben = member(cohort, CohortRole.FELLOW, "Ben Brooks")
    cy = member(cohort, CohortRole.FELLOW, "Cy Chen")
    dee = member(cohort, CohortRole.FELLOW, "Dee Dorsey")
    eve = member(cohort, CohortRole.FELLOW, "Eve Evans")
    member(cohort, CohortRole.FELLOW, "Finn Notyet")
    wes = member(cohort, CohortRole.FELLOW, "Wes Withdrawn", MembershipStatus.WITHDRAWN)
    member(cohort, CohortRole.FELLOW, "Wanda Gone", MembershipStatus.WITHDRAWN)
    # Ana: a proposal waiting 20 days, one of two reviews in.
    _capstone, ana_v = submitted(cohort, ana, S.PROPOSAL_SUBMITTED, days=20, title="Ana's school")
    review(AssignmentFactory(version_id=ana_v.id, reviewer_id=rita.id))
    review(AssignmentFactory(version_id=ana_v.id, reviewer_id=raul.id), submitted_days=None)
    # Ben: revisions requested on version 1, a working draft of version 2.
    ben_c, ben_v = submitted(cohort, ben, S.PROPOSAL_REVISIONS, days=3, title="Ben's school")
    DecisionFactory(version_id=ben_v.id, outcome=Recommendation.REVISE)
    VersionFactory(capstone_id=ben_c.id, number=2, submitted_at=None)
    # Cy: started, nothing submitted.
    from tests.capstones.helpers import CapstoneFactory

    CapstoneFactory(cohort_id=cohort.id, fellow_id=cy.id, title="Cy's school")
    # Dee: approved a month ago (the final was version 3).
    _capstone, dee_v = submitted(cohort, dee, S.APPROVED, number=3, days=30, title="Dee's school")
    DecisionFactory(version_id=dee_v.id, outcome=Recommendation.APPROVE)
    # Eve: a final waiting 2 days, nobody assigned.
    _capstone, eve_v = submitted(cohort, eve, S.FINAL_SUBMITTED, number=2, days=2, title="Eve's")
    # Wes: withdrawn, but his capstone stays in the record.
    submitted(cohort, wes, S.PROPOSAL_SUBMITTED, days=16, title="Wes's school")
    # Another cohort's capstone is not here.
    elsewhere = running_cohort()
    submitted(elsewhere, member(elsewhere, CohortRole.FELLOW, "Elsa Elsewhere"), days=40)
    return Small(cohort, facilitator, ana_v.id, eve_v.id, ben_c.id)


def test_the_pipeline_lists_every_capstone_and_every_active_fellow_without_one(client, small):
    sign_in(client, small.facilitator)
    response = client.get(pipeline_url(small.cohort))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "<caption" in html
    assert re.search(r'class="usa-table-container--scrollable" role="region"', html)
    assert 'tabindex="0"' in html
    table = rows(html)
    assert list(table) == [
        "Ana Alvarez",
        "Ben Brooks",
        "Cy Chen",
        "Dee Dorsey",
        "Eve Evans",
        "Finn Notyet",
        "Wes Withdrawn",
    ]
    # capstone, status, waiting, latest submission, reviews done, decision, actions
    assert table["Ana Alvarez"][:6] == [
        "Ana's school",
        "Proposal submitted",
        "20 days Waiting too long",
        "Version 1",
        "1 of 2",
        "Awaiting decision",
    ]
    assert "Assign reviewers for Ana Alvarez" in table["Ana Alvarez"][6]
    assert "Record decision for Ana Alvarez" in table["Ana Alvarez"][6]
    assert f'href="/capstone-versions/{small.ana_version}/decision"' in html
    assert f'href="/capstone-versions/{small.ana_version}/reviewers"' in html
    assert table["Ben Brooks"][:6] == [
        "Ben's school",
        "Proposal: revisions requested",
        "3 days",
        "Version 1",  # the working draft of version 2 is the fellow's own
        "No reviewers",
        "Revisions requested",
    ]
    assert table["Ben Brooks"][6] == "Open the capstone of Ben Brooks"
    assert f'href="/capstones/{small.ben_capstone}"' in html
    assert table["Cy Chen"][1] == "Draft"
    assert table["Cy Chen"][3:6] == ["Nothing submitted", "—", "—"]
    assert table["Dee Dorsey"][1:6] == [
        "Approved",
        "30 days",
        "Version 3",
        "No reviewers",
        "Approved",
    ]
    assert table["Eve Evans"][1:6] == [
        "Final submitted",
        "2 days",
        "Version 2",
        "No reviewers",
        "Awaiting decision",
    ]
    assert table["Finn Notyet"] == ["—", "Not started", "—", "Nothing submitted", "—", "—", ""]
    assert table["Wes Withdrawn"][2] == "16 days Waiting too long"
    for gone in ("Wanda Gone", "Elsa Elsewhere"):
        assert gone not in html


def test_the_counts_by_status_sit_at_the_top_and_link_to_the_filter(client, small):
    sign_in(client, StaffFactory())
    html = client.get(pipeline_url(small.cohort)).get_data(as_text=True)
    counts = html.split('id="counts-heading"', 1)[1].split("</ul>", 1)[0]
    plain = text_of(counts)
    assert "7 fellows and capstones, by status" in plain
    for label, count in [
        ("Not started", 1),
        ("Draft", 1),
        ("Proposal submitted", 2),
        ("Proposal: revisions requested", 1),
        ("Proposal approved", 0),
        ("Final submitted", 1),
        ("Final: revisions requested", 0),
        ("Approved", 1),
    ]:
        assert f"{label}: {count}" in plain
    link = f"/cohorts/{small.cohort.id}/capstones?status=proposal_submitted&amp;sort=fellow"
    assert f'href="{link}"' in counts


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("proposal_submitted", ["Ana Alvarez", "Wes Withdrawn"]),
        ("not_started", ["Finn Notyet"]),
        ("approved", ["Dee Dorsey"]),
        ("final_revisions", []),
        ("nonsense", None),  # anything unknown shows everyone
    ],
)
def test_the_pipeline_filters_by_status(client, small, status, expected):
    sign_in(client, StaffFactory())
    html = client.get(pipeline_url(small.cohort, status=status)).get_data(as_text=True)
    if expected is None:
        assert len(rows(html)) == 7
    elif expected:
        assert list(rows(html)) == expected
        assert "Show all" in html
    else:
        assert "<tbody>" not in html
        assert "Nobody has the status “Final: revisions requested”." in unescape(html)


def test_the_pipeline_sorts_by_waiting_time_longest_first_and_not_started_last(client, small):
    sign_in(client, StaffFactory())
    html = client.get(pipeline_url(small.cohort, sort="waiting")).get_data(as_text=True)
    order = list(rows(html))
    assert order[:5] == ["Dee Dorsey", "Ana Alvarez", "Wes Withdrawn", "Ben Brooks", "Eve Evans"]
    assert order[-1] == "Finn Notyet"
    assert re.search(r'<option selected value="waiting">|<option value="waiting" selected>', html)
    filtered = client.get(pipeline_url(small.cohort, status="proposal_submitted", sort="waiting"))
    assert list(rows(filtered.get_data(as_text=True))) == ["Ana Alvarez", "Wes Withdrawn"]


def test_the_flag_is_for_submissions_waiting_more_than_14_days_only(client):
    cohort = running_cohort()
    staff = StaffFactory(timezone="UTC")  # calendar days that no DST change shortens
    for name, status, days in [
        ("Ann Fourteen", S.PROPOSAL_SUBMITTED, 14),
        ("Bo Fifteen", S.FINAL_SUBMITTED, 15),
        ("Cal Revising", S.PROPOSAL_REVISIONS, 40),
    ]:
        submitted(cohort, member(cohort, CohortRole.FELLOW, name), status, days=days)
    sign_in(client, staff)
    table = rows(client.get(pipeline_url(cohort)).get_data(as_text=True))
    assert table["Ann Fourteen"][2] == "14 days"
    assert table["Bo Fifteen"][2] == "15 days Waiting too long"
    assert table["Cal Revising"][2] == "40 days"


def test_an_archived_cohorts_pipeline_is_read_only(client, small):
    from fellowship.cohorts.models import CohortStatus
    from fellowship.extensions import db

    small.cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    sign_in(client, StaffFactory())
    html = client.get(pipeline_url(small.cohort)).get_data(as_text=True)
    assert "Ana's school" in unescape(html)
    assert "Record decision" not in html
    assert "Assign reviewers" not in html
    assert "Awaiting decision" in html


def test_the_pipeline_pages_at_50_keeping_filter_and_sort(client):
    big = big_pipeline(57, "page", not_started=3)
    sign_in(client, StaffFactory())
    first = client.get(pipeline_url(big.cohort, sort="waiting")).get_data(as_text=True)
    assert len(rows(first)) == 50
    assert "(page 1 of 2)" in first
    assert f'href="/cohorts/{big.cohort.id}/capstones?page=2&amp;sort=waiting"' in first
    second = client.get(pipeline_url(big.cohort, sort="waiting", page="2")).get_data(as_text=True)
    assert len(rows(second)) == 10
    assert list(rows(second))[-3:] == [
        "Fellow page 0057",
        "Fellow page 0058",
        "Fellow page 0059",
    ]  # not started, last
    assert not set(rows(first)) & set(rows(second))
    beyond = client.get(pipeline_url(big.cohort, page="99")).get_data(as_text=True)
    assert len(rows(beyond)) == 10  # the last page
    assert len(rows(client.get(pipeline_url(big.cohort, page="x")).get_data(as_text=True))) == 50


def test_the_pipeline_runs_a_fixed_number_of_queries_at_12_and_400_capstones(
    client, count_queries, capsys
):
    staff = StaffFactory()
    sign_in(client, staff)
    small = big_pipeline(12, "q12", not_started=2)
    large = big_pipeline(400, "q400", not_started=2)
    at_12 = measure(client, count_queries, pipeline_url(small.cohort))
    at_400 = measure(client, count_queries, pipeline_url(large.cohort))
    waiting_400 = measure(client, count_queries, pipeline_url(large.cohort, sort="waiting"))
    filtered_400 = measure(
        client, count_queries, pipeline_url(large.cohort, status="final_submitted")
    )
    assert at_12.status == at_400.status == 200
    assert len(rows(at_12.html)) == 14
    assert len(rows(at_400.html)) == 50
    assert at_12.queries == at_400.queries == waiting_400.queries == filtered_400.queries
    assert at_400.queries <= 15
    # The counts are of the whole cohort, the reviews and decisions of the rows shown.
    assert "402 fellows and capstones, by status" in at_400.html
    assert re.search(r"\d+ of 3", at_400.html)
    with capsys.disabled():
        print(
            f"\npipeline: 12 capstones {at_12.queries} queries {at_12.median_ms:.1f} ms; "
            f"400 capstones {at_400.queries} queries {at_400.median_ms:.1f} ms "
            f"(sorted by waiting {waiting_400.median_ms:.1f} ms, "
            f"filtered {filtered_400.median_ms:.1f} ms)"
        )


def test_the_latest_version_is_the_latest_submitted_one(client):
    cohort = running_cohort()
    fellow = member(cohort, CohortRole.FELLOW, "Ana Alvarez")
    capstone, _first = submitted(cohort, fellow, S.FINAL_SUBMITTED, number=2, stage=Stage.FINAL)
    VersionFactory(capstone_id=capstone.id, number=3, stage=Stage.FINAL, submitted_at=None)
    sign_in(client, StaffFactory())
    table = rows(client.get(pipeline_url(cohort)).get_data(as_text=True))
    assert table["Ana Alvarez"][3] == "Version 2"
