"""The portfolio: every cycle of a school year in one table, filtered, sorted, exported."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import User
from fellowship.cycles import portfolio_queries, queries
from fellowship.cycles.models import CycleStage, GoalStatus, ReviewStatus
from fellowship.cycles.portfolio_views import csv_cell
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.school_years import label_for
from tests.conftest import rows_for_module
from tests.cycles.helpers import CycleMemberFactory, GoalFactory, cycle_with_team
from tests.cycles.portfolio_helpers import Shape, build_cycle, raise_goal, year
from tests.factories import (
    AdminFactory,
    MembershipFactory,
    StaffFactory,
    UserFactory,
)


def today():
    return utcnow().date()


ROW_NAME = re.compile(r'<th scope="row"><a class="usa-link" href="[^"]*">([^<]*)</a>')


def names_on(html: str) -> list[str]:
    return ROW_NAME.findall(html)


# Four schools that differ in every filtered and sorted column.
MET = raise_goal([(60, 31.0)])
ON_TRACK = raise_goal([(30, 22.0), (60, 26.0), (100, 29.0)])
OFF_TRACK = raise_goal([(30, 17.0)])
NO_DATA = raise_goal([])
AT_RISK_BY_HAND = raise_goal([(100, 20.0)], GoalStatus.AT_RISK)

SHAPES = [
    Shape(
        "Alder Pilot STEM",
        pilot=True,
        theme="STEM",
        region="North",
        goals=(MET, MET, ON_TRACK),
        hours=(6.0, 4.0),
        review=ReviewStatus.SIGNED,
    ),
    Shape(
        "Birch Magnet Arts",
        theme="Arts",
        region="Central",
        stage=CycleStage.PLANNING,
        goals=(NO_DATA,),
        hours=(2.5,),
    ),
    Shape(
        "Cedar Neighborhood",
        magnet=False,
        region="South",
        goals=(OFF_TRACK, MET, AT_RISK_BY_HAND),
        review=ReviewStatus.SCHEDULED,
    ),
    Shape(
        "Dogwood Pilot",
        pilot=True,
        magnet=False,
        region="South",
        stage=CycleStage.YEARLY_REVIEW,
        goals=(OFF_TRACK, OFF_TRACK),
        hours=(5.0,),
        review=ReviewStatus.IN_MEETING,
    ),
]
A, B, C, D = (shape.name for shape in SHAPES)


def _four():
    this_year = year(label_for(today()))
    baseline = today() - timedelta(days=120)
    return [build_cycle(shape, this_year, baseline) for shape in SHAPES]


built_four = rows_for_module(_four)


@pytest.fixture
def four(built_four, request):
    return built_four.thaw_for(request)


@pytest.fixture
def staff_client(login_as):
    return login_as(StaffFactory())


# Filters and sorting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", [A, B, C, D]),
        ("pilot=yes", [A, D]),
        ("pilot=no", [B, C]),
        ("magnet=yes", [A, B]),
        ("magnet=no", [C, D]),
        ("region=South", [C, D]),
        ("stage=planning", [B]),
        ("stage=yearly_review", [D]),
        ("pilot=yes&region=South", [D]),
        ("pilot=no&magnet=no&region=South&stage=implementing", [C]),
        # Unknown values mean "any", never an error.
        ("pilot=maybe", [A, B, C, D]),
        ("magnet=1", [A, B, C, D]),
        ("region=Atlantis", [A, B, C, D]),
        ("stage=finished", [A, B, C, D]),
        ("region=%3Cscript%3E", [A, B, C, D]),
    ],
)
def test_the_portfolio_filters_by_pilot_magnet_region_and_stage(staff_client, four, query, shown):
    response = staff_client.get(f"/portfolio/?{query}")
    assert response.status_code == 200
    assert names_on(response.get_data(as_text=True)) == shown


@pytest.mark.parametrize(
    ("query", "order"),
    [
        ("", [A, B, C, D]),
        ("sort=school&dir=desc", [D, C, B, A]),
        ("sort=type&dir=asc", [A, D, B, C]),  # pilots first, then magnets
        ("sort=region&dir=asc", [B, A, C, D]),  # ties by school name
        ("sort=stage&dir=asc", [B, A, C, D]),  # planning, implementing twice, yearly review
        ("sort=stage&dir=desc", [D, A, C, B]),
        ("sort=met&dir=desc", [A, C, B, D]),
        ("sort=off_track&dir=desc", [D, C, A, B]),
        ("sort=at_risk&dir=desc", [C, A, B, D]),
        ("sort=no_data&dir=desc", [B, A, C, D]),
        ("sort=on_track&dir=asc", [B, C, D, A]),
        ("sort=hours&dir=desc", [A, D, B, C]),
        ("sort=hours", [A, D, B, C]),  # hours sort biggest first unless told
        ("sort=hours&dir=asc", [C, B, D, A]),
        ("sort=review&dir=asc", [B, C, D, A]),  # none, scheduled, in meeting, signed
        ("sort=last&dir=asc", [B, D, A, C]),  # never measured first, then the oldest
        # Unknown keys and directions fall back to the default order.
        ("sort=drop%20table&dir=asc", [A, B, C, D]),
        ("sort=school&dir=sideways", [A, B, C, D]),
        ("sort=&dir=", [A, B, C, D]),
    ],
)
def test_the_portfolio_sorts_by_any_column(staff_client, four, query, order):
    response = staff_client.get(f"/portfolio/?{query}")
    assert response.status_code == 200
    assert names_on(response.get_data(as_text=True)) == order


def test_the_sorted_column_says_so_and_its_link_reverses_the_order(staff_client, four):
    html = staff_client.get("/portfolio/?sort=hours&dir=desc&pilot=yes").get_data(as_text=True)
    sorted_headers = re.findall(r'<th scope="col"[^>]*aria-sort="(\w+)"', html)
    assert sorted_headers == ["descending"]
    header = re.search(
        r'aria-sort="descending">\s*<a class="usa-link sort-link" href="([^"]+)"', html
    )
    assert header is not None
    link = header.group(1).replace("&amp;", "&")
    assert "sort=hours" in link
    assert "dir=asc" in link
    assert "pilot=yes" in link
    assert "#portfolio" in link


def test_a_bookmarked_filtered_view_shows_the_same_rows_again(staff_client, four):
    url = f"/portfolio/?year={label_for(today())}&region=South&sort=off_track&dir=desc"
    first = names_on(staff_client.get(url).get_data(as_text=True))
    assert first == [D, C]
    assert names_on(staff_client.get(url).get_data(as_text=True)) == first


def test_the_page_says_how_many_cycles_it_shows_and_how_many_the_year_has(staff_client, four):
    html = staff_client.get("/portfolio/?pilot=yes").get_data(as_text=True)
    status = re.search(r'<p role="status">(.*?)</p>', html, re.S)
    assert status is not None
    text = " ".join(status.group(1).split())
    assert text.startswith(f"2 school cycles. 4 in {label_for(today())} without the filters.")
    unfiltered = staff_client.get("/portfolio/").get_data(as_text=True)
    assert '<p role="status">4 school cycles.' in unfiltered
    assert "without the filters" not in unfiltered


@pytest.mark.parametrize(
    "query",
    [
        "year=1999-00",
        "year=2026",
        "year=%00",
        "year=" + "9" * 400,
        "sort=" + "x" * 1000,
        "pilot[]=yes",
        "dir=%F0%9F%92%A5",
    ],
)
def test_odd_addresses_show_the_default_view_and_never_fail(staff_client, four, query):
    response = staff_client.get(f"/portfolio/?{query}")
    assert response.status_code in (200, 400)  # a NUL byte is refused before the view
    if response.status_code == 200:
        assert names_on(response.get_data(as_text=True)) == [A, B, C, D]


def test_the_year_defaults_to_this_school_year_and_the_selector_offers_others(staff_client, four):
    this_label = label_for(today())
    last_label = label_for(today() - timedelta(days=366))
    build_cycle(Shape("Elm Last Year"), year(last_label), today() - timedelta(days=500))
    html = staff_client.get("/portfolio/").get_data(as_text=True)
    assert names_on(html) == [A, B, C, D]
    assert f'<option selected value="{this_label}">' in html
    assert f'<option value="{last_label}">' in html
    other = staff_client.get(f"/portfolio/?year={last_label}").get_data(as_text=True)
    assert names_on(other) == ["Elm Last Year"]


def test_without_cycles_this_year_the_latest_year_with_cycles_is_shown(staff_client):
    last_label = label_for(today() - timedelta(days=366))
    build_cycle(Shape("Elm Last Year"), year(last_label), today() - timedelta(days=500))
    html = staff_client.get("/portfolio/").get_data(as_text=True)
    assert names_on(html) == ["Elm Last Year"]
    assert f"School cycles portfolio, {last_label}" in html


def test_with_no_cycle_at_all_the_page_says_so(staff_client):
    response = staff_client.get("/portfolio/")
    assert response.status_code == 200
    assert "No school has a cycle yet" in response.get_data(as_text=True)


# What each row says ----------------------------------------------------------------------------


def test_status_counts_agree_with_the_goal_summaries_of_the_same_cycles(ctx, four):
    day = today()
    data = portfolio_queries.portfolio({}, day)
    summaries = queries.goal_summaries([cycle.id for cycle in four], day)
    for row in data.rows:
        expected = [
            sum(1 for summary in summaries[row.cycle_id] if summary.status == status)
            for status in portfolio_queries.STATUS_ORDER
        ]
        assert row.counts == expected, row.school
    totals = dict(zip(portfolio_queries.STATUS_ORDER, data.status_totals, strict=True))
    assert totals == {
        GoalStatus.MET: 3,
        GoalStatus.ON_TRACK: 1,
        GoalStatus.AT_RISK: 1,
        GoalStatus.OFF_TRACK: 3,
        GoalStatus.NO_DATA: 1,
    }


def test_a_goal_without_a_due_date_is_due_at_the_end_of_its_school_year(ctx):
    this_year = year(label_for(today()))
    cycle = build_cycle(Shape("Fir", goals=(MET,)), this_year, today())
    dated = GoalFactory(cycle_id=cycle.id, due_on=this_year.starts_on + timedelta(days=100))
    facts = {goal.goal_id: goal.facts for goal in portfolio_queries._goal_facts(this_year)}
    assert facts[dated.id].due_on == dated.due_on
    [undated] = [goal_id for goal_id in facts if goal_id != dated.id]
    assert facts[undated].due_on == this_year.ends_on


def test_a_cycle_without_a_measurement_for_60_days_is_flagged_stale(staff_client, ctx):
    this_year = year(label_for(today()))
    baseline = today() - timedelta(days=200)
    build_cycle(Shape("Fresh School", goals=(raise_goal([(180, 20.0)]),)), this_year, baseline)
    build_cycle(Shape("Stale School", goals=(raise_goal([(100, 20.0)]),)), this_year, baseline)
    build_cycle(Shape("Unmeasured School", goals=(NO_DATA,)), this_year, baseline)
    build_cycle(
        Shape("Closed School", stage=CycleStage.CLOSED, goals=(raise_goal([(10, 20.0)]),)),
        this_year,
        baseline,
    )
    rows = {row.school: row for row in portfolio_queries.portfolio({}, today()).rows}
    assert {name: row.stale for name, row in rows.items()} == {
        "Fresh School": False,
        "Stale School": True,
        "Unmeasured School": True,
        "Closed School": False,  # a closed cycle is a record: nobody measures it any more
    }
    assert rows["Stale School"].last_measured_on == baseline + timedelta(days=100)
    html = staff_client.get("/portfolio/").get_data(as_text=True)
    assert html.count('<span class="usa-tag portfolio-stale">Stale</span>') == 2
    assert "None yet" in html


def test_each_row_shows_type_stage_hours_and_review_in_words(staff_client, four):
    html = staff_client.get("/portfolio/").get_data(as_text=True)
    alder = html[html.index(A) : html.index(B)]
    assert "Pilot · Magnet: STEM" in alder
    assert "Implementing" in alder
    assert ">10<" in alder  # support hours 6 + 4
    assert "Signed" in alder
    cedar = html[html.index(C) : html.index(D)]
    assert "Neither" in cedar
    assert "Scheduled: " in cedar
    birch = html[html.index(B) : html.index(C)]
    assert "No review yet" in birch
    assert "Planning" in birch


def test_the_school_links_to_its_cycle(app, staff_client, four):
    html = staff_client.get("/portfolio/").get_data(as_text=True)
    with app.test_request_context():
        from flask import url_for

        expected = url_for("cycles.show", cycle_id=four[0].id)
    assert f'href="{expected}">{A}</a>' in html


# CSV ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555", "'+1 555"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("Plain School", "Plain School"),
        ("", ""),
        (None, ""),
        (12, "12"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_get_a_leading_apostrophe(value, cell):
    assert csv_cell(value) == cell


def _csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    "query", ["", "region=South", "sort=hours&dir=desc", "pilot=yes&sort=school&dir=desc"]
)
def test_the_csv_has_the_rows_of_the_page_in_the_same_order(staff_client, four, query):
    page = names_on(staff_client.get(f"/portfolio/?{query}").get_data(as_text=True))
    response = staff_client.get(f"/portfolio/export.csv?{query}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = _csv(response)
    assert lines[0][:3] == ["School", "State code", "Pilot"]
    assert [line[0] for line in lines[1:]] == page


def test_the_csv_says_what_the_page_says(staff_client, four):
    lines = _csv(staff_client.get("/portfolio/export.csv"))
    header, rows = lines[0], {line[0]: dict(zip(lines[0], line, strict=True)) for line in lines[1:]}
    assert header[7:13] == ["Goals", "Met", "On track", "At risk", "Off track", "No data"]
    assert rows[A]["Goals"] == "3"
    assert rows[A]["Met"] == "2"
    assert rows[A]["On track"] == "1"
    assert rows[A]["Support hours"] == "10"
    assert rows[A]["Goals review"] == "Signed"
    assert rows[C]["Goals review"] == "Scheduled"
    assert rows[C]["Review date"]
    assert rows[B]["Last measurement"] == ""
    assert rows[B]["Stale"] == "yes"
    assert rows[D]["Stage"] == "Yearly review"
    assert rows[D]["Pilot"] == "yes"


def test_the_csv_escapes_formulas_in_school_names(staff_client, ctx):
    this_year = year(label_for(today()))
    for name in ("=cmd|' /C calc'!A0", "+SUM(1)", "-1+1", "@here", "\tTab School"):
        build_cycle(Shape(name, region="=Region"), this_year, today())
    lines = _csv(staff_client.get("/portfolio/export.csv"))
    names = sorted(line[0] for line in lines[1:])
    assert names == sorted(["'=cmd|' /C calc'!A0", "'+SUM(1)", "'-1+1", "'@here", "'\tTab School"])
    assert {line[5] for line in lines[1:]} == {"'=Region"}


def test_an_export_is_audited_with_its_year_filters_and_row_count(staff_client, four):
    staff_client.get("/portfolio/export.csv?pilot=yes&sort=hours")
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "cycle.portfolio_exported")
    ).one()
    assert event.details == {
        "year": label_for(today()),
        "filters": {"pilot": "yes"},
        "sort": "hours desc",
        "rows": 2,
    }
    assert event.target_type == "SchoolYear"


def test_viewing_the_portfolio_writes_nothing(staff_client, four):
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    staff_client.get("/portfolio/")
    staff_client.get("/portfolio/years")
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before


# Who may see it -----------------------------------------------------------------------------------


def _fellow():
    return db.session.get(User, MembershipFactory().user_id)


def _team(role: str):
    team = cycle_with_team()
    return getattr(team, role)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (StaffFactory, 200),
        (AdminFactory, 200),
        (UserFactory, 403),  # a plain member
        (_fellow, 403),
        (lambda: _team("lead"), 403),
        (lambda: _team("member"), 403),
        (lambda: _team("partner"), 403),
        (lambda: _team("liaison"), 403),  # a member-role liaison is not staff
    ],
)
@pytest.mark.parametrize("path", ["/portfolio/", "/portfolio/export.csv", "/portfolio/years"])
def test_only_staff_and_admins_see_the_portfolio(login_as, four, who, status, path):
    client = login_as(who())
    assert client.get(path).status_code == status


@pytest.mark.parametrize("path", ["/portfolio/", "/portfolio/export.csv", "/portfolio/years"])
def test_signed_out_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_denied_export_is_not_audited(login_as, four):
    lead = _team("lead")
    login_as(lead).get("/portfolio/export.csv")
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "cycle.portfolio_exported")
    ).all()


# Queries ---------------------------------------------------------------------------------------


def _many(count: int, label: str) -> None:
    this_year = year(label_for(today()))
    baseline = today() - timedelta(days=120)
    for i in range(count):
        cycle = build_cycle(
            Shape(
                f"{label} School {i:02d}",
                pilot=i % 3 == 0,
                region=("North", "South")[i % 2],
                goals=(MET, ON_TRACK, OFF_TRACK, NO_DATA),
                hours=(1.0, 2.0),
                review=(None, ReviewStatus.SCHEDULED, ReviewStatus.SIGNED)[i % 3],
            ),
            this_year,
            baseline,
        )
        CycleMemberFactory(cycle_id=cycle.id)


@pytest.mark.parametrize("path", ["/portfolio/", "/portfolio/export.csv", "/portfolio/years"])
def test_the_pages_take_the_same_queries_at_3_and_30_cycles(staff_client, count_queries, path):
    counts = []
    for size in (3, 30):
        _many(size if not counts else size - 3, f"n{size}")
        staff_client.get(path)  # warm: the session's user and the like
        with count_queries() as counter:
            response = staff_client.get(path)
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 15, counts
