"""The practice library: what is listed, search and filters, pages, query counts, one entry,
and which files can be downloaded from it."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

from fellowship.auth.models import User
from fellowship.capstones.models import (
    Capstone,
    CapstoneStatus,
    CapstoneVersion,
    CapstoneVersionFile,
    Recommendation,
    SchoolLevel,
    Stage,
)
from fellowship.capstones.services import withdraw_capstone
from fellowship.cohorts.models import Cohort, Strand
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.uploads import store_file
from tests.capstones.helpers import CapstoneFactory, DecisionFactory, VersionFactory
from tests.conftest import sign_in
from tests.factories import CohortFactory, MembershipFactory, UserFactory
from tests.upload_attacks import valid_pdf


def text_of(html: str) -> str:
    """The page as words, tags removed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def titles_on(html: str) -> list[str]:
    """The titles of the entries listed, in order."""
    return re.findall(r'<h2 class="usa-collection__heading"><a [^>]*>([^<]*)</a></h2>', html)


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def strand(cohort: Cohort, name: str) -> Strand:
    return next(s for s in cohort.strands if s.name == name)


def stored_pdf(app: Flask, text: str, name: str) -> int:
    with app.test_request_context():
        upload = FileStorage(stream=io.BytesIO(valid_pdf(text)), filename=name)
        stored = store_file(upload, None, {"pdf"})
        db.session.commit()
        return stored.id


def attach(app: Flask, version: CapstoneVersion, name: str, *, in_library: bool) -> int:
    """Attach a new PDF to `version`; the id of the attachment."""
    attached = CapstoneVersionFile(
        version_id=version.id,
        stored_file_id=stored_pdf(app, name, name),
        in_library=in_library,
        position=0,
    )
    db.session.add(attached)
    db.session.commit()
    return attached.id


@dataclass
class Entry:
    capstone: Capstone
    proposal: CapstoneVersion
    final: CapstoneVersion


def approved(
    cohort: Cohort,
    *,
    fellow: User | None = None,
    published_days_ago: int | None = 1,
    **fields: Any,
) -> Entry:
    """An approved capstone (proposal approved, final approved); published `published_days_ago`
    days ago, or not published when None."""
    fellow = fellow or UserFactory()
    MembershipFactory(cohort=cohort, user=fellow)
    now = utcnow()
    published = None if published_days_ago is None else now - timedelta(days=published_days_ago)
    capstone = CapstoneFactory(
        cohort_id=cohort.id,
        fellow_id=fellow.id,
        status=CapstoneStatus.APPROVED,
        consent_at=published,
        published_at=published,
        **fields,
    )
    proposal = VersionFactory(capstone_id=capstone.id, number=1, narrative_md="The proposal.")
    DecisionFactory(version_id=proposal.id, outcome=Recommendation.APPROVE)
    final = VersionFactory(
        capstone_id=capstone.id,
        number=2,
        stage=Stage.FINAL,
        narrative_md="## The final plan\n\nEvery family has a seat at the table.",
    )
    DecisionFactory(version_id=final.id, outcome=Recommendation.APPROVE)
    return Entry(capstone, proposal, final)


@pytest.fixture
def reader(client):
    """A member of another cohort, signed in: the library is for every signed-in person."""
    person = UserFactory()
    MembershipFactory(user=person)
    sign_in(client, person)
    return person


# What is listed -------------------------------------------------------------------------


def test_the_library_lists_published_capstones_of_every_cohort_newest_first(client, reader):
    first, second = CohortFactory(name="Cohort North"), CohortFactory(name="Cohort South")
    approved(first, title="Older plan", published_days_ago=30)
    approved(
        second,
        fellow=UserFactory(name="Ana Ortiz"),
        title="Newest plan",
        summary="A dual-language K-8 school.",
        topics="enrollment, dual language",
        school_level=SchoolLevel.K8,
        strand_id=strand(second, "Coalition building").id,
        published_days_ago=1,
    )
    approved(first, title="Middle plan", published_days_ago=10)
    html = page(client, "/library")
    assert titles_on(html) == ["Newest plan", "Middle plan", "Older plan"]
    words = text_of(html)
    for expected in (
        "By Ana Ortiz, Cohort South",
        "A dual-language K-8 school.",
        "Strand: Coalition building",
        "School level: K–8",
        "enrollment",
        "dual language",
        "Showing 1–3 of 3 capstones.",
    ):
        assert expected in words


