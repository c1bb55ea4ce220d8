"""School cycles (issue 7) in a real browser.

The issue's journey: staff put the demo lead teacher on a first-year school's team and
schedule its yearly goals review; the lead teacher (whose interface is in Spanish: the
journey reads the page through the app's own Spanish catalog, so it keeps working as the
cycle pages get translated) records a measurement with a PDF as evidence; in the review
both rate the goals, staff write the notes, the lead teacher agrees one goal for next year,
both sign and the review is frozen; the packet PDF downloads; staff open next year's cycle
from it and its goals are the agreed ones.

Also: the lead teacher sets a goal's status by hand with a reason; a partner logs support
hours and staff see them in the report; staff import schools from CSV (an error first, then
the corrected file); the portfolio filters, sorts, opens a cycle and exports CSV; the lead
teacher's pages and the portfolio fit a phone; a fellow has no school cycles. Driven by
labels and roles, axe on every page.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from fellowship.cycles.models import Cycle, School
from fellowship.cycles.setup_services import next_year_label
from fellowship.db import db
from fellowship.school_years import SchoolYear, label_for
from tests.conftest import body_of
from tests.e2e.conftest import LiveServer, check_accessibility, focus_on
from tests.e2e.test_curriculum import fits_the_phone, subject_of
from tests.e2e.test_journeys import in_language, sign_in
from tests.upload_attacks import valid_pdf

pytestmark = pytest.mark.e2e

DEMO_TIMEZONE = ZoneInfo("America/New_York")
PHONE: ViewportSize = {"width": 360, "height": 740}
Translate = Callable[[str], str]
ENGLISH: Translate = in_language("en")
SPANISH: Translate = in_language("es")  # the demo lead teacher's language

STAFF_EMAIL, STAFF = "staff@example.org", "Sofía Staff"
LEAD_EMAIL, LEAD = "lead@example.org", "Luis Lead Teacher"
PARTNER_EMAIL, PARTNER = "partner@example.org", "Priya Partner"

# The journey: a first-year school with no review yet (the demo lead teacher's own
# pilot school already has its review scheduled), led by Aisha Bello; staff add Luis.
SCHOOL = "Bayside Marine Science Magnet Elementary"
SCHOOL_CODE = "FL-13-0312"
INITIATIVE = "Every family chooses us"
GOAL_1 = "Share of kindergarten applicants from outside the attendance zone"
GOAL_2 = "Largest racial group's share of new enrollment"
LOCATION = "Bayside media center"
NOTE = "From the district lottery file of this month."
PDF_NAME = "Bayside lottery report – noviembre.pdf"  # not plain ASCII
PDF_BYTES = valid_pdf("Bayside lottery report")
COMMENT_1 = "Applications from the east side are up since the library open houses."
COMMENT_2 = "No movement yet: the bus stop east of the river is still missing."
NOTES = "We agreed to keep the applicants goal and raise its target to **35 %**."
NEXT_TARGET = "35"

OVERRIDE_REASON = "The district's new lottery file counts siblings twice; the trend is worse."

# Journeys 2 and 5: the demo lead teacher's own school, and one of the partner's schools.
LEAD_SCHOOL = "Coral Ridge STEM Magnet Elementary"
LEAD_SCHOOL_CODE = "FL-13-0041"
PARTNER_SCHOOL = "Riverside Performing Arts Magnet Middle"
SUPPORT_TOPIC = "Rehearsal schedules that fit the late buses"

# Journey 3: two new schools (codes no demo school has).
CSV_HEADER = "code,name,level,magnet,magnet_theme,pilot,region"
NEW_SCHOOL_1 = "Tidewater Maritime Magnet Middle"
NEW_SCHOOL_2 = "Tidewater Community Elementary"
CSV_WITH_ERROR = (
    f"{CSV_HEADER}\n"
    f"FL-13-9901,{NEW_SCHOOL_2},elementary,no,,no,South\n"
    f"FL-13-9902,{NEW_SCHOOL_1},middle,yes,,no,South\n"  # a magnet without its theme
)
CSV_CORRECTED = (
    f"{CSV_HEADER}\n"
    f"FL-13-9901,{NEW_SCHOOL_2},elementary,no,,no,South\n"
    f"FL-13-9902,{NEW_SCHOOL_1},middle,yes,Maritime Studies,no,South\n"
)


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


def nav_link(page: Page, name: str, t: Translate = ENGLISH) -> Locator:
    return page.get_by_role("navigation", name=t("Main")).get_by_role(
        "link", name=t(name), exact=True
    )


def tab(page: Page, name: str, t: Translate = ENGLISH) -> Locator:
    """A tab of the cycle's header (Overview, Goals, …)."""
    return page.get_by_role("navigation", name=t("Cycle sections")).get_by_role(
        "link", name=t(name), exact=True
    )


