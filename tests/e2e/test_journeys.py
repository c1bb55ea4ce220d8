"""Journeys in a real browser, driven by labels and roles, with an axe check on every page."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from babel.support import Translations
from playwright.sync_api import Page, expect

from fellowship.demo import DEMO_PASSWORD, DEMO_PEOPLE
from tests.conftest import body_of
from tests.e2e.conftest import LiveServer, check_accessibility

pytestmark = pytest.mark.e2e

TRANSLATIONS = Path(__file__).resolve().parents[2] / "fellowship" / "translations"
DEMO_ROLES = ["admin", "staff", "fellow", "coach", "facilitator", "reviewer", "lead", "partner"]


def sign_in(page: Page, server: LiveServer, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()  # the next page's scripts (menu, htmx) are ready


def wait_for_mail(server: LiveServer, to: str, seconds: float = 10):
    """The newest message to `to`.

    Mail goes out just after the response; if that did not happen (the browser dropped the
    connection first), the cron job sends it, as it would in production.
    """
    deadline = time.monotonic() + seconds
    cron_at = time.monotonic() + seconds / 4
    while time.monotonic() < deadline:
        found = [m for m in server.smtp.messages if m["To"] == to]
        if found:
            return found[-1]
        if cron_at and time.monotonic() > cron_at:
            server.run_outbox_cron()
            cron_at = 0.0
        time.sleep(0.05)
    raise AssertionError(f"no mail to {to} within {seconds} s")


def in_language(locale: str):
    """The app's own catalog, so a journey reads the page in the person's language."""
    if locale == "en":
        return lambda text: text
    return Translations.load(str(TRANSLATIONS), [locale]).gettext


@pytest.mark.parametrize("role", DEMO_ROLES)
def test_each_demo_person_signs_in_and_reaches_their_home(page: Page, live_server, role):
    email = f"{role}@example.org"
    name, locale = next((p[1], p[3]) for p in DEMO_PEOPLE if p[0] == email)
    t = in_language(locale)
    page.goto(f"{live_server.url}/login")
    check_accessibility(page, "login" if role == "admin" else None)
    sign_in(page, live_server, email)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Welcome, %(name)s") % {"name": name}
    )
    expect(page.locator("html")).to_have_attribute("lang", locale)
    check_accessibility(page, f"home-{role}")
    nav = page.get_by_role("navigation", name=t("Main"))
    if role in {"admin", "staff"}:
        expect(nav.get_by_role("link", name=t("People"))).to_be_visible()
    else:
        expect(nav.get_by_role("link", name=t("People"))).to_have_count(0)
    page.get_by_role("button", name=t("Sign out")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Sign in"))


def test_an_admin_invites_a_person_who_sets_a_password_and_signs_in(
    page: Page, live_server: LiveServer, browser
):
    sign_in(page, live_server, "admin@example.org")
    page.get_by_role("link", name="People").first.click()
    check_accessibility(page, "people")
    page.get_by_role("link", name="Invite a person").click()
    check_accessibility(page, "invite")
    page.get_by_label("Email").fill("grace.newcomer@example.org")
    page.get_by_label("Name").fill("Grace Newcomer")
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status").first).to_contain_text("Invitation sent")
    check_accessibility(page, "person")

    message = wait_for_mail(live_server, "grace.newcomer@example.org")
    link = re.search(r"http://127\.0\.0\.1:\d+/invitation/[\w-]+", body_of(message)).group(0)

    newcomer = browser.new_context().new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Welcome to Fellowship")
    check_accessibility(newcomer, "accept-invitation")
    newcomer.get_by_label("New password", exact=True).fill("short")
    newcomer.get_by_label("Confirm new password").fill("short")
    newcomer.get_by_role("button", name="Set my password").click()
    expect(newcomer.locator("#password-error")).to_contain_text("at least 12 characters")
    check_accessibility(newcomer, "accept-invitation-error")
    newcomer.get_by_label("New password", exact=True).fill("juniper river compass nine")
    newcomer.get_by_label("Confirm new password").fill("juniper river compass nine")
    newcomer.get_by_role("button", name="Set my password").click()
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Welcome, Grace Newcomer")
    newcomer.context.close()


def test_a_person_resets_a_forgotten_password_through_the_mail_server(
    page: Page, live_server: LiveServer
):
    page.goto(f"{live_server.url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    check_accessibility(page, "forgot-password")
    page.get_by_label("Email").fill("partner@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status").first).to_contain_text("If that address has an account")

    message = wait_for_mail(live_server, "partner@example.org")
    assert message["Subject"] == "Choose a new Fellowship password"
    link = re.search(r"http://127\.0\.0\.1:\d+/reset-password/[\w-]+", body_of(message)).group(0)
    page.goto(link)
    check_accessibility(page, "reset-password")
    page.get_by_label("New password", exact=True).fill("partner passphrase renewed")
    page.get_by_label("Confirm new password").fill("partner passphrase renewed")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("status").first).to_contain_text("Your password has been changed")
    sign_in(page, live_server, "partner@example.org", "partner passphrase renewed")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


def test_profile_audit_log_and_two_factor_pages_pass_the_accessibility_check(
    page: Page, live_server: LiveServer
):
    sign_in(page, live_server, "admin@example.org")
    for path, name in [
        ("/profile", "profile"),
        ("/profile/two-factor", "two-factor"),
        ("/admin/audit", "audit"),
        ("/no-such-page", "not-found"),
    ]:
        page.goto(f"{live_server.url}{path}")
        check_accessibility(page, name)


def test_the_interface_switches_to_spanish(page: Page, live_server: LiveServer):
    page.goto(f"{live_server.url}/login")
    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    check_accessibility(page, "login-es")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_the_pages_work_at_phone_width_with_the_menu(page: Page, live_server: LiveServer):
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server, "staff@example.org")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    menu.click()
    expect(page.get_by_role("link", name="People")).to_be_visible()
    check_accessibility(page, "home-phone-menu")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360


def test_a_keyboard_user_can_skip_to_the_content_and_sign_in(page: Page, live_server: LiveServer):
    page.goto(f"{live_server.url}/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email")).to_be_focused()
    page.keyboard.type("fellow@example.org")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    focus_ring = page.evaluate(
        "(() => { const a = document.querySelector('a.usa-link'); a.focus();"
        " return getComputedStyle(a).outlineStyle; })()"
    )
    assert focus_ring != "none"  # focus stays visible
