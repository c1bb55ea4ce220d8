"""Integration figures (issue 8) in a real browser.

1. Staff open "Integration" from the menu: the dashboard states what counts as minority and
   the small-cell threshold, its district indices are the ones worked out here from the
   stored counts, the race chart has its data table; they pick an earlier year, list the
   isolated schools (the legend of the marks is shown) and open a pilot school: its minority
   share falls year by year and each year's objective result agrees with the shares shown.
   The year picker and the status filter also work from the keyboard.
2. Staff change a magnet school's objective to "close to the district" (k = 15) from its page,
   see the result per year, and put the objective back as it was.
3. Staff download the indicators CSV and the federal-report CSV: both parse, no count from 1
   to 9 is published, and the federal page shows the same cells as its CSV.
4. An admin narrows the minority groups and raises the threshold: the dashboard says so and
   its figures change; the admin then puts the settings back with the same form.
5. The Spanish-speaking lead teacher reads their own school's page in Spanish but gets the
   403 page for the dashboard and another school; a fellow has no "Integration" menu item.
6. At 360 px every integration page fits, and wide tables scroll inside their own region.

The live server's demo data is shared with the other journeys: whatever a journey changes it
puts back through the same form (and, should the journey fail half-way, straight in the
database), and the objective it changes belongs to a school no other journey uses. Driven by
labels and roles; axe on every page.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Download, Locator, Page, ViewportSize, expect

from fellowship.cycles.models import School
from fellowship.db import db, utcnow
from fellowship.integration import metrics
from fellowship.integration.demo import demo_year_labels
from fellowship.integration.models import (
    DEFAULT_MINORITY,
    DEFAULT_THRESHOLD,
    EnrollmentCount,
    Group,
    IntegrationObjective,
    IntegrationSettings,
    Measure,
    ObjectiveKind,
)
from fellowship.school_years import SchoolYear
from tests.e2e.conftest import LiveServer, check_accessibility, focus_on
from tests.e2e.test_curriculum import fits_the_phone
from tests.e2e.test_journeys import in_language, sign_in

pytestmark = pytest.mark.e2e

Translate = Callable[[str], str]
SPANISH: Translate = in_language("es")  # the demo lead teacher's language
PHONE: ViewportSize = {"width": 360, "height": 740}

STAFF_EMAIL = "staff@example.org"
ADMIN_EMAIL = "admin@example.org"
LEAD_EMAIL = "lead@example.org"
FELLOW_EMAIL = "fellow@example.org"

# The pilot school whose every share is shown (the other two have years where a small group
# hides their share), isolated ten years ago and below 50 % now.
PILOT = "Westbrook Academy of the Arts"
LEAD_SCHOOL = "Coral Ridge STEM Magnet Elementary"  # the lead teacher's pilot school
OBJECTIVE_SCHOOL = "Cypress Visual Arts Magnet Elementary"  # "not isolated" since the first year
OBJECTIVE_CODE = "FL-13-0538"  # … and no other journey uses it

ABSOLUTE = "Not isolated (at most 50% minority)"
RELATIVE_BAND = "Close to the district"
RACE_LABELS = {
    "american_indian_alaska_native": "American Indian or Alaska Native",
    "asian": "Asian",
    "black": "Black or African American",
    "hispanic_latino": "Hispanic or Latino",
    "native_hawaiian_pacific_islander": "Native Hawaiian or Other Pacific Islander",
    "white": "White",
    "two_or_more": "Two or more races",
    "unknown": "Unknown or not reported",
}
DEFAULT_MINORITY_TEXT = ", ".join(RACE_LABELS[group.value] for group in DEFAULT_MINORITY)
# Journey 4's narrower definition: Asian and multiracial students no longer count.
NARROWER = tuple(g for g in DEFAULT_MINORITY if g not in (Group.ASIAN, Group.TWO_OR_MORE))
INDEX_ROWS = ("Share P", "Dissimilarity D", "Exposure", "Isolation", "Separation", "Theil's H")
INDEX_FIELDS = ("share", "dissimilarity", "exposure", "isolation", "separation", "theil_h")
COUNT_COLUMNS = [*RACE_LABELS.values(), "Total"]  # of the federal CSV


# Helpers ------------------------------------------------------------------------------------


def new_page(
    browser: Browser, server: LiveServer, email: str, viewport: ViewportSize | None = None
) -> Page:
    page = browser.new_context(viewport=viewport).new_page()
    sign_in(page, server, email)
    return page


def h1(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def flash(page: Page) -> Locator:
    return page.locator(".flash-messages")


def menu_item(page: Page, name: str, t: Translate = str) -> Locator:
    return page.get_by_role("navigation", name=t("Main")).get_by_role(
        "link", name=t(name), exact=True
    )


def definitions(page: Page) -> Locator:
    """The box every integration page has: the minority groups and the threshold."""
    return page.get_by_role("region", name="How the figures are counted")


def row_of(table: Locator, header: str) -> Locator:
    return table.get_by_role("row").filter(
        has=table.page.get_by_role("rowheader", name=header, exact=True)
    )


def rows_of(table: Locator) -> list[dict[str, str]]:
    """The body rows as the reader sees them: each cell's text under its column's header."""
    rows: list[dict[str, str]] = table.evaluate(
        """t => { const heads = [...t.tHead.rows[0].cells].map(c => c.innerText.trim());
            return [...t.tBodies].flatMap(b => [...b.rows]).map(r => Object.fromEntries(
              [...r.cells].map((c, i) => [heads[i], c.innerText.trim()]))); }"""
    )
    return rows


def percent(text: str) -> float | None:
    """A share as an English page writes it ("44.7%"); None when it is hidden ("*", "<10")."""
    found = re.fullmatch(r"(\d+(?:\.\d)?)%", text)
    return float(found.group(1)) / 100 if found else None


def shown_percent(text: str) -> float:
    """A share that must be shown."""
    value = percent(text)
    assert value is not None, f"the share {text!r} is not shown"
    return value


def count_in(text: str) -> int:
    """The count in brackets of a heading such as "Isolated (8)"."""
    found = re.search(r"\((\d+)\)", text)
    assert found is not None, text
    return int(found.group(1))


def district_shares(page: Page) -> dict[str, float]:
    """The district's minority share P per school year, from the dashboard's table."""
    table = page.get_by_role("table", name="Race and ethnicity indices per school year")
    return {row["School year"]: float(row["Share P"]) for row in rows_of(table)}


def demo_years() -> list[str]:
    """The demo's ten school years with counts, the first first."""
    return demo_year_labels(utcnow().date())


