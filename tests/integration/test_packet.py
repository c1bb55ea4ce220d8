"""The integration figures in a cycle's yearly review packet: the school's published figures
for the cycle's year (page and PDF), small counts hidden there too, none without counts, and
a signed packet keeps the figures it was signed with."""

from __future__ import annotations

from datetime import date

import pytest

from fellowship.cycles import review_queries
from fellowship.cycles.models import School
from fellowship.extensions import db
from fellowship.integration.models import Measure
from fellowship.school_years import SchoolYear
from tests.conftest import sign_in
from tests.cycles.review_helpers import review_url, text_of, world
from tests.integration.helpers import add_counts


@pytest.fixture
def readable_pdfs(app):
    app.config["PDF_PAGE_COMPRESSION"] = 0
    yield
    app.config.pop("PDF_PAGE_COMPRESSION", None)


def _with_counts(w, counts: dict[str, int] | None = None) -> School:
    school = db.session.get(School, w.cycle.school_id)
    year = db.session.get(SchoolYear, w.cycle.school_year_id)
    values = {"black": 120, "hispanic_latino": 95, "white": 80, "asian": 3}
    add_counts(school, year, counts or values)
    add_counts(school, year, {"low_income": 150, "not_low_income": 148})
    add_counts(school, year, {"black": 60, "white": 50}, measure=Measure.APPLICANTS)
    db.session.commit()
    return school


def test_without_counts_the_packet_has_no_integration_figures_and_says_so(ctx, client):
    w = world()
    assert review_queries.assemble_packet(w.cycle.id, date(2027, 3, 1))["integration"] is None


def test_the_packet_holds_the_schools_published_figures_for_the_cycles_year(client):
    w = world()
    _with_counts(w)
    sign_in(client, w.lead)
    page = text_of(client.get(review_url(w.review)).get_data(as_text=True))
    assert "Minority groups: American Indian" in page
    assert "Enrollment by race and ethnicity" in page
    assert "<10" in page
    assert " 3 " not in page.split("Integration indicators")[1].split("The meeting record")[0]
    assert "Isolated" in page
    assert "Integration objective None set" in page


def test_the_packet_pdf_has_the_integration_figures(client, readable_pdfs):
    w = world()
    _with_counts(w)
    sign_in(client, w.lead)
    response = client.get(review_url(w.review, "/packet.pdf"))
    assert response.status_code == 200
    assert b"(Isolated)" in response.data
    assert b"<10" in response.data