@pytest.mark.parametrize(
    ("status", "consented", "published"),
    [
        (CapstoneStatus.DRAFT, False, False),
        (CapstoneStatus.FINAL_SUBMITTED, False, False),
        (CapstoneStatus.APPROVED, False, False),  # approved, never published
        (CapstoneStatus.APPROVED, True, False),  # consented, then withdrew
    ],
)
def test_a_capstone_that_is_not_published_is_never_listed_nor_found(
    client, reader, status, consented, published
):
    cohort = CohortFactory()
    approved(cohort, title="Shared plan")
    hidden = approved(cohort, title="Private plan", published_days_ago=None).capstone
    hidden.status = status
    hidden.consent_at = utcnow() if consented else None
    db.session.commit()
    html = page(client, "/library")
    assert titles_on(html) == ["Shared plan"]
    assert "Private plan" not in html
    page(client, f"/library/{hidden.id}", 404)
    assert "Private plan" not in page(client, "/library?q=private")


def test_withdrawing_consent_removes_the_entry_and_its_downloads_at_once(app, client, reader):
    entry = approved(CohortFactory(), title="Withdrawn plan")
    file_id = attach(app, entry.final, "Budget.pdf", in_library=True)
    entry_url = f"/library/{entry.capstone.id}"
    download_url = f"{entry_url}/files/{file_id}"
    assert "Withdrawn plan" in page(client, entry_url)
    before = client.get(download_url)
    before.close()
    assert before.status_code == 200
    with app.test_request_context():
        fellow = db.session.get(User, entry.capstone.fellow_id)
        withdraw_capstone(fellow, db.session.get(Capstone, entry.capstone.id))
        db.session.commit()
    assert titles_on(page(client, "/library")) == []
    page(client, entry_url, 404)
    response = client.get(download_url)
    response.close()
    assert response.status_code == 404


def test_an_empty_library_says_so(client, reader):
    assert "No capstone has been published to the library yet." in page(client, "/library")


def test_the_library_is_in_the_main_navigation_for_signed_in_people(client, reader):
    html = page(client, "/")
    assert 'href="/library"' in html
    assert "Practice library" in html


def test_signed_out_people_are_sent_to_sign_in(client):
    entry = approved(CohortFactory())
    for path in ("/library", f"/library/{entry.capstone.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


# Search and filters ------------------------------------------------------------------


@pytest.fixture
def shelf(reader):
    """Four published capstones in two cohorts whose strands share names."""
    north, south = CohortFactory(name="North"), CohortFactory(name="South")
    approved(
        north,
        title="Bridges Academy",
        summary="A middle school joining two neighbourhoods.",
        topics="Enrollment, transportation",
        school_level=SchoolLevel.MIDDLE,
        strand_id=strand(north, "Coalition building").id,
        published_days_ago=4,
    )
    approved(
        south,
        title="Commons High",
        summary="100% of seats by weighted lottery; 50_50 income mix.",
        topics="enrollment, weighted lottery",
        school_level=SchoolLevel.HIGH,
        strand_id=strand(south, "Coalition building").id,
        published_days_ago=3,
    )
    approved(
        south,
        title="Río Grande Elementary",
        summary="A dual-language school with family governance.",
        topics="dual language, family engagement",
        school_level=SchoolLevel.ELEMENTARY,
        strand_id=strand(south, "The school model").id,
        published_days_ago=2,
    )
    approved(
        north,
        title="Harbor K-8",
        summary="Restorative practices from the first day.",
        topics="discipline",
        school_level=None,
        strand_id=None,
        published_days_ago=1,
    )
    return north, south


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Harbor K-8", "Río Grande Elementary", "Commons High", "Bridges Academy"]),
        ("q=bridges", ["Bridges Academy"]),  # title, another case
        ("q=NEIGHBOURHOODS", ["Bridges Academy"]),  # summary
        ("q=Weighted+Lottery", ["Commons High"]),  # summary and topics
        ("q=family+engagement", ["Río Grande Elementary"]),  # topics
        ("q=%25", ["Commons High"]),  # a literal percent sign, not "anything"
        ("q=50_50", ["Commons High"]),
        ("q=_", ["Commons High"]),  # a literal underscore, not "any one character"
        ("q=0%25+of", ["Commons High"]),
        ("q=++lottery++", ["Commons High"]),  # spaces around are not searched for
        ("q=charter", []),
        ("strand=Coalition+building", ["Commons High", "Bridges Academy"]),  # both cohorts
        ("strand=coalition+BUILDING", ["Commons High", "Bridges Academy"]),
        ("strand=The+school+model", ["Río Grande Elementary"]),
        ("level=high", ["Commons High"]),
        ("level=elementary", ["Río Grande Elementary"]),
        ("topic=enrollment", ["Commons High", "Bridges Academy"]),  # either case
        ("topic=Dual+language", ["Río Grande Elementary"]),
        ("topic=discipline", ["Harbor K-8"]),
        ("q=school&level=middle", ["Bridges Academy"]),
        ("strand=Coalition+building&topic=transportation", ["Bridges Academy"]),
        ("strand=The+school+model&level=high", []),
    ],
)
def test_search_and_filters_find_the_right_capstones(client, shelf, query, expected):
    assert titles_on(page(client, f"/library?{query}")) == expected


