"""The curriculum in a real browser: a facilitator builds a module, a fellow completes it,
the facilitator gives feedback and the fellow reads it; locked modules stay shut, even to a
crafted request; the pages work at phone width. Driven by labels and roles, axe on every page.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Locator, Page, expect

from fellowship.auth.models import User
from fellowship.curriculum.models import ItemKind, ItemProgress, Module, ModuleItem
from fellowship.db import db
from tests.conftest import body_of
from tests.e2e.conftest import LiveServer, check_accessibility, focus_on
from tests.e2e.test_convenings import COHORT
from tests.e2e.test_journeys import sign_in

pytestmark = pytest.mark.e2e

MODULE = "Building trust with district partners"
READING = "Before the first district meeting"
REFLECTION = "Your first district conversation"
READING_MD = """\
## Know the room

Find out who decides before you walk in.

- Read last year's board minutes
- Ask your coach who the allies are

| Step | Who | When |
|---|---|---|
| Invite the liaison | You | Week 1 |
| Share the one-pager | Your coach | Week 2 |
"""
PROMPT = "Who will you meet first at the district, and **why** them?"
DRAFT = "I will start with the enrollment office."
ANSWER = "I will start with the **enrollment office**, because they see every family first."
FEEDBACK = "A good first stop. Bring the *one-pager* and ask who else you should meet."
FEEDBACK_CHANGED = "A good first stop. Bring the one-pager, and ask for a second meeting."
FELLOW_TIMEZONE = "America/Chicago"  # Femi Fellow's, in the demo


def main_nav_link(page: Page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


def open_cohort(page: Page) -> None:
    main_nav_link(page, "Cohorts").click()
    page.get_by_role("link", name=COHORT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(COHORT)


def modules(page: Page) -> Locator:
    """The builder's modules, top to bottom (each row's header is the module's title)."""
    return page.get_by_role("table").get_by_role("rowheader")


def press_enter_on(page: Page, control) -> None:
    focus_on(control)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def feedback_mails(server: LiveServer, to: str, item_title: str) -> list[Message]:
    return [
        m
        for m in server.smtp.messages
        if m["To"] == to
        and "gave feedback on your reflection" in subject_of(m)
        and item_title in subject_of(m)
    ]


