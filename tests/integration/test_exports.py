"""The indicators CSV and the federal-report table (page and CSV): the same published
figures as the pages, no small count anywhere, every download audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cohorts.models import CohortRole
from fellowship.cycles.models import School
from fellowship.extensions import db
from fellowship.integration import display
from fellowship.integration.models import RACE_GROUPS, Measure
from fellowship.integration.suppression import CellStatus, Published, Rate
from fellowship.integration.views import MEASURE_LABELS
from tests.cycles.helpers import cycle_with_team
from tests.factories import AdminFactory, StaffFactory
from tests.integration.district_helpers import (
    LAST,
    SMALL,
    THIS,
    build_district,
    bulk_district,
    set_settings,
)
from tests.integration.page_helpers import is_small_count, plain, read_csv, tables
from tests.integration.test_dashboard_views import _member

GROUP_COUNT = len(RACE_GROUPS)
STATUSES = ("isolated", "watch", "neither", "no_data")


@pytest.fixture
def district(app):
    return build_district()


def audit_rows(action):
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def dashboard_rows(html):
    """{school name: [status, 7 indicator cells, objective result]} from the dashboard."""
    rows = {}
    for table in tables(html):
        status = table.attrs.get("data-status")
        if status:
            for row in table.body():
                rows[row[0]] = [status, *row[2:]]
    return rows


@pytest.mark.parametrize("label", [THIS, LAST])
def test_the_indicators_csv_shows_exactly_what_the_dashboard_shows(
    client, login_as, district, label
):
    login_as(StaffFactory())
    page = dashboard_rows(client.get(f"/integration/?year={label}").get_data(as_text=True))
    response = client.get(f"/integration/indicators.csv?year={label}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="integration-indicators-{label}.csv"'
    )
    assert "no-store" in response.headers["Cache-Control"]
    header, *lines = read_csv(response.data)
    assert header[:8] == [
        "School year",
        "State code",
        "School",
        "Magnet",
        "Pilot",
        "Status",
        "Isolated",
        "Watch band",
    ]
    assert header[-2:] == ["Minority groups", "Small-cell threshold N"]
    status_names = {
        "Isolated": "isolated",
        "Watch band": "watch",
        "Neither": "neither",
        "No data": "no_data",
    }
    assert sorted(line[2] for line in lines) == sorted(page)  # one line per active school
    for line in lines:
        shown = page[line[2]]
        assert status_names[line[5]] == shown[0]
        assert line[6] == ("yes" if shown[0] == "isolated" else "no")
        assert line[7] == ("yes" if shown[0] == "watch" else "no")
        assert line[8:15] == [plain(cell) for cell in shown[1:8]], line[2]
        assert line[16] == shown[8]  # objective met / not met / not judged
        assert line[-2] == (
            "American Indian or Alaska Native, Asian, Black or African American, Hispanic or "
            "Latino, Native Hawaiian or Other Pacific Islander, Two or more races"
        )
        assert line[-1] == "10"
    assert any(line[8] == "<10" for line in lines)  # Dogwood's 8 students in 2025-26


def test_an_indicators_export_is_audited(client, login_as, district):
    staff = StaffFactory()
    login_as(staff)
    client.get(f"/integration/indicators.csv?year={THIS}")
    (event,) = audit_rows("integration.indicators_exported")
    assert event.actor_id == staff.id
    assert event.target_type == "SchoolYear"
    assert event.target_id == district.year_ids[THIS]
    assert event.details["year"] == THIS
    assert event.details["rows"] == 5
    assert event.details["threshold"] == 10


def test_an_unknown_year_is_not_found_and_nothing_is_audited(client, login_as, district):
    login_as(StaffFactory())
    for path in (
        "/integration/indicators.csv?year=1999-00",
        "/integration/federal.csv?year=nonsense",
    ):
        assert client.get(path).status_code == 404, path
    assert audit_rows("integration.indicators_exported") == []
    assert audit_rows("integration.federal_exported") == []


def federal_page(html):
    """{(measure label, school or "District total"): cells} from the federal page."""
    found = {}
    for table in tables(html):
        measure = table.attrs.get("data-measure")
        if measure:
            label = str(MEASURE_LABELS[measure])
            for row in table.body():
                found[(label, row[1])] = row[2:]
    return found


def test_the_federal_csv_shows_exactly_what_the_federal_page_shows(client, login_as, district):
    login_as(AdminFactory())
    page = federal_page(client.get(f"/integration/federal?year={THIS}").get_data(as_text=True))
    response = client.get(f"/integration/federal.csv?year={THIS}")
    header, *lines = read_csv(response.data)
    assert header[:4] == ["School year", "Measure", "State code", "School"]
    assert header[-3:] == ["Total", "Small-cell threshold N", "Marks"]
    assert len(header) == 4 + GROUP_COUNT + 3
    # The threshold and what the marks mean are on every line.
    assert {line[-2] for line in lines} == {"10"}
    assert all(line[-1].startswith("<10: from 1 to 9, not shown; *: hidden") for line in lines)
    from_csv = {(line[1], line[3]): line[4:-2] for line in lines}
    assert set(from_csv) == set(page)
    for key, cells in page.items():
        assert from_csv[key] == [plain(cell) for cell in cells], key
    # Every measure, each with its district total row.
    for measure in Measure:
        assert (str(MEASURE_LABELS[measure.value]), "District total") in from_csv
    (event,) = audit_rows("integration.federal_exported")
    assert event.details["rows"] == len(lines)


def test_no_small_count_is_published_in_the_federal_table_or_its_csv(client, login_as, district):
    login_as(StaffFactory())
    page = federal_page(client.get(f"/integration/federal?year={THIS}").get_data(as_text=True))
    _header, *lines = read_csv(client.get(f"/integration/federal.csv?year={THIS}").data)
    for key, cells in page.items():
        assert not any(is_small_count(cell) for cell in cells), key
    for line in lines:
        assert not any(is_small_count(cell) for cell in line[4:-2]), line
    # The true small values are in their cells as "<10".
    groups = [g.value for g in RACE_GROUPS]
    for label, measure, school, group, _value in SMALL:
        assert label == THIS
        cells = page[(str(MEASURE_LABELS[measure.value]), f"{school} School")]
        assert cells[groups.index(group)] == "<10", (measure, school, group)
    assert "<10" in {cell for cells in page.values() for cell in cells}


def test_the_threshold_setting_changes_what_the_exports_hide(client, login_as, district):
    set_settings(["black", "hispanic_latino", "asian"], threshold=20)
    login_as(StaffFactory())
    _header, *lines = read_csv(client.get(f"/integration/federal.csv?year={THIS}").data)
    for line in lines:
        assert not any(is_small_count(cell, 20) for cell in line[4:]), line
    enrollment = {line[3]: line[4:] for line in lines if line[1] == "Enrollment on October 1"}
    assert enrollment["Cedar School"][1] == "<20"  # 12 Asian students
    _h, *rows = read_csv(client.get(f"/integration/indicators.csv?year={THIS}").data)
    assert {row[-1] for row in rows} == {"20"}
    assert {row[-2] for row in rows} == {"Asian, Black or African American, Hispanic or Latino"}


def test_a_name_a_spreadsheet_would_run_is_quoted(client, login_as, district):
    school = db.session.get(School, district.id("Birch"))
    school.name = "=HYPERLINK(1)"
    db.session.commit()
    login_as(StaffFactory())
    _h, *rows = read_csv(client.get(f"/integration/indicators.csv?year={THIS}").data)
    assert "'=HYPERLINK(1)" in {row[2] for row in rows}


def test_the_exports_are_for_staff_and_admins_only(client, login_as, district):
    team = cycle_with_team(school_id=district.id("Alder"))
    for person in (team.lead, _member(CohortRole.FELLOW), _member(CohortRole.COACH)):
        login_as(person)
        for path in (
            f"/integration/indicators.csv?year={THIS}",
            f"/integration/federal?year={THIS}",
            f"/integration/federal.csv?year={THIS}",
        ):
            assert client.get(path).status_code == 403, path
    assert audit_rows("integration.indicators_exported") == []
    assert audit_rows("integration.federal_exported") == []


def test_the_federal_table_takes_the_same_number_of_queries_at_any_size(
    client, login_as, count_queries
):
    labels = ["2023-24", "2024-25", "2025-26"]
    staff = StaffFactory()
    bulk_district(5, labels)
    login_as(staff)
    with count_queries() as few:
        assert client.get("/integration/federal").status_code == 200
    bulk_district(35, labels, start=5)
    with count_queries() as many:
        html = client.get("/integration/federal").get_data(as_text=True)
    assert html.count("Bulk School") >= 40
    assert few.count == many.count, (few.statements, many.statements)
    assert many.count <= 15


@pytest.mark.parametrize(
    ("figure", "page", "csv"),
    [
        (Published(CellStatus.SHOWN, 1234), "1,234", "1234"),
        (Published(CellStatus.SHOWN, 0), "0", "0"),
        (Published(CellStatus.SMALL, None), "<10", "<10"),
        (Published(CellStatus.COMPLEMENT, None), "*", "*"),
        (None, "—", "—"),
        (Rate(0.4237, None), "42.4%", "42.4"),
        (Rate(None, "small_denominator"), "<10", "<10"),
        (Rate(None, "would_reveal"), "*", "*"),
        (Rate(None, "no_data"), "—", "—"),
    ],
)
def test_a_figure_is_written_the_same_on_pages_and_in_csv_files(ctx, figure, page, csv):
    write = display.percent if isinstance(figure, Rate) else display.count
    assert write(figure, 10) == page
    assert write(figure, 10, csv=True) == csv
    assert plain(page) == csv


@pytest.mark.parametrize(
    ("value", "page", "csv"),
    [(0.052, "+5.2", "5.2"), (-0.0312, "\u22123.1", "-3.1"), (-0.0001, "0.0", "0.0")],
)
def test_a_difference_is_written_in_signed_points(ctx, value, page, csv):
    assert display.points(Rate(value, None), 10) == page
    assert display.points(Rate(value, None), 10, csv=True) == csv