@pytest.mark.parametrize(
    "query",
    [
        "strand=Nope",
        "level=university",
        "topic=astronomy",
        "level=k12",  # a real level that no published capstone has
        "page=abc",
        "page=99999999999999999999",
        "q=" + "%F0%9F%8F%AB" * 10,
    ],
)
def test_unknown_filter_values_are_ignored_and_never_an_error(client, shelf, query):
    html = page(client, f"/library?{query}")
    if query.startswith("q="):
        assert titles_on(html) == []
    else:
        assert len(titles_on(html)) == 4


def test_the_filters_offer_what_published_capstones_have(client, shelf):
    approved(shelf[0], title="Hidden", topics="secret topic", published_days_ago=None)
    html = page(client, "/library")
    topic_select = re.search(r'<select[^>]*name="topic".*?</select>', html, re.S)
    assert topic_select is not None
    topics = re.findall(r"<option[^>]*>([^<]*)</option>", topic_select.group(0))
    assert topics == [
        "Any",
        "discipline",
        "dual language",
        "Enrollment",
        "family engagement",
        "transportation",
        "weighted lottery",
    ]
    level_select = re.search(r'<select[^>]*name="level".*?</select>', html, re.S)
    assert level_select is not None
    assert re.findall(r"<option[^>]*>([^<]*)</option>", level_select.group(0)) == [
        "Any",
        "Elementary",
        "Middle school",
        "High school",
    ]
    strand_select = re.search(r'<select[^>]*name="strand".*?</select>', html, re.S)
    assert strand_select is not None
    assert re.findall(r"<option[^>]*>([^<]*)</option>", strand_select.group(0)) == [
        "Any",
        "Coalition building",
        "The school model",
    ]


def test_the_search_form_keeps_what_was_chosen(client, shelf):
    html = page(client, "/library?q=school&strand=coalition+building&level=middle&topic=ENROLLMENT")
    assert 'value="school"' in html
    assert re.search(r'<option selected value="Coalition building">', html)
    assert re.search(r'<option selected value="middle">', html)
    assert re.search(r'<option selected value="Enrollment">', html)
    assert "Clear the search" in html
    assert 'method="get"' in html
    assert "csrf_token" not in html.split('role="search"')[1].split("</form>")[0]


def test_a_search_too_long_is_refused_next_to_the_field_and_kept(client, shelf):
    typed = "integration " * 20
    html = page(client, f"/library?q={typed.strip().replace(' ', '+')}")
    assert "Search for at most 200 characters." in html
    assert 'aria-invalid="true"' in html
    assert typed.strip() in html
    assert len(titles_on(html)) == 4  # the other filters still apply; the text is not searched


def test_no_match_says_so(client, shelf):
    assert "No published capstone matches your search." in page(client, "/library?q=zzz")


# Pages and queries -----------------------------------------------------------------------


