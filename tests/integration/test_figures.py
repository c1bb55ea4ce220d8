"""The figures store: the pages read the figures computed once and kept in the database; any
change to what they depend on makes the pages show new figures, exactly those a computation
from scratch gives; no small count is ever stored; two processes storing the same year at once
is no error; and the pages take a fixed number of queries, store warm or cold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cycles.models import School
from fellowship.extensions import db
from fellowship.integration import figures
from fellowship.integration import import_services as counts_import
from fellowship.integration.models import (
    IntegrationCountsVersion,
    IntegrationFigures,
    IntegrationSettings,
)
from fellowship.integration.objective_services import ObjectiveData, revision, set_objective
from fellowship.integration.settings_services import SettingsData, save_settings
from tests.factories import AdminFactory, StaffFactory
from tests.integration.district_helpers import (
    LAST,
    THIS,
    District,
    build_district,
    bulk_district,
    set_settings,
)
from tests.integration.import_helpers import csv_text
from tests.integration.page_helpers import read_csv, tables


@pytest.fixture
def district(app):
    return build_district()


def shown(client, path: str) -> list[Any]:
    """What a page or CSV shows: its tables' rows (a CSV's lines), as text."""
    response = client.get(path)
    assert response.status_code == 200, path
    if path.split("?")[0].endswith(".csv"):
        return read_csv(response.data)
    return [(table.caption, table.rows) for table in tables(response.get_data(as_text=True))]


def pages(district: District) -> list[str]:
    return [
        f"/integration/?year={THIS}",
        f"/integration/?year={LAST}",
        f"/integration/schools/{district.id('Alder')}",
        f"/integration/schools/{district.id('Birch')}",
        f"/integration/schools/{district.id('Cedar')}",
        f"/integration/federal?year={THIS}",
        f"/integration/indicators.csv?year={THIS}",
    ]


def stored_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count(IntegrationFigures.id))) or 0


def empty_the_store() -> None:
    db.session.execute(sa.delete(IntegrationFigures))
    db.session.commit()


# Each input the figures depend on, changed the way the application changes it.


def import_last_year(app, district: District) -> None:
    """Birch's 2024-25 counts replaced: this year's change since last year moves."""
    text = csv_text(
        f"HD-BIR,{LAST},,enrollment,black,30",
        f"HD-BIR,{LAST},,enrollment,white,80",
    )
    with app.test_request_context():
        plan = counts_import.plan_counts_import(text)
        assert plan.ok, plan.errors
        counts_import.apply_counts_import(None, plan)
        db.session.commit()


def set_an_objective(app, district: District) -> None:
    """Alder's objective for this year becomes "absolute" (72 % minority: not met)."""
    with app.test_request_context():
        staff = StaffFactory()
        alder = db.session.get(School, district.id("Alder"))
        data = ObjectiveData(
            kind="absolute",
            band_k="",
            year_id=district.year_ids[THIS],
            revision=revision(alder.id),
        )
        _objective, changed = set_objective(staff, alder, data)
        assert changed
        db.session.commit()


def change_the_settings(app, district: District) -> None:
    with app.test_request_context():
        save_settings(
            AdminFactory(),
            SettingsData(minority=["black", "hispanic_latino"], threshold="12", version=0),
        )
        db.session.commit()


def deactivate_a_school(app, district: District) -> None:
    db.session.get(School, district.id("Cedar")).is_active = False
    db.session.commit()


def make_a_school_magnet(app, district: District) -> None:
    db.session.get(School, district.id("Cedar")).is_magnet = True
    db.session.commit()


