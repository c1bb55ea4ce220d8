"""Notifications (issue 9) in a real browser, one journey per role that uses them.

1. Staff write an announcement to the demo cohort, preview it ("It will reach N people") and
   send it; the fellow sees the bell's unread count, opens the notifications page, opens the
   announcement from there (the count goes down), marks all as read, and sets their email
   preferences with the keyboard.
2. The announcement's email reaches the fellow through the live server's SMTP server; its
   unsubscribe link, opened in a browser that is not signed in, turns the announcements off
   with one button, and the fellow's preferences page shows them off.
3. An admin opens the header's Manage menu by keyboard, sends a test email from the email
   settings page and finds it sent in the outbox; an email sent while the mail server is down
   is listed failed with the server's error, and "Send it again now" delivers it.
4. Staff send the goals review packet to the lead teacher, whose bell shows it; the lead
   teacher (interface in Spanish, read through the app's own catalog) opens it from the
   notifications page.

Every main action by keyboard (focus, then Enter or Space), axe on every page, and each
journey's pages at 360 px. The signed-in browsers are shared by the journeys (one per person).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message

import pytest
import sqlalchemy as sa
from babel.support import Translations
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, CohortMembership, MembershipStatus
from fellowship.db import commit, db
from fellowship.demo import DEMO_PASSWORD
from fellowship.mail import OutboxMessage, OutboxStatus, deliver_outbox
from fellowship.notifications import announcement_services, services
from fellowship.notifications.models import Audience, Category, Frequency
from tests.conftest import body_of, free_port
from tests.e2e.conftest import LiveServer, check_accessibility, focus_on
from tests.e2e.test_curriculum import fits_the_phone, subject_of
from tests.e2e.test_cycles import cycle_id_of, flash, h1
from tests.e2e.test_journeys import TRANSLATIONS, in_language

pytestmark = pytest.mark.e2e

Translate = Callable[[str], str]
SPANISH: Translate = in_language("es")  # the demo lead teacher's language
SPANISH_CATALOG = Translations.load(str(TRANSLATIONS), ["es"])

COHORT = "Leadership Institute — Cohort 4"
FELLOW_EMAIL, FELLOW = "fellow@example.org", "Femi Fellow"
STAFF_EMAIL = "staff@example.org"
ADMIN_EMAIL = "admin@example.org"
LEAD_EMAIL, LEAD = "lead@example.org", "Luis Lead Teacher"
LEAD_SCHOOL, LEAD_SCHOOL_CODE = "Coral Ridge STEM Magnet Elementary", "FL-13-0041"

SUBJECT = "Winter convening: the agenda and what to bring"
MESSAGE = "Bring your **data wall** and one question.\n\n- Doors open at 8:30\n- Lunch is provided"
UNSUBSCRIBE_SUBJECT = "The spring convening moves to the district office"
UNREACHABLE = "nobody.home@example.org"
PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 720}


# Helpers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_in(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[str], Page]]:
    """One signed-in browser per person, opened on first use and shared by the journeys. It
    signs in from /login?next=/notifications/ (the home page has nothing to check here)."""
    pages: dict[str, Page] = {}

    def page_of(email: str) -> Page:
        if email not in pages:
            page = browser.new_context(viewport=DESKTOP).new_page()
            page.goto(f"{live_server.url}/login?next=/notifications/")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(re.compile(r"/notifications/$"))
            page.wait_for_load_state()  # the menu's script is ready
            pages[email] = page
        return pages[email]

    yield page_of
    for page in pages.values():
        page.context.close()


@pytest.fixture(scope="module", autouse=True)
def _fellows_preferences_restored(live_server: LiveServer) -> Iterator[None]:
    """The journeys change the demo fellow's email preferences; later files get them back."""
    with live_server.app.app_context():
        before = services.preferences_of(user_by_email(FELLOW_EMAIL))
    yield
    with live_server.app.app_context():
        services.set_preferences(user_by_email(FELLOW_EMAIL), before)
        commit()


def user_by_email(email: str) -> User:
    found = db.session.scalar(sa.select(User).where(User.email == email))
    assert found is not None, email
    return found


def press(control: Locator, key: str = "Enter") -> None:
    """The keyboard way: focus the control, press the key, let the next page load."""
    focus_on(control)
    control.page.keyboard.press(key)
    control.page.wait_for_load_state()