def test_the_library_shows_20_capstones_a_page_and_keeps_the_search_in_the_links(client, reader):
    cohort = CohortFactory()
    for n in range(23):
        approved(cohort, title=f"Plan {n:02d}", topics="enrollment", published_days_ago=n + 1)
    first = page(client, "/library?topic=enrollment")
    assert titles_on(first) == [f"Plan {n:02d}" for n in range(20)]
    assert "Showing 1–20 of 23 capstones." in text_of(first)
    assert "/library?page=2&amp;q=&amp;strand=&amp;level=&amp;topic=enrollment" in first
    second = page(client, "/library?topic=enrollment&page=2")
    assert titles_on(second) == ["Plan 20", "Plan 21", "Plan 22"]
    assert titles_on(page(client, "/library?page=9")) == titles_on(second)


def test_the_library_takes_the_same_queries_for_2_and_30_published_capstones(
    client, reader, count_queries
):
    counts = {}
    for size in (2, 30):
        cohort = CohortFactory()
        for n in range(size):
            approved(
                cohort,
                topics=f"topic {n}, enrollment",
                school_level=list(SchoolLevel)[n % len(SchoolLevel)],
                strand_id=cohort.strands[n % 4].id,
            )
        for query in ("", "?q=school&topic=enrollment&strand=Coalition+building"):
            client.get(f"/library{query}")
            with count_queries() as counter:
                response = client.get(f"/library{query}")
            assert response.status_code == 200
            counts[(size, query)] = counter.count
    assert counts[(2, "")] == counts[(30, "")] <= 15
    assert (
        counts[(2, "?q=school&topic=enrollment&strand=Coalition+building")]
        == counts[(30, "?q=school&topic=enrollment&strand=Coalition+building")]
    )


# One entry -------------------------------------------------------------------------------


def test_an_entry_shows_the_approved_final_and_only_the_files_chosen_for_the_library(
    app, client, reader
):
    cohort = CohortFactory(name="Cohort 7")
    entry = approved(
        cohort,
        fellow=UserFactory(name="Kofi Mensah"),
        title="Crossroads Community School",
        summary="A K-8 where every neighbourhood has a seat.",
        problem_md="Two **segregated** feeder schools.",
        community_md="Families of *Eastgate* and Westgate.",
        topics="enrollment, governance",
        school_level=SchoolLevel.K8,
        strand_id=strand(cohort, "The school model").id,
    )
    chosen = attach(app, entry.final, "Enrollment plan.pdf", in_library=True)
    kept_back = attach(app, entry.final, "Budget draft.pdf", in_library=False)
    html = page(client, f"/library/{entry.capstone.id}")
    words = text_of(html)
    assert html.count("<h1") == 1
    for expected in (
        "Crossroads Community School",
        "A K-8 where every neighbourhood has a seat.",
        "Kofi Mensah",
        "Cohort 7",
        "The school model",
        "K–8",
        "enrollment, governance",
        "Final version 2, as approved.",
        "Every family has a seat at the table.",
        "Download Enrollment plan.pdf",
    ):
        assert expected in words, expected
    assert "<strong>segregated</strong>" in html
    assert "<em>Eastgate</em>" in html
    assert "The proposal." not in words
    assert "Budget draft.pdf" not in words
    assert f"/library/{entry.capstone.id}/files/{chosen}" in html
    assert f"/files/{kept_back}" not in html


def test_an_entry_shows_the_latest_approved_final_not_an_earlier_one(app, client, reader):
    entry = approved(CohortFactory())
    revised = VersionFactory(
        capstone_id=entry.capstone.id, number=3, stage=Stage.FINAL, narrative_md="Revised."
    )
    DecisionFactory(version_id=revised.id, outcome=Recommendation.REVISE)
    latest = VersionFactory(
        capstone_id=entry.capstone.id, number=4, stage=Stage.FINAL, narrative_md="Third time."
    )
    DecisionFactory(version_id=latest.id, outcome=Recommendation.APPROVE)
    VersionFactory(
        capstone_id=entry.capstone.id,
        number=5,
        stage=Stage.FINAL,
        narrative_md="Working draft.",
        submitted_at=None,
    )
    words = text_of(page(client, f"/library/{entry.capstone.id}"))
    assert "Third time." in words
    assert "Final version 4, as approved." in words
    for other in ("Every family has a seat", "Revised.", "Working draft."):
        assert other not in words


