"""Enrollment counts in (issue 8) in a real browser.

Staff download the template, upload a counts file with an error (a line-numbered message,
nothing to confirm), then the corrected file: the preview says which school-year it
replaces, and they confirm. An admin then checks the counts on the raw-data screen, picking
the school by its code. The file is one demo school's stored counts for one year, written
back as they are, so the live server's demo data (shared by the other journeys) ends as it
began. Driven by labels and roles, axe on every page.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Locator, Page, expect

from fellowship.cycles.models import School
from fellowship.db import db
from fellowship.integration.models import EnrollmentCount
from fellowship.school_years import SchoolYear
from tests.e2e.conftest import LiveServer, check_accessibility
from tests.e2e.test_journeys import sign_in

pytestmark = pytest.mark.e2e

STAFF_EMAIL = "staff@example.org"
ADMIN_EMAIL = "admin@example.org"
SCHOOL_CODE = "FL-13-0312"  # a demo magnet school with ten years of counts
HEADER = "school_code,school_year,grade,measure,group,count"


def h1(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def stored_counts(server: LiveServer) -> tuple[str, list[str]]:
    """The latest school year of the demo school's counts, and those counts as CSV lines."""
    with server.app.app_context():
        school_id = db.session.scalar(sa.select(School.id).where(School.code == SCHOOL_CODE))
        label = db.session.scalar(
            sa.select(SchoolYear.label)
            .join(EnrollmentCount, EnrollmentCount.school_year_id == SchoolYear.id)
            .where(EnrollmentCount.school_id == school_id)
            .order_by(SchoolYear.starts_on.desc())
            .limit(1)
        )
        rows = db.session.execute(
            sa.select(
                EnrollmentCount.grade,
                EnrollmentCount.measure,
                EnrollmentCount.group,
                EnrollmentCount.count,
            )
            .join(SchoolYear, SchoolYear.id == EnrollmentCount.school_year_id)
            .where(EnrollmentCount.school_id == school_id, SchoolYear.label == label)
            .order_by(EnrollmentCount.id)
        ).all()
        db.session.remove()
    assert label is not None
    assert rows
    lines = [
        f"{SCHOOL_CODE},{label},{grade or ''},{measure.value},{group.value},{count}"
        for grade, measure, group, count in rows
    ]
    return label, lines


def test_staff_import_counts_after_fixing_an_error_and_an_admin_checks_them_raw(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    label, lines = stored_counts(live_server)
    corrected = tmp_path / "october-counts.csv"
    corrected.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    with_error = tmp_path / "october-counts-with-error.csv"
    bad = lines[1].rsplit(",", 1)[0] + ",1.5"
    with_error.write_text("\n".join([HEADER, lines[0], bad, *lines[2:]]) + "\n", encoding="utf-8")

    staff = browser.new_context().new_page()
    sign_in(staff, live_server, STAFF_EMAIL)
    staff.goto(f"{live_server.url}/integration/import")
    expect(h1(staff)).to_have_text("Import enrollment counts")
    check_accessibility(staff, "integration-import")
    with staff.expect_download() as download:
        staff.get_by_role("link", name="Long layout: one count a line (CSV)").click()
    assert download.value.suggested_filename == "enrollment-counts-long.csv"
    assert Path(download.value.path()).read_text(encoding="utf-8").startswith(HEADER)

    # A file with an error: a line-numbered message, nothing to confirm.
    staff.get_by_label("CSV file").set_input_files(with_error)
    staff.get_by_role("button", name="Check the file").click()
    expect(h1(staff)).to_have_text("Check the enrollment count import")
    expect(staff.get_by_role("alert")).to_contain_text(
        "The file has 1 error. Nothing will be imported until it is fixed."
    )
    expect(staff.locator("#import-errors li")).to_have_text(
        [
            "Line 3: count “1.5” is not a whole number: write digits only, like 25 (no "
            "decimals, exponents, signs or thousands separators)."
        ]
    )
    expect(staff.get_by_role("button", name="Confirm the import")).to_have_count(0)
    check_accessibility(staff, "integration-import-error")

    # The corrected file: the preview names the school-year it replaces, then confirmed.
    staff.get_by_role("link", name="Upload a corrected file").click()
    staff.get_by_label("CSV file").set_input_files(corrected)
    staff.get_by_role("button", name="Check the file").click()
    expect(h1(staff)).to_have_text("Check the enrollment count import")
    expect(staff.get_by_role("alert")).to_have_count(0)
    table = staff.get_by_role("table", name="School-years in the file")
    expect(table.get_by_role("rowheader")).to_have_text([SCHOOL_CODE])
    expect(table).to_contain_text(label)
    expect(table).to_contain_text("Replaced")
    check_accessibility(staff, "integration-import-preview")
    staff.get_by_role("button", name="Confirm the import").click()
    expect(h1(staff)).to_have_text("Import enrollment counts")
    expect(staff.locator(".flash-messages")).to_contain_text(
        f"Counts imported: {len(lines)} counts for 1 schools. School-years added: 0. Replaced: 1."
    )
    check_accessibility(staff, "integration-imported")
    staff.context.close()

    # The admin checks the counts as stored, grade by grade.
    admin = browser.new_context().new_page()
    sign_in(admin, live_server, ADMIN_EMAIL)
    admin.goto(f"{live_server.url}/integration/import")
    admin.get_by_role("link", name="Raw enrollment counts").click()
    expect(h1(admin)).to_have_text("Raw enrollment counts")
    expect(admin.get_by_role("region", name="Unsuppressed counts")).to_contain_text(
        "the only place counts are shown without small-cell suppression"
    )
    check_accessibility(admin, "integration-raw")
    admin.get_by_label("Or the school's state code").fill(SCHOOL_CODE)
    admin.get_by_role("button", name="Show the counts").click()
    enrollment = admin.get_by_role("table", name="Enrollment on October 1 — ")
    expect(enrollment.first).to_be_visible()
    expect(enrollment.first.get_by_role("rowheader").first).to_have_text("All grades")
    expect(admin.get_by_role("main")).to_contain_text(f"({SCHOOL_CODE}), {label}")
    check_accessibility(admin, "integration-raw-school")
    admin.context.close()