def bell(page: Page) -> Locator:
    return page.get_by_role("banner").locator("a.notification-bell")


def bell_name(unread: int, locale: str = "en") -> str:
    """The bell's accessible name, as the app's catalog words it in `locale`."""
    catalog = SPANISH_CATALOG if locale == "es" else None
    if not unread:
        text = "Notifications, none unread"
        return catalog.gettext(text) if catalog else text
    singular = plural = "Notifications, %(num)d unread"
    pattern = catalog.ngettext(singular, plural, unread) if catalog else singular
    return pattern % {"num": unread}


def unread_count(page: Page) -> int:
    """What the bell says now (0 when nothing is unread)."""
    found = re.search(r"\d+", bell(page).get_attribute("aria-label") or "")
    return int(found.group(0)) if found else 0


def at_phone_width(page: Page, name: str | None = None) -> None:
    """The page at 360 px: nothing wider than the screen, and axe on it too."""
    page.set_viewport_size(PHONE)
    try:
        fits_the_phone(page)
        if name:
            check_accessibility(page, name)
    finally:
        page.set_viewport_size(DESKTOP)


def wait_for_mail(
    server: LiveServer, to: str, subject: str, since: int, seconds: float = 8
) -> Message:
    """The one email to `to` with `subject` received after the sink's first `since` messages.

    The live server sends just after the response. Werkzeug's development server skips that
    step when the browser has already closed the connection (it reads the socket before
    closing the response), so after half a second the cron job sends what is still queued,
    as it would in production (a message is claimed before it is sent: never twice)."""

    def found() -> list[Message]:
        return [
            m for m in server.smtp.messages[since:] if m["To"] == to and subject_of(m) == subject
        ]

    deadline = time.monotonic() + seconds
    cron_at = time.monotonic() + 0.5
    while not found() and time.monotonic() < deadline:
        if cron_at and time.monotonic() > cron_at:
            server.run_outbox_cron()
            cron_at = 0.0
        time.sleep(0.05)
    messages = found()
    assert len(messages) == 1, (to, subject, [(m["To"], subject_of(m)) for m in messages])
    return messages[0]


def active_members(server: LiveServer, cohort: str) -> int:
    """How many people an announcement to the cohort reaches: its active members, each once."""
    with server.app.app_context():
        return int(
            db.session.scalar(
                sa.select(sa.func.count(sa.distinct(CohortMembership.user_id)))
                .join(Cohort, Cohort.id == CohortMembership.cohort_id)
                .join(User, User.id == CohortMembership.user_id)
                .where(
                    Cohort.name == cohort,
                    CohortMembership.status == MembershipStatus.ACTIVE,
                    User.is_active.is_(True),
                )
            )
            or 0
        )


@contextmanager
def mail_server_down(server: LiveServer) -> Iterator[None]:
    """The live server's mail server address points at a closed port, and one refused try is
    enough to mark an email failed (instead of 8 over a day)."""
    config = server.app.config
    saved = config["MAIL_PORT"], config["OUTBOX_MAX_ATTEMPTS"]
    config["MAIL_PORT"], config["OUTBOX_MAX_ATTEMPTS"] = free_port(), 1
    try:
        yield
    finally:
        config["MAIL_PORT"], config["OUTBOX_MAX_ATTEMPTS"] = saved


def wait_until_failed(server: LiveServer, to: str, seconds: float = 5) -> None:
    """Until the email to `to` is marked failed. The try runs just after the response; when
    the development server skipped it (see `wait_for_mail`), it is tried here after half a
    second, as cron would (only this message: the demo's queued ones are not due to fail)."""

    def status() -> tuple[int, OutboxStatus]:
        with server.app.app_context():
            row = db.session.execute(
                sa.select(OutboxMessage.id, OutboxMessage.status)
                .where(OutboxMessage.to == to)
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            ).one()
            return row.id, row.status

    started = time.monotonic()
    while status()[1] != OutboxStatus.FAILED and time.monotonic() < started + seconds:
        message_id, now = status()
        if now == OutboxStatus.QUEUED and time.monotonic() > started + 0.5:
            with server.app.app_context():
                deliver_outbox(ids=[message_id])
        time.sleep(0.05)
    assert status()[1] == OutboxStatus.FAILED


# 1. Staff announce; the fellow reads it and sets their preferences ---------------------------


