"""An XSS corpus through the curriculum's forms fires nothing in Chromium.

A facilitator puts the corpus in a module's title, summary and outcomes, a reading, a link's
note and a reflection prompt (and tries `javascript:` web addresses, which the form refuses);
the fellow answers with the corpus and the facilitator gives the corpus back as feedback.
Every page that shows them is then opened by the person who sees it.

The browsers here ignore the Content-Security-Policy (`bypass_csp`): the CSP would stop
inline scripts anyway, and this test is about the Markdown sanitizer and the templates'
escaping standing on their own. A separate check makes sure each page does send the CSP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import body_of
from tests.e2e.conftest import LiveServer, check_accessibility
from tests.e2e.test_curriculum import main_nav_link, open_cohort, wait_for_feedback_mail
from tests.e2e.test_journeys import sign_in

pytestmark = pytest.mark.e2e

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "[x](javascript:window.__xss=1)",
    "![x](javascript:window.__xss=1)",
    '<svg onload="window.__xss=1">',
    '<iframe src="javascript:window.__xss=1"></iframe>',
    '"><script>window.__xss=1</script>',
    "'><img src=x onerror=window.__xss=1>",
    '<a href="jAvAsCrIpT:window.__xss=1">x</a>',
    "[x](  javascript:window.__xss=1)",
    "[x](JaVaScRiPt:window.__xss=1)",
    "[x](javascript&colon;window.__xss=1)",
    "[x](java\tscript:window.__xss=1)",
    "[x](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)",
    "[x](vbscript:window.__xss=1)",
    "<javascript:window.__xss=1>",
    '[x](https://example.org/a "title" onmouseover="window.__xss=1")',
    '![x](https://example.org/x.png" onerror="window.__xss=1)',
    '<details open ontoggle="window.__xss=1">',
    "| a |\n|---|\n| <img src=x onerror=window.__xss=1> |",
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=1">',
    '<form action="javascript:window.__xss=1"><button>x</button></form>',
    '<object data="javascript:window.__xss=1"></object>',
    "<style>main{display:none}</style>",
    "{{ 7*7 }} {% raw %}{{ config }}{% endraw %}",
    "&lt;script&gt;window.__xss=1&lt;/script&gt;",
]
# Links that must keep working, so that the checks below have links to look at.
SAFE = "A [safe link](https://example.org/safe) and ![a picture](https://example.org/pic.png)."
CORPUS = "\n\n".join([SAFE, *PAYLOADS])
# Titles are one line of 200 characters at most.
MODULE = (
    'XSS <script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
    '"><svg onload=window.__xss=1>{{ 7*7 }}'
)
READING = "Reading <img src=x onerror=window.__xss=1>"
LINK = "Link <svg onload=window.__xss=1>"
REFLECTION = "Prompt \"'><script>window.__xss=1</script>"
SCRIPT_TEXT = "<script>window.__xss=1</script>"
REFUSED_ADDRESSES = [
    "javascript:window.__xss=1",
    "JaVaScRiPt:window.__xss=1",
    "  javascript:window.__xss=1",
    "java\tscript:window.__xss=1",
    "data:text/html,<script>window.__xss=1</script>",
    "vbscript:window.__xss=1",
    "//example.org/no-scheme",
    "https:window.__xss=1",
]
FELLOW_TIMEZONE = "America/Chicago"

# Every attribute that carries script or a script URL, and elements that never belong in
# what the app renders (the page's own markup has none of them).
FIND_DANGER = """() => {
  const found = [];
  const urlAttributes = ["href", "src", "action", "formaction", "data", "xlink:href",
                         "srcdoc", "background", "poster", "ping"];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
      if (name.startsWith("on")) found.push(`${el.tagName} ${name}=${attr.value}`);
      if (urlAttributes.includes(name) && /^(javascript|vbscript|data:text)/.test(value))
        found.push(`${el.tagName} ${name}=${attr.value}`);
      if (name === "style") found.push(`${el.tagName} style=${attr.value}`);
    }
  }
  for (const selector of ["main script", "main iframe", "main svg", "main object",
                          "main embed", "main math", "main style", "main form:not([method])",
                          "main img:not([src^='https:'])", "main base", "main meta"]) {
    for (const el of document.querySelectorAll(selector))
      found.push(`${selector}: ${el.outerHTML.slice(0, 120)}`);
  }
  for (const a of document.querySelectorAll("main a[href]")) {
    const scheme = new URL(a.href, location.href).protocol;
    if (!["http:", "https:", "mailto:"].includes(scheme)) found.push(`link to ${a.href}`);
  }
  return found;
}"""


class Watched:
    """A signed-in browser that records dialogs and checks every page it opens."""

    def __init__(self, context: BrowserContext, server: LiveServer, email: str):
        self.server = server
        self.page = context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", self._on_dialog)
        sign_in(self.page, server, email)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: str, name: str | None = None, shows: str = SCRIPT_TEXT) -> Page:
        response = self.page.goto(f"{self.server.url}{path}")
        assert response is not None
        assert response.status == 200, path
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self' 'nonce-" in csp, path
        assert "unsafe-inline" not in csp, path
        self.check(path, name, shows)
        return self.page

    def check(self, where: str, name: str | None = None, shows: str = SCRIPT_TEXT) -> None:
        page = self.page
        page.wait_for_load_state("load")
        page.wait_for_timeout(200)  # an onerror / ontoggle would have fired by now
        if shows:  # the corpus is on the page, as text
            expect(page.locator("main")).to_contain_text(shows)
        assert page.evaluate("window.__xss") is None, f"script ran on {where}"
        assert self.dialogs == [], f"a dialog opened on {where}: {self.dialogs}"
        assert page.evaluate(FIND_DANGER) == [], where
        if name:
            check_accessibility(page, name)


@pytest.fixture
def contexts(browser: Browser) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    facilitator = browser.new_context(bypass_csp=True)
    fellow = browser.new_context(bypass_csp=True)
    yield facilitator, fellow
    facilitator.close()
    fellow.close()


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("#")[0]


def test_an_xss_corpus_in_modules_readings_reflections_and_feedback_fires_nothing(
    contexts: tuple[BrowserContext, BrowserContext], live_server: LiveServer
):
    facilitator = Watched(contexts[0], live_server, "facilitator@example.org")
    page = facilitator.page
    fellow_today = datetime.now(ZoneInfo(FELLOW_TIMEZONE)).date()

    # The facilitator writes the corpus everywhere ------------------------------------------
    open_cohort(page)
    page.get_by_role("link", name="Curriculum", exact=True).click()
    builder = path_of(page)
    page.get_by_role("link", name="Add a module").click()
    page.get_by_label("Title").fill(MODULE)
    page.get_by_label("Strand").select_option(label="Personal development")
    page.get_by_label("Summary").fill(CORPUS)
    page.get_by_label("Learning outcomes").fill(CORPUS)
    page.get_by_label("Due date").fill((fellow_today + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Add the module").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Items of “{MODULE}”")
    items_page = path_of(page)
    module_id = int(re.search(r"/modules/(\d+)/items", items_page).group(1))
    facilitator.check("the new items page")

    page.get_by_role("link", name="Add a reading").click()
    page.get_by_label("Title").fill(READING)
    page.get_by_label("Reading", exact=True).fill(CORPUS)
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_role("status").first).to_contain_text("has been added")

    page.get_by_role("link", name="Add a link").click()
    add_link = path_of(page) + "?kind=link"
    page.get_by_label("Title").fill(LINK)
    page.get_by_label("Note").fill(CORPUS)
    for address in REFUSED_ADDRESSES:
        page.get_by_label("Web address").fill(address)
        page.get_by_role("button", name="Add the item").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Add a link")
        expect(page.locator("#url-error")).to_be_visible()
        if address.strip().lower().startswith(("javascript:", "vbscript:", "data:")):
            expect(page.locator("#url-error")).to_contain_text("is refused")
        expect(page.get_by_label("Note")).to_have_value(CORPUS)  # what was typed is kept
        facilitator.check(f"the refused address {address!r}", shows="")
    check_accessibility(page, "curriculum-xss-link-refused")
    page.get_by_label("Web address").fill("https://example.org/partners")
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_role("status").first).to_contain_text("has been added")

    page.get_by_role("link", name="Add a reflection prompt").click()
    page.get_by_label("Title").fill(REFLECTION)
    page.get_by_label("Prompt").fill(CORPUS)
    page.get_by_role("button", name="Add the item").click()
    expect(page.get_by_role("status").first).to_contain_text("has been added")
    items = page.get_by_role("table").get_by_role("rowheader")
    expect(items).to_have_text([READING, LINK, REFLECTION])  # titles shown as typed
    assert add_link  # (the refused posts all went to the same form)

    edit_links = [
        page.get_by_role("link", name=f"Edit “{title}”").get_attribute("href")
        for title in (READING, LINK, REFLECTION)
    ]
    delete_link = page.get_by_role("link", name=f"Delete “{READING}”").get_attribute("href")

    # The facilitator's pages that show it.
    facilitator.open(builder, "curriculum-xss-builder")
    facilitator.open(f"/modules/{module_id}/edit")
    facilitator.open(items_page, "curriculum-xss-items")
    for href in edit_links:
        facilitator.open(href)
    facilitator.open(delete_link)
    facilitator.open(f"/modules/{module_id}/delete")
    facilitator.open(f"/modules/{module_id}/extensions")
    facilitator.open(f"/modules/{module_id}", "curriculum-xss-module-preview")
    reading = page.get_by_role("region", name=f"1. {READING}")
    expect(reading.get_by_role("link", name="safe link")).to_have_attribute(
        "href", "https://example.org/safe"
    )
    expect(page.get_by_role("link", name="Open the page on example.org")).to_have_attribute(
        "href", "https://example.org/partners"
    )

    # The fellow reads it, answers with the corpus and submits ------------------------------
    fellow = Watched(contexts[1], live_server, "fellow@example.org")
    main_nav_link(fellow.page, "My learning").click()
    fellow.check("My learning", "curriculum-xss-my-learning")
    fellow.page.get_by_role("link", name=MODULE).click()
    fellow.check("the module page", "curriculum-xss-module-fellow")
    module_page = path_of(fellow.page)
    assert module_page == f"/modules/{module_id}"

    # Every link in the reading goes to a web page; following them stays on http(s).
    links = fellow.page.get_by_role("region", name=f"1. {READING}").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert "https://example.org/safe" in hrefs
    assert all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs), hrefs

    fellow.open("/", "curriculum-xss-home-fellow")  # "Due this week" lists the module
    fellow.page.goto(f"{live_server.url}{module_page}")
    fellow.page.get_by_role("button", name=f"Mark as done: {READING}").click()
    fellow.check("the module page after marking the reading done")
    fellow.page.get_by_role("button", name=f"Mark as done: {LINK}").click()
    response = fellow.page.get_by_role("textbox", name=re.compile("^Your reflection on"))
    response.fill(CORPUS)
    fellow.page.get_by_role("button", name="Save draft").click()
    expect(fellow.page.get_by_text("— Draft saved")).to_be_visible()
    fellow.check("the module page with a draft")
    fellow.page.get_by_role("button", name="Submit").click()
    expect(fellow.page.get_by_text("— Submitted")).to_be_visible()
    fellow.check("the module page with the submitted reflection")
    fellow.open("/learning")

    # The facilitator sees the reflection and answers with the corpus -----------------------
    cohort_id = int(re.search(r"/cohorts/(\d+)/", builder).group(1))
    facilitator.open(f"/cohorts/{cohort_id}/curriculum/feedback", "curriculum-xss-queue")
    page.get_by_role("link", name=f"Give feedback to Femi Fellow on “{REFLECTION}”").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(REFLECTION)
    facilitator.check("the feedback form", "curriculum-xss-feedback-form")
    feedback_form = path_of(page)
    page.get_by_label("Your feedback").fill(CORPUS)
    page.get_by_role("button", name=re.compile(r"^Save (feedback|and go to the next)$")).click()
    expect(page.get_by_role("status").first).to_contain_text("Your feedback has been saved.")
    facilitator.open(feedback_form)
    facilitator.open(f"/cohorts/{cohort_id}/curriculum/feedback")  # "Feedback given" list
    facilitator.open(f"/cohorts/{cohort_id}/curriculum/progress", "curriculum-xss-grid")
    page.get_by_role("rowheader").get_by_role("link", name="Femi Fellow").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Progress of Femi Fellow")
    facilitator.check("the fellow's progress", "curriculum-xss-fellow-progress")
    fellow_progress = path_of(page)

    # The fellow reads the feedback ---------------------------------------------------------
    fellow.open(module_page, "curriculum-xss-module-feedback")
    item = fellow.page.get_by_role("region", name=f"3. {REFLECTION}")
    expect(item).to_contain_text("— Feedback received")
    expect(item.locator(".curriculum-learning-feedback")).to_contain_text(SCRIPT_TEXT)
    fellow.open("/")
    expect(
        fellow.page.get_by_role("heading", name="New feedback").locator(
            "xpath=following-sibling::ul[1]"
        )
    ).to_contain_text(REFLECTION)
    fellow.open(fellow_progress)  # their own progress page
    fellow.open(f"/cohorts/{cohort_id}/learning")

    # The email about the feedback escapes the titles too.
    mails = wait_for_feedback_mail(live_server, "fellow@example.org", REFLECTION)
    assert len(mails) == 1
    html = body_of(mails[0], "html")
    for tag in ("<script", "<img", "<svg"):
        assert tag not in html.lower()
    assert "&lt;script&gt;" in html
