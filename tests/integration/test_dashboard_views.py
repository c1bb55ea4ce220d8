"""The district integration dashboard: indices over years, schools by status, objectives;
open to staff and admins only; a fixed number of queries whatever the size."""

from __future__ import annotations

import pytest

from fellowship.cohorts.models import CohortRole
from fellowship.integration import display, metrics, queries, report
from fellowship.integration.models import DEFAULT_MINORITY
from tests.cycles.helpers import cycle_with_team
from tests.factories import AdminFactory, MembershipFactory, StaffFactory, UserFactory
from tests.integration.district_helpers import (
    ENROLLMENT,
    INCOME,
    LAST,
    THIS,
    build_district,
    bulk_district,
    set_settings,
)
from tests.integration.page_helpers import table_with, tables

MINORITY = [g.value for g in DEFAULT_MINORITY]
ACTIVE_THIS = [ENROLLMENT[THIS][n] for n in ("Alder", "Birch", "Cedar", "Dogwood")]
INDEX_ROWS = ["share", "dissimilarity", "exposure", "isolation", "separation", "theil_h"]


@pytest.fixture
def district(app):
    return build_district()


def index_cells(html: str) -> dict[str, str]:
    """{"race-dissimilarity": "0.412", ...} from the indices table."""
    import re

    return dict(re.findall(r'data-index="([a-z_-]+)">([^<]*)<', html))


def test_staff_see_the_districts_indices_as_metrics_computes_them(app, client, login_as, district):
    login_as(StaffFactory())
    html = client.get(f"/integration/?year={THIS}").get_data(as_text=True)
    race = metrics.race_indices(ACTIVE_THIS, MINORITY)
    income = metrics.income_indices(list(INCOME[THIS].values()))
    cells = index_cells(html)
    with app.test_request_context():
        for name in INDEX_ROWS:
            assert cells[f"race-{name}"] == display.index(getattr(race, name)), name
            assert cells[f"income-{name}"] == display.index(getattr(income, name)), name
    assert cells["race-schools"] == "4"
    assert cells["race-dissimilarity"] == f"{race.dissimilarity:.3f}"


def test_the_indices_over_the_years_are_charts_with_the_same_figures_in_a_table(
    app, client, login_as, district
):
    login_as(AdminFactory())
    html = client.get("/integration/").get_data(as_text=True)
    assert f"Integration dashboard, {THIS}" in html  # the latest year by default
    assert html.count('role="img"') >= 3  # race, income, objectives met
    race_table = next(t for t in tables(html) if "Race and ethnicity indices" in t.caption)
    years = [row[0] for row in race_table.body()]
    assert years == [THIS, LAST]  # latest first
    last = metrics.race_indices(
        [ENROLLMENT[LAST][n] for n in ("Alder", "Birch", "Cedar", "Dogwood", "Elm")], MINORITY
    )
    with app.test_request_context():
        expected = [display.index(getattr(last, k)) for k in INDEX_ROWS] + [str(last.schools)]
    assert race_table.body()[1][1:] == expected
    # Each index is explained in plain words: what 0 and what 1 mean.
    for words in ("Dissimilarity D", "Exposure", "Isolation", "Separation", "Theil's H"):
        assert f"<dt>{words}</dt>" in html
    assert html.count("0: ") >= 5
    assert html.count("1: ") >= 4


def test_schools_are_listed_by_status_with_their_published_shares(app, client, login_as, district):
    login_as(StaffFactory())
    html = client.get(f"/integration/?year={THIS}").get_data(as_text=True)
    found = {
        status: [row[0] for row in table_with(html, data_status=status).body()]
        for status in ("isolated", "watch", "neither", "no_data")
    }
    assert found == {
        "isolated": ["Alder School"],
        "watch": ["Birch School", "Dogwood School"],
        "neither": ["Cedar School"],
        "no_data": ["Elm School"],
    }
    assert "Fir School" not in html  # inactive
    shown = {
        row[0]: row[2:9] for status in found for row in table_with(html, data_status=status).body()
    }
    with app.test_request_context():
        data = report.year_report(queries.year_by_label(THIS))
        for school in data.schools:
            assert shown[school.school.name] == [
                display.percent(school.p, 10),
                display.points(school.gap, 10),
                display.points(school.change, 10),
                display.percent(school.applicants, 10),
                display.percent(school.new_enrollees, 10),
                display.percent(school.low_income, 10),
                display.points(school.low_income_gap, 10),
            ], school.school.name
    assert shown["Birch School"][0] == "30.4%"  # 35 / 115
    assert shown["Dogwood School"][0] == "<10"  # 8 students: no share
    assert shown["Elm School"] == ["—"] * 7  # no counts this year
    assert "Not shown: fewer than 10 students." in html  # the legend


