"""Capstones in a real browser: a fellow submits a proposal with a PDF, a reviewer scores it
by keyboard and recommends revisions, staff record the decision, the fellow submits version
2, it is approved, the final is approved, the fellow publishes it to the practice library and
another fellow finds it and downloads the PDF. The review page and the pipeline work at
phone width. Driven by labels and roles, axe on every page.
"""

from __future__ import annotations

import re
import time
from email.message import Message
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.conftest import body_of
from tests.e2e.conftest import LiveServer, check_accessibility, focus_on
from tests.e2e.test_convenings import COHORT
from tests.e2e.test_curriculum import fits_the_phone, main_nav_link, open_cohort, subject_of
from tests.e2e.test_journeys import sign_in
from tests.upload_attacks import valid_pdf

pytestmark = pytest.mark.e2e

FELLOW = "Tomás Nguyen"  # the demo leaves him without a capstone
FELLOW_EMAIL = "tomas.nguyen@example.org"
REVIEWER = "Rosa Reviewer"
REVIEWER_EMAIL = "reviewer@example.org"
SEARCH_WORD = "Northstar"  # in no demo capstone
TITLE = "Northstar Commons: a middle school where the valley meets"
SUMMARY = "A public middle school drawing equally from the valley's farm towns and its suburbs."
PROBLEM = "The valley's two middle schools are **90% apart** by income."
COMMUNITY = "Families of Riverbend, Alder Flats and the new subdivisions on the ridge."
TOPICS = "enrollment, transportation"
NARRATIVE_1 = "## Enrollment\n\nA weighted lottery fills half the seats from each side."
NARRATIVE_2 = (
    "## Enrollment\n\nA weighted lottery fills half the seats from each side.\n\n"
    "## Transportation\n\nTwo bus routes cross the river every morning."
)
NARRATIVE_FINAL = (
    "## Enrollment\n\nA weighted lottery fills half the seats from each side.\n\n"
    "## Budget\n\nThe buses are paid from the district formula after year two."
)
PDF_NAME = "Northstar enrollment – año 1.pdf"  # RFC 6266: not plain ASCII
PDF_BYTES = valid_pdf("Northstar enrollment plan")
COMMENTS_1 = "Strong on enrollment. Say **how the buses are paid for**."
COMMENTS_2 = "The transportation plan answers my question."
MESSAGE_REVISE = "Please add a *transportation* section, as the reviewer asks."
MESSAGE_APPROVE = "Approved: write the final capstone next."
MESSAGE_FINAL = "Congratulations: your capstone is approved."


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
    return page.get_by_role("status").first


def status_tag(page: Page) -> Locator:
    return page.locator("h1 + .usa-tag")


def mails(server: LiveServer, to: str, subject: str) -> list[Message]:
    return [m for m in server.smtp.messages if m["To"] == to and subject_of(m) == subject]


def wait_for_mails(server: LiveServer, to: str, subject: str, count: int = 1) -> list[Message]:
    """The emails to `to` with `subject`, once `count` have arrived (the cron job sends what
    the development server did not get to, as it does in production)."""

    def arrived(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(mails(server, to, subject)) >= count:
                return True
            time.sleep(0.05)
        return False

    if not arrived(3):
        server.run_outbox_cron()  # sends only what is still queued: never a second copy
        arrived(5)
    found = mails(server, to, subject)
    assert len(found) == count, (subject, [subject_of(m) for m in server.smtp.messages])
    return found


def open_my_capstone(page: Page) -> None:
    open_cohort(page)
    page.get_by_role("link", name="My capstone").click()


def pipeline_row(page: Page) -> Locator:
    """The fellow's row of the pipeline shown."""
    expect(h1(page)).to_have_text(f"Capstones in {COHORT}")
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=FELLOW))


def open_pipeline(page: Page) -> Locator:
    """The pipeline of the demo cohort; returns the fellow's row."""
    open_cohort(page)
    page.get_by_role("link", name="Capstones", exact=True).click()
    return pipeline_row(page)


