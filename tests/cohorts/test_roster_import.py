"""Roster import: CSV and OneRoster files, the dry run, confirmation, and the attack list."""

from __future__ import annotations

import io
import os
import re
import struct
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from fellowship import mail
from fellowship.audit import AuditEvent
from fellowship.auth.models import Invitation, Role, User
from fellowship.cohorts import roster, roster_services
from fellowship.cohorts.models import (
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    MembershipStatus,
)
from fellowship.db import commit, utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.conftest import csrf_token, sign_in
from tests.factories import (
    AdminFactory,
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    StaffFactory,
    UserFactory,
)

# Helpers --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def upload_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test stores its uploads in its own folder (never in the instance folder)."""
    root = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(root))
    return root


def csv_file(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


HEADER = "email,name,role,coach_email"


def stored_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def upload(client, cohort: Cohort, data: bytes, filename: str = "roster.csv", **fields):
    form = {"kind": "auto", "class_id": "", "locale": "en"}
    form.update(fields)
    form["csrf_token"] = csrf_token(client)
    form["file"] = (io.BytesIO(data), filename)
    return client.post(
        f"/cohorts/{cohort.id}/import", data=form, content_type="multipart/form-data"
    )


def token_in(html: str) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]+)"', html)
    assert match, "no confirm button on the preview"
    return match.group(1)


def confirm(client, cohort: Cohort, token: str):
    return client.post(
        f"/cohorts/{cohort.id}/import/confirm",
        data={"token": token, "csrf_token": csrf_token(client)},
    )


def counts() -> dict[str, int]:
    """How many rows the import could have written, table by table."""
    db.session.expire_all()
    models = {
        "users": User,
        "invitations": Invitation,
        "memberships": CohortMembership,
        "assignments": CoachAssignment,
        "outbox": OutboxMessage,
        "audit": AuditEvent,
    }
    return {
        name: int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)
        for name, model in models.items()
    }


def user(email: str) -> User:
    db.session.expire_all()
    found = db.session.scalar(sa.select(User).where(User.email == email))
    assert found is not None, email
    return found


def membership(cohort: Cohort, email: str) -> CohortMembership:
    found = db.session.scalar(
        sa.select(CohortMembership).where(
            CohortMembership.cohort_id == cohort.id, CohortMembership.user_id == user(email).id
        )
    )
    assert found is not None
    return found


def assignments(cohort: Cohort, fellow_email: str) -> list[tuple[str, bool]]:
    """(coach email, current?) for the fellow, oldest first."""
    coach = sa.orm.aliased(User)
    rows = db.session.execute(
        sa.select(coach.email, CoachAssignment.ends_on)
        .join(coach, coach.id == CoachAssignment.coach_id)
        .where(
            CoachAssignment.cohort_id == cohort.id,
            CoachAssignment.fellow_id == user(fellow_email).id,
        )
        .order_by(CoachAssignment.id)
    )
    return [(email, ends_on is None) for email, ends_on in rows]


def plan(cohort: Cohort, data: bytes, *, may_grant_staff: bool = False, **kwargs) -> roster.Plan:
    return roster_services.plan_import(cohort, data, may_grant_staff=may_grant_staff, **kwargs)