def school_id(server: LiveServer, name: str) -> int:
    with server.app.app_context():
        found = db.session.scalar(sa.select(School.id).where(School.name == name))
        db.session.remove()
    assert found is not None
    return found


def index_texts(
    server: LiveServer, label: str, minority: Collection[str] = DEFAULT_MINORITY
) -> dict[str, tuple[str, str]]:
    """The district indices of a year worked out here from the stored all-grades enrollment
    counts (the figures the page must show): row label -> (race, income), three decimals."""
    with server.app.app_context():
        rows = db.session.execute(
            sa.select(EnrollmentCount.school_id, EnrollmentCount.group, EnrollmentCount.count)
            .join(SchoolYear, SchoolYear.id == EnrollmentCount.school_year_id)
            .join(School, School.id == EnrollmentCount.school_id)
            .where(
                SchoolYear.label == label,
                EnrollmentCount.grade.is_(None),
                EnrollmentCount.measure == Measure.ENROLLMENT,
                School.is_active.is_(True),
            )
        ).all()
        db.session.remove()
    by_school: dict[int, dict[str, int]] = {}
    for school, group, count in rows:
        by_school.setdefault(school, {})[str(group)] = count
    schools = list(by_school.values())
    race = metrics.race_indices(schools, minority)
    income = metrics.income_indices(schools)

    def text(value: float | None) -> str:
        return "—" if value is None else f"{round(value, 3):.3f}"

    return {
        label: (text(getattr(race, field)), text(getattr(income, field)))
        for label, field in zip(INDEX_ROWS, INDEX_FIELDS, strict=True)
    }


def expect_indices(page: Page, year: str, expected: dict[str, tuple[str, str]]) -> None:
    table = page.get_by_role("table", name=f"District indices, {year} (0 to 1)")
    for label, (race, income) in expected.items():
        expect(row_of(table, label).get_by_role("cell")).to_have_text([race, income])