def wait_for_feedback_mail(server: LiveServer, to: str, item_title: str) -> list[Message]:
    """The feedback emails about `item_title`, once at least one has arrived.

    Mail goes out after the response; when the development server did not get to it, the
    cron job sends what is left (as it does in production). Afterwards nothing is queued,
    so the count is final.
    """

    def arrived(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if feedback_mails(server, to, item_title):
                return True
            time.sleep(0.05)
        return False

    arrived(3)
    server.run_outbox_cron()  # sends only what is still queued: never a second copy
    arrived(5)
    time.sleep(0.3)  # a duplicate, if one were on its way
    return feedback_mails(server, to, item_title)


def test_a_facilitator_builds_a_module_a_fellow_completes_it_and_reads_the_feedback(
    browser: Browser, page: Page, live_server: LiveServer
):
    # The facilitator builds the module -------------------------------------------------------
    sign_in(page, live_server, "facilitator@example.org")
    open_cohort(page)
    page.get_by_role("link", name="Curriculum", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Curriculum of {COHORT}")
    check_accessibility(page, "curriculum-builder")
    expect(modules(page).first).to_be_visible()
    modules_before = [title.strip() for title in modules(page).all_inner_texts()]

    page.get_by_role("link", name="Add a module").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Add a module to {COHORT}")
    check_accessibility(page, "curriculum-module-new")
    fellow_today = datetime.now(ZoneInfo(FELLOW_TIMEZONE)).date()
    page.get_by_label("Title").fill(MODULE)
    page.get_by_label("Strand").select_option(label="Coalition building")
    page.get_by_label("Summary").fill("How to earn the trust of the people who run the district.")
    page.get_by_label("Learning outcomes").fill(
        "- Name the district's deciders\n- Plan a first meeting"
    )
    page.get_by_label("Release date").fill(fellow_today.isoformat())
    page.get_by_label("Due date").fill((fellow_today + timedelta(days=7)).isoformat())
    page.get_by_label("Estimated time in minutes").fill("45")
    page.get_by_role("button", name="Add the module").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Items of “{MODULE}”")
    check_accessibility(page, "curriculum-items-empty")

    page.get_by_role("link", name="Add a reading").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a reading")
    check_accessibility(page, "curriculum-reading-new")
    page.get_by_label("Title").fill(READING)
    page.get_by_label("Reading", exact=True).fill(READING_MD)
    expect(page.get_by_label("Required")).to_be_checked()
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_role("status").first).to_contain_text(f"“{READING}” has been added.")

    page.get_by_role("link", name="Add a reflection prompt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a reflection prompt")
    check_accessibility(page, "curriculum-reflection-new")
    page.get_by_label("Title").fill(REFLECTION)
    page.get_by_label("Prompt").fill(PROMPT)
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_role("status").first).to_contain_text(f"“{REFLECTION}” has been added.")
    items = page.get_by_role("table").get_by_role("rowheader")
    expect(items).to_have_text([READING, REFLECTION])
    check_accessibility(page, "curriculum-items")

    # Back on the builder the new module is last; the keyboard moves it up, then down again.
    page.get_by_role("link", name=f"Curriculum of {COHORT}").click()
    order = [*modules_before, MODULE]
    expect(modules(page)).to_have_text(order)
    neighbour = order[-2]
    press_enter_on(page, page.get_by_role("button", name=f"Move up “{MODULE}”"))
    expect(page.get_by_role("status").first).to_contain_text(
        f"“{MODULE}” is now module {len(order) - 1}."
    )
    expect(modules(page)).to_have_text([*order[:-2], MODULE, neighbour])
    press_enter_on(page, page.get_by_role("button", name=f"Move down “{MODULE}”"))
    expect(page.get_by_role("status").first).to_contain_text(
        f"“{MODULE}” is now module {len(order)}."
    )
    expect(modules(page)).to_have_text(order)
    check_accessibility(page, "curriculum-builder-moved")

    # The fellow completes it, in a browser of their own ------------------------------------
    fellow_context = browser.new_context()
    fellow = fellow_context.new_page()
    sign_in(fellow, live_server, "fellow@example.org")
    main_nav_link(fellow, "My learning").click()
    expect(fellow.get_by_role("heading", level=1)).to_have_text("My learning")
    row = fellow.get_by_role("row").filter(has=fellow.get_by_role("link", name=MODULE))
    expect(row).to_contain_text("Not started")
    expect(row).to_contain_text("Coalition building")
    expect(row).to_contain_text("0 of 2 required items done")
    check_accessibility(fellow, "curriculum-my-learning")

    row.get_by_role("link", name=MODULE).click()
    expect(fellow.get_by_role("heading", level=1)).to_have_text(MODULE)
    expect(fellow.get_by_role("heading", name="Know the room")).to_be_visible()
    reading = fellow.get_by_role("region", name=f"1. {READING}")
    expect(reading.get_by_role("listitem")).to_have_count(2)
    expect(reading.get_by_role("columnheader", name="Who")).to_be_visible()
    expect(reading.get_by_role("cell", name="Share the one-pager")).to_be_visible()
    check_accessibility(fellow, "curriculum-module-fellow")

    fellow.get_by_role("button", name=f"Mark as done: {READING}").click()
    expect(fellow.get_by_role("button", name=f"Mark as not done: {READING}")).to_be_visible()
    expect(fellow.get_by_text("1 of 2 required items done")).to_be_visible()

    response = fellow.get_by_role("textbox", name=f"Your reflection on “{REFLECTION}”")
    response.fill(DRAFT)
    fellow.get_by_role("button", name="Save draft").click()
    expect(fellow.get_by_text("— Draft saved")).to_be_visible()
    expect(response).to_have_value(DRAFT)
    expect(fellow.locator("h1 + .usa-tag")).to_have_text("In progress")
    check_accessibility(fellow, "curriculum-module-draft")

    response.fill(ANSWER)
    fellow.get_by_role("button", name="Submit").click()
    expect(fellow.get_by_text("— Submitted")).to_be_visible()
    expect(fellow.locator("h1 + .usa-tag")).to_have_text("Complete")
    expect(fellow.get_by_text("2 of 2 required items done")).to_be_visible()
    expect(fellow.get_by_role("button", name="Save changes")).to_be_visible()  # still revisable
    check_accessibility(fellow, "curriculum-module-complete")

    main_nav_link(fellow, "My learning").click()
    row = fellow.get_by_role("row").filter(has=fellow.get_by_role("link", name=MODULE))
    expect(row).to_contain_text("Complete")

    # The facilitator gives feedback ----------------------------------------------------------
    open_cohort(page)
    page.get_by_role("link", name="Reflections waiting for feedback").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reflections waiting for feedback")
    check_accessibility(page, "curriculum-feedback-queue")
    page.get_by_role("link", name=f"Give feedback to Femi Fellow on “{REFLECTION}”").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Femi Fellow’s reflection: “{REFLECTION}”"
    )
    expect(page.locator("main strong", has_text="enrollment office")).to_be_visible()
    check_accessibility(page, "curriculum-feedback-form")
    page.get_by_label("Your feedback").fill(FEEDBACK)
    page.get_by_role("button", name=re.compile(r"^Save (feedback|and go to the next)$")).click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Your feedback has been saved. Femi Fellow is notified."
    )
    check_accessibility(page, "curriculum-feedback-saved")

    # The fellow reads it on the item and on their home -----------------------------------
    main_nav_link(fellow, "My learning").click()
    fellow.get_by_role("link", name=MODULE).click()
    item = fellow.get_by_role("region", name=f"2. {REFLECTION}")
    expect(item).to_contain_text("— Feedback received")
    expect(item.get_by_role("heading", name="Feedback")).to_be_visible()
    expect(item.locator("em", has_text="one-pager")).to_be_visible()
    expect(item).to_contain_text("From Farid Facilitator on")
    expect(fellow.get_by_role("button", name="Save changes")).to_have_count(0)  # closed now
    check_accessibility(fellow, "curriculum-module-feedback")

    main_nav_link(fellow, "Home").click()
    expect(fellow.get_by_role("heading", level=1)).to_have_text("Welcome, Femi Fellow")
    new_feedback = fellow.get_by_role("heading", name="New feedback").locator(
        "xpath=following-sibling::ul[1]"
    )
    expect(new_feedback.get_by_role("link", name=REFLECTION)).to_be_visible()
    expect(new_feedback).to_contain_text(f"({MODULE}) — from Farid Facilitator on")
    check_accessibility(fellow, "curriculum-home-feedback")

    mails = wait_for_feedback_mail(live_server, "fellow@example.org", REFLECTION)
    assert len(mails) == 1, [subject_of(m) for m in mails]
    assert subject_of(mails[0]) == (
        f"Farid Facilitator gave feedback on your reflection “{REFLECTION}”"
    )
    text = body_of(mails[0])
    assert f"in the module “{MODULE}”" in text
    link = re.search(r"http://127\.0\.0\.1:\d+/modules/\d+#item-\d+", text)
    assert link, text

    # Changing the feedback sends no second email; the link in the email shows the change.
    page.goto(f"{live_server.url}/")
    open_cohort(page)
    page.get_by_role("link", name="Reflections waiting for feedback").click()
    page.get_by_role("link", name=f"Femi Fellow: “{REFLECTION}”").click()
    expect(page.get_by_role("heading", name="Change the feedback")).to_be_visible()
    page.get_by_label("Your feedback").fill(FEEDBACK_CHANGED)
    page.get_by_role("button", name=re.compile(r"^Save (feedback|and go to the next)$")).click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Your changes to the feedback have been saved."
    )
    fellow.goto(link.group(0))
    expect(fellow.get_by_text(FEEDBACK_CHANGED)).to_be_visible()
    assert len(wait_for_feedback_mail(live_server, "fellow@example.org", REFLECTION)) == 1
    fellow_context.close()