def score_by_keyboard(page: Page, levels: list[int]) -> None:
    """Score each criterion of the rubric from the keyboard: Space picks the first level of
    the radio group, each ArrowDown the next one."""
    criteria = page.locator("fieldset.capstone-review-criterion")
    expect(criteria).to_have_count(len(levels))
    for index, level in enumerate(levels):
        radios = criteria.nth(index).get_by_role("radio")
        focus_on(radios.first)
        page.keyboard.press("Space")
        for _ in range(level - 1):
            page.keyboard.press("ArrowDown")
        expect(radios.nth(level - 1)).to_be_checked()
        expect(radios.nth(level - 1)).to_be_focused()


def tick(control: Locator) -> None:
    """Check a USWDS checkbox or radio from the keyboard (the input itself is drawn off
    screen; its label is what shows): focus it, press Space."""
    focus_on(control)
    control.page.keyboard.press("Space")
    expect(control).to_be_checked()


def recommend_by_keyboard(page: Page, choice: str) -> None:
    group = page.get_by_role("group", name="Your recommendation")
    approve = group.get_by_role("radio", name="Approve")
    focus_on(approve)
    page.keyboard.press("Space")
    if choice != "Approve":
        page.keyboard.press("ArrowDown")
    expect(group.get_by_role("radio", name=choice)).to_be_checked()


def open_review(page: Page, version_label: str) -> None:
    main_nav_link(page, "Reviews").click()
    expect(h1(page)).to_have_text("Your review queue")
    check_accessibility(page, "capstones-review-queue")
    waiting = page.get_by_role("table", name="Waiting for your review")
    row = waiting.get_by_role("row").filter(has=page.get_by_role("rowheader", name=TITLE))
    expect(row).to_contain_text(version_label)
    expect(row).to_contain_text(FELLOW)
    row.get_by_role("link", name=f"Review “{TITLE}” by {FELLOW}").click()
    expect(h1(page)).to_have_text(f"Review of “{TITLE}”")
    expect(page.get_by_text(version_label).first).to_be_visible()


def submit_the_draft(page: Page, number: int, stage: str) -> None:
    """From the capstone page: the confirm page, then submit."""
    page.get_by_role("link", name=f"Submit version {number}").click()
    expect(h1(page)).to_have_text(f"Submit version {number}?")
    expect(page.get_by_role("link", name=PDF_NAME)).to_be_visible()
    check_accessibility(page, f"capstones-submit-v{number}")
    page.get_by_role("button", name=f"Submit version {number}").click()
    expect(h1(page)).to_have_text(TITLE)
    expect(flash(page)).to_contain_text(f"Version {number} ({stage}) is submitted.")
    check_accessibility(page, f"capstones-detail-submitted-v{number}")


def open_decision(page: Page, number: int) -> None:
    """Staff, from the pipeline: the decision page of the latest version."""
    row = open_pipeline(page)
    expect(row).to_contain_text("Awaiting decision")
    row.get_by_role("link", name=f"Record decision for {FELLOW}").click()
    expect(h1(page)).to_have_text(f"Decision on “{TITLE}”, version {number}")
    check_accessibility(page, f"capstones-decide-v{number}")


def decide(page: Page, number: int, outcome: str, message: str) -> None:
    """On the decision page: record it; back on the pipeline."""
    tick(page.get_by_role("group", name="Decision").get_by_role("radio", name=outcome))
    page.get_by_label("Message to the fellow").fill(message)
    page.get_by_role("button", name="Record the decision").click()
    expect(h1(page)).to_have_text(f"Capstones in {COHORT}")
    expect(flash(page)).to_contain_text(
        f"The decision on “{TITLE}” is recorded. {FELLOW} is notified, with your message."
    )
    check_accessibility(page, f"capstones-decided-v{number}")


# The journey --------------------------------------------------------------------------------


