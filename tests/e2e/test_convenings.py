"""Convenings, attendance and the calendar feed in a real browser, with axe on every page."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import icalendar
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, check_accessibility
from tests.e2e.test_journeys import sign_in

pytestmark = pytest.mark.e2e

COHORT = "Leadership Institute — Cohort 4"


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - test server
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def press_space_on(page: Page, control) -> None:
    """Choose a USWDS checkbox or radio the keyboard way (the input itself is drawn by CSS)."""
    control.focus()
    page.keyboard.press("Space")


def test_a_facilitator_schedules_a_convening_takes_attendance_and_subscribes(
    page: Page, live_server: LiveServer
):
    sign_in(page, live_server, "facilitator@example.org")  # time zone: America/Los_Angeles
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts").click()
    page.get_by_role("link", name=COHORT).click()
    page.get_by_role("link", name="Schedule a convening").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Schedule a convening")
    check_accessibility(page, "convening-new")

    page.get_by_label("Title").fill("Keyboard-only workshop")
    page.get_by_label("Kind").select_option(label="Workshop")
    page.get_by_label("Date", exact=True).fill("2030-09-17")
    page.get_by_label("Start time").fill("09:00")
    page.get_by_label("End time").fill("08:00")
    page.get_by_label("Online link").fill("meet.example.org/workshop")
    page.get_by_label("Agenda").fill("## Plan\n\n- **Warm-up**\n- <script>alert(1)</script>")
    press_space_on(page, page.get_by_label("Farid Facilitator"))
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("The end must be after the start.").first).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Keyboard-only workshop")
    check_accessibility(page, "convening-new-errors")

    page.get_by_label("End time").fill("10:30")
    page.get_by_label("Online link").fill("https://meet.example.org/workshop")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Keyboard-only workshop")
    expect(page.get_by_text(re.compile(r"9:00\sAM\s–\s10:30\sAM"))).to_be_visible()
    expect(page.locator(".agenda strong")).to_have_text("Warm-up")
    expect(page.locator(".agenda")).to_contain_text("<script>alert(1)</script>")
    check_accessibility(page, "convening-detail")

    page.get_by_role("link", name="Take attendance").click()
    check_accessibility(page, "attendance-form")
    # Keyboard: Space chooses the focused radio, an arrow key moves along the group.
    first_row = page.get_by_role("group", name="Attendance of Amara Okafor")
    press_space_on(page, first_row.get_by_label("Present"))
    page.keyboard.press("ArrowRight")
    expect(first_row.get_by_label("Absent")).to_be_checked()
    diego = page.get_by_role("group", name="Attendance of Diego Ramírez")
    press_space_on(page, diego.get_by_label("Excused"))
    page.get_by_label("Note for Diego Ramírez").fill("At a school board hearing")
    femi = page.get_by_role("group", name="Attendance of Femi Fellow")
    press_space_on(page, femi.get_by_label("Present"))
    page.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_role("status").first).to_contain_text("Attendance for Keyboard-only")
    expect(page.get_by_text("1 present of 3 fellows recorded")).to_be_visible()
    check_accessibility(page, "attendance-saved")

    page.get_by_role("link", name="Attendance rates of the cohort").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Attendance in")
    check_accessibility(page, "cohort-attendance")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    check_accessibility(page, "calendar")
    feed_url = page.get_by_label("Calendar address (iCalendar)").input_value()
    assert feed_url.startswith(f"{live_server.url}/calendar/")
    status, body = fetch(feed_url)
    assert status == 200
    titles = [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")]
    assert "Keyboard-only workshop" in titles


def test_a_fellow_makes_a_new_calendar_address_and_the_old_one_stops(
    page: Page, live_server: LiveServer
):
    sign_in(page, live_server, "fellow@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your calendar")
    old = page.get_by_label("Calendar address (iCalendar)").input_value()
    assert fetch(old)[0] == 200
    page.get_by_role("button", name="Make a new address").click()
    expect(page.get_by_role("status").first).to_contain_text("Your calendar has a new address")
    new = page.get_by_label("Calendar address (iCalendar)").input_value()
    assert new != old
    assert fetch(old)[0] == 404
    assert fetch(new)[0] == 200
    check_accessibility(page, "calendar-rotated")


def test_staff_see_cohort_calendar_addresses_and_the_convenings_list(
    page: Page, live_server: LiveServer
):
    sign_in(page, live_server, "staff@example.org")
    page.goto(f"{live_server.url}/calendar/")
    expect(page.get_by_role("heading", name="Cohort calendars")).to_be_visible()
    cohort_feed = page.get_by_label(f"Calendar address of {COHORT}").input_value()
    status, body = fetch(cohort_feed)
    assert status == 200
    icalendar.Calendar.from_ical(body)
    check_accessibility(page, "calendar-staff")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cohorts").click()
    page.get_by_role("link", name=COHORT).click()
    page.goto(page.url.rstrip("/") + "/convenings")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Convenings of")
    check_accessibility(page, "convenings-index")
