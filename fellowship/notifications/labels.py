"""How categories read to people: on the preferences and unsubscribe pages and in digests."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from fellowship.notifications.models import Category

# Each category by name, and what is in it (one line: the legend of its preferences).
CATEGORY_NAMES: dict[Category, Any] = {
    Category.COACHING: _l("Coaching"),
    Category.CURRICULUM: _l("Curriculum"),
    Category.CAPSTONES: _l("Capstones"),
    Category.CONVENINGS: _l("Convenings"),
    Category.CYCLES: _l("Equity cycles"),
    Category.ANNOUNCEMENTS: _l("Announcements"),
}
CATEGORY_DESCRIPTIONS: dict[Category, Any] = {
    Category.COACHING: _l("check-ins shared with you, action items, check-in reminders"),
    Category.CURRICULUM: _l("feedback on your reflections, modules due soon or overdue"),
    Category.CAPSTONES: _l("reviews assigned to you or waiting, submitted reviews, decisions"),
    Category.CONVENINGS: _l("convenings scheduled or changed, with a calendar file"),
    Category.CYCLES: _l(
        "goals reviews scheduled and coming up, packets ready, sign-offs, stale measures"
    ),
    Category.ANNOUNCEMENTS: _l("messages from the institute's staff to your cohort or cycle"),
}