def oneroster(
    *,
    users: list[str],
    enrollments: list[str],
    classes: list[str] | None = None,
    leave_out: tuple[str, ...] = (),
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A OneRoster 1.1 CSV bundle; rows are given without the header."""
    files = {
        "manifest.csv": "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n",
        "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "org1,active,,Lincoln High,school,,\n",
        "users.csv": "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,"
        "userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,"
        "grades,password\n" + "".join(line + "\n" for line in users),
        "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
        "userSourcedId,role,primary,beginDate,endDate\n"
        + "".join(line + "\n" for line in enrollments),
    }
    if classes is not None:
        files["classes.csv"] = (
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,"
            "classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n"
            + "".join(line + "\n" for line in classes)
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            if name not in leave_out:
                archive.writestr(name, text)
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def or_user(
    sourced_id: str,
    given: str,
    family: str,
    email: str,
    role: str = "student",
    status: str = "active",
    enabled: str = "true",
) -> str:
    """A users.csv row (the columns of the header in `oneroster`)."""
    person = f"{given},{family},,,{email}"
    return f"{sourced_id},{status},,{enabled},org1,{role},{sourced_id},,{person},,,,,"


def or_enrollment(
    sourced_id: str, user_id: str, role: str, class_id: str = "class1", status: str = "active"
) -> str:
    return f"{sourced_id},{status},,{class_id},org1,{user_id},{role},false,,"


# CSV: the happy path ----------------------------------------------------------------------------


def test_staff_import_a_csv_roster_after_checking_the_preview(client, upload_dir):
    cohort = CohortFactory()
    known = UserFactory(email="known@example.org", name="Known Name")
    sign_in(client, StaffFactory(name="Sam Staff"))
    data = csv_file(
        HEADER,
        "coach.one@example.org,Cora Coach,coach,",
        "fellow.one@example.org,Fay Fellow,fellow,coach.one@example.org",
        "KNOWN@example.org,A Different Name,facilitator,",
    )
    before = counts()

    preview = upload(client, cohort, data)

    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "Cora Coach" in html
    assert "Fay Fellow" in html
    assert counts() == before  # the preview is a dry run
    assert len(stored_files(upload_dir)) == 1

    response = confirm(client, cohort, token_in(html))

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/{cohort.id}/members")
    after = counts()
    assert after["users"] == before["users"] + 2
    assert after["invitations"] == before["invitations"] + 2
    assert after["outbox"] == before["outbox"] + 2  # one invitation email per new person
    assert after["memberships"] == before["memberships"] + 3
    assert after["audit"] == before["audit"] + 1
    assert membership(cohort, "fellow.one@example.org").role == CohortRole.FELLOW
    assert membership(cohort, "coach.one@example.org").role == CohortRole.COACH
    assert membership(cohort, "known@example.org").role == CohortRole.FACILITATOR
    assert assignments(cohort, "fellow.one@example.org") == [("coach.one@example.org", True)]
    new = user("fellow.one@example.org")
    assert (new.name, new.role, new.password_hash, new.is_active) == (
        "Fay Fellow",
        Role.MEMBER,
        None,
        True,
    )
    assert user("known@example.org").name == known.name  # existing people keep their name
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "roster_imported"))
    assert event is not None
    assert (event.target_type, event.target_id) == ("Cohort", cohort.id)
    assert event.details["created"] == 2
    assert event.details["added"] == 3
    assert event.details["coaches"] == 1
    assert stored_files(upload_dir) == []  # the upload is deleted once applied
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Roster imported" in page


def test_each_new_person_is_invited_once_in_their_language(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory(name="Sam Staff"))
    data = csv_file(
        "email,name,role,coach_email,language",
        "ana@example.org,Ana Alba,fellow,,es",
        "ben@example.org,Ben Bell,fellow,,",
    )
    confirm(client, cohort, token_in(upload(client, cohort, data).get_data(as_text=True)))
    messages = {
        message.to: message
        for message in db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "auth/invitation")
        )
    }
    assert messages["ana@example.org"].subject == "Le invitamos a Fellowship"
    assert messages["ben@example.org"].subject == "You are invited to Fellowship"
    assert "Sam Staff" in messages["ben@example.org"].text
    assert user("ana@example.org").locale == "es"
    link = re.search(r"http://localhost(/invitation/[\w-]+)", messages["ben@example.org"].text)
    assert link is not None
    assert client.get(link.group(1)).status_code == 200  # the emailed link works


def test_bulk_invitation_emails_are_the_same_as_single_ones(ctx):
    context = {"name": "Ana", "inviter": "Sam", "link": "http://localhost/invitation/x", "hours": 7}
    single = mail.queue_email("a@example.org", "auth/invitation", locale="es", **context)
    mail.queue_emails("auth/invitation", [("b@example.org", "es", context)])
    bulk = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to == "b@example.org"))
    assert bulk is not None
    assert (bulk.subject, bulk.text, bulk.html) == (single.subject, single.text, single.html)
    db.session.rollback()


def test_a_large_import_leaves_the_invitations_to_the_mail_job(ctx, monkeypatch):
    monkeypatch.setattr(roster_services, "DELIVER_NOW_LIMIT", 2)
    cohort, actor = CohortFactory(), StaffFactory()
    small = plan(cohort, csv_file(HEADER, "a@example.org,A,fellow,", "b@example.org,B,fellow,"))
    roster_services.apply_plan(actor, cohort, small)
    assert len(db.session.info.get(mail._PENDING_KEY, [])) == 2
    db.session.rollback()
    large = plan(cohort, csv_file(HEADER, *(f"p{i}@example.org,P {i},fellow," for i in range(3))))
    roster_services.apply_plan(actor, cohort, large)
    assert db.session.info.get(mail._PENDING_KEY, []) == []
    assert counts()["outbox"] >= 3  # queued all the same, for `flask outbox deliver`
    db.session.rollback()


def test_reimporting_the_same_file_changes_nothing(client, upload_dir):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    data = csv_file(
        HEADER,
        "coach@example.org,Cora Coach,coach,",
        "fellow@example.org,Fay Fellow,fellow,coach@example.org",
    )
    confirm(client, cohort, token_in(upload(client, cohort, data).get_data(as_text=True)))
    before = counts()

    again = upload(client, cohort, data).get_data(as_text=True)

    assert 'name="token"' not in again  # nothing to confirm
    assert "Nothing to change" in again
    with client.application.test_request_context():
        second = plan(cohort, data)
    assert second.counts() == {
        "created": 0,
        "added": 0,
        "changed": 0,
        "coaches": 0,
        "unchanged": 2,
        "skipped": 0,
        "errors": 0,
    }
    assert counts() == before
    assert stored_files(upload_dir) == []


def test_existing_people_keep_their_name_and_global_role(ctx):
    cohort, actor = CohortFactory(), AdminFactory()
    StaffFactory(email="staffer@example.org", name="Stella Staff")
    result = plan(cohort, csv_file(HEADER, "staffer@example.org,Renamed,reviewer,"))
    roster_services.apply_plan(actor, cohort, result)
    person = user("staffer@example.org")
    assert (person.name, person.role) == ("Stella Staff", Role.STAFF)
    assert membership(cohort, "staffer@example.org").role == CohortRole.REVIEWER


def test_headers_are_case_insensitive_extra_columns_are_ignored_and_a_bom_is_allowed(ctx):
    cohort = CohortFactory()
    data = "\ufeffEMAIL , Name,Role,Coach_Email,Notes\nana@example.org,Ana,Fellow,,likes tea\n"
    result = plan(cohort, data.encode())
    assert result.ok, result.errors
    assert [p.email for p in result.people_to_create] == ["ana@example.org"]


def test_spanish_role_words_and_a_status_column_are_understood(ctx):
    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=UserFactory(email="old@example.org"))
    result = plan(
        cohort,
        csv_file(
            "email,name,role,status",
            "ana@example.org,Ana,becaria,",
            "rui@example.org,Rui,revisor,",
            "old@example.org,,fellow,withdrawn",
        ),
    )
    assert result.ok, result.errors
    assert {(m.email, m.role) for m in result.memberships_to_add} == {
        ("ana@example.org", CohortRole.FELLOW),
        ("rui@example.org", CohortRole.REVIEWER),
    }
    [change] = result.changes
    assert (change.email, change.status_to) == ("old@example.org", MembershipStatus.WITHDRAWN)


# CSV: errors by line ---------------------------------------------------------------------------


def csv_errors(cohort: Cohort, *lines: str) -> list[tuple[int | None, str]]:
    return [(e.line, e.message) for e in plan(cohort, csv_file(*lines)).errors]


def test_an_invalid_email_is_reported_at_its_line(ctx):
    errors = csv_errors(CohortFactory(), HEADER, "ok@example.org,Ok,fellow,", "nope,No,fellow,")
    assert errors == [(3, "“nope” is not an email address.")]


def test_a_new_person_without_a_name_is_reported_at_its_line(ctx):
    errors = csv_errors(CohortFactory(), HEADER, "", "new@example.org,,fellow,")
    assert errors == [(3, "new@example.org has no account yet: the name is needed.")]


def test_an_unknown_role_is_reported_at_its_line(ctx):
    errors = csv_errors(CohortFactory(), HEADER, "a@example.org,A,principal,")
    assert errors == [(2, "Unknown role “principal”: use fellow, coach, facilitator or reviewer.")]


def test_the_same_email_twice_is_reported_at_the_second_line(ctx):
    errors = csv_errors(
        CohortFactory(),
        HEADER,
        "a@example.org,A,fellow,",
        "b@example.org,B,coach,",
        "A@Example.org,A again,coach,",
    )
    assert errors == [(4, "a@example.org is already on line 2 of roster.csv.")]


def test_a_coach_email_that_is_not_a_coach_is_reported(ctx):
    cohort = CohortFactory()
    MembershipFactory(
        cohort=cohort, user=UserFactory(email="fac@example.org"), role=CohortRole.FACILITATOR
    )
    MembershipFactory(
        cohort=cohort,
        user=UserFactory(email="gone@example.org"),
        role=CohortRole.COACH,
        status=MembershipStatus.WITHDRAWN,
    )
    errors = csv_errors(
        cohort,
        HEADER,
        "f1@example.org,F1,fellow,fac@example.org",
        "f2@example.org,F2,fellow,gone@example.org",
        "f3@example.org,F3,fellow,nobody@example.org",
    )
    message = "%s is neither a coach in this file nor an active coach of the cohort."
    assert errors == [
        (2, message % "fac@example.org"),
        (3, message % "gone@example.org"),
        (4, message % "nobody@example.org"),
    ]


def test_a_coach_can_be_an_active_coach_of_the_cohort_or_a_coach_in_the_file(ctx):
    cohort = CohortFactory()
    MembershipFactory(
        cohort=cohort, user=UserFactory(email="c1@example.org"), role=CohortRole.COACH
    )
    result = plan(
        cohort,
        csv_file(
            HEADER,
            "f1@example.org,F1,fellow,c1@example.org",
            "f2@example.org,F2,fellow,c2@example.org",
            "c2@example.org,C2,coach,",
        ),
    )
    assert result.ok, result.errors
    assert [(c.fellow_email, c.coach_email) for c in result.coach_changes] == [
        ("f1@example.org", "c1@example.org"),
        ("f2@example.org", "c2@example.org"),
    ]


def test_a_coach_email_on_a_row_that_is_not_a_fellow_is_reported(ctx):
    errors = csv_errors(
        CohortFactory(),
        HEADER,
        "c@example.org,C,coach,",
        "x@example.org,X,facilitator,c@example.org",
    )
    assert errors == [(3, "A coach can be given only on a fellow's row.")]


def test_a_deactivated_account_is_reported_at_its_line(ctx):
    UserFactory(email="off@example.org", is_active=False)
    errors = csv_errors(CohortFactory(), HEADER, "off@example.org,Off,fellow,")
    assert errors == [(2, "The account of off@example.org is deactivated. Reactivate it first.")]


def test_line_numbers_are_the_files_own_counting_blank_lines_and_quoted_breaks(ctx):
    errors = csv_errors(
        CohortFactory(),
        HEADER,
        '"a@example.org","Ann ',
        'Multi-line",fellow,',
        "",
        "   ",
        "bad,Bad,fellow,",
    )
    assert errors == [(6, "“bad” is not an email address.")]


def test_a_csv_without_the_required_columns_is_reported_at_the_header(ctx):
    errors = csv_errors(CohortFactory(), "mail,name", "a@example.org,A")
    assert errors == [(1, "The header is missing the column(s): email, role.")]


def test_the_preview_lists_every_error_by_file_and_line_and_offers_no_confirm(client, upload_dir):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    data = csv_file(HEADER, "ok@example.org,Ok,fellow,", "bad,Bad,fellow,", "x@example.org,X,boss,")
    html = upload(client, cohort, data).get_data(as_text=True)
    assert "The file has 2 errors" in html
    assert re.search(r'<th scope="row">roster.csv</th><td>3</td><td>“bad” is not', html)
    assert re.search(r'<th scope="row">roster.csv</th><td>4</td><td>Unknown role', html)
    assert 'name="token"' not in html
    assert stored_files(upload_dir) == []  # a file with errors is not kept


# OneRoster -------------------------------------------------------------------------------------


def test_staff_import_a_oneroster_bundle(client, upload_dir):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    bundle = oneroster(
        users=[
            or_user("u1", "Ana", "Alba", "ana@example.org"),
            or_user("u2", "Tom", "Teach", "tom@example.org", role="teacher"),
            or_user("u3", "Del", "Eted", "del@example.org", status="tobedeleted"),
            or_user("u4", "Pat", "Parent", "pat@example.org", role="parent"),
        ],
        enrollments=[
            or_enrollment("e1", "u1", "student"),
            or_enrollment("e2", "u2", "teacher"),
            or_enrollment("e3", "u3", "student"),
            or_enrollment("e4", "u1", "student", status="tobedeleted"),
            or_enrollment("e5", "u4", "parent"),
        ],
    )
    html = upload(client, cohort, bundle, filename="district.zip").get_data(as_text=True)
    assert "Ana Alba" in html
    assert "Tom Teach" in html
    assert "tobedeleted" in html  # reported as skipped

    response = confirm(client, cohort, token_in(html))

    assert response.status_code == 302
    assert membership(cohort, "ana@example.org").role == CohortRole.FELLOW
    assert membership(cohort, "tom@example.org").role == CohortRole.COACH
    assert db.session.scalar(sa.select(User).where(User.email == "del@example.org")) is None
    assert db.session.scalar(sa.select(User).where(User.email == "pat@example.org")) is None
    assert stored_files(upload_dir) == []


def test_a_oneroster_bundle_missing_a_file_names_it(ctx):
    bundle = oneroster(users=[], enrollments=[], leave_out=("orgs.csv",))
    errors = plan(CohortFactory(), bundle).errors
    assert [(e.file, e.line, e.message) for e in errors] == [
        ("orgs.csv", None, "The bundle has no orgs.csv.")
    ]


def test_a_oneroster_file_missing_a_column_names_the_file_and_line(ctx):
    bundle = oneroster(users=[], enrollments=[])
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files["users.csv"] = b"sourcedId,status,role,givenName,familyName\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    errors = plan(CohortFactory(), buffer.getvalue()).errors
    assert [(e.file, e.line) for e in errors] == [("users.csv", 1)]
    assert "enableduser, email" in errors[0].message


def test_oneroster_errors_name_the_file_inside_the_bundle_and_its_line(ctx):
    bundle = oneroster(
        users=[
            or_user("u1", "Ana", "Alba", "not-an-address"),
            or_user("u2", "", "", "noname@example.org"),
        ],
        enrollments=[
            or_enrollment("e1", "u1", "student"),
            or_enrollment("e2", "u2", "student"),
            or_enrollment("e3", "u9", "student"),
        ],
    )
    errors = plan(CohortFactory(), bundle).errors
    assert [(e.file, e.line, e.message) for e in errors] == [
        ("enrollments.csv", 4, "No user has the sourcedId u9 in users.csv."),
        ("users.csv", 2, "“not-an-address” is not an email address."),
        ("users.csv", 3, "noname@example.org has no account yet: the name is needed."),
    ]


def test_a_bundle_with_several_classes_asks_which_one(client):
    cohort = CohortFactory()
    bundle = oneroster(
        users=[
            or_user("u1", "Ana", "Alba", "ana@example.org"),
            or_user("u2", "Ben", "Bell", "ben@example.org"),
        ],
        enrollments=[
            or_enrollment("e1", "u1", "student", class_id="fall"),
            or_enrollment("e2", "u2", "student", class_id="spring"),
        ],
        classes=["fall,active,,Fall Cohort,,,,,,,,,,", "spring,active,,Spring Cohort,,,,,,,,,,"],
    )
    sign_in(client, StaffFactory())
    html = upload(client, cohort, bundle, filename="b.zip").get_data(as_text=True)
    assert "Choose the class to import: fall (Fall Cohort); spring (Spring Cohort)" in html
    assert 'name="token"' not in html

    chosen = upload(client, cohort, bundle, filename="b.zip", class_id="spring")
    confirm(client, cohort, token_in(chosen.get_data(as_text=True)))
    assert membership(cohort, "ben@example.org").role == CohortRole.FELLOW
    assert db.session.scalar(sa.select(User).where(User.email == "ana@example.org")) is None


ADMIN_BUNDLE = dict(
    users=[or_user("a1", "Ada", "Admin", "ada@example.org", role="administrator")],
    enrollments=[or_enrollment("e1", "a1", "administrator")],
)


def test_staff_cannot_import_administrators_as_staff(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    before = counts()
    html = upload(client, cohort, oneroster(**ADMIN_BUNDLE), filename="b.zip").get_data(
        as_text=True
    )
    assert "Only an administrator can import staff" in html
    assert re.search(r"<td>2</td><td>Only an administrator", html)
    assert 'name="token"' not in html
    assert counts() == before


def test_an_admin_imports_administrators_as_staff_accounts(client):
    cohort = CohortFactory()
    sign_in(client, AdminFactory())
    html = upload(client, cohort, oneroster(**ADMIN_BUNDLE), filename="b.zip").get_data(
        as_text=True
    )
    confirm(client, cohort, token_in(html))
    person = user("ada@example.org")
    assert (person.role, person.password_hash) == (Role.STAFF, None)
    assert (
        db.session.scalar(sa.select(Invitation).where(Invitation.user_id == person.id)) is not None
    )


# All or nothing ---------------------------------------------------------------------------------


def forged(app: Flask, payload: dict, *, key: str | None = None) -> str:
    secret = key or app.config["SECRET_KEY"]
    return URLSafeTimedSerializer(secret, salt="roster-import").dumps(payload)


def stored_ticket(app: Flask, cohort: Cohort, actor: User, data: bytes) -> dict:
    """A stored upload and the payload a real preview would sign for it."""
    with app.test_request_context():
        stored = roster_services.store_upload(data, roster.CSV)
    return {
        "upload": stored.name,
        "sha256": stored.sha256,
        "cohort_id": cohort.id,
        "actor_id": actor.id,
        "kind": "csv",
        "class_id": "",
        "locale": "en",
        "label": "roster.csv",
        "plan": "",  # no preview was ever shown for it
    }


BAD_ROW_FILE = csv_file(HEADER, "ok@example.org,Ok,fellow,", "bad,Bad,fellow,")


def test_a_file_with_one_bad_row_changes_nothing_even_with_a_forged_token(app, client, monkeypatch):
    cohort, staff = CohortFactory(), StaffFactory()
    sign_in(client, staff)
    before = counts()
    assert 'name="token"' not in upload(client, cohort, BAD_ROW_FILE).get_data(as_text=True)
    ticket = stored_ticket(app, cohort, staff, BAD_ROW_FILE)

    def flashed(response) -> str:
        assert response.status_code == 302
        return client.get(response.headers["Location"]).get_data(as_text=True)

    wrong_key = confirm(client, cohort, forged(app, ticket, key="not the app's key" * 3))
    assert "This import could not be confirmed." in flashed(wrong_key)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 2 * 3600)
    old = forged(app, ticket)
    monkeypatch.setattr(time, "time", real_time)
    assert "more than an hour old" in flashed(confirm(client, cohort, old))
    right_key = confirm(client, cohort, forged(app, ticket))  # re-planned: still has the error

    assert right_key.status_code == 409
    assert "Nothing was imported" in right_key.get_data(as_text=True)
    assert counts() == before


def test_the_confirm_replans_and_refuses_when_the_cohort_changed_since_the_preview(client):
    cohort = CohortFactory()
    coach = MembershipFactory(
        cohort=cohort, user=UserFactory(email="coach@example.org"), role=CohortRole.COACH
    )
    sign_in(client, StaffFactory())
    data = csv_file(HEADER, "f@example.org,F,fellow,coach@example.org")
    token = token_in(upload(client, cohort, data).get_data(as_text=True))
    coach.status = MembershipStatus.WITHDRAWN
    db.session.commit()
    before = counts()

    response = confirm(client, cohort, token)

    assert response.status_code == 409
    assert "neither a coach in this file nor an active coach" in response.get_data(as_text=True)
    assert counts() == before


def test_a_failure_while_applying_writes_nothing(client, monkeypatch, upload_dir):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    data = csv_file(HEADER, "c@example.org,C,coach,", "f@example.org,F,fellow,c@example.org")
    token = token_in(upload(client, cohort, data).get_data(as_text=True))
    before = counts()

    def refuse(*args, **kwargs):
        raise sa.exc.IntegrityError("INSERT", {}, Exception("simulated"))

    with monkeypatch.context() as patch:
        patch.setattr(roster_services.audit, "record", refuse)
        response = confirm(client, cohort, token)

    assert response.status_code == 302
    assert counts() == before
    assert len(stored_files(upload_dir)) == 1  # kept, so the person can try again
    assert confirm(client, cohort, token).status_code == 302
    assert counts()["users"] == before["users"] + 2


def test_a_token_for_one_cohort_cannot_apply_to_another(client):
    first, second = CohortFactory(), CohortFactory()
    sign_in(client, StaffFactory())
    data = csv_file(HEADER, "f@example.org,F,fellow,")
    token = token_in(upload(client, first, data).get_data(as_text=True))
    before = counts()

    response = confirm(client, second, token)

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This import was prepared for another cohort." in page
    assert counts() == before


def test_a_token_prepared_by_one_person_cannot_be_used_by_another(app, client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    token = token_in(
        upload(client, cohort, csv_file(HEADER, "f@example.org,F,fellow,")).get_data(as_text=True)
    )
    sign_in(client, StaffFactory())
    before = counts()
    response = confirm(client, cohort, token)
    assert "prepared by someone else" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert counts() == before


def test_a_confirmed_import_cannot_be_replayed(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    token = token_in(
        upload(client, cohort, csv_file(HEADER, "f@example.org,F,fellow,")).get_data(as_text=True)
    )
    confirm(client, cohort, token)
    before = counts()
    response = confirm(client, cohort, token)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already been applied or has expired" in page
    assert counts() == before


# Coaching through an import -------------------------------------------------------------------


def test_a_coach_reassignment_by_import_keeps_the_history(ctx):
    cohort, actor = CohortFactory(), StaffFactory()
    old = MembershipFactory(
        cohort=cohort, user=UserFactory(email="old@example.org"), role=CohortRole.COACH
    )
    MembershipFactory(
        cohort=cohort, user=UserFactory(email="new@example.org"), role=CohortRole.COACH
    )
    fellow = MembershipFactory(cohort=cohort, user=UserFactory(email="fay@example.org"))
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.user_id, coach_id=old.user_id)

    result = plan(cohort, csv_file(HEADER, "fay@example.org,,fellow,new@example.org"))
    assert [(c.coach_from, c.coach_name) for c in result.coach_changes] == [
        (user("old@example.org").name, user("new@example.org").name)
    ]
    roster_services.apply_plan(actor, cohort, result)
    commit()

    assert assignments(cohort, "fay@example.org") == [
        ("old@example.org", False),
        ("new@example.org", True),
    ]
    ended = db.session.scalar(
        sa.select(CoachAssignment).where(CoachAssignment.coach_id == old.user_id)
    )
    assert ended is not None
    assert ended.ends_on == utcnow().date()
    again = plan(cohort, csv_file(HEADER, "fay@example.org,,fellow,new@example.org"))
    assert again.counts()["coaches"] == 0


def test_a_coach_who_stops_coaching_by_import_ends_their_assignments(ctx):
    cohort, actor = CohortFactory(), StaffFactory()
    coach = MembershipFactory(
        cohort=cohort, user=UserFactory(email="c@example.org"), role=CohortRole.COACH
    )
    fellow = MembershipFactory(cohort=cohort, user=UserFactory(email="f@example.org"))
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.user_id, coach_id=coach.user_id)

    roster_services.apply_plan(
        actor, cohort, plan(cohort, csv_file(HEADER, "c@example.org,,facilitator,"))
    )

    assert assignments(cohort, "f@example.org") == [("c@example.org", False)]
    assert membership(cohort, "c@example.org").role == CohortRole.FACILITATOR


# The upload attack list ----------------------------------------------------------------------


def test_a_file_one_byte_over_the_limit_is_refused_and_nothing_is_written(
    app, client, monkeypatch, upload_dir
):
    monkeypatch.setitem(app.config, "ROSTER_MAX_BYTES", 1000)
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    at_limit = csv_file(HEADER, "a@example.org,A,fellow,").ljust(1000, b"\n")
    before = counts()

    over = upload(client, cohort, at_limit + b"\n")
    far_over = upload(client, cohort, at_limit * 200)
    exact = upload(client, cohort, at_limit)

    assert over.status_code == 413
    assert far_over.status_code == 413
    assert "That file is larger than we accept." in over.get_data(as_text=True)
    assert exact.status_code == 200
    assert counts() == before
    assert len(stored_files(upload_dir)) == 1  # only the file within the limit


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (ELF, "This is not a text file."),
        (b"MZ\x90\x00\x03" + bytes(200), "This is not a text file."),
        (b"\xff\xfe\xfa" * 20, "This file is not UTF-8 text."),
        (HTML, "This is a web page, not a CSV file."),
        (b"PK\x03\x04 not really a zip", "This zip file is damaged"),
    ],
    ids=["elf", "exe", "latin", "html", "fake-zip"],
)
def test_a_file_that_is_not_a_roster_is_refused_cleanly(client, upload_dir, content, message):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    before = counts()
    response = upload(client, cohort, content, filename="roster.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'class="usa-error-message"' in html  # next to the file field
    assert counts() == before
    assert stored_files(upload_dir) == []


def bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("manifest.csv", "propertyName,value\n")
        archive.writestr("users.csv", b"0" * size)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_without_being_unpacked(app, client, monkeypatch, upload_dir):
    monkeypatch.setitem(app.config, "ROSTER_MAX_BYTES", 100_000)  # unpacked limit: 1 MB
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    data = bomb(20 * 1024 * 1024)
    assert len(data) < 100_000
    before = counts()
    response = upload(client, cohort, data, filename="roster.docx")
    assert "unpacks to more than a roster can be" in response.get_data(as_text=True)
    assert counts() == before
    assert stored_files(upload_dir) == []


def test_a_zip_bomb_with_a_lying_size_is_stopped_while_reading(ctx):
    data = bytearray(bomb(5 * 1024 * 1024))
    # Rewrite the declared sizes of users.csv to 10 bytes in both headers.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("users.csv")

    struct.pack_into("<I", data, info.header_offset + 22, 10)
    central = bytes(data).rfind(b"PK\x01\x02")  # users.csv is the last entry
    struct.pack_into("<I", data, central + 24, 10)
    with pytest.raises(roster.RosterFileError):
        roster.read_roster(bytes(data), max_uncompressed=1024 * 1024)


def test_a_zip_with_too_many_files_is_refused(ctx):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(roster.MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"f{i}.csv", "x")
    with pytest.raises(roster.RosterFileError, match="too many files"):
        roster.read_roster(buffer.getvalue())


def test_a_bundle_only_reads_its_expected_files_and_never_unpacks_to_disk(
    client, upload_dir, tmp_path
):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    bundle = oneroster(
        users=[or_user("u1", "Ana", "Alba", "ana@example.org")],
        enrollments=[or_enrollment("e1", "u1", "student")],
        extra={"../../etc/passwd": b"root:x:0:0", "..\\a": b"x", "sub/users.csv": b"junk"},
    )
    html = upload(client, cohort, bundle, filename="b.zip").get_data(as_text=True)
    assert "Ana Alba" in html
    confirm(client, cohort, token_in(html))
    assert membership(cohort, "ana@example.org").role == CohortRole.FELLOW
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    "filename",
    ["../../etc/passwd", "..\\a", "nul\x00byte.csv", "😀" * 300 + ".csv"],
    ids=["traversal", "backslash", "nul", "emoji"],
)
def test_hostile_file_names_are_never_used_for_storage(client, upload_dir, tmp_path, filename):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    response = upload(client, cohort, csv_file(HEADER, "a@example.org,A,fellow,"), filename)
    assert response.status_code == 200
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert files[0].parent == upload_dir / "imports"
    assert re.fullmatch(r"[0-9a-f]{32}\.csv", files[0].name)
    confirm(client, cohort, token_in(response.get_data(as_text=True)))
    assert membership(cohort, "a@example.org").role == CohortRole.FELLOW


def test_an_upload_without_the_csrf_token_is_refused(client, upload_dir):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    response = client.post(
        f"/cohorts/{cohort.id}/import",
        data={"kind": "auto", "locale": "en", "file": (io.BytesIO(b"email,name,role\n"), "r.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Check the import" not in response.get_data(as_text=True)
    assert stored_files(upload_dir) == []


def test_uploads_older_than_a_day_are_removed_when_a_new_one_arrives(client, upload_dir):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    first = upload(client, cohort, csv_file(HEADER, "a@example.org,A,fellow,"))
    assert first.status_code == 200
    [old] = stored_files(upload_dir)
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    upload(client, cohort, csv_file(HEADER, "b@example.org,B,fellow,"))
    remaining = stored_files(upload_dir)
    assert len(remaining) == 1
    assert old not in remaining


# Who may -----------------------------------------------------------------------------------


def test_a_member_without_staff_rights_gets_403_on_every_import_route(app, client, upload_dir):
    cohort = CohortFactory()
    member = UserFactory()
    MembershipFactory(cohort=cohort, user=member, role=CohortRole.FACILITATOR)
    ticket = stored_ticket(app, cohort, member, csv_file(HEADER, "f@example.org,F,fellow,"))
    sign_in(client, member)
    token = csrf_token(client)
    before = counts()

    page = client.get(f"/cohorts/{cohort.id}/import")
    posted = client.post(
        f"/cohorts/{cohort.id}/import",
        data={
            "csrf_token": token,
            "kind": "auto",
            "locale": "en",
            "file": (io.BytesIO(csv_file(HEADER, "x@example.org,X,fellow,")), "r.csv"),
        },
        content_type="multipart/form-data",
    )
    confirmed = client.post(
        f"/cohorts/{cohort.id}/import/confirm",
        data={"csrf_token": token, "token": forged(app, ticket)},
    )

    assert [page.status_code, posted.status_code, confirmed.status_code] == [403, 403, 403]
    assert counts() == before
    assert len(stored_files(upload_dir)) == 1  # only the one the test stored itself


def test_the_members_page_links_to_the_import_for_staff(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    html = client.get(f"/cohorts/{cohort.id}/members").get_data(as_text=True)
    assert f'href="/cohorts/{cohort.id}/import"' in html


def test_the_upload_page_has_one_heading_and_labelled_fields(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    html = client.get(f"/cohorts/{cohort.id}/import").get_data(as_text=True)
    assert html.count("<h1") == 1
    for field_id in ("file", "kind", "class_id", "locale"):
        assert f'for="{field_id}"' in html
    assert 'enctype="multipart/form-data"' in html


# Performance ----------------------------------------------------------------------------------


@pytest.mark.timing
def test_ten_thousand_fellows_and_fifty_coaches_plan_and_apply_in_under_ten_seconds(ctx):
    cohort, actor = CohortFactory(), StaffFactory()
    lines = [HEADER]
    lines += [f"coach{c}@example.org,Coach {c},coach," for c in range(50)]
    lines += [
        f"fellow{i}@example.org,Fellow Number {i},fellow,coach{i % 50}@example.org"
        for i in range(10_000)
    ]
    data = csv_file(*lines)

    started = time.perf_counter()
    result = plan(cohort, data)
    planned = time.perf_counter()
    assert result.ok, result.errors[:3]
    roster_services.apply_plan(actor, cohort, result)
    commit()
    elapsed = time.perf_counter() - started

    print(
        f"\n10,050-row roster: plan {planned - started:.2f} s, "
        f"apply {elapsed - (planned - started):.2f} s, total {elapsed:.2f} s"
    )
    assert elapsed < 10
    after = counts()
    assert after["memberships"] >= 10_050
    assert after["assignments"] >= 10_000
    assert after["outbox"] >= 10_050


def test_a_confirm_applies_only_what_the_preview_showed(app, client):
    """If the cohort changed between preview and confirm, nothing is applied."""
    cohort, staff = CohortFactory(), StaffFactory()
    sign_in(client, staff)
    preview = upload(client, cohort, csv_file(HEADER, "late@example.org,Late Comer,fellow,"))
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview.get_data(as_text=True))
    assert token
    # Meanwhile someone adds the same person as a coach by hand.
    MembershipFactory(
        cohort=cohort,
        role=CohortRole.COACH,
        user=UserFactory(email="late@example.org", name="Late Comer"),
    )
    response = confirm(client, cohort, token.group(1))
    assert response.status_code == 409
    assert "the cohort changed since the preview" in response.get_data(as_text=True)
    db.session.expire_all()
    member = db.session.scalar(
        sa.select(CohortMembership)
        .join(User, User.id == CohortMembership.user_id)
        .where(User.email == "late@example.org")
    )
    assert member.role == CohortRole.COACH
