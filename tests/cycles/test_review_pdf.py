"""The packet PDF: a real PDF with the school and the goals in it, sent as an attachment with
a safe name, audited; text with accents, curly quotes and reportlab's own markup characters
prints as typed; long packets get page numbers on every page; a table row taller than a page
(many measurements, long comments, long engagement notes, many participants) splits across
pages, and very long words wrap."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph

from fellowship.audit import AuditEvent
from fellowship.cycles import review_services as services
from fellowship.cycles.packet_pdf import (
    CONTENT_WIDTH,
    PdfText,
    _esc,
    _styles,
    fit_line,
    markdown_paragraphs,
    plain_markdown,
    register_fonts,
    render_packet_pdf,
    sparkline_points,
)
from fellowship.cycles.review_queries import assemble_packet, meeting_record, normalise_record
from fellowship.extensions import db
from tests.conftest import sign_in
from tests.cycles.helpers import EngagementFactory, GoalFactory, MeasurementFactory, RatingFactory
from tests.cycles.review_helpers import rate_all, review_url, world


@pytest.fixture
def readable_pdfs(app):
    """Page streams left uncompressed, so a test can find the printed words in the bytes."""
    app.config["PDF_PAGE_COMPRESSION"] = 0
    yield
    app.config.pop("PDF_PAGE_COMPRESSION", None)


def _text(**labels: str) -> PdfText:
    return PdfText(
        labels=labels,
        values={},
        day=lambda iso: iso or "",
        moment=lambda iso: iso or "",
        number=lambda value: "" if value is None else f"{float(value):g}",
    )


def test_the_packet_downloads_as_a_pdf_attachment_with_the_school_and_goals(client, readable_pdfs):
    w = world()
    sign_in(client, w.member)
    response = client.get(review_url(w.review, "/packet.pdf"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    code = re.sub(r"[^A-Za-z0-9]+", "-", _school_code(w)).strip("-")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=goals-review-{code}-2026-27.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert _school_name(w).encode() in response.data
    assert b"(Goal number 1)" in response.data
    assert b"Library open house" in response.data
    assert re.search(rb"\(Page 1 of \d+\)", response.data)
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "cycle.review_packet_downloaded")
    ).all()
    assert (event.actor_id, event.target_id) == (w.member.id, w.review.id)


def test_a_refused_download_sends_nothing_and_audits_nothing(client):
    w = world()
    sign_in(client, w.other_lead)
    assert client.get(review_url(w.review, "/packet.pdf")).status_code == 403
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == "cycle.review_packet_downloaded"
            )
        )
        == 0
    )


def test_accents_quotes_and_markup_characters_print_without_error(client, readable_pdfs):
    w = world(school_name="Escuela Año Niños <b>& “Única” </para>")
    goal = GoalFactory(cycle_id=w.cycle.id, title="Más <i>familias</i> & “vecinos”")
    rate_all(w.review, [*w.goals, goal])
    w.review.notes_md = "**Acordamos** <script>alert(1)</script> & más.\n\nSegundo párrafo <br>"
    db.session.commit()
    sign_in(client, w.lead)
    response = client.get(review_url(w.review, "/packet.pdf"))
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    assert b"Escuela A" in response.data
    assert b"familias" in response.data
    assert b"/FontName /" in response.data
    assert b"Vera" in response.data


def test_a_school_code_cannot_escape_the_file_name(client):
    w = world()
    from fellowship.cycles.models import School

    school = db.session.get(School, w.cycle.school_id)
    school.code = '../"evil\r\nX-Bad: 1'
    db.session.commit()
    sign_in(client, w.staff)
    response = client.get(review_url(w.review, "/packet.pdf"))
    disposition = response.headers["Content-Disposition"]
    assert disposition == "attachment; filename=goals-review-evil-X-Bad-1-2026-27.pdf"
    assert "X-Bad" not in response.headers


def test_a_long_packet_breaks_into_numbered_pages_with_the_school_on_each(ctx):
    w = world(goals=15)
    packet = assemble_packet(w.cycle.id, date(2027, 5, 1))
    record = normalise_record(meeting_record(w.review, packet, lead=None, staff=None))
    record["notes_md"] = "\n\n".join(f"Paragraph {n} of the notes." for n in range(80))
    pdf = render_packet_pdf(
        record,
        _text(
            heading="Yearly goals review",
            header="Header School · 2026-27",
            page="Page %(page)d of %(pages)d",
        ),
        page_compression=0,
    )
    pages = int(re.search(rb"\(Page 1 of (\d+)\)", pdf).group(1))
    assert pages >= 3
    assert len(re.findall(rb"\(Header School [^)]*\) Tj", pdf)) == pages
    assert f"(Page {pages} of {pages})".encode() in pdf


def test_a_damaged_snapshot_still_prints():
    pdf = render_packet_pdf(
        normalise_record({"goals": []}),
        _text(heading="Review", header="School", page="Page %(page)d of %(pages)d"),
    )
    assert pdf.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("text", "paragraphs"),
    [
        ("One <b>& two", ["One &lt;b&gt;&amp; two"]),
        ("First\n\nSecond line\nwraps", ["First", "Second line<br/>wraps"]),
        ("", []),
        (None, []),
    ],
)
def test_markdown_is_printed_as_escaped_plain_paragraphs(text, paragraphs):
    assert markdown_paragraphs(text) == paragraphs


def test_a_sparkline_spans_its_box():
    points = sparkline_points([18, 21, 24, 30], width=100, height=20, pad=0)
    assert points[0] == (0.0, 0.0)
    assert points[-1] == (100.0, 20.0)
    assert sparkline_points([5], 100, 20, pad=0) == [(0.0, 0.0)]
    assert sparkline_points([], 100, 20) == []


def _school_name(w) -> str:
    from fellowship.cycles.models import School

    return db.session.get(School, w.cycle.school_id).name


def _school_code(w) -> str:
    from fellowship.cycles.models import School

    return db.session.get(School, w.cycle.school_id).code


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        (
            "We agreed on **three** things and *one* more.",
            ["We agreed on three things and one more."],
        ),
        (
            "## Next steps\n- ask for a bus stop\n* keep open houses",
            ["Next steps\n- ask for a bus stop\n* keep open houses"],
        ),
        ("2 * 3 * 4 stays", ["2 * 3 * 4 stays"]),
        ("snake_case_name stays", ["snake_case_name stays"]),
    ],
)
def test_markdown_marks_of_emphasis_and_headings_are_dropped(text, plain):
    assert plain_markdown(text) == plain


# Content taller than a page -------------------------------------------------------------------


def _long_content(w, vector: str) -> None:
    """One kind of realistic content that makes a table row taller than a page."""
    goal = w.goals[0]
    if vector == "a goal with 60 measurements":
        for n in range(60):
            MeasurementFactory(
                goal_id=goal.id, measured_on=date(2026, 7, 2) + timedelta(days=n * 5), value=20 + n
            )
    elif vector == "an engagement session with 20,000 characters heard":
        EngagementFactory(cycle_id=w.cycle.id, heard_md=("word " * 4000).strip())
    elif vector == "an engagement session with one 20,000-character word":
        EngagementFactory(cycle_id=w.cycle.id, heard_md="x" * 20_000, changed_md="y" * 5_000)
    elif vector == "a 4,000-character rating comment":
        RatingFactory(review_id=w.review.id, goal_id=goal.id, comment=("word " * 800).strip())
    elif vector == "a 4,000-character comment without a space":
        RatingFactory(review_id=w.review.id, goal_id=goal.id, comment="x" * 4_000)
    elif vector == "1,200 participants":
        w.review.participants = "\n".join(f"Participant {n}" for n in range(1_200))
    else:
        raise AssertionError(vector)
    db.session.commit()


@pytest.mark.parametrize(
    "vector",
    [
        "a goal with 60 measurements",
        "an engagement session with 20,000 characters heard",
        "an engagement session with one 20,000-character word",
        "a 4,000-character rating comment",
        "a 4,000-character comment without a space",
        "1,200 participants",
    ],
)
def test_content_taller_than_a_page_splits_across_pages_instead_of_failing(client, vector):
    w = world(goals=1)
    _long_content(w, vector)
    sign_in(client, w.staff)
    response = client.get(review_url(w.review, "/packet.pdf"))
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    pages = re.findall(rb"/Type /Page\b", response.data)
    assert len(pages) >= 2


def test_a_frozen_snapshot_with_content_taller_than_a_page_prints_too(client):
    w = world(goals=1)
    _long_content(w, "a goal with 60 measurements")
    _long_content(w, "a 4,000-character comment without a space")
    services.sign_review(w.lead, w.review, "lead", w.review.version, notify=False)
    services.sign_review(w.staff, w.review, "staff", w.review.version, notify=False)
    db.session.commit()
    assert w.review.frozen_at is not None
    sign_in(client, w.lead)
    assert client.get(review_url(w.review, "/packet.pdf")).status_code == 200


@pytest.mark.parametrize(
    "markup",
    [
        "x" * 4_000,
        "before " + "y" * 500 + " after",
        _esc("first line\n" + "z" * 500 + "\nlast line"),
        "<b>" + "w" * 500 + "</b> and more",
    ],
)
def test_a_very_long_word_wraps_inside_its_table_cell(markup):
    """reportlab 5.1 splits a word longer than the line (`splitLongWords`, on by default):
    every line of the paragraph fits the cell's width."""
    register_fonts()
    paragraph = Paragraph(markup, _styles()["cell"])
    paragraph.wrap(2.0 * inch, 1e6)
    lines = paragraph.blPara.lines
    assert len(lines) > 5
    for line in lines:
        room = line.extraSpace if hasattr(line, "extraSpace") else line[0]
        assert room >= 0


def test_a_header_too_long_for_the_page_is_cut_with_an_ellipsis():
    register_fonts()
    assert fit_line("Lakeview · 2026-27", CONTENT_WIDTH) == "Lakeview · 2026-27"
    cut = fit_line("Escuela " * 100, CONTENT_WIDTH)
    assert cut.endswith("…")
    assert stringWidth(cut, "Vera", 8) <= CONTENT_WIDTH