def objective_rows(server: LiveServer, code: str) -> list[tuple[str, str, Decimal, str]]:
    """A school's stored objectives: (from year, kind, k, note), the first year first."""
    with server.app.app_context():
        rows = db.session.execute(
            sa.select(
                SchoolYear.label,
                IntegrationObjective.kind,
                IntegrationObjective.band_k,
                IntegrationObjective.note,
            )
            .join(SchoolYear, SchoolYear.id == IntegrationObjective.effective_from_year_id)
            .join(School, School.id == IntegrationObjective.school_id)
            .where(School.code == code)
            .order_by(SchoolYear.starts_on)
        ).all()
        db.session.remove()
    return [(label, str(kind), Decimal(band_k), note) for label, kind, band_k, note in rows]


def put_objectives_back(
    server: LiveServer, code: str, saved: list[tuple[str, str, Decimal, str]]
) -> None:
    """Only when a journey failed before putting them back itself: the same kinds, k and notes
    for the same years (the objectives journey 2 changes already exist; it adds none)."""
    if objective_rows(server, code) == saved:
        return
    with server.app.app_context():
        for label, kind, band_k, note in saved:
            objective = db.session.scalar(
                sa.select(IntegrationObjective)
                .join(SchoolYear, SchoolYear.id == IntegrationObjective.effective_from_year_id)
                .join(School, School.id == IntegrationObjective.school_id)
                .where(School.code == code, SchoolYear.label == label)
            )
            assert objective is not None
            objective.kind = ObjectiveKind(kind)
            objective.band_k = band_k
            objective.note = note
            objective.updated_at = utcnow()  # the figures store sees the change
        db.session.commit()
        db.session.remove()


def settings_saved(server: LiveServer) -> tuple[tuple[str, ...], int]:
    """(minority groups, threshold) as stored; the defaults while there is no settings row."""
    with server.app.app_context():
        row = db.session.get(IntegrationSettings, 1)
        saved = (
            (tuple(g.value for g in row.minority), row.suppression_threshold)
            if row is not None
            else (tuple(g.value for g in DEFAULT_MINORITY), DEFAULT_THRESHOLD)
        )
        db.session.remove()
    return saved


def put_settings_back(server: LiveServer, saved: tuple[tuple[str, ...], int]) -> None:
    """Only when journey 4 failed before putting them back through its form."""
    if settings_saved(server) == saved:
        return
    with server.app.app_context():
        row = db.session.get(IntegrationSettings, 1)
        assert row is not None
        row.minority_groups = ",".join(saved[0])
        row.suppression_threshold = saved[1]  # the version moves: the figures are redone
        db.session.commit()
        db.session.remove()


def tick(control: Locator, checked: bool = True) -> None:
    """Check (or uncheck) a USWDS radio or checkbox the way a person does: its input is
    drawn by its label, so the label is what is clicked."""
    if control.is_checked() != checked:
        control.page.locator(f'label[for="{control.get_attribute("id")}"]').click()
    expect(control).to_be_checked(checked=checked)


def tab_to(control: Locator, limit: int = 120) -> int:
    """Press Tab from where the focus is until `control` has it; the number of presses."""
    page = control.page
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if control.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"Tab did not reach {control} in {limit} presses")


def skip_to_content(page: Page) -> None:
    """From the top of the page: Tab to the skip link, Enter; Tab goes on from the content."""
    page.bring_to_front()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")


def downloaded_csv(download: Download) -> list[dict[str, str]]:
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# 1. Staff read the dashboard and a pilot school ---------------------------------------------