def test_a_fellow_takes_a_capstone_from_proposal_to_the_library_where_another_fellow_finds_it(
    browser: Browser, live_server: LiveServer, tmp_path: Path
) -> None:
    pdf = tmp_path / PDF_NAME
    pdf.write_bytes(PDF_BYTES)

    # Tomás starts his capstone, writes the proposal, attaches a PDF and submits ----------------
    fellow = new_page(browser, live_server, FELLOW_EMAIL)
    open_my_capstone(fellow)
    expect(h1(fellow)).to_have_text("Start your capstone")
    check_accessibility(fellow, "capstones-start")
    fellow.get_by_label("Title").fill(TITLE)
    fellow.get_by_label("Summary").fill(SUMMARY)
    fellow.get_by_label("The problem it addresses").fill(PROBLEM)
    fellow.get_by_label("The community it serves").fill(COMMUNITY)
    fellow.get_by_label("Strand").select_option(label="The school model")
    fellow.get_by_label("School level").select_option(label="Middle school")
    fellow.get_by_label("Topics").fill(TOPICS)
    fellow.get_by_role("button", name="Start my capstone").click()
    expect(h1(fellow)).to_have_text(TITLE)
    expect(flash(fellow)).to_contain_text(f"Your capstone “{TITLE}” is started.")
    expect(status_tag(fellow)).to_have_text("Draft")
    expect(fellow.locator("main strong", has_text="90% apart")).to_be_visible()
    check_accessibility(fellow, "capstones-detail-draft")

    fellow.get_by_role("link", name="Edit your capstone").click()
    expect(h1(fellow)).to_have_text("Edit your capstone")
    expect(fellow.get_by_text("You are writing version 1 (proposal)")).to_be_visible()
    check_accessibility(fellow, "capstones-edit")
    fellow.get_by_label("Narrative").fill(NARRATIVE_1)
    fellow.get_by_role("button", name="Save changes").click()
    expect(flash(fellow)).to_contain_text("Your changes are saved in version 1")

    fellow.get_by_role("link", name="Edit your capstone").click()
    expect(fellow.get_by_label("Narrative")).to_have_value(NARRATIVE_1)
    fellow.get_by_label("Add a file").set_input_files(pdf)
    fellow.get_by_role("button", name="Attach the file").click()
    expect(flash(fellow)).to_contain_text(f"“{PDF_NAME}” is attached to your working draft.")
    files = fellow.get_by_role("table", name="1 file")
    expect(files.get_by_role("rowheader", name=PDF_NAME)).to_be_visible()
    expect(files).to_contain_text("PDF")
    check_accessibility(fellow, "capstones-edit-with-file")

    fellow.get_by_role("link", name=f"Your capstone “{TITLE}”").click()
    expect(
        fellow.get_by_role("heading", name="Your working draft: version 1 (proposal)")
    ).to_be_visible()
    submit_the_draft(fellow, 1, "proposal")
    expect(status_tag(fellow)).to_have_text("Proposal submitted")

    # Staff assign the demo reviewer; she gets an email ----------------------------------------
    staff = new_page(browser, live_server, "staff@example.org")
    row = open_pipeline(staff)
    expect(row).to_contain_text("Proposal submitted")
    expect(row).to_contain_text("No reviewers")
    check_accessibility(staff, "capstones-pipeline")
    row.get_by_role("link", name=f"Assign reviewers for {FELLOW}").click()
    expect(h1(staff)).to_have_text(f"Reviewers of “{TITLE}”, version 1")
    check_accessibility(staff, "capstones-assign")
    tick(staff.get_by_role("checkbox", name=REVIEWER))
    staff.get_by_role("button", name="Assign", exact=True).click()
    expect(flash(staff)).to_contain_text(
        f"{REVIEWER} is assigned and notified, with the link to the review."
    )
    assigned = staff.get_by_role("region", name="Assigned", exact=True)
    expect(assigned).to_contain_text(f"{REVIEWER}: Review not started")
    check_accessibility(staff, "capstones-assigned")

    proposal_subject = f"Please review the capstone proposal “{TITLE}” by {FELLOW}"
    (invitation,) = wait_for_mails(live_server, REVIEWER_EMAIL, proposal_subject)
    text = body_of(invitation)
    assert "version 1" in text, text
    assert re.search(r"http://127\.0\.0\.1:\d+/reviews/\d+", text), text

    # The reviewer scores it by keyboard, saves a draft, then recommends revisions ------------
    reviewer = new_page(browser, live_server, REVIEWER_EMAIL)
    open_review(reviewer, "Version 1 (proposal)")
    submission = reviewer.get_by_role("region", name="The submission")
    expect(submission.get_by_role("link", name=PDF_NAME)).to_be_visible()
    expect(submission.get_by_role("heading", name="Enrollment")).to_be_visible()
    expect(reviewer.get_by_text("Your review: not started")).to_be_visible()
    check_accessibility(reviewer, "capstones-review-new")
    criteria = reviewer.locator("fieldset.capstone-review-criterion")
    expect(criteria.first).to_be_visible()
    first_levels = [3 if index % 2 == 0 else 2 for index in range(criteria.count())]
    score_by_keyboard(reviewer, first_levels)
    reviewer.get_by_label("Comments").fill(COMMENTS_1)
    recommend_by_keyboard(reviewer, "Request revisions")
    reviewer.get_by_role("button", name="Save draft", exact=True).click()
    expect(flash(reviewer)).to_contain_text(f"Your draft review of “{TITLE}” is saved.")
    expect(reviewer.get_by_text("Your review: draft, last saved")).to_be_visible()
    for index, level in enumerate(first_levels):
        expect(criteria.nth(index).get_by_role("radio").nth(level - 1)).to_be_checked()
    expect(reviewer.get_by_label("Comments")).to_have_value(COMMENTS_1)
    expect(reviewer.get_by_role("radio", name="Request revisions")).to_be_checked()
    check_accessibility(reviewer, "capstones-review-draft")

    reviewer.get_by_role("button", name="Submit review", exact=True).click()
    expect(flash(reviewer)).to_contain_text(f"Your review of “{TITLE}” is submitted.")
    expect(reviewer.get_by_text("Your review: submitted")).to_be_visible()
    expect(reviewer.get_by_role("button", name="Submit review", exact=True)).to_have_count(0)
    expect(reviewer.get_by_role("table", name="Your scores")).to_be_visible()
    expect(reviewer.locator("main strong", has_text="how the buses are paid for")).to_be_visible()
    check_accessibility(reviewer, "capstones-review-submitted")

    # Staff read the review and request revisions -----------------------------------------------
    expect(open_pipeline(staff)).to_contain_text("1 of 1")
    open_decision(staff, 1)
    review = staff.get_by_role("article", name=f"Review by {REVIEWER}")
    expect(review).to_contain_text("Recommends revisions")
    expect(review.get_by_role("table", name=f"Scores given by {REVIEWER}")).to_be_visible()
    expect(review.locator("strong", has_text="how the buses are paid for")).to_be_visible()
    expect(staff.get_by_text("1 of 1 review submitted")).to_be_visible()
    decide(staff, 1, "Request revisions", MESSAGE_REVISE)
    expect(pipeline_row(staff)).to_contain_text("Proposal: revisions requested")

    # Tomás reads the decision and the review, revises, and submits version 2 -------------------
    revise_subject = f"Revisions requested on your capstone proposal “{TITLE}”"
    (decided,) = wait_for_mails(live_server, FELLOW_EMAIL, revise_subject)
    assert MESSAGE_REVISE in body_of(decided)
    assert re.search(r"http://127\.0\.0\.1:\d+/capstones/\d+", body_of(decided))

    open_my_capstone(fellow)
    expect(status_tag(fellow)).to_have_text("Proposal: revisions requested")
    expect(fellow.get_by_text("Read the reviews, revise, and submit version 2.")).to_be_visible()
    versions = fellow.get_by_role("table", name="1 submitted version, newest first")
    expect(versions).to_contain_text("Revisions requested")
    expect(versions.locator("em", has_text="transportation")).to_be_visible()
    check_accessibility(fellow, "capstones-detail-revisions")
    versions.get_by_role("link", name="Version 1").click()
    expect(h1(fellow)).to_have_text(f"Version 1 of “{TITLE}”")
    expect(fellow.get_by_role("heading", name="Decision: Revisions requested")).to_be_visible()
    reviews = fellow.get_by_role("region", name="Reviews")
    expect(reviews.get_by_role("heading", name="Reviewer 1")).to_be_visible()  # names hidden
    expect(reviews).to_contain_text("Recommendation: Request revisions.")
    expect(reviews.locator("strong", has_text="how the buses are paid for")).to_be_visible()
    expect(reviews).not_to_contain_text(REVIEWER)
    check_accessibility(fellow, "capstones-version-1")

    fellow.get_by_role("link", name=f"The capstone “{TITLE}”").click()
    fellow.get_by_role("link", name="Edit your capstone").click()
    expect(fellow.get_by_text("You are writing version 2 (proposal)")).to_be_visible()
    expect(fellow.get_by_label("Narrative")).to_have_value(NARRATIVE_1)  # copied from v1
    expect(fellow.get_by_role("rowheader", name=PDF_NAME)).to_be_visible()
    check_accessibility(fellow, "capstones-edit-v2")
    fellow.get_by_label("Narrative").fill(NARRATIVE_2)
    fellow.get_by_role("button", name="Save changes").click()
    expect(flash(fellow)).to_contain_text("Your changes are saved in version 2")
    expect(
        fellow.get_by_role("heading", name="Your working draft: version 2 (proposal)")
    ).to_be_visible()
    submit_the_draft(fellow, 2, "proposal")
    expect(status_tag(fellow)).to_have_text("Proposal submitted")

    # The same reviewer approves version 2, and staff approve the proposal ---------------------
    row = open_pipeline(staff)
    expect(row).to_contain_text("Version 2")
    row.get_by_role("link", name=f"Assign reviewers for {FELLOW}").click()
    expect(h1(staff)).to_have_text(f"Reviewers of “{TITLE}”, version 2")
    staff.get_by_role("link", name="Same reviewers as the previous version").click()
    expect(staff.get_by_role("checkbox", name=REVIEWER)).to_be_checked()
    check_accessibility(staff, "capstones-assign-v2")
    staff.get_by_role("button", name="Assign", exact=True).click()
    expect(flash(staff)).to_contain_text(f"{REVIEWER} is assigned")
    wait_for_mails(live_server, REVIEWER_EMAIL, proposal_subject, count=2)

    open_review(reviewer, "Version 2 (proposal)")
    expect(reviewer.get_by_role("heading", name="Transportation")).to_be_visible()
    check_accessibility(reviewer, "capstones-review-v2")
    score_by_keyboard(reviewer, [3] * criteria.count())
    reviewer.get_by_label("Comments").fill(COMMENTS_2)
    recommend_by_keyboard(reviewer, "Approve")
    reviewer.get_by_role("button", name="Submit review", exact=True).click()
    expect(flash(reviewer)).to_contain_text(f"Your review of “{TITLE}” is submitted.")
    expect(reviewer.get_by_role("heading", name="Other reviews of this version")).to_be_visible()
    check_accessibility(reviewer, "capstones-review-v2-submitted")

    open_decision(staff, 2)
    expect(staff.get_by_role("article", name=f"Review by {REVIEWER}")).to_contain_text(
        "Recommends approval"
    )
    decide(staff, 2, "Approve", MESSAGE_APPROVE)
    expect(pipeline_row(staff)).to_contain_text("Proposal approved")
    wait_for_mails(live_server, FELLOW_EMAIL, f"Your capstone proposal “{TITLE}” is approved")

    # Tomás writes the final (version 3); staff approve it without reviews -----------------------
    open_my_capstone(fellow)
    expect(status_tag(fellow)).to_have_text("Proposal approved")
    check_accessibility(fellow, "capstones-detail-proposal-approved")
    fellow.get_by_role("link", name="Edit your capstone").click()
    expect(fellow.get_by_text("You are writing version 3 (final)")).to_be_visible()
    check_accessibility(fellow, "capstones-edit-v3")
    fellow.get_by_label("Narrative").fill(NARRATIVE_FINAL)
    fellow.get_by_role("button", name="Save changes").click()
    expect(flash(fellow)).to_contain_text("Your changes are saved in version 3")
    submit_the_draft(fellow, 3, "final")
    expect(status_tag(fellow)).to_have_text("Final submitted")

    open_decision(staff, 3)
    expect(staff.get_by_text("nobody was assigned to review this version")).to_be_visible()
    decide(staff, 3, "Approve", MESSAGE_FINAL)
    expect(pipeline_row(staff)).to_contain_text("Approved")
    (approved,) = wait_for_mails(live_server, FELLOW_EMAIL, f"Your capstone “{TITLE}” is approved")
    assert MESSAGE_FINAL in body_of(approved)

    # Tomás publishes it to the library with the PDF ---------------------------------------------
    open_my_capstone(fellow)
    expect(status_tag(fellow)).to_have_text("Approved")
    expect(fellow.get_by_text("Not in the practice library.")).to_be_visible()
    check_accessibility(fellow, "capstones-detail-approved")
    fellow.get_by_role("main").get_by_role("link", name="Practice library", exact=True).click()
    expect(h1(fellow)).to_have_text(f"Publish “{TITLE}” in the practice library")
    check_accessibility(fellow, "capstones-publish")
    tick(
        fellow.get_by_role("group", name="Files to include").get_by_role(
            "checkbox", name=re.compile(re.escape(PDF_NAME))
        )
    )
    tick(fellow.get_by_role("checkbox", name=re.compile("^I agree to publish my capstone")))
    fellow.get_by_role("button", name="Publish to the library").click()
    expect(flash(fellow)).to_contain_text("Your capstone is published in the practice library.")
    expect(fellow.get_by_text("In the library since")).to_be_visible()
    check_accessibility(fellow, "capstones-published")

    # Another fellow finds it in the library and downloads the PDF ------------------------------
    reader = new_page(browser, live_server, "fellow@example.org")
    main_nav_link(reader, "Practice library").click()
    expect(h1(reader)).to_have_text("Practice library")
    check_accessibility(reader, "capstones-library")
    reader.get_by_label("Search", exact=True).fill(SEARCH_WORD)
    reader.get_by_role("button", name="Search", exact=True).click()
    expect(reader.get_by_text("Showing 1–1 of 1 capstone.")).to_be_visible()
    expect(reader.get_by_text(f"By {FELLOW}, {COHORT}")).to_be_visible()
    check_accessibility(reader, "capstones-library-search")
    reader.get_by_role("link", name=TITLE).click()
    expect(h1(reader)).to_have_text(TITLE)
    expect(reader.get_by_role("heading", name="Budget")).to_be_visible()  # the final's text
    expect(reader.get_by_role("heading", name="Transportation")).to_have_count(0)  # not version 2's
    check_accessibility(reader, "capstones-library-entry")
    with reader.expect_download() as download_info:
        reader.get_by_role("link", name=f"Download {PDF_NAME}").click()
    download = download_info.value
    assert download.suggested_filename == PDF_NAME
    assert Path(download.path()).read_bytes() == PDF_BYTES

    for page in (fellow, staff, reviewer, reader):
        page.context.close()