def test_the_magnet_schools_objectives_and_the_share_meeting_them_are_shown(
    client, login_as, district
):
    login_as(StaffFactory())
    html = client.get(f"/integration/?year={THIS}").get_data(as_text=True)
    objectives = next(
        t for t in tables(html) if t.rows and t.rows[0][:1] == ["School"] and "Result" in t.rows[0]
    )
    assert {row[0]: row[3] for row in objectives.body()} == {
        "Alder School": "Met",
        "Birch School": "Met",
        "Elm School": "Not judged",
    }
    assert "2 of 2 magnet schools whose objective could be judged met it (100.0%)" in html
    per_year = next(
        t for t in tables(html) if "meeting their objective per school year" in t.caption
    )
    assert per_year.body() == [[THIS, "2", "2", "100.0%"], [LAST, "1", "1", "100.0%"]]


def test_the_minority_definition_and_threshold_are_stated_and_change_the_figures(
    app, client, login_as, district
):
    login_as(StaffFactory())
    before = index_cells(client.get(f"/integration/?year={THIS}").get_data(as_text=True))
    set_settings(["black", "hispanic_latino"], threshold=12)
    html = client.get(f"/integration/?year={THIS}").get_data(as_text=True)
    assert (
        "<strong>Minority groups:</strong> Black or African American, Hispanic or Latino." in html
    )
    assert "threshold N = 12" in html
    assert "&lt;12" in html
    after = index_cells(html)
    race = metrics.race_indices(ACTIVE_THIS, ["black", "hispanic_latino"])
    assert after["race-dissimilarity"] == f"{race.dissimilarity:.3f}"
    assert after["race-dissimilarity"] != before["race-dissimilarity"]


def test_an_unknown_year_is_said_and_the_latest_is_shown(client, login_as, district):
    login_as(StaffFactory())
    html = client.get("/integration/?year=1999-00").get_data(as_text=True)
    assert "There are no enrollment counts for the school year “1999-00”." in html
    assert f"Showing {THIS} instead." in html


def test_a_district_without_counts_gets_an_explanation(client, login_as):
    login_as(StaffFactory())
    response = client.get("/integration/")
    assert response.status_code == 200
    assert "There are no enrollment counts yet." in response.get_data(as_text=True)


@pytest.fixture
def people(app, district):
    team = cycle_with_team(school_id=district.id("Alder"))
    return {
        "staff": StaffFactory(),
        "admin": AdminFactory(),
        "lead teacher of a school": team.lead,
        "fellow": _member(CohortRole.FELLOW),
        "coach": _member(CohortRole.COACH),
        "member": UserFactory(),
    }


def _member(role):
    from fellowship.auth.models import User
    from fellowship.extensions import db

    return db.session.get(User, MembershipFactory(role=role).user_id)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("staff", 200),
        ("admin", 200),
        ("lead teacher of a school", 403),
        ("fellow", 403),
        ("coach", 403),
        ("member", 403),
    ],
)
def test_only_staff_and_admins_see_the_dashboard(client, login_as, people, who, status):
    login_as(people[who])
    assert client.get("/integration/").status_code == status


def test_signed_out_people_are_sent_to_sign_in(client, district):
    response = client.get("/integration/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_dashboard_takes_the_same_number_of_queries_at_any_size(
    app, client, login_as, count_queries
):
    labels = ["2023-24", "2024-25", "2025-26"]
    staff = StaffFactory()
    small = bulk_district(5, labels)
    login_as(staff)
    with count_queries() as few:
        assert client.get("/integration/").status_code == 200
    more = bulk_district(35, labels, start=5)
    assert len(small) + len(more) == 40
    with count_queries() as many:
        html = client.get("/integration/").get_data(as_text=True)
    assert "40 schools with enrollment counts" in html
    assert few.count == many.count, (few.statements, many.statements)
    assert many.count <= 15