def test_staff_read_the_district_figures_pick_a_year_list_isolated_schools_and_open_a_pilot(
    browser: Browser, live_server: LiveServer
) -> None:
    years = demo_years()
    latest, earlier = years[-1], years[4]
    staff = new_page(browser, live_server, STAFF_EMAIL)
    menu_item(staff, "Integration").click()
    expect(h1(staff)).to_have_text(f"Integration dashboard, {latest}")
    expect(definitions(staff)).to_contain_text(f"Minority groups: {DEFAULT_MINORITY_TEXT}.")
    expect(definitions(staff)).to_contain_text(
        "counts from 1 to 9 are not shown (threshold N = 10), nor shares of fewer than 10 students"
    )
    expected = index_texts(live_server, latest)
    expect_indices(staff, latest, expected)

    # The chart over the years, and its table with the same figures.
    chart = staff.get_by_role(
        "img", name=re.compile("^The district's race and ethnicity indices per school year")
    )
    expect(chart).to_be_visible()
    over_years = staff.get_by_role("table", name="Race and ethnicity indices per school year")
    expect(over_years.get_by_role("rowheader")).to_have_text(list(reversed(years)))
    expect(row_of(over_years, latest).get_by_role("cell")).to_have_text(
        [race for race, _income in expected.values()] + ["20"]
    )
    district = district_shares(staff)
    check_accessibility(staff, "integration-dashboard")

    # An earlier year, with the year picker.
    picker = staff.get_by_role("form", name="Choose the school year")
    picker.get_by_label("School year").select_option(earlier)
    picker.get_by_role("button", name="Show", exact=True).click()
    expect(h1(staff)).to_have_text(f"Integration dashboard, {earlier}")
    expect_indices(staff, earlier, index_texts(live_server, earlier))

    # Only the isolated schools; the marks for hidden figures are explained.
    staff.get_by_role("navigation", name="Show the schools of one status").get_by_role(
        "link", name="Isolated", exact=True
    ).click()
    isolated = staff.get_by_role("table", name=f"Isolated schools, {earlier}")
    expect(isolated).to_be_visible()
    expect(
        staff.get_by_role("table", name=re.compile(r"^(Watch band|Neither|No data) schools"))
    ).to_have_count(0)
    count = count_in(staff.get_by_role("heading", name=re.compile("^Isolated")).inner_text())
    rows = rows_of(isolated)
    assert len(rows) == count > 0
    pilot_row = next(row for row in rows if row["School"] == PILOT)
    assert pilot_row["Magnet / pilot"] == "Magnet · Pilot"
    shown = [percent(row["Minority share p"]) for row in rows]
    assert all(p > 0.5 for p in shown if p is not None), shown
    expect(staff.get_by_text("Not shown: fewer than 10 students.")).to_be_visible()
    expect(staff.get_by_text("<10", exact=True).first).to_be_visible()
    check_accessibility(staff, "integration-dashboard-isolated")

    # The pilot school: its share falls year by year, each year judged against its objective.
    isolated.get_by_role("link", name=PILOT).click()
    expect(h1(staff)).to_have_text(f"Integration figures of {PILOT}")
    expect(definitions(staff)).to_contain_text(f"Minority groups: {DEFAULT_MINORITY_TEXT}.")
    composition = staff.get_by_role(
        "table", name=f"Enrollment of {PILOT} per school year, the latest first"
    )
    history = list(reversed(rows_of(composition)))
    assert [row["School year"] for row in history] == years
    shares = [shown_percent(row["Minority share p"]) for row in history]
    assert all(a > b for a, b in pairwise(shares)), shares
    assert shares[0] > 0.5 > shares[-1]
    for row, p in zip(history, shares, strict=True):
        assert row["Status"] == ("Isolated" if p > 0.5 else "Neither"), row
    objectives = staff.get_by_role(
        "table", name="The objective in force and its result per school year, the latest first"
    )
    results = {row["School year"]: row for row in rows_of(objectives)}
    assert list(results) == list(reversed(years))
    by_year = dict(zip(years, shares, strict=True))
    for year, row in results.items():
        p = by_year[year]
        if row["Objective"] == ABSOLUTE:
            assert row["Result"] == ("Met" if p <= 0.5 else "Not met"), row
        else:
            assert row["Objective"] == f"{RELATIVE_BAND} (k = 15 points)", row
            met = abs(p - district[year]) <= 0.15
            assert row["Result"] == ("Met" if met else "Not met"), row
    assert results[latest]["Result"] == "Met"
    assert results[years[0]]["Result"] == "Not met"
    check_accessibility(staff, "integration-school")
    staff.context.close()


