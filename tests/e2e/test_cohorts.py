"""Staff run a cohort in a real browser: import a roster, fix a bad row, assign a coach."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, check_accessibility
from tests.e2e.test_journeys import sign_in

pytestmark = pytest.mark.e2e

COHORT = "Leadership Institute — Cohort 4"

BAD_ROSTER = (
    "email,name,role,coach_email\n"
    "imani.jones@example.org,Imani Jones,fellow,grace.obi@example.org\n"
    "not-an-email,Someone Wrong,fellow,\n"
    "kofi.mensah@example.org,Kofi Mensah,coach,\n"
)
GOOD_ROSTER = BAD_ROSTER.replace("not-an-email,Someone Wrong,fellow,\n", "")


def upload(page: Page, text: str) -> None:
    page.get_by_label("Roster file").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Preview the import").click()


def test_staff_import_a_roster_fix_a_bad_row_and_assign_a_coach(
    page: Page, live_server: LiveServer
):
    sign_in(page, live_server, "staff@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts").click()
    check_accessibility(page, "cohort-index")
    page.get_by_role("link", name=COHORT).click()
    check_accessibility(page, "cohort-detail")
    page.get_by_role("link", name="Manage members").click()
    check_accessibility(page, "cohort-members")
    page.get_by_role("link", name="Import a roster").click()
    check_accessibility(page, "roster-import")

    upload(page, BAD_ROSTER)
    errors = page.get_by_role("table", name="Errors by file and line")
    expect(errors).to_contain_text("3")  # the line of the bad row
    expect(errors).to_contain_text("not-an-email")
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    check_accessibility(page, "roster-preview-errors")

    page.get_by_role("link", name="Upload a corrected file").click()
    upload(page, GOOD_ROSTER)
    expect(page.get_by_role("table", name="People to create and invite")).to_contain_text(
        "Imani Jones"
    )
    check_accessibility(page, "roster-preview")
    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Members of")
    people = page.get_by_role("table", name="Everyone in the cohort")
    expect(people).to_contain_text("Imani Jones")
    expect(people).to_contain_text("Kofi Mensah")

    # The same file again changes nothing.
    page.get_by_role("link", name="Import a roster").click()
    upload(page, GOOD_ROSTER)
    expect(
        page.get_by_text("Nothing to change: the cohort already matches the file.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)

    # Give the fellow without a coach (from the demo) the new coach.
    page.goto(f"{live_server.url}/cohorts/")
    page.get_by_role("link", name=COHORT).click()
    page.get_by_role("link", name="Manage members").click()
    page.get_by_role("link", name="Tomás Nguyen").click()
    check_accessibility(page, "cohort-member")
    page.get_by_label("Coach", exact=True).select_option(label="Kofi Mensah")
    page.get_by_role("button", name="Save coach").click()
    expect(page.get_by_role("status").first).to_contain_text("The coach has been saved.")
    history = page.get_by_role("table", name="Coaching history")
    expect(history).to_contain_text("Kofi Mensah")