def test_an_entry_without_files_says_so(client, reader):
    entry = approved(CohortFactory())
    assert "The author did not publish any files with this capstone." in page(
        client, f"/library/{entry.capstone.id}"
    )


def test_an_entry_takes_the_same_queries_for_1_and_8_files(app, client, reader, count_queries):
    counts = {}
    for size in (1, 8):
        entry = approved(CohortFactory())
        for n in range(size):
            attach(app, entry.final, f"File {n}.pdf", in_library=True)
        url = f"/library/{entry.capstone.id}"
        client.get(url)
        with count_queries() as counter:
            html = page(client, url)
        assert html.count("Download File") == size
        counts[size] = counter.count
    assert counts[1] == counts[8] <= 15


def test_an_unknown_entry_is_not_found(client, reader):
    page(client, "/library/999999", 404)
    page(client, "/library/99999999999999999999", 404)


# Downloads -------------------------------------------------------------------------------


def test_a_file_chosen_for_the_library_downloads_byte_for_byte(app, client, reader):
    entry = approved(CohortFactory())
    file_id = attach(app, entry.final, "Enrollment plan.pdf", in_library=True)
    response = client.get(f"/library/{entry.capstone.id}/files/{file_id}")
    assert response.status_code == 200
    body = response.get_data()
    response.close()
    assert (
        hashlib.sha256(body).hexdigest()
        == hashlib.sha256(valid_pdf("Enrollment plan.pdf")).hexdigest()
    )
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Enrollment plan.pdf" in response.headers["Content-Disposition"]


def _not_in_library(app: Flask, entry: Entry, other: Entry) -> int:
    return attach(app, entry.final, "Not chosen.pdf", in_library=False)


def _of_the_proposal(app: Flask, entry: Entry, other: Entry) -> int:
    return attach(app, entry.proposal, "Proposal.pdf", in_library=True)


def _of_a_later_draft(app: Flask, entry: Entry, other: Entry) -> int:
    draft = VersionFactory(
        capstone_id=entry.capstone.id, number=3, stage=Stage.FINAL, submitted_at=None
    )
    return attach(app, draft, "Draft.pdf", in_library=True)


def _of_a_final_sent_back(app: Flask, entry: Entry, other: Entry) -> int:
    sent_back = VersionFactory(capstone_id=entry.capstone.id, number=3, stage=Stage.FINAL)
    DecisionFactory(version_id=sent_back.id, outcome=Recommendation.REVISE)
    return attach(app, sent_back, "Sent back.pdf", in_library=True)


def _of_another_published_capstone(app: Flask, entry: Entry, other: Entry) -> int:
    return attach(app, other.final, "Someone else's.pdf", in_library=True)


@pytest.mark.parametrize(
    "which",
    [
        _not_in_library,
        _of_the_proposal,
        _of_a_later_draft,
        _of_a_final_sent_back,
        _of_another_published_capstone,
    ],
)
def test_only_a_file_chosen_for_the_library_on_the_approved_version_downloads(
    app, client, reader, which
):
    cohort = CohortFactory()
    entry, other = approved(cohort), approved(cohort)
    file_id = which(app, entry, other)
    response = client.get(f"/library/{entry.capstone.id}/files/{file_id}")
    response.close()
    assert response.status_code == 404


def test_a_file_of_an_unpublished_capstone_is_not_found_under_any_address(app, client, reader):
    cohort = CohortFactory()
    published = approved(cohort)
    hidden = approved(cohort, published_days_ago=None)
    file_id = attach(app, hidden.final, "Unpublished.pdf", in_library=True)
    for capstone_id in (hidden.capstone.id, published.capstone.id):
        response = client.get(f"/library/{capstone_id}/files/{file_id}")
        response.close()
        assert response.status_code == 404


def test_an_unknown_file_is_not_found(client, reader):
    entry = approved(CohortFactory())
    for file_id in ("999999", "99999999999999999999"):
        response = client.get(f"/library/{entry.capstone.id}/files/{file_id}")
        response.close()
        assert response.status_code == 404
