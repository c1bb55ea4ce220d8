"""The enrollment-count import in the browser: the upload page, the dry-run preview (counts,
school-years replaced or new, line errors), the confirm (applies what was previewed; refuses a
tampered or someone else's token and counts changed since), the template downloads, the
limits, and who may."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest

from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.extensions import db
from fellowship.integration.models import Group, Measure
from tests.conftest import csrf_token, sign_in
from tests.cycles.helpers import SchoolFactory, cycle_with_team
from tests.cycles.school_helpers import text_of
from tests.factories import AdminFactory, MembershipFactory, StaffFactory
from tests.integration.helpers import add_counts, year
from tests.integration.import_helpers import (
    WIDE,
    audit_events,
    big_counts_csv,
    counts_table,
    csv_bytes,
)
from tests.integration.page_helpers import tables

URL = "/integration/import"
GOOD = "NC-001,2025-26,,enrollment,black,120"


def upload(client, data: bytes, name: str = "counts.csv"):
    return client.post(
        URL,
        data={"csrf_token": csrf_token(client), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def token_of(html: str) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]+)"', html)
    assert match, "no confirm token on the preview"
    return match.group(1)


def confirm(client, token: str):
    return client.post(URL, data={"csrf_token": csrf_token(client), "token": token})


def kept(app, data: bytes, person) -> bool:
    """Whether these bytes are kept for this person's confirm (files are named by the person's
    id and the bytes' sha256)."""
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(app.config["UPLOAD_DIR"]) / "imports"
    return (folder / f"counts-{person.id}-{digest}.csv").is_file()


@pytest.fixture
def staff(client):
    person = StaffFactory(name="Sam Staff")
    sign_in(client, person)
    return person


@pytest.fixture
def north():
    return SchoolFactory(code="NC-001", name="North Elementary")


# The pages --------------------------------------------------------------------------------