# Phone width --------------------------------------------------------------------------------


def test_the_review_page_and_the_pipeline_fit_a_phone(
    browser: Browser, live_server: LiveServer
) -> None:
    phone: ViewportSize = {"width": 360, "height": 740}
    reviewer = new_page(browser, live_server, REVIEWER_EMAIL, viewport=phone)
    reviewer.get_by_role("button", name="Menu").click()
    main_nav_link(reviewer, "Reviews").click()
    expect(h1(reviewer)).to_have_text("Your review queue")
    fits_the_phone(reviewer)
    check_accessibility(reviewer, "capstones-review-queue-phone")
    waiting = reviewer.get_by_role("table", name="Waiting for your review")
    waiting.get_by_role("link", name=re.compile(r"^(Review|Continue the review) ")).first.click()
    expect(h1(reviewer)).to_have_text(re.compile(r"^Review of “"))
    expect(reviewer.locator("fieldset.capstone-review-criterion").first).to_be_visible()
    fits_the_phone(reviewer)
    check_accessibility(reviewer, "capstones-review-phone")
    reviewer.context.close()

    staff = new_page(browser, live_server, "staff@example.org", viewport=phone)
    staff.goto(f"{live_server.url}/cohorts")
    staff.get_by_role("link", name=COHORT).click()
    staff.get_by_role("link", name="Capstones", exact=True).click()
    expect(h1(staff)).to_have_text(f"Capstones in {COHORT}")
    fits_the_phone(staff)
    check_accessibility(staff, "capstones-pipeline-phone")
    staff.context.close()
