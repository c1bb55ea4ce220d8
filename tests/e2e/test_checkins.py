"""A coach logs and shares a check-in; the fellow reads it, ticks an item and replies.

Real browser, keyboard for the radio and checkbox groups, axe on every page; the private
note is checked absent from everything the fellow sees. (The email's content is checked in
tests/coaching: the development server here does not always run the after-response mail
delivery when the browser resets the connection, so waiting for SMTP would be flaky.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from fellowship.db import utcnow
from tests.e2e.conftest import LiveServer, check_accessibility
from tests.e2e.test_convenings import COHORT, press_space_on
from tests.e2e.test_journeys import sign_in

pytestmark = pytest.mark.e2e

SECRET = "E2E private note: worried about burnout"
SUMMARY = "We planned the **family night** pitch."
ITEM = "Draft the family night invitation"


def test_a_coach_shares_a_check_in_and_the_fellow_answers_it(
    browser: Browser, page: Page, live_server: LiveServer
):
    # The coach works in a browser of their own; the fellow uses `page`.
    coach_browser = browser.new_context()
    coach = coach_browser.new_page()
    sign_in(coach, live_server, "coach@example.org")
    coach.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts").click()
    coach.get_by_role("link", name=COHORT).click()
    coach.get_by_role("link", name="Log a check-in with Femi Fellow").click()
    expect(coach.get_by_role("heading", level=1)).to_have_text("Log a check-in with Femi Fellow")
    check_accessibility(coach, "checkin-new")

    coach.get_by_label("Length in minutes").fill("2")
    press_space_on(coach, coach.get_by_role("group", name="How you met").get_by_label("Phone"))
    press_space_on(coach, coach.get_by_label("Coalition building"))
    coach.get_by_label("Summary for the fellow").fill(SUMMARY)
    coach.get_by_label("Private notes").fill(SECRET)
    first = coach.get_by_role("group", name="Action item 1", exact=True)
    first.get_by_label("Action item").fill(ITEM)
    first.get_by_label("Due date").fill((utcnow().date() + timedelta(days=7)).isoformat())
    coach.get_by_role("button", name="Save and share with Femi Fellow").click()
    expect(coach.get_by_text("Enter the length in minutes, from 5 to 600.").first).to_be_visible()
    expect(coach.get_by_label("Private notes")).to_have_value(SECRET)
    check_accessibility(coach, "checkin-new-errors")

    coach.get_by_label("Length in minutes").fill("40")
    coach.get_by_role("button", name="Save and share with Femi Fellow").click()
    expect(coach.get_by_role("status").first).to_contain_text("shared with Femi Fellow")
    expect(coach.locator(".private-notes")).to_contain_text(SECRET)
    check_accessibility(coach, "checkin-detail-coach")
    checkin_url = coach.url
    coach_browser.close()

    sign_in(page, live_server, "fellow@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts").click()
    page.get_by_role("link", name=COHORT).click()
    page.get_by_role("link", name="My check-ins").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My check-ins")
    expect(page.locator("main")).to_contain_text("family night")
    expect(page.locator("main")).not_to_contain_text(SECRET)
    check_accessibility(page, "my-checkins")
    page.get_by_role("button", name=f"Mark as done: {ITEM}").click()
    expect(page.get_by_role("button", name=f"Mark as not done: {ITEM}")).to_be_visible()

    page.goto(checkin_url)
    expect(page.locator("main")).not_to_contain_text(SECRET)
    page.get_by_label("Your reply").fill("Thank you, I will send it **Friday**.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#replies strong")).to_have_text("Friday")
    check_accessibility(page, "checkin-detail-fellow")