def test_the_import_page_explains_both_layouts_and_links_the_templates(client, staff):
    response = client.get(URL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    text = text_of(html).replace(" ", "")
    assert "school_code,school_year,grade,measure,group,count" in text
    assert WIDE in text
    assert 'enctype="multipart/form-data"' in html
    assert "at most 64 MB" in html
    assert "/integration/import/template.csv?format=long" in html
    assert "/integration/import/template.csv?format=wide" in html
    assert "flask integration import FILE --dry-run" in html


def test_a_file_with_errors_is_previewed_with_numbered_lines_and_nothing_changes(
    client, staff, north
):
    before = counts_table()
    data = csv_bytes(
        GOOD, "NC-001,2025-26,,enrollment,white,1.5", "NOPE,2025-26,,enrollment,black,3"
    )
    response = upload(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The file has 2 errors. Nothing will be imported until they are fixed." in html
    assert "Line 3: count “1.5” is not a whole number" in html
    assert "Line 4: no school has the code NOPE." in html
    assert 'name="token"' not in html
    assert "Upload a corrected file" in html
    assert counts_table() == before
    assert audit_events("integration.counts_imported") == []


def test_a_good_file_is_previewed_then_applied_on_confirm(app, client, staff, north):
    south = SchoolFactory(code="NC-002", name="South Middle", is_active=False)
    y25 = year("2025-26")
    add_counts(north, y25, {"black": 100, "white": 90})
    add_counts(north, y25, {"black": 9}, grade="K")
    db.session.commit()
    before = counts_table()
    data = csv_bytes(
        GOOD, "NC-001,2025-26,K,enrollment,black,11", "NC-002,2024-25,,enrollment,asian,4", bom=True
    )
    html = upload(client, data, name="october.csv").get_data(as_text=True)
    text = text_of(html)
    assert "File: october.csv" in text
    assert "3 counts in the file" in text
    assert "1 school-years to add" in text
    assert "1 school-years to replace" in text
    assert "0 errors" in text
    assert "the 3 counts those school-years hold now" in text
    assert "1 school in the file is inactive" in text
    (table,) = tables(html)
    assert table.caption == "School-years in the file"
    assert table.body() == [
        ["NC-001", "North Elementary", "2025-26", "3", "2", "Replaced"],
        ["NC-002", "South Middle (inactive)", "2024-25", "0", "1", "Added"],
    ]
    assert counts_table() == before  # the preview changed nothing
    assert kept(app, data, staff)  # the upload is kept for the confirm
    response = confirm(client, token_of(html))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(URL)
    y24 = year("2024-25")
    assert counts_table() == sorted(
        [
            (north.id, y25.id, None, Measure.ENROLLMENT, Group.BLACK, 120),
            (north.id, y25.id, "K", Measure.ENROLLMENT, Group.BLACK, 11),
            (south.id, y24.id, None, Measure.ENROLLMENT, Group.ASIAN, 4),
        ],
        key=repr,
    )
    (event,) = audit_events("integration.counts_imported")
    assert event.actor_id == staff.id
    assert event.details["file"] == "october.csv"
    assert event.details["source"] == "browser"
    assert event.details["rows_removed"] == 3
    assert not kept(app, data, staff)  # applied: the kept file is gone
    page = text_of(client.get(URL).get_data(as_text=True))
    assert "Counts imported: 3 counts for 2 schools. School-years added: 1. Replaced: 1." in page


def test_the_preview_warns_when_a_school_year_loses_a_measure_the_file_lacks(client, staff, north):
    add_counts(north, year("2025-26"), {"black": 100})
    add_counts(north, year("2025-26"), {"black": 30}, measure=Measure.APPLICANTS)
    html = upload(client, csv_bytes("NC-001,2025-26,,applicants,black,31")).get_data(as_text=True)
    warning = text_of(html.split('id="measures-removed"')[1].split("</div></div>")[0])
    assert "1 school-year holds counts of a measure the file has none of for it." in warning
    assert "NC-001, 2025-26: Enrollment on October 1" in warning
    assert 'name="token"' in html  # a warning, not an error


def test_the_preview_warns_when_a_school_year_has_grade_counts_but_no_all_grades_counts(
    client, staff, north
):
    data = csv_bytes("NC-001,2025-26,K,enrollment,black,12", "NC-001,2025-26,1,enrollment,black,9")
    html = upload(client, data).get_data(as_text=True)
    warning = text_of(html.split('id="no-all-grades"')[1].split("</div></div>")[0])
    assert "1 school-year has grade counts of a measure but no all-grades counts of it." in warning
    assert "it shows “no data” for that measure" in warning
    assert "NC-001, 2025-26: Enrollment on October 1" in warning
    assert 'name="token"' in html  # a warning, not an error


def test_a_wide_file_is_imported_the_same_way(client, staff, north):
    data = csv_bytes(
        "NC-001,2025-26,,enrollment,120,80",
        header="school_code,school_year,grade,measure,black,white",
    )
    html = upload(client, data).get_data(as_text=True)
    assert "Wide layout" in html
    assert "2 counts in the file" in text_of(html)
    assert confirm(client, token_of(html)).status_code == 302
    assert [row[4:] for row in counts_table()] == [(Group.BLACK, 120), (Group.WHITE, 80)]
    assert audit_events("integration.counts_imported")[0].details["format"] == "wide"


def test_a_tampered_token_is_refused_and_nothing_changes(client, staff, north):
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = confirm(client, forged)
    assert response.status_code == 302
    assert "could not be confirmed" in client.get(URL).get_data(as_text=True)
    assert counts_table() == []


def test_a_preview_made_by_someone_else_cannot_be_confirmed(client, staff, north):
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    sign_in(client, StaffFactory())
    response = confirm(client, token)
    assert response.status_code == 302
    assert "prepared by someone else" in client.get(URL).get_data(as_text=True)
    assert counts_table() == []


def test_counts_changed_after_the_preview_show_a_new_preview_instead_of_importing(
    client, staff, north
):
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    add_counts(north, year("2025-26"), {"white": 80})  # someone imports the same year meanwhile
    db.session.commit()
    before = counts_table()
    response = confirm(client, token)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Nothing was imported: the counts of these schools changed since the preview" in html
    assert "1 school-years to replace" in text_of(html)
    assert counts_table() == before
    # The new preview can be confirmed: it is what the import would now do.
    assert confirm(client, token_of(html)).status_code == 302
    assert [row[4:] for row in counts_table()] == [(Group.BLACK, 120)]


def test_two_people_previewing_the_same_file_each_keep_their_own_upload(app, client, staff, north):
    data = csv_bytes(GOOD)
    first = token_of(upload(client, data).get_data(as_text=True))
    other = StaffFactory(name="Olive Other")
    sign_in(client, other)
    second = token_of(upload(client, data).get_data(as_text=True))
    assert kept(app, data, staff)
    assert kept(app, data, other)
    sign_in(client, staff)
    assert confirm(client, first).status_code == 302
    assert not kept(app, data, staff)
    assert kept(app, data, other)  # not taken away by the first person's import
    sign_in(client, other)
    response = confirm(client, second)  # the counts are the first import's now: a new preview
    assert response.status_code == 409
    assert "changed since the preview" in response.get_data(as_text=True)
    assert "already been applied or has expired" not in response.get_data(as_text=True)


def test_confirming_twice_imports_once(client, staff, north):
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    assert confirm(client, token).status_code == 302
    second = confirm(client, token)
    assert second.status_code == 302
    assert "already been applied or has expired" in client.get(URL).get_data(as_text=True)
    assert len(audit_events("integration.counts_imported")) == 1


def test_a_school_removed_after_the_preview_makes_the_confirm_show_the_errors(client, staff, north):
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    north.code = "NC-001-OLD"
    db.session.commit()
    response = confirm(client, token)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "the file no longer imports cleanly" in html
    assert "Line 2: no school has the code NC-001." in html
    assert counts_table() == []


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00", "counts.csv", "This is not a text file."),
        (b"<html><script>alert(1)</script></html>", "counts.csv", "This is a web page"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "counts.csv", "This is not a text file."),
        (b"", "empty.csv", "The file is empty."),
    ],
)
def test_a_file_that_is_not_csv_is_refused_next_to_the_field(client, staff, data, name, message):
    response = upload(client, data, name=name)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'id="file-error"' in html
    assert counts_table() == []


