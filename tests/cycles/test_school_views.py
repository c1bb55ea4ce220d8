"""Schools pages: the list (search, filters, pages, query count), add and edit (errors keep
what was typed, stale edits), a school's page, and the CSV import in the browser (upload,
preview with line errors, confirm, tampering, 413); who may use each."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cycles.models import CycleRole, CycleStage, School, SchoolLevel
from fellowship.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.cycles.helpers import CycleFactory, CycleMemberFactory, SchoolFactory, cycle_with_team
from tests.cycles.school_helpers import (
    audit_actions,
    big_csv,
    csv_bytes,
    school_form,
    schools_table,
    text_of,
)
from tests.factories import SchoolYearFactory, StaffFactory, UserFactory

GOOD = "NC-001,Hillside Elementary,elementary,yes,STEM,no,North"


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def post(client, path: str, fields: dict) -> object:
    return client.post(path, data={"csrf_token": csrf_token(client), **fields})


def upload(client, data: bytes, name: str = "schools.csv"):
    return client.post(
        "/schools/import",
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def token_of(html: str) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]+)"', html)
    assert match, "no confirm token on the preview"
    return match.group(1)


def confirm(client, token: str):
    return post(client, "/schools/import", {"token": token})


@pytest.fixture
def staff(client):
    person = StaffFactory(name="Sam Staff")
    sign_in(client, person)
    return person


# The list -----------------------------------------------------------------------------------


def test_the_list_shows_each_schools_facts_and_this_years_cycle(client, staff, monkeypatch):
    hill = SchoolFactory(
        name="Hillside Magnet", code="NC-1", magnet_theme="Arts", is_pilot=True, region="East"
    )
    SchoolFactory(name="Lakeview", code="NC-2", is_magnet=False, magnet_theme="", is_active=False)
    from fellowship.cycles import school_views

    monkeypatch.setattr(school_views, "label_for", lambda day: "2026-27")
    cycle = CycleFactory(school_id=hill.id, stage=CycleStage.PLANNING)
    html = page(client, "/schools/")
    text = text_of(html)
    assert html.count("<h1") == 1
    assert "Hillside Magnet" in text
    assert "Lakeview" in text
    assert text.index("Hillside Magnet") < text.index("Lakeview")
    assert "Arts" in text
    assert "East" in text
    assert f'href="/cycles/{cycle.id}"' in html
    assert "Cycle 2026-27" in text
    assert 'href="/schools/new"' in html
    assert 'href="/schools/import"' in html
    assert 'scope="row"' in html
    assert 'class="table-scroll"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=hill", {"Hillside Magnet"}),
        ("q=NC-2", {"Lakeview Middle"}),
        ("q=nc-", {"Hillside Magnet", "Lakeview Middle", "Oak High"}),
        ("q=100%25", set()),
        ("pilot=yes", {"Hillside Magnet"}),
        ("magnet=no", {"Lakeview Middle"}),
        ("region=South", {"Oak High"}),
        ("active=no", {"Oak High"}),
        ("active=yes&magnet=yes", {"Hillside Magnet"}),
        ("pilot=maybe", {"Hillside Magnet", "Lakeview Middle", "Oak High"}),
    ],
)
def test_search_and_filters_narrow_the_list(client, staff, query, expected):
    SchoolFactory(name="Hillside Magnet", code="NC-1", is_pilot=True, region="North")
    SchoolFactory(name="Lakeview Middle", code="NC-2", is_magnet=False, region="North")
    SchoolFactory(name="Oak High", code="NC-3", region="South", is_active=False)
    text = text_of(page(client, f"/schools/?{query}"))
    shown = {name for name in ("Hillside Magnet", "Lakeview Middle", "Oak High") if name in text}
    assert shown == expected


def test_the_list_is_paginated_and_keeps_the_filters_in_the_page_links(client, staff):
    for n in range(30):
        SchoolFactory(name=f"Magnet {n:02d}", region="North")
    html = page(client, "/schools/?region=North")
    assert "Showing 1–25 of 30 schools" in html
    assert "page=2" in html
    assert "region=North" in html
    assert "Showing 26–30 of 30 schools" in page(client, "/schools/?region=North&page=2")


def test_the_list_runs_the_same_number_of_queries_for_2_and_20_schools(
    client, staff, count_queries
):
    counts = []
    for size in (2, 20):
        region = f"Region {size}"
        for _n in range(size):
            school = SchoolFactory(region=region)
            CycleFactory(school_id=school.id)
        db.session.expire_all()
        with count_queries() as counter:
            html = page(client, f"/schools/?region={region.replace(' ', '+')}")
        assert html.count('data-label="Name"') == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 15


@pytest.mark.parametrize("path", ["/schools/", "/schools/new", "/schools/import"])
def test_only_staff_reach_the_schools_admin(client, path):
    team = cycle_with_team()
    for person in (UserFactory(), team.lead, team.liaison):
        sign_in(client, person)
        page(client, path, 403)
    client.post("/logout")


# Adding and editing -------------------------------------------------------------------------


def test_staff_add_a_school_and_land_on_its_page(client, staff):
    response = post(client, "/schools/new", school_form())
    assert response.status_code == 302
    school = db.session.scalar(sa.select(School).where(School.code == "NC-0101"))
    assert response.headers["Location"].endswith(f"/schools/{school.id}")
    assert (school.name, school.is_magnet, school.magnet_theme) == (
        "Hillside Magnet Elementary",
        True,
        "STEM",
    )
    assert "Hillside Magnet Elementary has been added" in page(client, f"/schools/{school.id}")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": "NC 0101"}, "Use only letters, digits, - and _"),
        ({"code": ""}, "Enter the school's state code."),
        ({"magnet_theme": ""}, "Enter the magnet theme"),
        ({"name": "x" * 201}, "Keep the name to 200 characters"),
        ({"level": "primary"}, "Not a valid choice"),
        ({"region": "r" * 81}, "Keep the region to 80 characters"),
    ],
)
def test_a_bad_school_is_shown_again_with_the_message_and_what_was_typed(
    client, staff, overrides, message
):
    before = schools_table()
    fields = school_form(**{"name": "Typed Name Kept", "region": "Typed Region", **overrides})
    response = post(client, "/schools/new", fields)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in text_of(html)
    assert 'aria-invalid="true"' in html
    assert "Typed Name Kept" in html or "x" * 201 in html
    assert "Typed Region" in html or "r" * 81 in html
    assert schools_table() == before


def test_a_code_already_taken_is_refused_next_to_the_code(client, staff):
    SchoolFactory(code="NC-0101", name="Lakeview Middle")
    before = schools_table()
    response = post(client, "/schools/new", school_form())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "already belongs to Lakeview Middle" in html
    assert 'id="code-error"' in html
    assert schools_table() == before


def test_the_edit_form_opens_with_the_saved_school_and_saves_changes(client, staff):
    school = SchoolFactory(code="NC-7", name="Oak High", level=SchoolLevel.HIGH, region="South")
    html = page(client, f"/schools/{school.id}/edit")
    assert 'value="Oak High"' in html
    assert 'value="NC-7"' in html
    assert '<option selected value="high">' in html
    assert f'name="version" type="hidden" value="{school.version}"' in html
    fields = school_form(
        code="NC-7", name="Oak High School", level="high", version=str(school.version)
    )
    response = post(client, f"/schools/{school.id}/edit", fields)
    assert response.status_code == 302
    db.session.refresh(school)
    assert school.name == "Oak High School"


def test_a_stale_edit_is_not_saved_and_shows_the_saved_school_beside_what_was_typed(client, staff):
    school = SchoolFactory(code="NC-7", name="Oak High")
    opened_at = str(school.version)
    school.name = "Oak High (renamed by a colleague)"
    db.session.commit()
    fields = school_form(code="NC-7", name="My typed name", version=opened_at)
    response = post(client, f"/schools/{school.id}/edit", fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Someone changed this school while you were editing it" in html
    assert "Oak High (renamed by a colleague)" in html  # the saved school
    assert 'value="My typed name"' in html  # what was typed
    assert f'name="version" type="hidden" value="{school.version}"' in html
    db.session.refresh(school)
    assert school.name == "Oak High (renamed by a colleague)"
    # Saving again is a deliberate choice now, and it goes through.
    fields["version"] = str(school.version)
    assert post(client, f"/schools/{school.id}/edit", fields).status_code == 302


def test_an_unknown_school_is_404(client, staff):
    page(client, "/schools/999999/edit", 404)
    page(client, "/schools/999999", 404)
    page(client, "/schools/99999999999", 404)


def test_a_member_cannot_edit_a_school_and_nothing_changes(client):
    team = cycle_with_team()
    school = db.session.get(School, team.cycle.school_id)
    sign_in(client, team.lead)
    before = schools_table()
    fields = school_form(code=school.code, version=str(school.version))
    assert post(client, f"/schools/{school.id}/edit", fields).status_code == 403
    assert post(client, "/schools/new", school_form()).status_code == 403
    assert schools_table() == before


# A school's page ----------------------------------------------------------------------------


def test_a_schools_page_shows_its_facts_and_its_cycles_over_the_years(client, staff, monkeypatch):
    from fellowship.cycles import school_views

    monkeypatch.setattr(school_views, "label_for", lambda day: "2026-27")
    school = SchoolFactory(name="Hillside Magnet", code="NC-1", magnet_theme="Arts")
    last = CycleFactory(
        school_id=school.id,
        school_year_id=SchoolYearFactory(
            label="2025-26", starts_on=date(2025, 7, 1), ends_on=date(2026, 6, 30)
        ).id,
        stage=CycleStage.CLOSED,
        initiative_title="Last year's plan",
    )
    this = CycleFactory(school_id=school.id, initiative_title="This year's plan")
    html = page(client, f"/schools/{school.id}")
    text = text_of(html)
    assert html.count("<h1") == 1
    assert "Hillside Magnet" in text
    assert "NC-1" in text
    assert "Yes: Arts" in text
    assert text.index("2026-27") < text.index("2025-26")
    assert "This year's plan" in text
    assert "Last year's plan" in text
    assert f'href="/cycles/{this.id}"' in html
    assert f'href="/cycles/{last.id}"' in html
    assert "Closed" in text
    assert "Implementing" in text
    # Staff: edit, carry the latest cycle forward, or open a cycle for a year with none.
    assert f'href="/schools/{school.id}/edit"' in html
    assert f'href="/cycles/{this.id}/open-next"' in html
    assert "Open 2027-28 from 2026-27" in text
    assert f"/cycles/new?school_id={school.id}&amp;year=2027-28" in html


def test_a_school_with_no_cycle_offers_this_years(client, staff, monkeypatch):
    from fellowship.cycles import school_views

    monkeypatch.setattr(school_views, "label_for", lambda day: "2026-27")
    school = SchoolFactory()
    html = page(client, f"/schools/{school.id}")
    assert "This school has no cycle yet." in html
    assert f"/cycles/new?school_id={school.id}&amp;year=2026-27" in html
    assert "/open-next" not in html


@pytest.mark.parametrize("who", ["lead", "member", "partner", "liaison"])
def test_the_schools_cycle_members_see_its_page_without_staff_actions(client, who):
    team = cycle_with_team()
    sign_in(client, getattr(team, who))
    html = page(client, f"/schools/{team.cycle.school_id}")
    assert f'href="/cycles/{team.cycle.id}"' in html
    assert "/edit" not in html
    assert "/cycles/new" not in html
    assert "/open-next" not in html


def test_members_of_another_school_and_other_people_cannot_see_a_school(client):
    team = cycle_with_team()
    other = cycle_with_team()
    for person in (other.lead, other.partner, UserFactory()):
        sign_in(client, person)
        page(client, f"/schools/{team.cycle.school_id}", 403)


def test_last_years_lead_teacher_still_sees_the_school(client):
    team = cycle_with_team()
    former = UserFactory()
    old = CycleFactory(
        school_id=team.cycle.school_id,
        school_year_id=SchoolYearFactory(
            label="2025-26", starts_on=date(2025, 7, 1), ends_on=date(2026, 6, 30)
        ).id,
    )
    CycleMemberFactory(cycle_id=old.id, user_id=former.id, role=CycleRole.LEAD_TEACHER)
    sign_in(client, former)
    page(client, f"/schools/{team.cycle.school_id}")


# The import ---------------------------------------------------------------------------------


def test_the_import_page_explains_the_file(client, staff):
    html = page(client, "/schools/import")
    assert "code,name,level,magnet,magnet_theme,pilot,region" in text_of(html).replace(" ", "")
    assert 'enctype="multipart/form-data"' in html
    assert "at most 2 MB" in html
    assert "flask schools import FILE --dry-run" in html


def test_a_file_with_errors_is_previewed_with_numbered_lines_and_nothing_changes(client, staff):
    before = schools_table()
    data = csv_bytes(GOOD, "NC-002,Lakeview,primary,no,,no,", "NC-003,Oak,high,maybe,,no,")
    response = upload(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The file has 2 errors. Nothing will be imported until they are fixed." in html
    assert "Line 3: level “primary” is not one of elementary" in html
    assert "Line 4: magnet “maybe” must be yes or no." in html
    assert 'name="token"' not in html  # nothing to confirm
    assert "Upload a corrected file" in html
    assert schools_table() == before
    assert audit_actions("school.") == []


def test_a_header_error_is_shown_clearly(client, staff):
    html = upload(client, csv_bytes(GOOD, header="code,name,level,magnet,pilot,region")).get_data(
        as_text=True
    )
    assert "Line 1: The header is missing the column(s) magnet_theme." in html


def test_a_good_file_is_previewed_then_applied_on_confirm(client, staff):
    SchoolFactory(code="NC-002", name="Lakeview", is_magnet=False, magnet_theme="")
    SchoolFactory(
        code="NC-004",
        name="Same",
        level=SchoolLevel.HIGH,
        is_magnet=False,
        magnet_theme="",
        is_pilot=False,
        region="",
    )
    before = schools_table()
    data = csv_bytes(
        GOOD, "NC-002,Lakeview Middle,middle,no,,yes,South", "NC-004,Same,high,no,,no,", bom=True
    )
    html = upload(client, data, name="district export.csv").get_data(as_text=True)
    text = text_of(html)
    assert "File: district export.csv" in text
    assert "1 schools to add" in text
    assert "1 schools to update" in text
    assert "1 schools unchanged" in text
    assert "0 errors" in text
    assert "Hillside Elementary" in text
    assert "name, level, pilot, region" in text
    assert schools_table() == before  # the preview changed nothing
    response = confirm(client, token_of(html))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/schools/")
    assert db.session.scalar(sa.select(School.name).where(School.code == "NC-001")) == (
        "Hillside Elementary"
    )
    assert db.session.scalar(sa.select(School.name).where(School.code == "NC-002")) == (
        "Lakeview Middle"
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "school.imported"))
    assert event.actor_id == staff.id
    assert event.details == {
        "added": 1,
        "updated": 1,
        "unchanged": 1,
        "file": "district export.csv",
        "source": "browser",
    }
    assert "Schools imported. Added: 1. Updated: 1. Unchanged: 1." in page(client, "/schools/")


def test_a_file_the_schools_already_match_has_nothing_to_confirm(client, staff):
    SchoolFactory(
        code="NC-001",
        name="Hillside Elementary",
        level=SchoolLevel.ELEMENTARY,
        magnet_theme="STEM",
        region="North",
    )
    html = upload(client, csv_bytes(GOOD)).get_data(as_text=True)
    assert "Nothing to change: the schools already match the file." in html
    assert 'name="token"' not in html


def test_a_tampered_token_is_refused_and_nothing_changes(client, staff):
    html = upload(client, csv_bytes(GOOD)).get_data(as_text=True)
    token = token_of(html)
    before = schools_table()
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = confirm(client, forged)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/schools/import")
    assert "could not be confirmed" in page(client, "/schools/import")
    assert schools_table() == before


def test_a_preview_made_by_someone_else_cannot_be_confirmed(client, staff):
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    sign_in(client, StaffFactory())
    before = schools_table()
    response = confirm(client, token)
    assert response.status_code == 302
    assert schools_table() == before


def test_schools_changed_after_the_preview_show_a_new_preview_instead_of_importing(client, staff):
    school = SchoolFactory(code="NC-002", name="Lakeview")
    data = csv_bytes(GOOD, "NC-002,Lakeview Middle,middle,no,,yes,South")
    token = token_of(upload(client, data).get_data(as_text=True))
    school.name = "Renamed by a colleague"
    db.session.commit()
    before = schools_table()
    response = confirm(client, token)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing was imported: the schools changed since the preview" in html
    assert schools_table() == before
    # The new preview can be confirmed: it is what the import would now do.
    assert confirm(client, token_of(html)).status_code == 302
    assert db.session.scalar(sa.select(School.name).where(School.code == "NC-002")) == (
        "Lakeview Middle"
    )


def test_confirming_twice_imports_once(client, staff):
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    assert confirm(client, token).status_code == 302
    second = confirm(client, token)
    assert second.status_code == 200  # the plan changed (the school now exists): a new preview
    assert "Nothing was imported" in second.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).where(School.code == "NC-001")) == 1
    assert audit_actions("school.imported") == ["school.imported"]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00", "schools.csv", "This is not a text file."),
        (b"<html><script>alert(1)</script></html>", "schools.csv", "This is a web page"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "a.csv", "web page"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "bomb.csv", "This is not a text file."),
        ("code,name\nNC,Caf\u00e9".encode("utf-16"), "utf16.csv", "This is not a text file."),
        (b"", "empty.csv", "The file is empty."),
    ],
)
def test_a_file_that_is_not_csv_is_refused_next_to_the_field(client, staff, data, name, message):
    before = schools_table()
    response = upload(client, data, name=name)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'id="file-error"' in html
    assert schools_table() == before


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("<script>alert(1)</script>.csv", "script&gt;.csv"),
        ("😀" * 300 + ".csv", "😀"),
    ],
)
def test_a_hostile_file_name_is_shown_only_as_cleaned_escaped_text(client, staff, name, shown):
    html = upload(client, csv_bytes(GOOD), name=name).get_data(as_text=True)
    assert shown in html
    assert "<script>alert(1)" not in html
    assert "../../" not in html


def test_no_file_says_choose_one(client, staff):
    response = post(client, "/schools/import", {})
    assert response.status_code == 200
    assert "Choose a CSV file to upload." in response.get_data(as_text=True)


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_changes(client, staff):
    before = schools_table()
    # The multipart body written by hand: the test client's own encoder would spool it to a
    # temporary file that a refused request never closes.
    boundary = "fellowship-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{csrf_token(client)}\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"x" * (2 * 1024 * 1024 + 1)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/schools/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert schools_table() == before


def test_an_upload_without_the_csrf_token_is_refused(client, staff):
    response = client.post(
        "/schools/import",
        data={"file": (io.BytesIO(csv_bytes(GOOD)), "schools.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert schools_table() == []


def test_a_member_cannot_import_or_confirm(client, staff):
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    team = cycle_with_team()
    sign_in(client, team.lead)
    before = schools_table()
    assert upload(client, csv_bytes(GOOD)).status_code == 403
    assert confirm(client, token).status_code == 403
    assert schools_table() == before


@pytest.mark.timing
def test_five_thousand_schools_import_in_the_browser_in_a_few_seconds(client, staff):
    import time

    data = big_csv(5000).encode()
    started = time.perf_counter()
    html = upload(client, data).get_data(as_text=True)
    previewed = time.perf_counter() - started
    assert "5000 schools to add" in text_of(html)
    assert "… and 4800 more." in html  # the preview lists 200, the counts are complete
    started = time.perf_counter()
    response = confirm(client, token_of(html))
    applied = time.perf_counter() - started
    print(f"\n5,000 schools in the browser: preview {previewed:.2f} s, confirm {applied:.2f} s")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(School.id))) == 5000
    assert previewed + applied < 8