def test_staff_pick_a_year_and_a_status_with_the_keyboard_only(
    browser: Browser, live_server: LiveServer
) -> None:
    years = demo_years()
    staff = new_page(browser, live_server, STAFF_EMAIL)
    staff.goto(f"{live_server.url}/integration/")
    skip_to_content(staff)
    year = staff.get_by_role("form", name="Choose the school year").get_by_label("School year")
    tab_to(year)
    staff.keyboard.press("ArrowDown")  # the latest year comes first: the year before it
    expect(year).to_have_value(years[-2])
    staff.keyboard.press("Tab")
    expect(staff.get_by_role("button", name="Show", exact=True)).to_be_focused()
    staff.keyboard.press("Enter")
    expect(h1(staff)).to_have_text(f"Integration dashboard, {years[-2]}")

    watch = staff.get_by_role("navigation", name="Show the schools of one status").get_by_role(
        "link", name="Watch band", exact=True
    )
    skip_to_content(staff)
    tab_to(watch)
    staff.keyboard.press("Enter")
    expect(staff.get_by_role("table", name=f"Watch band schools, {years[-2]}")).to_be_visible()
    expect(staff.get_by_role("table", name=f"Isolated schools, {years[-2]}")).to_have_count(0)
    expect(h1(staff)).to_have_text(f"Integration dashboard, {years[-2]}")
    staff.context.close()


# 2. Staff set a magnet school's objective, then put it back ---------------------------------


def test_staff_set_a_schools_objective_to_the_district_band_and_put_it_back(
    browser: Browser, live_server: LiveServer
) -> None:
    years = demo_years()
    saved = objective_rows(live_server, OBJECTIVE_CODE)
    assert [(label, kind) for label, kind, _k, _note in saved] == [(years[0], "absolute")]
    try:
        staff = new_page(browser, live_server, STAFF_EMAIL)
        staff.goto(f"{live_server.url}/integration/")
        district = district_shares(staff)
        staff.get_by_role("table", name=re.compile("^Magnet schools' objectives")).get_by_role(
            "link", name=OBJECTIVE_SCHOOL
        ).click()
        expect(h1(staff)).to_have_text(f"Integration figures of {OBJECTIVE_SCHOOL}")
        objectives = staff.get_by_role(
            "table", name="The objective in force and its result per school year, the latest first"
        )
        expect(objectives.get_by_role("cell", name=ABSOLUTE, exact=True)).to_have_count(10)

        staff.get_by_role("link", name="Set the objective").click()
        expect(h1(staff)).to_have_text(f"Integration objective of {OBJECTIVE_SCHOOL}")
        check_accessibility(staff, "integration-objective-form")
        tick(staff.get_by_role("radio", name=re.compile("^" + re.escape(RELATIVE_BAND))))
        band = staff.get_by_label("Band width k, in percentage points")
        band.fill("fifteen")
        staff.get_by_label("In force from the school year").select_option(years[0])
        staff.get_by_role("button", name="Save the objective").click()
        # Refused, with what was typed kept; nothing changed.
        expect(staff.get_by_role("alert").first).to_be_visible()
        expect(band).to_have_value("fifteen")
        expect(band).to_have_attribute("aria-describedby", re.compile("band_k-error"))
        assert objective_rows(live_server, OBJECTIVE_CODE) == saved
        check_accessibility(staff, "integration-objective-form-error")
        band.fill("15")
        staff.get_by_role("button", name="Save the objective").click()

        expect(h1(staff)).to_have_text(f"Integration figures of {OBJECTIVE_SCHOOL}")
        expect(flash(staff)).to_contain_text(
            f"The objective of {OBJECTIVE_SCHOOL} from {years[0]} on has been saved."
        )
        shares = {
            row["School year"]: shown_percent(row["Minority share p"])
            for row in rows_of(
                staff.get_by_role("table", name=re.compile(f"^Enrollment of {OBJECTIVE_SCHOOL}"))
            )
        }
        results = rows_of(objectives)
        assert [row["School year"] for row in results] == list(reversed(years))
        for row in results:
            year = row["School year"]
            assert row["Objective"] == f"{RELATIVE_BAND} (k = 15 points)", row
            assert row["In force since"] == years[0], row
            met = abs(shares[year] - district[year]) <= 0.15
            assert row["Result"] == ("Met" if met else "Not met"), row
        check_accessibility(staff, "integration-school-objective-set")

        # Back as it was: the history's link opens the first year's objective.
        staff.get_by_role("link", name="Set the objective").click()
        staff.get_by_role("link", name=f"Change the objective from {years[0]}").click()
        expect(
            staff.get_by_label("In force from the school year").locator("option:checked")
        ).to_have_text(years[0])
        expect(
            staff.get_by_role("radio", name=re.compile("^" + re.escape(RELATIVE_BAND)))
        ).to_be_checked()
        tick(staff.get_by_role("radio", name=re.compile("^" + re.escape(ABSOLUTE))))
        staff.get_by_role("button", name="Save the objective").click()
        expect(flash(staff)).to_contain_text(
            f"The objective of {OBJECTIVE_SCHOOL} from {years[0]} on has been saved."
        )
        expect(objectives.get_by_role("cell", name=ABSOLUTE, exact=True)).to_have_count(10)
        for row in rows_of(objectives):
            met = shares[row["School year"]] <= 0.5
            assert row["Result"] == ("Met" if met else "Not met"), row
        assert objective_rows(live_server, OBJECTIVE_CODE) == saved
        staff.context.close()
    finally:
        put_objectives_back(live_server, OBJECTIVE_CODE, saved)