def test_staff_announce_to_the_cohort_and_the_fellow_reads_it_from_the_bell_and_sets_preferences(
    signed_in: Callable[[str], Page], live_server: LiveServer
) -> None:
    fellow = signed_in(FELLOW_EMAIL)
    fellow.reload()
    before = unread_count(fellow)
    assert before >= 1, "the demo gives the fellow unread notifications"
    expect(bell(fellow)).to_have_accessible_name(bell_name(before))

    # Staff write the announcement from the Manage menu, by keyboard ----------------------------
    staff = signed_in(STAFF_EMAIL)
    press(staff.get_by_role("button", name="Manage"))
    expect(staff.get_by_role("button", name="Manage")).to_have_attribute("aria-expanded", "true")
    press(staff.locator("#nav-manage").get_by_role("link", name="Announcements"))
    expect(h1(staff)).to_have_text("Announcements")
    check_accessibility(staff, "notifications-announcements")
    press(staff.get_by_role("link", name="Write an announcement"))
    expect(h1(staff)).to_have_text("Write an announcement")

    press(staff.get_by_role("button", name="Preview"))  # nothing filled in: errors first
    expect(staff.get_by_role("link", name="Subject: Write a subject.")).to_be_visible()
    check_accessibility(staff, "notifications-announcement-errors")
    focus_on(staff.get_by_label("Subject"))
    staff.keyboard.type(SUBJECT)
    staff.get_by_label("Message").fill(MESSAGE)  # typing a long text adds nothing but time
    press(staff.get_by_role("radio", name="A cohort"), "Space")
    expect(staff.get_by_role("radio", name="A cohort")).to_be_checked()
    cohort = staff.get_by_label("Cohort", exact=True)
    value = cohort.locator("option", has_text=COHORT).get_attribute("value")
    assert value
    cohort.select_option(value)
    press(staff.get_by_role("button", name="Preview"))

    people = active_members(live_server, COHORT)
    expect(h1(staff)).to_have_text("Check the announcement before sending it")
    expect(staff.locator("#recipient-count")).to_have_text(f"It will reach {people} people.")
    expect(staff.locator(".announcement-body strong")).to_have_text("data wall")
    check_accessibility(staff, "notifications-announcement-preview")
    at_phone_width(staff)
    press(staff.get_by_role("button", name=f"Send to {people} people"))
    expect(h1(staff)).to_have_text(SUBJECT)
    expect(flash(staff)).to_contain_text(f"Sent to {people} people.")
    check_accessibility(staff, "notifications-announcement-sent")

    # The fellow: the bell counts it; from the notifications page it opens the announcement --
    fellow.reload()
    expect(bell(fellow)).to_have_accessible_name(bell_name(before + 1))
    expect(bell(fellow).locator(".notification-bell__count")).to_have_text(str(before + 1))
    press(bell(fellow))
    expect(h1(fellow)).to_have_text("Notifications")
    listed = fellow.get_by_role("list", name="Your notifications, newest first")
    newest = listed.get_by_role("listitem").first
    expect(newest).to_contain_text(SUBJECT)
    expect(newest).to_contain_text("Unread")
    expect(fellow.locator(".notifications-head")).to_contain_text(f"{before + 1} unread")
    check_accessibility(fellow, "notifications-index")
    at_phone_width(fellow, "notifications-index-phone")
    press(newest.get_by_role("button", name=SUBJECT, exact=True))
    expect(h1(fellow)).to_have_text(SUBJECT)
    expect(fellow.locator(".announcement-body strong")).to_have_text("data wall")
    expect(bell(fellow)).to_have_accessible_name(bell_name(before))  # the count went down
    at_phone_width(fellow)

    press(bell(fellow))
    expect(newest).not_to_contain_text("Unread")
    press(fellow.get_by_role("button", name="Mark all as read"))
    expected = "notification" if before == 1 else "notifications"
    expect(flash(fellow)).to_contain_text(f"{before} {expected} marked as read.")
    expect(bell(fellow)).to_have_accessible_name(bell_name(0))
    expect(fellow.get_by_text("Unread", exact=True)).to_have_count(0)
    expect(fellow.get_by_role("button", name="Mark all as read")).to_have_count(0)

    # Email preferences, by keyboard: coaching as a daily digest, announcements off -----------
    press(fellow.get_by_role("link", name="Email preferences"))
    expect(h1(fellow)).to_have_text("Email preferences")
    coaching = fellow.get_by_role("group", name=re.compile("^Coaching"))
    announcements = fellow.get_by_role("group", name=re.compile("^Announcements"))
    press(coaching.get_by_role("radio", name="Daily digest"), "Space")
    press(announcements.get_by_role("radio", name="Off"), "Space")
    press(fellow.get_by_role("button", name="Save preferences"))
    expect(flash(fellow)).to_contain_text("Your email preferences have been saved.")
    expect(coaching.get_by_role("radio", name="Daily digest")).to_be_checked()
    expect(announcements.get_by_role("radio", name="Off")).to_be_checked()
    expect(
        fellow.get_by_role("group", name=re.compile("^Curriculum")).get_by_role(
            "radio", name="Immediately"
        )
    ).to_be_checked()
    check_accessibility(fellow, "notifications-preferences-saved")
    at_phone_width(fellow)