def test_no_file_says_choose_one(client, staff):
    response = client.post(URL, data={"csrf_token": csrf_token(client)})
    assert "Choose a CSV file to upload." in response.get_data(as_text=True)


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_is_kept(
    app, client, staff, north, monkeypatch
):
    monkeypatch.setitem(app.config, "COUNTS_IMPORT_MAX_BYTES", 1000)
    data = csv_bytes(*[GOOD] * 40)
    assert len(data) > 1000
    response = upload(client, data)
    assert response.status_code == 413
    assert counts_table() == []
    assert not kept(app, data, staff)
    # A file within the limit is fine.
    assert upload(client, csv_bytes(GOOD)).status_code == 200


def test_an_upload_or_confirm_without_the_csrf_token_is_refused(app, client, staff, north):
    data = csv_bytes("NC-001,2025-26,,enrollment,black,77")
    response = client.post(
        URL, data={"file": (io.BytesIO(data), "c.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    assert 'name="token"' not in response.get_data(as_text=True)
    assert not kept(app, data, staff)
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    response = client.post(URL, data={"token": token})
    assert response.status_code == 302
    assert counts_table() == []


# Templates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_a_template_downloads_as_csv_and_imports_back(client, staff, layout):
    response = client.get(f"{URL}/template.csv?format={layout}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f'filename="enrollment-counts-{layout}.csv"' in response.headers["Content-Disposition"]
    data = response.get_data()
    code = data.decode().splitlines()[1].split(",")[0]
    SchoolFactory(code=code)
    html = upload(client, data).get_data(as_text=True)
    assert "0 errors" in text_of(html)
    assert confirm(client, token_of(html)).status_code == 302
    assert len(counts_table()) == (2 if layout == "long" else 20)


def test_an_unknown_template_format_is_404(client, staff):
    assert client.get(f"{URL}/template.csv?format=xlsx").status_code == 404


# Who may ------------------------------------------------------------------------------------


def _person(kind: str):
    if kind == "staff":
        return StaffFactory()
    if kind == "admin":
        return AdminFactory()
    if kind == "lead teacher":
        return cycle_with_team().lead
    role = CohortRole.FELLOW if kind == "fellow" else CohortRole.COACH
    return db.session.get(User, MembershipFactory(role=role).user_id)


@pytest.mark.parametrize(
    ("kind", "allowed"),
    [
        ("fellow", False),
        ("coach", False),
        ("lead teacher", False),
        ("staff", True),
        ("admin", True),
    ],
)
def test_only_staff_and_admins_may_import(client, north, kind, allowed):
    sign_in(client, _person(kind))
    expected = 200 if allowed else 403
    assert client.get(URL).status_code == expected
    assert client.get(f"{URL}/template.csv").status_code == expected
    response = upload(client, csv_bytes(GOOD))
    assert response.status_code == expected
    assert counts_table() == []


def test_a_member_cannot_confirm_a_staff_members_preview(client, staff, north):
    token = token_of(upload(client, csv_bytes(GOOD)).get_data(as_text=True))
    sign_in(client, cycle_with_team().lead)
    assert confirm(client, token).status_code == 403
    assert counts_table() == []


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_big_file_is_previewed_and_confirmed_in_the_browser(client, staff):
    codes = [SchoolFactory(code=f"BIG{n:03d}").code for n in range(21)]
    labels = [f"{2016 + n}-{(17 + n) % 100:02d}" for n in range(10)]
    html = upload(client, big_counts_csv(codes, labels).encode()).get_data(as_text=True)
    assert "2100 counts in the file" in text_of(html).replace(",", "")
    assert "… and 10 more." in html  # the preview lists 200 school-years
    assert confirm(client, token_of(html)).status_code == 302
    assert len(counts_table()) == 2100


def test_admins_find_the_raw_counts_from_the_import_page_and_staff_do_not(client):
    sign_in(client, StaffFactory())
    assert "/integration/raw" not in client.get(URL).get_data(as_text=True)
    sign_in(client, AdminFactory())
    assert 'href="/integration/raw"' in client.get(URL).get_data(as_text=True)