# 3. Exports ---------------------------------------------------------------------------------


def test_staff_download_the_indicators_and_the_federal_table_which_agree_with_the_pages(
    browser: Browser, live_server: LiveServer
) -> None:
    latest = demo_years()[-1]
    staff = new_page(browser, live_server, STAFF_EMAIL)
    staff.goto(f"{live_server.url}/integration/")
    on_page = next(
        row
        for table in staff.get_by_role("table", name=re.compile(r" schools, ")).all()
        for row in rows_of(table)
        if row["School"] == PILOT
    )
    with staff.expect_download() as indicators:
        staff.get_by_role(
            "link", name=f"Download the indicators of every school, {latest} (CSV)"
        ).click()
    assert indicators.value.suggested_filename == f"integration-indicators-{latest}.csv"
    lines = downloaded_csv(indicators.value)
    # Every active school, one line each: the 20 demo schools, and any school another journey
    # added (with no counts: "no data").
    assert len({line["State code"] for line in lines}) == len(lines) >= 20
    assert {line["Minority groups"] for line in lines} == {DEFAULT_MINORITY_TEXT}
    assert {line["Small-cell threshold N"] for line in lines} == {"10"}
    assert {line["School year"] for line in lines} == {latest}
    pilot = next(line for line in lines if line["School"] == PILOT)
    assert (pilot["Magnet"], pilot["Pilot"]) == ("yes", "yes")
    # The page's "44.7%" is the CSV's "44.7"; points are signed alike (a minus sign on the page).
    for column in ("Minority share p", "Low-income share"):
        assert f"{pilot[column + ' (%)']}%" == on_page[column], column
    assert pilot["Gap to district (points)"] == on_page["Gap to district (points)"].replace(
        "\u2212", "-"
    ).lstrip("+")
    assert pilot["Objective met"] == on_page["Objective"]

    staff.get_by_role("link", name=f"Federal report table of October 1 counts, {latest}").click()
    expect(h1(staff)).to_have_text(f"Federal report table, {latest}")
    expect(definitions(staff)).to_contain_text(f"Minority groups: {DEFAULT_MINORITY_TEXT}.")
    expect(definitions(staff)).to_contain_text("(threshold N = 10)")
    check_accessibility(staff, "integration-federal")
    with staff.expect_download() as federal:
        staff.get_by_role("link", name="Download this table (CSV)").click()
    assert federal.value.suggested_filename == f"integration-federal-{latest}.csv"
    lines = downloaded_csv(federal.value)
    measures = [
        "Enrollment on October 1",
        "Applicants",
        "Applied and enrolled",
        "New, did not apply",
        "Continuing",
    ]
    assert list(dict.fromkeys(line["Measure"] for line in lines)) == measures
    assert len(lines) == 5 * 21  # 20 schools and the district total per measure
    published = [line[column] for line in lines for column in COUNT_COLUMNS]
    assert not [cell for cell in published if re.fullmatch(r"[1-9]", cell)]
    assert all(re.fullmatch(r"\d+|<10|\*", cell) for cell in published), set(published)
    assert "<10" in published
    assert {line["Small-cell threshold N"] for line in lines} == {"10"}

    # The page's cells are the CSV's, school by school (the page writes 1,532 for 1532).
    for measure in measures:
        table = staff.get_by_role("table", name=f"{measure} by race and ethnicity, {latest}")
        cells = row_of(table, PILOT).get_by_role("cell").all_inner_texts()
        line = next(x for x in lines if x["Measure"] == measure and x["School"] == PILOT)
        assert [c.replace(",", "") for c in cells] == [
            line["State code"],
            *(line[column] for column in COUNT_COLUMNS),
        ], measure
    staff.context.close()