def test_a_fellow_sees_unreleased_modules_locked_and_cannot_open_or_complete_them(
    page: Page, live_server: LiveServer
):
    sign_in(page, live_server, "fellow@example.org")
    main_nav_link(page, "My learning").click()
    locked_rows = page.get_by_role("row").filter(has_text=re.compile(r"Opens on \w+ \d+, \d{4}"))
    expect(locked_rows.first).to_be_visible()
    titles = []
    for index in range(locked_rows.count()):
        row = locked_rows.nth(index)
        expect(row).to_contain_text("Locked")
        expect(row.get_by_role("link")).to_have_count(0)  # the title is not a link
        titles.append(row.get_by_role("rowheader").inner_text().strip())
    assert len(titles) >= 1
    check_accessibility(page, "curriculum-my-learning-locked")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token

    with live_server.app.app_context():
        locked = db.session.scalars(sa.select(Module).where(Module.title.in_(titles))).all()
        assert len(locked) == len(titles)
        items = db.session.scalars(
            sa.select(ModuleItem).where(ModuleItem.module_id.in_([m.id for m in locked]))
        ).all()
        open_item = db.session.scalars(
            sa.select(ModuleItem)
            .join(Module, Module.id == ModuleItem.module_id)
            .where(Module.title == "Why diverse by design", ModuleItem.kind == ItemKind.READING)
        ).one()
        targets = [(m.id, m.title) for m in locked]
        item_targets = [(i.id, i.kind, i.module_id) for i in items]
        open_item_id = open_item.id
        fellow_id = db.session.scalar(sa.select(User.id).where(User.email == "fellow@example.org"))
    assert item_targets

    for module_id, title in targets:
        response = page.goto(f"{live_server.url}/modules/{module_id}")
        assert response is not None
        assert response.status == 403, title
        assert page.get_by_role("heading", level=1).inner_text() != title
    check_accessibility(page, "curriculum-locked-403")

    # A control: the same crafted request is accepted on a module that is open (the item is
    # already done, so nothing changes) — the 403s below are the lock, not the token.
    control = page.request.post(
        f"{live_server.url}/items/{open_item_id}/done",
        form={"csrf_token": token, "done": "1"},
        max_redirects=0,
    )
    assert control.status == 302, control.status

    for item_id, kind, module_id in item_targets:
        if kind == ItemKind.REFLECTION:
            prefix = f"item{item_id}"
            form = {
                "csrf_token": token,
                f"{prefix}-csrf_token": token,
                f"{prefix}-response": "Crafted reflection",
                f"{prefix}-version": "",
                f"{prefix}-submit_reflection": "1",
            }
            crafted = page.request.post(
                f"{live_server.url}/items/{item_id}/reflection", form=form, max_redirects=0
            )
        else:
            crafted = page.request.post(
                f"{live_server.url}/items/{item_id}/done",
                form={"csrf_token": token, "done": "1"},
                max_redirects=0,
            )
        assert crafted.status == 403, (item_id, kind, module_id, crafted.status)

    with live_server.app.app_context():
        touched = db.session.scalars(
            sa.select(ItemProgress).where(
                ItemProgress.fellow_id == fellow_id,
                ItemProgress.item_id.in_([item_id for item_id, _, _ in item_targets]),
            )
        ).all()
    assert touched == []

    main_nav_link(page, "My learning").click()
    for title in titles:
        row = page.get_by_role("row").filter(has_text=title)
        expect(row).to_contain_text("Locked")


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360 + 1, f"{page.url} is {width} px wide at 360 px"