def today() -> date:
    """Today where the demo's staff, lead teacher and partner are."""
    return datetime.now(DEMO_TIMEZONE).date()


def this_year() -> str:
    return label_for(today())


def long_date(day: date, locale: str = "en") -> str:
    return format_date(day, "long", locale=locale)


def number_in(text: str) -> float:
    """A number as an English page shows it (1,234.5)."""
    return float(text.strip().replace(",", ""))


def open_cycles(page: Page, t: Translate = ENGLISH) -> None:
    nav_link(page, "School cycles", t).click()
    expect(h1(page)).to_have_text(t("Cycles %(year)s") % {"year": this_year()})


def open_cycle(page: Page, school: str, initiative: str | None = None) -> None:
    """From the cycles list: the school's cycle (its initiative's link)."""
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=school))
    row.get_by_role("link").last.click()
    if initiative:
        expect(h1(page)).to_have_text(initiative)


def rating_group(page: Page, goal: str) -> Locator:
    return page.get_by_role("group", name=re.compile("^" + re.escape(goal) + " — "))


def rate_by_keyboard(page: Page, goal: str, rating: str, comment: str, t: Translate) -> None:
    """Space picks the first choice (met), each ArrowDown the next; Tab goes on to the
    comment."""
    group = rating_group(page, goal)
    choices = [t("Met"), t("Progressing"), t("Not met")]
    focus_on(group.get_by_role("radio", name=choices[0], exact=True))
    page.keyboard.press("Space")
    for _ in range(choices.index(rating)):
        page.keyboard.press("ArrowDown")
    expect(group.get_by_role("radio", name=rating, exact=True)).to_be_checked()
    page.keyboard.press("Tab")
    comment_box = group.get_by_role("textbox")
    expect(comment_box).to_be_focused()
    page.keyboard.type(comment)


def press_enter_on(control: Locator) -> None:
    focus_on(control)
    control.page.keyboard.press("Enter")
    control.page.wait_for_load_state()


def open_review(page: Page, day: date, t: Translate, locale: str) -> None:
    tab(page, "Goals reviews", t).click()
    expect(h1(page)).to_have_text(t("Goals reviews"))
    page.get_by_role(
        "link", name=t("Yearly review, %(date)s") % {"date": long_date(day, locale)}
    ).click()
    expect(h1(page)).to_have_text(
        t("Yearly goals review, %(date)s") % {"date": long_date(day, locale)}
    )


def unfolded_subject(message: Message) -> str:
    """The subject as one line (a long one arrives folded over several)."""
    return re.sub(r"\r?\n(?=[ \t])", "", subject_of(message))


def wait_for_mail(server: LiveServer, to: str, subject: str) -> Message:
    """The one email to `to` with `subject` (the cron job sends what the development server
    did not get to, as it does in production)."""

    def found() -> list[Message]:
        return [m for m in server.smtp.messages if m["To"] == to and unfolded_subject(m) == subject]

    for seconds, cron in ((3, True), (5, False)):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not found():
            time.sleep(0.05)
        if found() or not cron:
            break
        server.run_outbox_cron()  # sends only what is still queued: never a second copy
    messages = found()
    assert len(messages) == 1, (subject, [unfolded_subject(m) for m in server.smtp.messages])
    return messages[0]


def cycle_id_of(server: LiveServer, code: str) -> int:
    """The id of the school's latest cycle (journey 6 types its address)."""
    with server.app.app_context():
        found = db.session.scalar(
            sa.select(Cycle.id)
            .join(School, School.id == Cycle.school_id)
            .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
            .where(School.code == code, SchoolYear.label == this_year())
        )
    assert found is not None
    return found


# 1. The journey ---------------------------------------------------------------------