# 4. An admin changes the settings, then puts them back -------------------------------------


def test_an_admin_narrows_the_minority_groups_and_raises_the_threshold_then_puts_them_back(
    browser: Browser, live_server: LiveServer
) -> None:
    latest = demo_years()[-1]
    saved = settings_saved(live_server)
    try:
        admin = new_page(browser, live_server, ADMIN_EMAIL)
        menu_item(admin, "Integration").click()
        summary = admin.get_by_role("list").filter(has_text="District minority share P")
        before = summary.inner_text()
        definitions(admin).get_by_role("link", name="Change the integration settings").click()
        expect(h1(admin)).to_have_text("Integration settings")
        check_accessibility(admin, "integration-settings")
        groups = admin.get_by_role("group", name="Groups counted as minority")
        chosen = {
            name: groups.get_by_role("checkbox", name=name, exact=True).is_checked()
            for name in (RACE_LABELS[g.value] for g in DEFAULT_MINORITY)
        }
        threshold = admin.get_by_label("Small-cell threshold N")
        assert threshold.input_value() == "10"
        for group in (Group.ASIAN, Group.TWO_OR_MORE):
            tick(groups.get_by_role("checkbox", name=RACE_LABELS[group.value], exact=True), False)
        threshold.fill("12")
        admin.get_by_role("button", name="Save the settings").click()
        expect(flash(admin)).to_contain_text("The integration settings have been saved.")
        expect(admin.get_by_role("region", name="Saved settings")).to_contain_text(
            "; ".join(RACE_LABELS[g.value] for g in NARROWER)
        )

        menu_item(admin, "Integration").click()
        narrower = ", ".join(RACE_LABELS[g.value] for g in NARROWER)
        expect(definitions(admin)).to_contain_text(f"Minority groups: {narrower}.")
        expect(definitions(admin)).to_contain_text(
            "counts from 1 to 11 are not shown (threshold N = 12)"
        )
        expect(admin.get_by_text("Not shown: fewer than 12 students.")).to_be_visible()
        expect(admin.get_by_text("<12", exact=True).first).to_be_visible()
        expect(admin.get_by_text("<10", exact=True)).to_have_count(0)
        expect_indices(admin, latest, index_texts(live_server, latest, NARROWER))
        assert summary.inner_text() != before
        check_accessibility(admin, "integration-dashboard-narrower")

        # Back as they were, with the same form.
        definitions(admin).get_by_role("link", name="Change the integration settings").click()
        for name, checked in chosen.items():
            tick(groups.get_by_role("checkbox", name=name, exact=True), checked)
        threshold.fill("10")
        admin.get_by_role("button", name="Save the settings").click()
        expect(flash(admin)).to_contain_text("The integration settings have been saved.")
        assert settings_saved(live_server) == saved
        menu_item(admin, "Integration").click()
        expect(definitions(admin)).to_contain_text(f"Minority groups: {DEFAULT_MINORITY_TEXT}.")
        expect(definitions(admin)).to_contain_text("(threshold N = 10)")
        expect(summary).to_have_text(before)
        expect_indices(admin, latest, index_texts(live_server, latest))
        admin.context.close()
    finally:
        put_settings_back(live_server, saved)


# 5. The lead teacher in Spanish; a fellow ---------------------------------------------------