# 2. One click from the email turns a category off -------------------------------------------


def test_the_unsubscribe_link_of_an_email_turns_announcements_off_without_signing_in(
    browser: Browser, signed_in: Callable[[str], Page], live_server: LiveServer
) -> None:
    since = len(live_server.smtp.messages)
    with live_server.app.app_context():
        fellow_user = user_by_email(FELLOW_EMAIL)
        services.set_preferences(fellow_user, {Category.ANNOUNCEMENTS: Frequency.IMMEDIATELY})
        cohort_id = db.session.scalar(sa.select(Cohort.id).where(Cohort.name == COHORT))
        assert cohort_id is not None
        announcement_services.send_announcement(
            user_by_email(STAFF_EMAIL),
            audience=Audience.COHORT,
            target_id=cohort_id,
            subject=UNSUBSCRIBE_SUBJECT,
            body_md="Same day, same time: only the place changes.",
            send_key=announcement_services.new_send_key(),
        )
        commit()  # the emails go out after the commit, as from the send button

    email = wait_for_mail(live_server, FELLOW_EMAIL, UNSUBSCRIBE_SUBJECT, since)
    text = body_of(email)
    link = re.search(r"http://127\.0\.0\.1:\d+/notifications/unsubscribe/\S+", text)
    assert link is not None, text
    assert email["List-Unsubscribe"] == f"<{link.group(0)}>"

    anonymous = browser.new_context(viewport=PHONE)
    page = anonymous.new_page()
    page.goto(link.group(0))
    expect(h1(page)).to_have_text("Turn off these emails")
    expect(page.get_by_role("main").get_by_role("listitem")).to_have_text(["Announcements"])
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)  # nobody signed in
    fits_the_phone(page)
    check_accessibility(page, "notifications-unsubscribe")
    press(page.get_by_role("button", name="Turn off these emails"))
    expect(h1(page)).to_have_text("Email turned off")
    expect(page.get_by_role("status")).to_contain_text("You will get no more email about:")
    expect(page.get_by_role("status").get_by_role("listitem")).to_have_text(["Announcements"])
    fits_the_phone(page)
    check_accessibility(page, "notifications-unsubscribed")
    anonymous.close()

    fellow = signed_in(FELLOW_EMAIL)
    fellow.goto(f"{live_server.url}/notifications/preferences")
    announcements = fellow.get_by_role("group", name=re.compile("^Announcements"))
    expect(announcements.get_by_role("radio", name="Off")).to_be_checked()


# 3. The admin's test email and outbox -------------------------------------------------------


