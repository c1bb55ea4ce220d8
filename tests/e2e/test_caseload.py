"""The caseload (a coach) and the coaching rhythm (staff) in a real browser, with axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, check_accessibility
from tests.e2e.test_journeys import sign_in

pytestmark = pytest.mark.e2e

COHORT = "Leadership Institute — Cohort 4"


def fellows_in_order(page: Page) -> list[str]:
    return [
        name.strip() for name in page.locator("#caseload tbody th[scope=row]").all_inner_texts()
    ]


def test_a_coach_sees_the_overdue_fellow_first_and_sorts_with_the_keyboard(
    page: Page, live_server: LiveServer
):
    sign_in(page, live_server, "coach@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts").click()
    page.get_by_role("link", name=COHORT).click()
    page.get_by_role("link", name="My caseload").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"My caseload in {COHORT}")
    first_row = page.locator("#caseload tbody tr").first
    expect(first_row).to_contain_text("Overdue")
    expect(page.locator("#caseload tbody").get_by_text("Overdue", exact=True)).to_have_count(1)
    check_accessibility(page, "caseload")

    by_name = page.get_by_role("link", name="Fellow", exact=True)
    by_name.focus()
    page.keyboard.press("Enter")
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Fellow")
    names = fellows_in_order(page)
    assert names == sorted(names, key=str.casefold)
    check_accessibility(page)


def test_staff_read_the_rhythm_at_phone_width_and_open_a_coachs_caseload(
    page: Page, live_server: LiveServer
):
    sign_in(page, live_server, "staff@example.org")
    page.goto(f"{live_server.url}/cohorts/")
    page.get_by_role("link", name=COHORT).click()
    page.get_by_role("link", name="Coaching rhythm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Coaching rhythm in {COHORT}")
    expect(page.get_by_role("heading", name="Fellows overdue (1)")).to_be_visible()
    check_accessibility(page, "rhythm")

    page.set_viewport_size({"width": 375, "height": 740})
    grid = page.get_by_role("region", name="Shared check-ins held each month")
    expect(grid).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1  # the table scrolls inside its region, not the page
    check_accessibility(page, "rhythm-phone")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Carmen Coach (caseload)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Caseload of Carmen Coach in {COHORT}"
    )
    check_accessibility(page, "caseload-staff")
