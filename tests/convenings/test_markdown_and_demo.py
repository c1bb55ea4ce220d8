"""The shared Markdown renderer, and the demo convenings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fellowship.cohorts.models import CohortRole
from fellowship.convenings.demo import load_demo_convenings
from fellowship.convenings.models import Attendance, AttendanceStatus, Convening, ConveningKind
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.markdown import markdown_to_text, render_markdown
from tests.convenings.helpers import cohort_setup, member


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("**bold** and *soft*", "<p><strong>bold</strong> and <em>soft</em></p>"),
        ("# Big", "<h3>Big</h3>"),
        ("###### Small", "<h6>Small</h6>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
    ],
)
def test_markdown_renders_safe_html(source, expected):
    assert str(render_markdown(source)).strip() == expected


def test_links_open_safely_and_images_become_links():
    html = str(render_markdown("[site](https://example.org) ![map](https://example.org/m.png)"))
    assert 'href="https://example.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "<img" not in html
    assert ">map</a>" in html


def test_markdown_as_plain_text_keeps_structure_and_link_targets():
    text = markdown_to_text(
        "## Plan\n\n- **Map** allies\n- [Brief](https://example.org/b)\n\nA & B"
    )
    assert text == "Plan\n\n- Map allies\n- Brief (https://example.org/b)\n\nA & B"


def test_empty_markdown_is_empty():
    assert str(render_markdown(None)) == ""
    assert markdown_to_text("") == ""


def test_demo_convenings_are_created_once_with_attendance_for_every_fellow(ctx):
    setup = cohort_setup(fellows=5)
    second_facilitator = member(setup.cohort, CohortRole.FACILITATOR)
    created = load_demo_convenings(
        setup.cohort, [setup.facilitator, second_facilitator], setup.fellows
    )
    db.session.commit()
    assert len(created) == 4
    assert load_demo_convenings(setup.cohort, [setup.facilitator], setup.fellows) == []
    convenings = db.session.scalars(sa.select(Convening).order_by(Convening.starts_at)).all()
    assert len(convenings) == 4
    now = utcnow()
    past, *upcoming = convenings
    assert past.ends_at < now
    assert all(c.starts_at > now for c in upcoming)
    assert {c.kind for c in upcoming} == {
        ConveningKind.WORKSHOP,
        ConveningKind.SCHOOL_VISIT,
        ConveningKind.BOOK_STUDY,
    }
    workshop = next(c for c in upcoming if c.kind == ConveningKind.WORKSHOP)
    assert workshop.online_url.startswith("https://")
    visit = next(c for c in upcoming if c.kind == ConveningKind.SCHOOL_VISIT)
    assert visit.location
    rows = db.session.scalars(sa.select(Attendance).where(Attendance.convening_id == past.id)).all()
    assert {r.user_id for r in rows} == {f.id for f in setup.fellows}
    excused = [r for r in rows if r.status == AttendanceStatus.EXCUSED]
    assert excused
    assert excused[0].note
    assert {r.status for r in rows} == set(AttendanceStatus)
    assert all(c.agenda_md for c in convenings)