CHANGES: dict[str, Callable[[Any, District], None]] = {
    "an import of last year's counts": import_last_year,
    "an objective set": set_an_objective,
    "a settings change": change_the_settings,
    "a school deactivated": deactivate_a_school,
    "a school made a magnet school": make_a_school_magnet,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_after_a_change_the_pages_show_the_figures_computed_from_scratch(
    app, client, login_as, district, change
):
    login_as(StaffFactory())
    paths = pages(district)
    before = [shown(client, path) for path in paths]
    assert stored_rows() > 0  # the store is warm
    CHANGES[change](app, district)
    after = [shown(client, path) for path in paths]
    assert after != before, "the change changed nothing: the test proves nothing"
    kept = [shown(client, path) for path in paths]  # read back from the store
    empty_the_store()
    fresh = [shown(client, path) for path in paths]  # computed from nothing
    for path, now, again, scratch in zip(paths, after, kept, fresh, strict=True):
        assert now == scratch, path
        assert again == scratch, path


def test_the_store_holds_no_small_count(app, client, login_as, district):
    login_as(StaffFactory())
    for threshold in (10, 20):
        set_settings(["black", "hispanic_latino", "asian"], threshold=threshold)
        for path in pages(district):
            shown(client, path)
        rows = db.session.execute(
            sa.select(IntegrationFigures.school_id, IntegrationFigures.counts)
        ).all()
        assert len(rows) == 2 * (1 + 5)  # two years: the district and five active schools
        hidden = set()
        for school_id, by_measure in rows:
            for measure, cells in by_measure.items():
                for cell in cells:
                    if isinstance(cell, int):
                        assert cell == 0 or cell >= threshold, (school_id, measure, cell)
                    else:
                        assert cell in ("small", "complement"), cell
                        hidden.add(cell)
        assert hidden == {"small", "complement"}
        # Shares are values or reasons, never a count.
        for (payload,) in db.session.execute(
            sa.select(IntegrationFigures.payload).where(IntegrationFigures.school_id.is_not(None))
        ):
            for rate in payload["rates"]:
                assert isinstance(rate, float) or rate in (
                    "small_denominator",
                    "would_reveal",
                    "no_data",
                ), rate


# Another process's district row for 2025-26, as plain SQL (no parameters: their style differs
# between the drivers).
ANOTHER_PROCESS_STORES_THIS_YEAR = (
    "INSERT INTO integration_figures (school_year_id, school_id, fingerprint, status, "
    "position, list_position, payload, counts, computed_at) "
    "SELECT id, NULL, 'another', NULL, 0, 0, '{}', '{}', CURRENT_TIMESTAMP "
    "FROM school_years WHERE label = '2025-26'"
)


def test_two_processes_storing_the_same_year_at_once_is_no_error(app, client, login_as, district):
    """Another process stores the year between this request's computing and its storing: the
    request goes on with the figures it computed, and records its export."""
    login_as(StaffFactory())
    paths = pages(district)
    expected = [shown(client, path) for path in paths]
    assert THIS == "2025-26"
    with app.app_context():
        engine = db.engine

    def meanwhile(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("DELETE FROM INTEGRATION_FIGURES"):
            other = cursor.connection.cursor()
            other.execute(ANOTHER_PROCESS_STORES_THIS_YEAR)
            other.close()

    for path in paths:
        empty_the_store()
        sa.event.listen(engine, "after_cursor_execute", meanwhile)
        try:
            raced = shown(client, path)
        finally:
            sa.event.remove(engine, "after_cursor_execute", meanwhile)
        assert raced == expected[paths.index(path)], path
        # Its SAVEPOINT was rolled back: none of its rows stays (nor, here, the other's,
        # written inside it), and its transaction went on to commit.
        assert stored_rows() == 0, path
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == "integration.indicators_exported"
            )
        )
        == 2
    )  # the export before, and the one raced
    # Nothing half-written stays: the next request stores the figures.
    assert shown(client, paths[0]) == expected[0]
    assert stored_rows() > 0


PATHS = [
    "/integration/",
    "/integration/schools/<first>",
    "/integration/federal",
    "/integration/indicators.csv",
]


@pytest.mark.parametrize("path", PATHS)
def test_a_page_takes_the_same_number_of_queries_at_any_size_store_cold_or_warm(
    app, client, login_as, count_queries, path
):
    labels = ["2023-24", "2024-25", "2025-26"]
    staff = StaffFactory()
    first = bulk_district(5, labels)[0]
    path = path.replace("<first>", str(first))
    login_as(staff)
    counted = {}
    for size in ("small", "large"):
        if size == "large":
            bulk_district(35, labels, start=5)  # new schools: every year is out of date
        for store in ("cold", "warm"):
            with count_queries() as counter:
                assert client.get(path).status_code == 200
            counted[(size, store)] = counter
    for store in ("cold", "warm"):
        few, many = counted[("small", store)], counted[("large", store)]
        assert few.count == many.count, (store, few.statements, many.statements)
        assert many.count <= 15, (store, many.statements)
    writes = [
        s
        for s in counted[("large", "warm")].statements
        if "integration_figures" in s and not s.lstrip().upper().startswith("SELECT")
    ]
    assert writes == []  # a warm store is only read
    assert counted[("large", "cold")].count > counted[("large", "warm")].count