def test_an_admin_sends_a_test_email_and_sends_a_failed_email_again_from_the_outbox(
    signed_in: Callable[[str], Page], live_server: LiveServer
) -> None:
    admin = signed_in(ADMIN_EMAIL)  # on the notifications page: the menu is on every page
    manage = admin.get_by_role("button", name="Manage")
    press(manage)
    expect(manage).to_have_attribute("aria-expanded", "true")
    menu = admin.locator("#nav-manage")
    expect(menu.get_by_role("link")).to_have_text(["Announcements", "Audit log", "Email", "Outbox"])
    check_accessibility(admin, "notifications-manage-menu")
    for _ in range(3):  # Announcements, Audit log, Email
        admin.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Email")).to_be_focused()
    admin.keyboard.press("Enter")
    expect(h1(admin)).to_have_text("Email settings")
    check_accessibility(admin, "notifications-email-settings")
    at_phone_width(admin)

    since = len(live_server.smtp.messages)
    expect(admin.get_by_label("Send it to")).to_have_value(ADMIN_EMAIL)
    press(admin.get_by_role("button", name="Send a test email"))
    expect(flash(admin)).to_contain_text(f"A test email to {ADMIN_EMAIL} is on its way.")
    wait_for_mail(live_server, ADMIN_EMAIL, "Fellowship test email", since)

    press(admin.get_by_role("link", name="Open the outbox"))
    expect(h1(admin)).to_have_text("Outbox")
    admin.get_by_label("Show").select_option(label="Sent")
    press(admin.get_by_role("button", name="Show", exact=True))
    sent = admin.get_by_role("table").get_by_role("row").filter(has_text=ADMIN_EMAIL).first
    expect(sent).to_contain_text("Fellowship test email")
    expect(sent).to_contain_text("Sent")

    # An email sent while the mail server is down: failed, with the server's error ------------
    admin.goto(f"{live_server.url}/admin/email")
    with mail_server_down(live_server):
        admin.get_by_label("Send it to").fill(UNREACHABLE)
        press(admin.get_by_role("button", name="Send a test email"))
        expect(flash(admin)).to_contain_text(f"A test email to {UNREACHABLE} is on its way.")
        wait_until_failed(live_server, UNREACHABLE)

    press(admin.get_by_role("link", name="Open the outbox"))  # failed and queued, newest first
    failed = admin.get_by_role("table").get_by_role("row").filter(has_text=UNREACHABLE)
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("Failed")
    expect(failed).to_contain_text("ConnectionRefusedError")
    check_accessibility(admin, "notifications-outbox")
    at_phone_width(admin)
    press(failed.get_by_role("link", name="Fellowship test email"))
    expect(h1(admin)).to_have_text(f"Email to {UNREACHABLE}")
    expect(admin.get_by_role("region", name="Last error")).to_contain_text("ConnectionRefused")
    check_accessibility(admin, "notifications-outbox-message")
    at_phone_width(admin)

    since = len(live_server.smtp.messages)
    press(admin.get_by_role("button", name="Send it again now"))
    expect(flash(admin)).to_contain_text(f"The email to {UNREACHABLE} is being sent again.")
    wait_for_mail(live_server, UNREACHABLE, "Fellowship test email", since)
    admin.reload()
    delivery = admin.get_by_role("region", name="Delivery")
    expect(delivery.locator("dd").first).to_have_text("Sent")
    expect(admin.get_by_role("button", name="Send it again now")).to_have_count(0)


# 4. The goals review packet -----------------------------------------------------------------


def test_staff_send_the_review_packet_and_the_lead_teacher_finds_it_under_the_bell_in_spanish(
    signed_in: Callable[[str], Page], live_server: LiveServer
) -> None:
    t = SPANISH
    lead = signed_in(LEAD_EMAIL)
    expect(lead.locator("html")).to_have_attribute("lang", "es")
    lead.reload()
    before = unread_count(lead)

    staff = signed_in(STAFF_EMAIL)
    staff.goto(f"{live_server.url}/cycles/{cycle_id_of(live_server, LEAD_SCHOOL_CODE)}/reviews")
    staff.get_by_role("link", name=re.compile(r"^Yearly review, ")).first.click()
    expect(h1(staff)).to_contain_text("Yearly goals review, ")
    send = staff.get_by_role("button", name=f"Send the packet to {LEAD}")
    press(send)
    expect(flash(staff)).to_contain_text(
        "The packet is sent: 1 person was told it is ready to read."
    )
    at_phone_width(staff)  # axe on the review page: tests/e2e/test_cycles.py

    lead.reload()
    expect(bell(lead)).to_have_accessible_name(bell_name(before + 1, "es"))
    press(bell(lead))
    expect(h1(lead)).to_have_text(t("Notifications"))
    newest = lead.get_by_role("list", name=t("Your notifications, newest first")).get_by_role(
        "listitem"
    )
    subject = t("The goals review packet of %(school)s is ready to read") % {"school": LEAD_SCHOOL}
    expect(newest.first).to_contain_text(subject)
    check_accessibility(lead, "notifications-index-es")
    at_phone_width(lead)
    press(newest.first.get_by_role("button", name=subject, exact=True))
    expect(h1(lead)).to_contain_text(t("Yearly goals review, %(date)s").split("%(date)s")[0])
    assert lead.url.endswith("#packet"), lead.url
    expect(bell(lead)).to_have_accessible_name(bell_name(before, "es"))