def test_the_learning_pages_and_the_progress_grid_work_at_phone_width_with_the_keyboard(
    browser: Browser, live_server: LiveServer
):
    phone = {"width": 360, "height": 740}
    fellow_context = browser.new_context(viewport=phone)
    fellow = fellow_context.new_page()
    sign_in(fellow, live_server, "fellow@example.org")
    fellow.get_by_role("button", name="Menu").click()
    main_nav_link(fellow, "My learning").click()
    expect(fellow.get_by_role("heading", level=1)).to_have_text("My learning")
    fits_the_phone(fellow)
    check_accessibility(fellow, "curriculum-my-learning-phone")

    # The first module has a reading with a wide table: it scrolls inside itself.
    fellow.get_by_role("link", name="Why diverse by design").click()
    expect(fellow.get_by_role("heading", level=1)).to_have_text("Why diverse by design")
    fits_the_phone(fellow)
    check_accessibility(fellow, "curriculum-module-phone")
    table = fellow.get_by_role("table").filter(has_text="Diverse by accident").first
    focus_on(table)
    fellow_context.close()

    facilitator_context = browser.new_context(viewport=phone)
    facilitator = facilitator_context.new_page()
    sign_in(facilitator, live_server, "facilitator@example.org")
    facilitator.goto(f"{live_server.url}/cohorts")
    facilitator.get_by_role("link", name=COHORT).click()
    facilitator.get_by_role("link", name="Module progress").click()
    expect(facilitator.get_by_role("heading", level=1)).to_have_text(
        f"Curriculum progress in {COHORT}"
    )
    fits_the_phone(facilitator)
    check_accessibility(facilitator, "curriculum-progress-grid-phone")

    # The grid scrolls sideways from the keyboard: Tab reaches it, the arrow keys move it.
    grid = facilitator.get_by_role("region", name=re.compile("^Module progress"))
    focus_on(grid)
    assert grid.evaluate("el => el.scrollWidth > el.clientWidth")
    for _ in range(5):
        facilitator.keyboard.press("ArrowRight")
    facilitator.wait_for_function(
        "el => el.scrollLeft > 0", arg=grid.element_handle(), timeout=3000
    )
    fits_the_phone(facilitator)
    facilitator_context.close()
