"""The admin raw-data screen: one school and year, every count as stored (grades, small
counts), a table per measure; admins only; a fixed number of queries."""

from __future__ import annotations

import pytest

from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.extensions import db
from fellowship.integration.models import Measure
from tests.conftest import sign_in
from tests.cycles.helpers import SchoolFactory, cycle_with_team
from tests.cycles.school_helpers import text_of
from tests.factories import AdminFactory, MembershipFactory, StaffFactory
from tests.integration.helpers import add_counts, year
from tests.integration.page_helpers import tables

URL = "/integration/raw"


@pytest.fixture
def admin(client):
    person = AdminFactory()
    sign_in(client, person)
    return person


@pytest.fixture
def north():
    return SchoolFactory(code="NC-001", name="North Elementary")


def test_the_screen_says_it_is_the_only_place_without_suppression(client, admin):
    html = client.get(URL).get_data(as_text=True)
    assert "This is the only place counts are shown without small-cell suppression" in html
    assert tables(html) == []


def test_a_schools_year_is_shown_as_stored_a_table_per_measure_grades_in_order(
    client, admin, north
):
    y25 = year("2025-26")
    add_counts(north, y25, {"black": 3, "white": 120, "low_income": 1})
    add_counts(north, y25, {"black": 2, "white": 0}, grade="1")
    add_counts(north, y25, {"black": 1}, grade="K")
    add_counts(north, y25, {"asian": 4}, measure=Measure.APPLICANTS)
    add_counts(north, year("2024-25"), {"black": 99})  # another year: not shown
    html = client.get(f"{URL}?school={north.id}&year={y25.id}").get_data(as_text=True)
    enrollment, applicants = tables(html)
    assert enrollment.caption == "Enrollment on October 1 — North Elementary, 2025-26"
    assert enrollment.rows[0][:3] == ["Grade", "American Indian or Alaska Native", "Asian"]
    body = {row[0]: row[1:] for row in enrollment.body()}
    assert list(body) == ["All grades", "K", "1"]
    # Columns: 8 race groups, then low income and not low income. Small counts unsuppressed.
    # No count: a dash on the screen (hidden from screen readers), "no count" read out.
    no = "—no count"
    assert body["All grades"] == [no, no, "3", no, no, "120", no, no, "1", no]
    assert body["K"][2] == "1"
    assert body["1"][2:6] == ["2", no, no, "0"]
    assert '<span aria-hidden="true">—</span><span class="usa-sr-only">no count</span>' in html
    assert applicants.caption.startswith("Applicants")
    assert "99" not in {cell for table in tables(html) for row in table.rows for cell in row}


def test_the_latest_year_with_counts_is_shown_when_none_is_chosen(client, admin, north):
    add_counts(north, year("2023-24"), {"black": 31})
    add_counts(north, year("2024-25"), {"black": 41})
    year("2025-26")  # a later year without counts
    html = client.get(f"{URL}?school={north.id}").get_data(as_text=True)
    assert "North Elementary (NC-001), 2024-25" in text_of(html)
    assert "41" in tables(html)[0].body()[0]


def test_a_school_can_be_picked_by_its_code(client, admin, north):
    add_counts(north, year("2025-26"), {"black": 7})
    html = client.get(f"{URL}?code=NC-001").get_data(as_text=True)
    assert "North Elementary (NC-001), 2025-26" in text_of(html)
    html = client.get(f"{URL}?code=NOPE").get_data(as_text=True)
    assert "No school has the code NOPE." in html
    assert tables(html) == []


def test_a_school_without_counts_says_so(client, admin, north):
    assert "This school has no counts yet." in client.get(f"{URL}?school={north.id}").get_data(
        as_text=True
    )
    y = year("2025-26")
    html = client.get(f"{URL}?school={north.id}&year={y.id}").get_data(as_text=True)
    assert "This school has no counts for 2025-26." in html


def test_odd_parameters_are_ignored_not_an_error(client, admin, north):
    for query in (
        "school=abc",
        "school=99999999999",
        "year=x",
        "school=&year=",
        "code=" + "x" * 99,
    ):
        assert client.get(f"{URL}?{query}").status_code == 200, query


def _person(kind: str) -> User:
    if kind == "staff":
        return StaffFactory()
    if kind == "lead teacher":
        return cycle_with_team().lead
    role = CohortRole.FELLOW if kind == "fellow" else CohortRole.COACH
    person = db.session.get(User, MembershipFactory(role=role).user_id)
    assert person is not None
    return person


@pytest.mark.parametrize("kind", ["staff", "fellow", "coach", "lead teacher"])
def test_only_admins_see_raw_counts(client, north, kind):
    add_counts(north, year("2025-26"), {"black": 3})
    sign_in(client, _person(kind))
    assert client.get(f"{URL}?school={north.id}").status_code == 403


def test_the_screen_runs_the_same_number_of_queries_for_few_and_many_counts(
    client, admin, count_queries
):
    small, big = SchoolFactory(code="S-1"), SchoolFactory(code="S-2")
    y = year("2025-26")
    add_counts(small, y, {"black": 3})
    for measure in Measure:
        add_counts(
            big, y, {"black": 30, "white": 40, "asian": 5, "low_income": 20}, measure=measure
        )
        for grade in ("PK", "K", "1", "2", "3", "4", "5"):
            add_counts(big, y, {"black": 3, "white": 4}, grade=grade, measure=measure)
    found = []
    for school in (small, big):
        for query in (f"school={school.id}&year={y.id}", f"code={school.code}"):
            with count_queries() as counter:
                response = client.get(f"{URL}?{query}")
            assert response.status_code == 200
            found.append(counter.count)
    assert len(tables(client.get(f"{URL}?school={big.id}&year={y.id}").get_data(as_text=True))) == 5
    assert found[0] == found[2], found  # chosen school and year
    assert found[1] == found[3], found  # by code, latest year
    assert max(found) <= 10, found