def test_the_dashboard_and_federal_table_list_a_hundred_schools_a_page(app, client, login_as):
    bulk_district(105, ["2025-26"])
    set_settings(["black", "hispanic_latino", "asian"])  # 43 schools isolated, 62 not
    login_as(StaffFactory())
    _header, *lines = read_csv(client.get("/integration/indicators.csv").data)
    order = {"Isolated": 0, "Watch band": 1, "Neither": 2, "No data": 3}
    expected = [line[2] for line in sorted(lines, key=lambda line: (order[line[5]], line[2]))]
    statuses = {line[2]: line[5] for line in lines}
    assert len(set(statuses.values())) > 1

    def listed(query: str) -> list[str]:
        html = client.get(f"/integration/?{query}").get_data(as_text=True)
        return [
            row[0]
            for table in tables(html)
            if table.attrs.get("data-status")
            for row in table.body()
        ]

    first, second = listed("page=1"), listed("page=2")
    assert len(first) == 100
    assert first + second == expected
    assert listed("page=9") == second  # past the end: the last page
    isolated = [name for name in expected if statuses[name] == "Isolated"]
    assert listed("status=isolated") == isolated[:100]
    html = client.get("/integration/?status=isolated").get_data(as_text=True)
    assert f'data-status-count="isolated">({len(isolated)})' in html
    assert listed("status=nonsense") == first  # an unknown status: every status

    def federal(page: int) -> list[list[str]]:
        html = client.get(f"/integration/federal?page={page}").get_data(as_text=True)
        (table,) = [t for t in tables(html) if t.attrs.get("data-measure") == "enrollment"]
        return table.body()

    by_name = sorted(statuses)
    one, two = federal(1), federal(2)
    assert [row[1] for row in one[:-1] + two[:-1]] == by_name  # 100, then 5, by name
    assert one[-1] == two[-1]  # the district's totals on every page
    assert one[-1][1] == "District total"


def test_the_refresh_command_computes_what_is_out_of_date(app, district):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["integration", "refresh"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{LAST}: computed", f"{THIS}: computed"]
    assert runner.invoke(args=["integration", "refresh"]).output.splitlines() == [
        f"{LAST}: up to date",
        f"{THIS}: up to date",
    ]
    # New counts for last year: last year's figures, and this year's changes since it.
    with app.app_context():
        figures.counts_changed([district.year_ids[LAST]])
        db.session.commit()
    assert runner.invoke(args=["integration", "refresh"]).output.splitlines() == [
        f"{LAST}: computed",
        f"{THIS}: computed",
    ]
    result = runner.invoke(args=["integration", "refresh", "--year", THIS, "--force"])
    assert result.output.splitlines() == [f"{THIS}: computed"]
    result = runner.invoke(args=["integration", "refresh", "--year", "1999-00"])
    assert result.exit_code == 1
    assert "no enrollment counts for the school year '1999-00'" in result.output


def test_an_import_marks_its_years_counts_as_changed(app, district):
    def versions() -> dict[int, int]:
        rows = db.session.execute(
            sa.select(IntegrationCountsVersion.school_year_id, IntegrationCountsVersion.version)
        )
        return dict(rows.all())

    assert versions() == {}
    import_last_year(app, district)
    assert versions() == {district.year_ids[LAST]: 1}
    import_last_year(app, district)
    assert versions() == {district.year_ids[LAST]: 2}


def test_the_settings_shown_without_counts_are_the_saved_ones(app, client, login_as):
    db.session.add(IntegrationSettings(id=1, minority_groups="black", suppression_threshold=15))
    db.session.commit()
    login_as(StaffFactory())
    html = client.get("/integration/").get_data(as_text=True)
    assert "There are no enrollment counts yet." in html
    assert "threshold N = 15" in html