def test_a_review_is_scheduled_measured_rated_signed_and_next_year_opens_with_the_agreed_goals(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    t = SPANISH
    year = this_year()
    next_year = next_year_label(year)
    meeting = today() + timedelta(days=7)
    measured = today() - timedelta(days=1)
    pdf = tmp_path / PDF_NAME
    pdf.write_bytes(PDF_BYTES)

    # Staff put Luis on the school's team and schedule the review, by keyboard ---------------
    staff = new_page(browser, live_server, STAFF_EMAIL)
    open_cycles(staff)
    check_accessibility(staff, "cycles-index-staff")
    open_cycle(staff, SCHOOL, INITIATIVE)
    expect(staff.get_by_role("region", name="Driver diagram")).to_be_visible()
    check_accessibility(staff, "cycles-overview-staff")

    tab(staff, "Team").click()
    expect(h1(staff)).to_have_text("Team")
    check_accessibility(staff, "cycles-team")
    adding = staff.get_by_role("region", name="Add a person")
    adding.get_by_label("Email", exact=True).fill(LEAD_EMAIL)
    adding.get_by_label("Role", exact=True).select_option(label="Lead teacher")
    adding.get_by_role("button", name="Add to the team").click()
    expect(flash(staff)).to_contain_text(f"{LEAD_EMAIL} has been added to the team")
    team = staff.get_by_role("table", name="The team of this cycle")
    expect(team.get_by_role("row").filter(has_text=LEAD)).to_contain_text("Lead teacher")
    check_accessibility(staff, "cycles-team-added")

    tab(staff, "Goals reviews").click()
    expect(staff.get_by_text("No review is scheduled for this cycle yet.")).to_be_visible()
    check_accessibility(staff, "cycles-reviews-none")
    staff.get_by_role("link", name="Schedule the yearly review").click()
    expect(h1(staff)).to_have_text("Schedule the yearly review")
    participants = staff.get_by_label("Participants")
    for name in ("Aisha Bello", LEAD, STAFF):  # the lead teachers and the scheduler
        expect(participants).to_contain_text(name)
    check_accessibility(staff, "cycles-review-schedule")
    staff.get_by_label("Date of the review meeting").fill(meeting.isoformat())  # native picker
    focus_on(staff.get_by_label("Where"))
    staff.keyboard.type(LOCATION)
    staff.keyboard.press("Tab")
    expect(participants).to_be_focused()
    staff.keyboard.press("Tab")
    expect(staff.get_by_role("button", name="Schedule the review")).to_be_focused()
    staff.keyboard.press("Enter")
    expect(h1(staff)).to_have_text(f"Yearly goals review, {long_date(meeting)}")
    expect(flash(staff)).to_contain_text(
        f"The yearly review is scheduled for {long_date(meeting)}. "
        "The cycle's lead teachers are notified."
    )
    expect(staff.get_by_text(LOCATION)).to_be_visible()
    check_accessibility(staff, "cycles-review-scheduled")

    subject = t("The yearly goals review of %(school)s is scheduled for %(date)s") % {
        "school": SCHOOL,
        "date": long_date(meeting, "es"),
    }
    told = wait_for_mail(live_server, LEAD_EMAIL, subject)
    assert re.search(r"http://127\.0\.0\.1:\d+/cycles/\d+/reviews/\d+", body_of(told))

    # Luis, in Spanish, records a measurement with a PDF as evidence ------------------------
    lead = new_page(browser, live_server, LEAD_EMAIL)
    expect(lead.locator("html")).to_have_attribute("lang", "es")
    open_cycles(lead, t)
    check_accessibility(lead, "cycles-index-lead")
    open_cycle(lead, SCHOOL, INITIATIVE)
    tab(lead, "Goals", t).click()
    expect(h1(lead)).to_have_text(t("Goals"))
    check_accessibility(lead, "cycles-goals-lead")
    goal = lead.get_by_role("article", name=GOAL_1)
    goal.get_by_role("link", name=t("Record a measurement")).click()
    expect(h1(lead)).to_have_text(t("Record a measurement"))
    check_accessibility(lead, "cycles-measurement-new")
    lead.get_by_label(t("Date measured")).fill(measured.isoformat())
    lead.get_by_label(t("Value"), exact=True).fill("22,5")  # a decimal comma
    lead.get_by_label(t("Note")).fill(NOTE)
    lead.get_by_label(t("Evidence file")).set_input_files(pdf)
    lead.get_by_role("button", name=t("Record the measurement")).click()
    expect(h1(lead)).to_have_text(GOAL_1)
    expect(flash(lead)).to_contain_text(
        t("The measurement of %(day)s has been recorded for “%(title)s”.")
        % {"day": long_date(measured, "es"), "title": GOAL_1}
    )
    evidence = lead.get_by_role("link", name=PDF_NAME)
    row = lead.get_by_role("row").filter(has=evidence)
    expect(row).to_contain_text("22,5")
    expect(row).to_contain_text(NOTE)
    expect(row).to_contain_text(LEAD)
    check_accessibility(lead, "cycles-goal-with-evidence")
    with lead.expect_download() as download_info:
        evidence.click()
    assert download_info.value.suggested_filename == PDF_NAME
    assert Path(download_info.value.path()).read_bytes() == PDF_BYTES

    # In the review Luis rates his goal by keyboard and agrees next year's goal -------------
    open_review(lead, meeting, t, "es")
    expect(lead.get_by_text(LOCATION)).to_be_visible()
    check_accessibility(lead, "cycles-review-lead")
    rate_by_keyboard(lead, GOAL_1, t("Progressing"), COMMENT_1, t)
    press_enter_on(lead.get_by_role("button", name=t("Save the ratings")))
    expect(flash(lead)).to_contain_text(t("The ratings are saved."))
    expect(
        rating_group(lead, GOAL_1).get_by_role("radio", name=t("Progressing"), exact=True)
    ).to_be_checked()

    lead.get_by_role("link", name=t("Add a goal for next year")).click()
    expect(h1(lead)).to_have_text(t("Add a goal for next year"))
    check_accessibility(lead, "cycles-next-goal-new")
    lead.get_by_label(t("Start from one of this year's goals")).select_option(label=GOAL_1)
    lead.get_by_role("button", name=t("Fill in from this goal")).click()
    expect(lead.get_by_label(t("Goal"), exact=True)).to_have_value(GOAL_1)
    expect(
        lead.get_by_label(t("Continues this year's goal")).locator("option:checked")
    ).to_have_text(GOAL_1)
    check_accessibility(lead, "cycles-next-goal-filled")
    lead.get_by_label(t("Target"), exact=True).fill(NEXT_TARGET)
    lead.get_by_role("button", name=t("Add the goal")).click()
    expect(flash(lead)).to_contain_text(
        t("“%(title)s” is added to next year's goals.") % {"title": GOAL_1}
    )
    expect(h1(lead)).to_have_text(
        t("Yearly goals review, %(date)s") % {"date": long_date(meeting, "es")}
    )

    # Staff rate the other goal and write the notes ------------------------------------------
    open_review(staff, meeting, ENGLISH, "en")
    expect(
        rating_group(staff, GOAL_1).get_by_role("radio", name="Progressing", exact=True)
    ).to_be_checked()
    expect(rating_group(staff, GOAL_1).get_by_role("textbox")).to_have_value(COMMENT_1)
    rate_by_keyboard(staff, GOAL_2, "Not met", COMMENT_2, ENGLISH)
    staff.get_by_role("button", name="Save the ratings").click()
    expect(flash(staff)).to_contain_text("The ratings are saved.")
    notes = staff.get_by_label("Discussion notes")
    expect(notes).to_be_visible()
    notes.fill(NOTES)
    staff.get_by_role("button", name="Save the notes").click()
    expect(flash(staff)).to_contain_text("The discussion notes are saved.")
    expect(notes).to_have_value(NOTES)
    check_accessibility(staff, "cycles-review-recorded")

    # Luis signs, then staff sign: the review is frozen --------------------------------------
    open_review(lead, meeting, t, "es")
    expect(
        rating_group(lead, GOAL_2).get_by_role("radio", name=t("Not met"), exact=True)
    ).to_be_checked()
    lead.get_by_role("button", name=t("Sign as the lead teacher")).click()
    expect(flash(lead)).to_contain_text(
        t("Your signature is recorded. The review is frozen once both have signed.")
    )
    expect(
        lead.get_by_text(t("%(name)s signed as the lead teacher.") % {"name": LEAD})
    ).to_be_visible()
    check_accessibility(lead, "cycles-review-lead-signed")

    open_review(staff, meeting, ENGLISH, "en")
    expect(staff.get_by_text(f"{LEAD} signed as the lead teacher.")).to_be_visible()
    staff.get_by_role("button", name="Sign as the staff reviewer").click()
    expect(flash(staff)).to_contain_text(
        "Both have signed. The review is frozen: this page now shows the record exactly as "
        "it was signed."
    )
    expect(staff.get_by_text(re.compile(r"^Signed by both and frozen on "))).to_be_visible()
    expect(staff.get_by_role("button", name="Save the ratings")).to_have_count(0)
    rated = staff.get_by_role("table", name="How each goal was rated in the meeting")
    expect(rated.get_by_role("row").filter(has_text=GOAL_1)).to_contain_text("Progressing")
    expect(rated.get_by_role("row").filter(has_text=GOAL_2)).to_contain_text("Not met")
    expect(staff.locator("main strong", has_text="35 %")).to_be_visible()  # the notes
    check_accessibility(staff, "cycles-review-frozen")

    # The packet PDF -------------------------------------------------------------------------
    with staff.expect_download() as download_info:
        staff.get_by_role("link", name="Download the packet (PDF)").click()
    packet = download_info.value
    assert packet.suggested_filename.endswith(".pdf"), packet.suggested_filename
    assert SCHOOL_CODE in packet.suggested_filename
    assert Path(packet.path()).read_bytes().startswith(b"%PDF")

    # Staff open next year's cycle from it: its goals are the agreed ones ---------------------
    staff.get_by_role("main").get_by_role("link", name=SCHOOL, exact=True).click()
    expect(h1(staff)).to_have_text(SCHOOL)
    check_accessibility(staff, "cycles-school")
    staff.get_by_role("link", name=f"Open {next_year} from {year}").click()
    expect(h1(staff)).to_have_text(f"Open {next_year} from this cycle")
    starts_with = staff.get_by_role("table", name="Goals the new cycle starts with")
    expect(starts_with.get_by_role("rowheader")).to_have_text([GOAL_1])
    expect(starts_with.get_by_role("row").filter(has_text=GOAL_1)).to_contain_text("35 %")
    check_accessibility(staff, "cycles-open-next")
    staff.get_by_role("button", name=f"Open the {next_year} cycle").click()
    expect(flash(staff)).to_contain_text(
        f"The {next_year} cycle of {SCHOOL} is open, carried forward from {year}."
    )
    expect(h1(staff)).to_have_text(INITIATIVE)
    expect(staff.get_by_text(f"School year {next_year}")).to_be_visible()
    check_accessibility(staff, "cycles-next-year-overview")
    tab(staff, "Goals").click()
    goals = staff.get_by_role("article")
    expect(goals).to_have_count(1)
    expect(goals.get_by_role("heading", level=2)).to_have_text(GOAL_1)
    expect(goals).to_contain_text("35%")
    check_accessibility(staff, "cycles-next-year-goals")

    for page in (staff, lead):
        page.context.close()


# 1b. A status set by hand -------------------------------------------------------------------


def test_the_lead_teacher_sets_a_goals_status_by_hand_with_a_reason(
    browser: Browser, live_server: LiveServer
) -> None:
    t = SPANISH
    lead = new_page(browser, live_server, LEAD_EMAIL)
    open_cycles(lead, t)
    open_cycle(lead, LEAD_SCHOOL)
    tab(lead, "Goals", t).click()
    lead.get_by_role("article", name=GOAL_2).get_by_role("link", name=GOAL_2, exact=True).click()
    expect(h1(lead)).to_have_text(GOAL_2)
    lead.get_by_text(t("Set the status by hand"), exact=True).click()
    status = lead.get_by_label(t("Status to show"))
    expect(status).to_be_visible()
    status.select_option(label=t("Off track"))
    lead.get_by_label(t("Reason"), exact=True).fill(OVERRIDE_REASON)
    lead.get_by_role("button", name=t("Set the status"), exact=True).click()
    expect(flash(lead)).to_contain_text(
        t("The status of “%(title)s” is now set by hand: %(status)s.")
        % {"title": GOAL_2, "status": t("Off track")}
    )
    expect(lead.get_by_role("heading", name=t("Set by hand"), exact=True)).to_be_visible()
    expect(lead.get_by_role("blockquote")).to_have_text(OVERRIDE_REASON)
    check_accessibility(lead, "cycles-goal-override")
    lead.context.close()


# 2. A partner logs support ------------------------------------------------------------------


def support_hours(table: Locator, name: str, column: int) -> float:
    row = table.get_by_role("row").filter(has=table.page.get_by_role("rowheader", name=name))
    return number_in(row.get_by_role("cell").nth(column).inner_text())


def test_a_partner_logs_support_hours_that_show_on_their_home_and_in_the_staff_report(
    browser: Browser, live_server: LiveServer
) -> None:
    # Staff read the report first.
    staff = new_page(browser, live_server, STAFF_EMAIL)
    open_cycles(staff)
    open_cycle(staff, PARTNER_SCHOOL)
    tab(staff, "Support").click()
    expect(h1(staff)).to_have_text("Support")
    check_accessibility(staff, "cycles-support-log-staff")
    staff.get_by_role("link", name="Support across schools").click()
    expect(h1(staff)).to_have_text("Support across schools")
    check_accessibility(staff, "cycles-support-report")
    by_school = staff.get_by_role("table", name="By school")
    school_before = support_hours(by_school, PARTNER_SCHOOL, 1)  # entries, hours, …

    # The partner logs 2.5 hours of coaching, from their home page.
    partner = new_page(browser, live_server, PARTNER_EMAIL)
    yours = partner.get_by_role(
        "table", name="Schools you support this year and your support hours"
    )
    expect(yours).to_be_visible()
    check_accessibility(partner, "cycles-home-partner")
    mine_before = support_hours(yours, PARTNER_SCHOOL, 0)
    total_before = support_hours(yours, "Total", 0)
    yours.get_by_role("link", name=f"Log support for {PARTNER_SCHOOL}").click()
    expect(h1(partner)).to_have_text("Log support")
    expect(partner.get_by_text(f"You will be recorded as the provider: {PARTNER}.")).to_be_visible()
    check_accessibility(partner, "cycles-support-new")
    coaching = partner.get_by_role("group", name="Kind of support").get_by_role(
        "radio", name="Coaching"
    )
    focus_on(coaching)
    partner.keyboard.press("Space")
    expect(coaching).to_be_checked()
    partner.get_by_label("Hours", exact=True).fill("2.5")
    partner.get_by_label("Participants", exact=True).fill("8")
    partner.get_by_label("Topic", exact=True).fill(SUPPORT_TOPIC)
    partner.get_by_role("button", name="Log the support").click()
    expect(flash(partner)).to_contain_text(f"The support “{SUPPORT_TOPIC}” has been logged.")
    expect(h1(partner)).to_have_text("Support")
    entry = partner.get_by_role("row").filter(
        has=partner.get_by_role("rowheader", name=SUPPORT_TOPIC)
    )
    expect(entry).to_contain_text("Coaching")
    expect(entry).to_contain_text("2.5")
    check_accessibility(partner, "cycles-support-logged")

    nav_link(partner, "Home").click()
    expect(h1(partner)).to_have_text(f"Welcome, {PARTNER}")
    assert support_hours(yours, PARTNER_SCHOOL, 0) == mine_before + 2.5
    assert support_hours(yours, "Total", 0) == total_before + 2.5
    partner_total = support_hours(yours, "Total", 0)

    # Staff see it in the report.
    staff.reload()
    by_school = staff.get_by_role("table", name="By school")
    assert support_hours(by_school, PARTNER_SCHOOL, 1) == school_before + 2.5
    by_partner = staff.get_by_role("table", name="By partner")
    assert support_hours(by_partner, PARTNER, 2) == partner_total  # organisation, entries, hours

    for page in (staff, partner):
        page.context.close()


# 3. Importing schools -----------------------------------------------------------------------


def test_staff_import_schools_from_csv_after_fixing_a_line_numbered_error(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    with_error = tmp_path / "schools-with-error.csv"
    with_error.write_text(CSV_WITH_ERROR, encoding="utf-8")
    corrected = tmp_path / "schools.csv"
    corrected.write_text(CSV_CORRECTED, encoding="utf-8")

    staff = new_page(browser, live_server, STAFF_EMAIL)
    open_cycles(staff)
    staff.get_by_role("list", name="For staff").get_by_role(
        "link", name="Schools", exact=True
    ).click()
    expect(h1(staff)).to_have_text("Schools")
    check_accessibility(staff, "cycles-schools")
    staff.get_by_role("link", name="Import schools from CSV").click()
    expect(h1(staff)).to_have_text("Import schools from CSV")
    check_accessibility(staff, "cycles-schools-import")

    # A file with an error: a line-numbered message, nothing to confirm.
    staff.get_by_label("CSV file").set_input_files(with_error)
    staff.get_by_role("button", name="Check the file").click()
    expect(h1(staff)).to_have_text("Check the school import")
    expect(staff.get_by_role("alert")).to_contain_text(
        "The file has 1 error. Nothing will be imported until it is fixed."
    )
    expect(staff.locator("#import-errors li")).to_have_text(
        ["Line 3: magnet is yes, so magnet_theme is needed."]
    )
    expect(staff.get_by_role("button", name="Confirm the import")).to_have_count(0)
    check_accessibility(staff, "cycles-schools-import-error")

    # Nothing was imported.
    staff.get_by_role("main").get_by_role("link", name="Schools", exact=True).click()
    staff.get_by_label("Search by name or code").fill("Tidewater")
    staff.get_by_role("button", name="Search").click()
    expect(staff.get_by_role("status")).to_have_text("No schools match.")

    # The corrected file: a preview, then confirmed.
    staff.get_by_role("link", name="Import schools from CSV").click()
    staff.get_by_label("CSV file").set_input_files(corrected)
    staff.get_by_role("button", name="Check the file").click()
    expect(h1(staff)).to_have_text("Check the school import")
    expect(staff.get_by_role("alert")).to_have_count(0)
    to_add = staff.get_by_role("table", name="Schools to add")
    expect(to_add.get_by_role("rowheader")).to_have_text(["FL-13-9901", "FL-13-9902"])
    expect(to_add).to_contain_text(NEW_SCHOOL_1)
    expect(to_add).to_contain_text("Maritime Studies")
    check_accessibility(staff, "cycles-schools-import-preview")
    staff.get_by_role("button", name="Confirm the import").click()
    expect(h1(staff)).to_have_text("Schools")
    expect(flash(staff)).to_contain_text("Schools imported. Added: 2. Updated: 0. Unchanged: 0.")
    staff.get_by_label("Search by name or code").fill("Tidewater")
    staff.get_by_role("button", name="Search").click()
    schools = staff.get_by_role("table", name="Schools")
    expect(schools.get_by_role("rowheader")).to_have_text([NEW_SCHOOL_2, NEW_SCHOOL_1])
    row = schools.get_by_role("row").filter(has=staff.get_by_role("rowheader", name=NEW_SCHOOL_1))
    expect(row).to_contain_text("FL-13-9902")
    expect(row).to_contain_text("Maritime Studies")
    check_accessibility(staff, "cycles-schools-imported")
    staff.context.close()


# 4. The portfolio ---------------------------------------------------------------------------


def test_staff_filter_sort_and_export_the_portfolio_and_click_through_to_a_cycle(
    browser: Browser, live_server: LiveServer
) -> None:
    year = this_year()
    staff = new_page(browser, live_server, STAFF_EMAIL)
    staff.get_by_role("link", name="The portfolio of every school's cycle").click()
    expect(h1(staff)).to_have_text(f"School cycles portfolio, {year}")
    check_accessibility(staff, "cycles-portfolio")

    staff.get_by_label("Pilot schools").select_option(label="Pilot schools only")
    staff.get_by_role("button", name="Show").click()
    portfolio = staff.get_by_role("table", name=f"School cycles portfolio, {year}")
    expect(staff.get_by_role("status")).to_contain_text("3 school cycles.")
    expect(portfolio.locator("tbody").get_by_role("row")).to_have_count(3)
    check_accessibility(staff, "cycles-portfolio-pilots")

    portfolio.get_by_role("link", name="Support hours").click()
    expect(staff.get_by_label("Pilot schools")).to_have_value("yes")  # the filter stays
    rows = portfolio.locator("tbody").get_by_role("row")
    expect(rows).to_have_count(3)
    hours_column = 9  # after pilot / magnet, region, stage, 5 statuses and the last measurement
    hours = [
        number_in(rows.nth(i).get_by_role("cell").nth(hours_column).inner_text()) for i in range(3)
    ]
    assert hours == sorted(hours, reverse=True), hours
    check_accessibility(staff, "cycles-portfolio-sorted")

    with staff.expect_download() as download_info:
        staff.get_by_role("link", name="Download these rows (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == f"portfolio-{year}.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == [
        "School",
        "State code",
        "Pilot",
        "Magnet",
        "Magnet theme",
        "Region",
        "Stage",
        "Goals",
        "Met",
        "On track",
        "At risk",
        "Off track",
        "No data",
        "Last measurement",
        "Stale",
        "Support hours",
        "Goals review",
        "Review date",
    ], lines[0]
    assert len(lines) == 4, lines
    assert [line[2] for line in lines[1:]] == ["yes"] * 3
    assert [number_in(line[15]) for line in lines[1:]] == hours  # the page's order

    first = rows.first.get_by_role("rowheader").get_by_role("link")
    school = first.inner_text().strip()
    first.click()
    expect(staff.get_by_role("navigation", name="Cycle sections")).to_be_visible()
    expect(staff.get_by_role("main").get_by_role("link", name=school, exact=True)).to_be_visible()
    check_accessibility(staff, "cycles-portfolio-click-through")
    staff.context.close()


# 5. Phone width -----------------------------------------------------------------------------


def test_the_lead_teachers_cycle_a_goal_and_the_portfolio_fit_a_phone(
    browser: Browser, live_server: LiveServer
) -> None:
    t = SPANISH
    lead = new_page(browser, live_server, LEAD_EMAIL, viewport=PHONE)
    lead.get_by_role("button", name=t("Menu")).click()
    open_cycles(lead, t)
    fits_the_phone(lead)
    check_accessibility(lead, "cycles-index-phone")
    open_cycle(lead, LEAD_SCHOOL)
    outline = lead.get_by_role("list", name=t("Outline"))
    expect(outline).to_be_visible()
    expect(outline).to_contain_text(t("Primary driver"))
    fits_the_phone(lead)
    check_accessibility(lead, "cycles-overview-phone")

    tab(lead, "Goals", t).click()
    first_goal = lead.get_by_role("article").first.get_by_role("heading", level=2)
    title = first_goal.inner_text().strip()
    first_goal.get_by_role("link").click()
    expect(h1(lead)).to_have_text(title)
    expect(lead.get_by_role("img", name=re.compile(re.escape(title)))).to_be_visible()
    data = lead.get_by_role("table", name=re.compile(re.escape(title)))
    expect(data).to_be_visible()
    expect(data.get_by_role("rowheader").first).to_be_visible()
    fits_the_phone(lead)
    check_accessibility(lead, "cycles-goal-phone")
    lead.context.close()

    staff = new_page(browser, live_server, STAFF_EMAIL, viewport=PHONE)
    staff.get_by_role("link", name="The portfolio of every school's cycle").click()
    expect(h1(staff)).to_have_text(f"School cycles portfolio, {this_year()}")
    fits_the_phone(staff)
    check_accessibility(staff, "cycles-portfolio-phone")
    staff.context.close()


# 6. A fellow ---------------------------------------------------------------------------------


def test_a_fellow_has_no_school_cycles_and_gets_the_403_page_for_a_cycle(
    browser: Browser, live_server: LiveServer
) -> None:
    fellow = new_page(browser, live_server, "fellow@example.org")
    nav = fellow.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Home", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="School cycles")).to_have_count(0)
    expect(fellow.get_by_role("region", name="Your school cycles")).to_have_count(0)

    response = fellow.goto(f"{live_server.url}/cycles/{cycle_id_of(live_server, LEAD_SCHOOL_CODE)}")
    assert response is not None
    assert response.status == 403
    expect(fellow.get_by_text("You do not have access to this page.")).to_be_visible()
    expect(fellow.get_by_text(LEAD_SCHOOL)).to_have_count(0)
    check_accessibility(fellow, "cycles-403-fellow")
    fellow.context.close()