def test_the_lead_teacher_reads_their_schools_page_in_spanish_but_not_the_dashboard(
    browser: Browser, live_server: LiveServer
) -> None:
    t = SPANISH
    lead = new_page(browser, live_server, LEAD_EMAIL)
    expect(menu_item(lead, "Integration", t)).to_have_count(0)
    lead.goto(f"{live_server.url}/integration/schools/{school_id(live_server, LEAD_SCHOOL)}")
    expect(lead.locator("html")).to_have_attribute("lang", "es")
    expect(h1(lead)).to_have_text(t("Integration figures of %(name)s") % {"name": LEAD_SCHOOL})
    expect(lead.get_by_role("region", name=t("How the figures are counted"))).to_contain_text(
        t("Minority groups:")
    )
    composition = lead.get_by_role(
        "table",
        name=t("Enrollment of %(name)s per school year, the latest first") % {"name": LEAD_SCHOOL},
    )
    expect(composition.get_by_role("rowheader")).to_have_count(10)
    expect(composition.get_by_role("columnheader", name=t("Minority share p"))).to_be_visible()
    expect(lead.get_by_text(t("Not shown: fewer than %(n)d students.") % {"n": 10})).to_be_visible()
    # Staff's tools are not offered.
    expect(lead.get_by_role("link", name=t("Set the objective"))).to_have_count(0)
    expect(lead.get_by_role("link", name=t("Integration dashboard"))).to_have_count(0)
    check_accessibility(lead, "integration-school-lead-es")
    lead.get_by_role("link", name=t("The school's cycles")).click()
    expect(h1(lead)).to_have_text(LEAD_SCHOOL)

    for path in ("/integration/", f"/integration/schools/{school_id(live_server, PILOT)}"):
        response = lead.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.status == 403, path
        expect(h1(lead)).to_have_text(t("Not allowed"))
    check_accessibility(lead, "integration-403-lead-es")
    lead.context.close()

    fellow = new_page(browser, live_server, FELLOW_EMAIL)
    expect(menu_item(fellow, "Home")).to_be_visible()
    expect(menu_item(fellow, "Integration")).to_have_count(0)
    response = fellow.goto(f"{live_server.url}/integration/")
    assert response is not None
    assert response.status == 403
    expect(fellow.get_by_text("You do not have access to this page.")).to_be_visible()
    expect(fellow.get_by_text("Minority groups")).to_have_count(0)
    fellow.context.close()


# 6. Phone width -----------------------------------------------------------------------------


def scrolls_inside(region: Locator) -> None:
    """A table wider than the phone scrolls in its own region, which the keyboard can reach."""
    width, inner = region.evaluate("el => [el.clientWidth, el.scrollWidth]")
    assert inner > width, f"{region} does not need to scroll ({inner} px in {width} px)"
    focus_on(region)
    region.page.keyboard.press("ArrowRight")
    region.page.wait_for_function("el => el.scrollLeft > 0", arg=region.element_handle())


def test_the_integration_pages_fit_a_phone_and_their_tables_scroll_in_place(
    browser: Browser, live_server: LiveServer
) -> None:
    latest = demo_years()[-1]
    staff = new_page(browser, live_server, STAFF_EMAIL, viewport=PHONE)
    staff.get_by_role("button", name="Menu").click()
    menu_item(staff, "Integration").click()
    expect(h1(staff)).to_have_text(f"Integration dashboard, {latest}")
    fits_the_phone(staff)
    scrolls_inside(staff.get_by_role("region", name=re.compile(r"^Isolated schools, ")))
    fits_the_phone(staff)
    check_accessibility(staff, "integration-dashboard-phone")

    staff.get_by_role("link", name=PILOT).first.click()
    expect(h1(staff)).to_have_text(f"Integration figures of {PILOT}")
    fits_the_phone(staff)
    scrolls_inside(staff.get_by_role("region", name=re.compile(f"^Enrollment of {PILOT}")))
    check_accessibility(staff, "integration-school-phone")

    staff.get_by_role("link", name="Set the objective").click()
    expect(h1(staff)).to_have_text(f"Integration objective of {PILOT}")
    fits_the_phone(staff)
    check_accessibility(staff, "integration-objective-form-phone")

    staff.goto(f"{live_server.url}/integration/federal")
    expect(h1(staff)).to_have_text(f"Federal report table, {latest}")
    fits_the_phone(staff)
    scrolls_inside(
        staff.get_by_role("region", name=f"Enrollment on October 1 by race and ethnicity, {latest}")
    )
    check_accessibility(staff, "integration-federal-phone")
    staff.context.close()

    admin = new_page(browser, live_server, ADMIN_EMAIL, viewport=PHONE)
    admin.goto(f"{live_server.url}/integration/settings")
    expect(h1(admin)).to_have_text("Integration settings")
    fits_the_phone(admin)
    check_accessibility(admin, "integration-settings-phone")
    admin.context.close()
