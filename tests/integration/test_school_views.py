"""A school's integration page: its published composition over the years, its share and
status, its objective and whether it was met; open to staff and the school's own team."""

from __future__ import annotations

import pytest

from fellowship.cohorts.models import CohortRole
from fellowship.integration.models import RACE_GROUPS, Measure
from fellowship.integration.objective_forms import KIND_LABELS
from tests.cycles.helpers import cycle_with_team
from tests.factories import AdminFactory, StaffFactory, UserFactory
from tests.integration.district_helpers import (
    LAST,
    SMALL,
    THIS,
    build_district,
    bulk_district,
)
from tests.integration.page_helpers import is_small_count, table_with, tables
from tests.integration.test_dashboard_views import _member

GROUPS = [g.value for g in RACE_GROUPS]


@pytest.fixture
def district(app):
    return build_district()


def rows_of(html, status):
    """The dashboard's rows of schools with this status (no table when there are none)."""
    found = [t for t in tables(html) if t.attrs.get("data-status") == status]
    return found[0].body() if found else []


def composition(html):
    table = table_with(html, class_="integration-composition")
    return {row[0]: row[1:] for row in table.body()}


def test_staff_see_the_published_composition_over_the_years(client, login_as, district):
    login_as(StaffFactory())
    html = client.get(f"/integration/schools/{district.id('Cedar')}").get_data(as_text=True)
    rows = composition(html)
    assert list(rows) == [THIS, LAST]  # latest first
    this = dict(zip([*GROUPS, "total", "p", "change", "status"], rows[THIS], strict=True))
    assert this["black"] == "<10"  # 4 students
    assert this["white"] == "100"
    assert this["status"] == "Neither"
    assert "Not shown: fewer than 10 students." in html


def test_no_small_count_is_published_on_a_school_page(client, login_as, district):
    login_as(StaffFactory())
    for name in ("Alder", "Birch", "Cedar", "Dogwood", "Elm"):
        html = client.get(f"/integration/schools/{district.id(name)}").get_data(as_text=True)
        for label, cells in composition(html).items():
            counts = cells[: len(GROUPS) + 1]
            assert not any(is_small_count(cell) for cell in counts), (name, label, counts)
        for label, measure, school, group, _value in SMALL:
            if measure == Measure.ENROLLMENT and school == name:
                assert composition(html)[label][GROUPS.index(group)] == "<10"


def test_a_schools_figures_are_the_dashboards_figures(client, login_as, district):
    login_as(StaffFactory())
    for label in (THIS, LAST):
        dashboard = client.get(f"/integration/?year={label}").get_data(as_text=True)
        shares = {}
        for status in ("isolated", "watch", "neither", "no_data"):
            for row in rows_of(dashboard, status):
                shares[row[0]] = (row[2], row[4])  # p, change
        for name in ("Alder", "Birch", "Cedar", "Dogwood", "Elm"):
            page = client.get(f"/integration/schools/{district.id(name)}").get_data(as_text=True)
            cells = composition(page)[label]
            assert (cells[len(GROUPS) + 1], cells[len(GROUPS) + 2]) == shares[f"{name} School"]


def test_the_objective_in_force_and_its_result_are_shown_each_year(client, login_as, district):
    login_as(StaffFactory())
    html = client.get(f"/integration/schools/{district.id('Birch')}").get_data(as_text=True)
    table = table_with(html, class_="integration-objectives")
    assert table.body() == [
        [THIS, f"{KIND_LABELS['relative_band']} (k = 15 points)", THIS, "Met"],
        [LAST, str(KIND_LABELS["absolute"]), LAST, "Met"],
    ]
    assert f'href="/integration/schools/{district.id("Birch")}/objective"' in html
    elm = client.get(f"/integration/schools/{district.id('Elm')}").get_data(as_text=True)
    assert [row[3] for row in table_with(elm, class_="integration-objectives").body()] == [
        "Not judged",
        "Not judged",
    ]


def test_a_school_that_is_not_a_magnet_has_no_objective_nor_a_link_to_set_one(
    client, login_as, district
):
    login_as(StaffFactory())
    html = client.get(f"/integration/schools/{district.id('Cedar')}").get_data(as_text=True)
    assert "Objectives are set for magnet schools only." in html
    assert "/objective" not in html


@pytest.fixture
def people(district):
    team = cycle_with_team(school_id=district.id("Alder"))
    other = cycle_with_team(school_id=district.id("Cedar"))
    return {
        "staff": StaffFactory(),
        "admin": AdminFactory(),
        "lead teacher": team.lead,
        "partner": team.partner,
        "other school's lead teacher": other.lead,
        "fellow": _member(CohortRole.FELLOW),
        "coach": _member(CohortRole.COACH),
        "member": UserFactory(),
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("staff", 200),
        ("admin", 200),
        ("lead teacher", 200),
        ("partner", 200),
        ("other school's lead teacher", 403),
        ("fellow", 403),
        ("coach", 403),
        ("member", 403),
    ],
)
def test_a_school_page_is_for_staff_and_the_schools_own_team(
    client, login_as, district, people, who, status
):
    login_as(people[who])
    assert client.get(f"/integration/schools/{district.id('Alder')}").status_code == status


def test_the_schools_team_sees_its_page_but_no_link_to_set_the_objective(
    client, login_as, district, people
):
    login_as(people["lead teacher"])
    html = client.get(f"/integration/schools/{district.id('Alder')}").get_data(as_text=True)
    assert "Integration figures of Alder School" in html
    assert "/objective" not in html
    assert 'href="/integration/"' not in html  # the dashboard is for staff
    for path in (
        "/integration/",
        f"/integration/indicators.csv?year={THIS}",
        f"/integration/federal?year={THIS}",
        f"/integration/federal.csv?year={THIS}",
    ):
        assert client.get(path).status_code == 403, path


def test_an_unknown_school_is_not_found(client, login_as, district):
    login_as(StaffFactory())
    assert client.get("/integration/schools/999999").status_code == 404


def test_an_inactive_school_says_it_is_left_out(client, login_as, district):
    login_as(StaffFactory())
    html = client.get(f"/integration/schools/{district.id('Fir')}").get_data(as_text=True)
    assert "This school is not active" in html
    assert all(cells[0] == "—" for cells in composition(html).values())


def test_the_school_page_takes_the_same_number_of_queries_at_any_size(
    client, login_as, count_queries
):
    labels = ["2023-24", "2024-25", "2025-26"]
    staff = StaffFactory()
    first = bulk_district(5, labels)[0]
    login_as(staff)
    with count_queries() as few:
        assert client.get(f"/integration/schools/{first}").status_code == 200
    bulk_district(35, labels, start=5)
    with count_queries() as many:
        assert client.get(f"/integration/schools/{first}").status_code == 200
    assert few.count == many.count, (few.statements, many.statements)
    assert many.count <= 15
