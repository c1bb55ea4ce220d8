"""Setting a magnet school's integration objective: each kind saved and shown, k checked
(bad input keeps what was typed and changes nothing), the same year updated while earlier
years stay in the history, stale forms refused, schools that are not magnets refused, and who
may use the page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.extensions import db
from fellowship.integration.models import IntegrationObjective, ObjectiveKind
from tests.conftest import csrf_token, sign_in
from tests.cycles.helpers import SchoolFactory, cycle_with_team
from tests.cycles.school_helpers import text_of
from tests.factories import AdminFactory, MembershipFactory, StaffFactory, UserFactory
from tests.integration.helpers import ObjectiveFactory, year


def path(school) -> str:
    return f"/integration/schools/{school.id}/objective"


def revision_of(html: str) -> str:
    match = re.search(r'name="revision" type="hidden" value="([^"]*)"', html)
    assert match, "no revision on the form"
    return match.group(1)


def open_form(client, school, query: str = "") -> str:
    response = client.get(path(school) + query)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def save(client, school, *, html: str | None = None, **fields: object):
    """Post the form as opened now (or as `html` had it), with `fields` typed in."""
    html = html if html is not None else open_form(client, school)
    data = {"csrf_token": csrf_token(client), "revision": revision_of(html)}
    data.update({key: value for key, value in fields.items() if value is not None})
    return client.post(path(school), data=data)


def objectives(school) -> list[tuple]:
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                IntegrationObjective.effective_from_year_id,
                IntegrationObjective.kind,
                IntegrationObjective.band_k,
                IntegrationObjective.note,
                IntegrationObjective.set_by_id,
            )
            .where(IntegrationObjective.school_id == school.id)
            .order_by(IntegrationObjective.effective_from_year_id)
        )
    ]


@pytest.fixture
def staff(client):
    person = StaffFactory(name="Sam Staff")
    sign_in(client, person)
    return person


@pytest.fixture
def magnet():
    return SchoolFactory(name="Hillside STEM Magnet", is_magnet=True)


# Saving each kind -----------------------------------------------------------------------------

#  kind                          k typed   k stored            k shown in the history
KINDS = [
    (ObjectiveKind.ABSOLUTE, "", Decimal("0.150"), None),
    (ObjectiveKind.RELATIVE_BAND, "12.5", Decimal("0.125"), "±12.5"),
    (ObjectiveKind.APPLICANT_POOL, "abc", Decimal("0.150"), None),
    (ObjectiveKind.PREVENT, "15", Decimal("0.150"), None),
]


@pytest.mark.parametrize(("kind", "typed", "stored", "shown"), KINDS, ids=[k[0] for k in KINDS])
def test_each_kind_of_objective_is_saved_and_shown_in_the_history(
    client, staff, magnet, kind, typed, stored, shown
):
    y = year("2024-25")
    response = save(
        client, magnet, kind=kind.value, band_k=typed, year=y.id, note="Board vote, May 2024"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/integration/schools/{magnet.id}"
    assert objectives(magnet) == [(y.id, kind, stored, "Board vote, May 2024", staff.id)]
    text = text_of(open_form(client, magnet, "?year=2024-25"))
    assert "2024-25" in text
    assert "Board vote, May 2024" in text
    assert "Sam Staff" in text
    if shown:
        assert shown in text
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "integration.objective_set")
    ).one()
    assert event.actor_id == staff.id
    assert event.details["year"] == "2024-25"
    assert event.details["before"] is None
    assert event.details["after"]["kind"] == kind.value


def test_the_form_explains_every_kind_in_plain_words_and_labels_k_in_points(client, staff, magnet):
    text = text_of(open_form(client, magnet))
    for words in (
        "at most half of the school's students",
        "no more than k percentage points above or below the district's",
        "students who applied is lower than",
        "(a < p)",
        "from 20 to 50 percent and did not rise",
        "A share under 20 or over 50 percent does not meet it",
        "Band width k, in percentage points",
        "15 (the default)",
    ):
        assert words in text


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "more than 0 and at most 50"),
        ("-5", "more than 0 and at most 50"),
        ("50.5", "more than 0 and at most 50"),
        ("abc", "as a number of percentage points"),
        ("", "Enter the band width k"),
        ("12.34", "at most one decimal"),
    ],
)
def test_a_bad_k_gets_a_message_keeps_what_was_typed_and_changes_nothing(
    client, staff, magnet, typed, message
):
    y = year("2025-26")
    ObjectiveFactory(school_id=magnet.id, effective_from_year_id=y.id, note="Kept")
    before = objectives(magnet)
    response = save(
        client, magnet, kind="relative_band", band_k=typed, year=y.id, note="My new note"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in text_of(html)
    assert f'value="{typed}"' in html
    assert "My new note" in html
    assert "usa-error-message" in html
    assert objectives(magnet) == before
    assert not db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "integration.objective_set")
    )


def test_k_written_with_a_percent_sign_or_a_comma_is_read_as_points(client, staff, magnet):
    y = year("2025-26")
    save(client, magnet, kind="relative_band", band_k="20 %", year=y.id)
    assert objectives(magnet)[0][2] == Decimal("0.200")
    save(client, magnet, kind="relative_band", band_k="7,5", year=y.id)
    assert objectives(magnet)[0][2] == Decimal("0.075")


def test_a_kind_and_a_year_must_be_chosen(client, staff, magnet):
    response = save(client, magnet, kind="sideways", band_k="15", year="")
    text = text_of(response.get_data(as_text=True))
    assert "Choose the kind of objective." in text
    assert objectives(magnet) == []
    year("2025-26")
    text = text_of(save(client, magnet, kind="absolute", year="999999").get_data(as_text=True))
    assert "Choose the school year the objective starts in." in text
    assert objectives(magnet) == []


# The history ----------------------------------------------------------------------------------


def test_saving_the_same_year_again_updates_it_and_an_earlier_year_stays_in_the_history(
    client, staff, magnet
):
    early, late = year("2020-21"), year("2024-25")
    ObjectiveFactory(
        school_id=magnet.id, effective_from_year_id=early.id, kind=ObjectiveKind.ABSOLUTE
    )
    save(client, magnet, kind="relative_band", band_k="15", year=late.id, note="First")
    save(client, magnet, kind="prevent", band_k="15", year=late.id, note="Second")
    assert [(row[0], row[1], row[3]) for row in objectives(magnet)] == [
        (early.id, ObjectiveKind.ABSOLUTE, ""),
        (late.id, ObjectiveKind.PREVENT, "Second"),
    ]
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "integration.objective_set")
        .order_by(AuditEvent.id)
    ).all()
    assert [e.details["before"] for e in events][1] == {
        "kind": "relative_band",
        "band_k": "15",
        "note": "First",
    }
    html = open_form(client, magnet)
    text = text_of(html)
    assert text.index("2024-25") < text.index("2020-21")
    assert "Not isolated (at most 50% minority)" in text
    assert "Prevent isolation (watch band, not rising)" in text
    # The history scrolls sideways on a phone: a named region keyboard users can reach.
    assert (
        '<div class="table-scroll" role="region" aria-labelledby="objective-history-caption" '
        'tabindex="0">'
    ) in html
    assert 'id="objective-history-caption"' in html


def test_the_form_opens_on_the_year_asked_for_with_the_objective_in_force_then(
    client, staff, magnet
):
    early, late = year("2020-21"), year("2024-25")
    ObjectiveFactory(
        school_id=magnet.id,
        effective_from_year_id=early.id,
        kind=ObjectiveKind.RELATIVE_BAND,
        band_k=Decimal("0.1"),
        note="From 2020",
    )
    ObjectiveFactory(school_id=magnet.id, effective_from_year_id=late.id)
    year("2022-23")
    html = open_form(client, magnet, "?year=2022-23")
    assert re.search(r'<input checked[^>]*value="relative_band"', html)
    assert 'value="10"' in html
    assert re.search(r'<option selected value="\d+">2022-23</option>', html)
    assert "From 2020" not in html.split("history-heading")[0]  # its note is its own year's
    html = open_form(client, magnet, "?year=2020-21")
    assert "From 2020" in html.split("history-heading")[0]


def test_saving_exactly_what_is_there_changes_nothing_and_says_so(client, staff, magnet):
    y = year("2025-26")
    save(client, magnet, kind="absolute", year=y.id, note="Same")
    response = save(client, magnet, kind="absolute", year=y.id, note="Same")
    assert response.status_code == 302
    assert len(objectives(magnet)) == 1
    count = sa.select(sa.func.count()).where(AuditEvent.action == "integration.objective_set")
    assert db.session.scalar(count) == 1


def test_the_history_is_read_in_the_same_number_of_queries_for_1_and_6_objectives(
    client, staff, count_queries
):
    counts = []
    for size in (1, 6):
        school = SchoolFactory()
        for n in range(size):
            ObjectiveFactory(
                school_id=school.id, effective_from_year_id=year(f"201{n}-1{n + 1}").id
            )
        db.session.expire_all()
        with count_queries() as counter:
            open_form(client, school)
        counts.append(counter.count)
    assert counts[0] == counts[1]


# Two people at once -----------------------------------------------------------------------------


def test_a_form_opened_before_someone_elses_save_is_refused_and_keeps_what_was_typed(
    client, staff, magnet
):
    y = year("2025-26")
    stale_html = open_form(client, magnet)
    ObjectiveFactory(school_id=magnet.id, effective_from_year_id=y.id, note="Theirs")
    before = objectives(magnet)
    response = save(
        client,
        magnet,
        html=stale_html,
        kind="relative_band",
        band_k="22",
        year=y.id,
        note="Mine",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not saved: someone else changed this school's objectives" in text_of(html)
    assert 'value="22"' in html
    assert "Mine" in html
    assert "Theirs" in html  # the history shows what is saved now
    assert objectives(magnet) == before
    # Saving again from this page is a deliberate choice made after seeing theirs.
    response = save(client, magnet, html=html, kind="relative_band", band_k="22", year=y.id)
    assert response.status_code == 302
    assert objectives(magnet)[0][2] == Decimal("0.220")


# Who may ----------------------------------------------------------------------------------------


def test_a_school_that_is_not_a_magnet_is_refused_with_a_reason_and_nothing_changes(client, staff):
    plain = SchoolFactory(name="Lakeview Neighborhood School", is_magnet=False, magnet_theme="")
    y = year("2025-26")
    response = client.get(path(plain))
    assert response.status_code == 403
    assert "is not a magnet school" in text_of(response.get_data(as_text=True))
    assert 'name="kind"' not in response.get_data(as_text=True)
    response = client.post(
        path(plain),
        data={"csrf_token": csrf_token(client), "kind": "absolute", "year": y.id},
    )
    assert response.status_code == 403
    assert objectives(plain) == []


def _person(who: str, school):
    if who == "admin":
        return AdminFactory()
    if who == "staff":
        return StaffFactory()
    if who == "lead teacher":
        return cycle_with_team(school_id=school.id).lead
    if who in ("fellow", "coach"):
        role = CohortRole.FELLOW if who == "fellow" else CohortRole.COACH
        return db.session.get(User, MembershipFactory(role=role).user_id)
    return UserFactory()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("staff", 200),
        ("lead teacher", 403),
        ("fellow", 403),
        ("coach", 403),
        ("member", 403),
    ],
)
def test_only_staff_and_admins_may_open_and_save_a_magnet_schools_objective(
    client, magnet, who, status
):
    y = year("2025-26")
    person = _person(who, magnet)
    sign_in(client, person)
    assert client.get(path(magnet)).status_code == status
    if status == 200:
        # The form as opened, its revision included: saved.
        response = save(client, magnet, kind="absolute", year=y.id)
        assert response.status_code == 302
        assert objectives(magnet) == [
            (y.id, ObjectiveKind.ABSOLUTE, Decimal("0.150"), "", person.id)
        ]
    else:
        response = client.post(
            path(magnet),
            data={"csrf_token": csrf_token(client), "kind": "absolute", "year": y.id},
        )
        assert response.status_code == 403
        assert objectives(magnet) == []


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(client, magnet):
    response = client.get(path(magnet))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_unknown_school_is_not_found(client, staff):
    assert client.get("/integration/schools/999999/objective").status_code == 404
