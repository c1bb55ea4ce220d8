"""Roster import: read a CSV file or a OneRoster 1.1 bundle, and plan what it would change.

Reading (`read_roster`) is a pure function of the uploaded bytes; planning (`plan_roster`) is a
pure function of what was read and of a snapshot of the cohort (`load_state`, the only
function here that touches the database, and only to read). The dry run and the confirmed
import go through exactly the same steps, so what the preview shows is what gets applied.

A roster says who is in the cohort and in which role. It never removes anyone: people in the
cohort but not in the file are left as they are. Existing people keep their name and global
role. Re-importing the same file plans nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from fellowship.auth.models import Role, User
from fellowship.cohorts.models import (
    CoachAssignment,
    CohortMembership,
    CohortRole,
    MembershipStatus,
)
from fellowship.db import db

CSV = "csv"
ONEROSTER = "oneroster"
AUTO = "auto"
ZIP_MAGIC = b"PK\x03\x04"

# A OneRoster bundle is small CSV files; anything beyond these limits is refused unread.
MAX_ZIP_MEMBERS = 100
DEFAULT_MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_NAME_LENGTH = 120
MAX_EMAIL_LENGTH = 254

ROLE_WORDS: dict[str, CohortRole] = {
    "fellow": CohortRole.FELLOW,
    "coach": CohortRole.COACH,
    "facilitator": CohortRole.FACILITATOR,
    "reviewer": CohortRole.REVIEWER,
    # The same roles in Spanish.
    "becario": CohortRole.FELLOW,
    "becaria": CohortRole.FELLOW,
    "facilitador": CohortRole.FACILITATOR,
    "facilitadora": CohortRole.FACILITATOR,
    "revisor": CohortRole.REVIEWER,
    "revisora": CohortRole.REVIEWER,
}
STATUS_WORDS: dict[str, MembershipStatus] = {
    "active": MembershipStatus.ACTIVE,
    "withdrawn": MembershipStatus.WITHDRAWN,
    "completed": MembershipStatus.COMPLETED,
    "activo": MembershipStatus.ACTIVE,
    "activa": MembershipStatus.ACTIVE,
    "retirado": MembershipStatus.WITHDRAWN,
    "retirada": MembershipStatus.WITHDRAWN,
    "completado": MembershipStatus.COMPLETED,
    "completada": MembershipStatus.COMPLETED,
}

CSV_REQUIRED = ("email", "name", "role")
ONEROSTER_FILES: dict[str, tuple[str, ...]] = {
    # file: the columns it must have (others are allowed and ignored)
    "manifest.csv": ("propertyname", "value"),
    "orgs.csv": ("sourcedid", "name"),
    "users.csv": ("sourcedid", "status", "enableduser", "role", "givenname", "familyname", "email"),
    "enrollments.csv": ("sourcedid", "status", "classsourcedid", "usersourcedid", "role"),
}
ONEROSTER_OPTIONAL = {"classes.csv": ("sourcedid", "title")}
ONEROSTER_ROLES = {"student": CohortRole.FELLOW, "teacher": CohortRole.COACH}
ONEROSTER_STAFF_ROLE = "administrator"


class RosterFileError(Exception):
    """The upload as a whole cannot be read (not text, not a zip, a zip bomb...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LineError:
    """A problem at a line of a file (line None: the file as a whole)."""

    file: str
    line: int | None
    message: str


@dataclass(frozen=True)
class Skipped:
    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class Where:
    file: str
    line: int


@dataclass
class Entry:
    """One person the file puts in the cohort (or, for OneRoster administrators, on staff)."""

    where: Where  # the row that names the role (the CSV line, the enrollment)
    person_where: Where  # the row that describes the person (the CSV line, users.csv)
    email: str
    name: str
    role: CohortRole | None  # None: a global staff person with no cohort role
    status: MembershipStatus | None = None  # None: keep the current status (active if new)
    coach_email: str = ""
    locale: str | None = None

    @property
    def staff(self) -> bool:
        return self.role is None


@dataclass
class Reading:
    """What a file says, before it is compared with the database."""

    entries: list[Entry] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


# Reading bytes ----------------------------------------------------------------------------


def detect_kind(data: bytes) -> str:
    """OneRoster for a zip file, CSV for anything else (checked further when read)."""
    return ONEROSTER if data.startswith(ZIP_MAGIC) else CSV


def decode_text(data: bytes) -> str:
    """UTF-8 text (a byte-order mark is allowed); anything else is refused."""
    if b"\x00" in data:
        raise RosterFileError(_("This is not a text file. Save the roster as CSV (UTF-8)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterFileError(
            _("This file is not UTF-8 text. Save the roster as “CSV UTF-8” and upload it again.")
        ) from error
    head = text.lstrip()[:15].lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<svg", "<script")):
        raise RosterFileError(_("This is a web page, not a CSV file."))
    return text


def read_roster(
    data: bytes,
    *,
    kind: str = AUTO,
    file_label: str = "roster.csv",
    class_id: str = "",
    max_uncompressed: int = DEFAULT_MAX_UNCOMPRESSED,
) -> Reading:
    """Read an upload of the given kind (or detected from its bytes)."""
    detected = detect_kind(data)
    if kind == AUTO:
        kind = detected
    if kind == CSV and detected == ONEROSTER:
        raise RosterFileError(_("This is a zip file. Choose “OneRoster bundle” or upload a CSV."))
    if kind == ONEROSTER and detected != ONEROSTER:
        raise RosterFileError(_("A OneRoster bundle must be a zip file."))
    if kind == ONEROSTER:
        return read_oneroster(data, class_id=class_id, max_uncompressed=max_uncompressed)
    return read_csv(decode_text(data), file_label=file_label)


@dataclass
class _Table:
    file: str
    header_ok: bool
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _normal_header(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _table(text: str, file: str, required: Iterable[str], errors: list[LineError]) -> _Table:
    """Rows of a CSV text as {header: value} with their first line number (header = line 1).

    Header names are case-insensitive; blank lines are skipped; extra columns are ignored.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    table = _Table(file=file, header_ok=False)
    previous_end = 0
    header: list[str] | None = None
    try:
        for cells in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [_normal_header(cell) for cell in cells]
                missing = [name for name in required if name not in header]
                if missing:
                    errors.append(
                        LineError(
                            file,
                            line,
                            _(
                                "The header is missing the column(s): %(columns)s.",
                                columns=", ".join(missing),
                            ),
                        )
                    )
                    return table
                table.header_ok = True
                continue
            values = {
                name: (cells[i].strip() if i < len(cells) else "")
                for i, name in enumerate(header)
                if name
            }
            table.rows.append((line, values))
    except csv.Error as error:
        errors.append(
            LineError(
                file,
                previous_end + 1,
                _("This line cannot be read as CSV (%(reason)s).", reason=str(error)),
            )
        )
        table.header_ok = False
        return table
    if header is None:
        errors.append(LineError(file, None, _("The file is empty.")))
    return table


def _clean_name(value: str) -> str:
    """A name on one line: runs of whitespace become one space, control characters go."""
    return " ".join("".join(ch for ch in value if ch.isprintable() or ch.isspace()).split())


def _email(value: str) -> str | None:
    """The address in lower case, or None when it is not an email address."""
    value = value.strip()
    if not value or len(value) > MAX_EMAIL_LENGTH:
        return None
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None
    return value.lower()


def read_csv(text: str, *, file_label: str = "roster.csv") -> Reading:
    """`email,name,role,coach_email` (+ optional `status`, `language`) → entries."""
    reading = Reading()
    table = _table(text, file_label, CSV_REQUIRED, reading.errors)
    if not table.header_ok:
        return reading
    for line, values in table.rows:
        where = Where(file_label, line)
        problems: list[str] = []
        raw_email = values.get("email", "")
        email = _email(raw_email)
        if email is None:
            problems.append(
                _("“%(value)s” is not an email address.", value=raw_email[:80])
                if raw_email
                else _("The email address is missing.")
            )
        role_word = values.get("role", "").lower()
        role = ROLE_WORDS.get(role_word)
        if role is None:
            problems.append(
                _(
                    "Unknown role “%(value)s”: use fellow, coach, facilitator or reviewer.",
                    value=values.get("role", "")[:40],
                )
            )
        status: MembershipStatus | None = None
        status_word = values.get("status", "").lower()
        if status_word:
            status = STATUS_WORDS.get(status_word)
            if status is None:
                problems.append(
                    _(
                        "Unknown status “%(value)s”: use active, withdrawn or completed.",
                        value=values.get("status", "")[:40],
                    )
                )
        locale = (values.get("language") or values.get("locale") or "").lower() or None
        coach_raw = values.get("coach_email", "")
        coach_email = ""
        if coach_raw:
            coach_email = _email(coach_raw) or ""
            if not coach_email:
                problems.append(
                    _("The coach email “%(value)s” is not an email address.", value=coach_raw[:80])
                )
        for problem in problems:
            reading.errors.append(LineError(where.file, where.line, problem))
        if problems or email is None or role is None:
            continue
        reading.entries.append(
            Entry(
                where=where,
                person_where=where,
                email=email,
                name=_clean_name(values.get("name", "")),
                role=role,
                status=status,
                coach_email=coach_email,
                locale=locale,
            )
        )
    return reading


# OneRoster 1.1 ----------------------------------------------------------------------------


def _zip_members(data: bytes, max_uncompressed: int) -> dict[str, bytes]:
    """The expected files of a bundle, read with hard limits; nothing else is opened.

    Names are matched exactly at the root of the archive (case-insensitively), so a member
    called `../../etc/passwd` is never read, and nothing is ever extracted to disk.
    """
    wanted = set(ONEROSTER_FILES) | set(ONEROSTER_OPTIONAL)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise RosterFileError(_("This zip file is damaged and cannot be read.")) from error
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise RosterFileError(
                _("This zip file has too many files (%(n)d) for a roster.", n=len(infos))
            )
        if sum(info.file_size for info in infos) > max_uncompressed:
            raise RosterFileError(_("This zip file unpacks to more than a roster can be."))
        chosen: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename.lower()
            if name in wanted and not info.is_dir():
                if name in chosen:
                    raise RosterFileError(
                        _("This zip file holds %(file)s twice.", file=info.filename)
                    )
                chosen[name] = info
        contents: dict[str, bytes] = {}
        budget = max_uncompressed
        for name, info in chosen.items():
            if info.flag_bits & 0x1:
                raise RosterFileError(_("This zip file is encrypted."))
            try:
                with archive.open(info) as handle:
                    # Never trust the declared size: read at most what is left of the budget.
                    content = handle.read(budget + 1)
            except (
                zipfile.BadZipFile,
                zlib.error,
                NotImplementedError,
                RuntimeError,
                EOFError,
                OSError,
            ) as error:
                raise RosterFileError(_("This zip file is damaged and cannot be read.")) from error
            if len(content) > budget:
                raise RosterFileError(_("This zip file unpacks to more than a roster can be."))
            budget -= len(content)
            contents[name] = content
    return contents


def _bundle_table(
    contents: dict[str, bytes], file: str, required: Iterable[str], errors: list[LineError]
) -> _Table | None:
    raw = contents.get(file)
    if raw is None:
        return None
    try:
        text = decode_text(raw)
    except RosterFileError as error:
        errors.append(LineError(file, None, error.message))
        return _Table(file=file, header_ok=False)
    return _table(text, file, required, errors)


@dataclass
class _User:
    where: Where
    status: str
    enabled: bool
    role: str
    name: str
    email_raw: str


def read_oneroster(
    data: bytes, *, class_id: str = "", max_uncompressed: int = DEFAULT_MAX_UNCOMPRESSED
) -> Reading:
    """A OneRoster 1.1 CSV bundle: the enrollments of one class become the roster."""
    reading = Reading()
    errors = reading.errors
    contents = _zip_members(data, max_uncompressed)
    tables: dict[str, _Table | None] = {}
    for file, required in {**ONEROSTER_FILES, **ONEROSTER_OPTIONAL}.items():
        tables[file] = _bundle_table(contents, file, required, errors)
        if tables[file] is None and file in ONEROSTER_FILES:
            errors.append(LineError(file, None, _("The bundle has no %(file)s.", file=file)))
    if not all((table := tables[file]) is not None and table.header_ok for file in ONEROSTER_FILES):
        return reading

    manifest = tables["manifest.csv"]
    assert manifest is not None
    for line, values in manifest.rows:
        if values.get("propertyname", "").lower() == "oneroster.version":
            version = values.get("value", "")
            if version not in {"1.0", "1.1"}:
                errors.append(
                    LineError(
                        "manifest.csv",
                        line,
                        _(
                            "This is OneRoster version %(version)s; only 1.1 bundles can be "
                            "imported.",
                            version=version[:20],
                        ),
                    )
                )
                return reading

    users: dict[str, _User] = {}
    users_table = tables["users.csv"]
    assert users_table is not None
    for line, values in users_table.rows:
        sourced_id = values.get("sourcedid", "")
        if not sourced_id:
            errors.append(LineError("users.csv", line, _("The sourcedId is missing.")))
            continue
        if sourced_id in users:
            errors.append(
                LineError(
                    "users.csv",
                    line,
                    _(
                        "The sourcedId %(id)s is already on line %(line)d.",
                        id=sourced_id[:60],
                        line=users[sourced_id].where.line,
                    ),
                )
            )
            continue
        name = _clean_name(f"{values.get('givenname', '')} {values.get('familyname', '')}")
        users[sourced_id] = _User(
            where=Where("users.csv", line),
            status=values.get("status", "").lower(),
            enabled=values.get("enableduser", "true").lower() not in {"false", "0", "no"},
            role=values.get("role", "").lower(),
            name=name,
            email_raw=values.get("email", ""),
        )

    titles: dict[str, str] = {}
    classes_table = tables["classes.csv"]
    if classes_table is not None and classes_table.header_ok:
        for _line, values in classes_table.rows:
            if values.get("sourcedid"):
                titles[values["sourcedid"]] = values.get("title", "")

    enrollments_table = tables["enrollments.csv"]
    assert enrollments_table is not None
    live: list[tuple[int, dict[str, str]]] = []
    for line, values in enrollments_table.rows:
        if values.get("status", "").lower() == "tobedeleted":
            reading.skipped.append(
                Skipped("enrollments.csv", line, _("Marked to be deleted (tobedeleted)."))
            )
            continue
        live.append((line, values))
    class_ids = list(dict.fromkeys(values.get("classsourcedid", "") for _line, values in live))

    def describe(ids: list[str]) -> str:
        return "; ".join(f"{i} ({titles[i]})" if titles.get(i) else i for i in ids)

    if not live:
        errors.append(LineError("enrollments.csv", None, _("There are no enrollments to import.")))
        return reading
    if class_id and class_id not in class_ids:
        errors.append(
            LineError(
                "enrollments.csv",
                None,
                _(
                    "No enrollment is in the class %(chosen)s. The classes in this file are: "
                    "%(classes)s.",
                    chosen=class_id[:100],
                    classes=describe(class_ids),
                ),
            )
        )
        return reading
    if not class_id and len(class_ids) > 1:
        errors.append(
            LineError(
                "enrollments.csv",
                None,
                _(
                    "The enrollments are in %(n)d classes. Choose the class to import: "
                    "%(classes)s.",
                    n=len(class_ids),
                    classes=describe(class_ids),
                ),
            )
        )
        return reading
    chosen = class_id or class_ids[0]

    for line, values in live:
        if values.get("classsourcedid", "") != chosen:
            continue
        where = Where("enrollments.csv", line)
        user_id = values.get("usersourcedid", "")
        user = users.get(user_id)
        if user is None:
            errors.append(
                LineError(
                    where.file,
                    line,
                    _("No user has the sourcedId %(id)s in users.csv.", id=user_id[:60]),
                )
            )
            continue
        if user.status == "tobedeleted":
            reading.skipped.append(
                Skipped(where.file, line, _("The user is marked to be deleted (tobedeleted)."))
            )
            continue
        if not user.enabled:
            reading.skipped.append(
                Skipped(where.file, line, _("The user's account is disabled (enabledUser)."))
            )
            continue
        word = values.get("role", "").lower() or user.role
        role: CohortRole | None
        if word == ONEROSTER_STAFF_ROLE:
            role = None
        elif word in ONEROSTER_ROLES:
            role = ONEROSTER_ROLES[word]
        else:
            reading.skipped.append(
                Skipped(
                    where.file,
                    line,
                    _(
                        "The role “%(role)s” is not imported (only student, teacher and "
                        "administrator are).",
                        role=word[:40],
                    ),
                )
            )
            continue
        email = _email(user.email_raw)
        if email is None:
            errors.append(
                LineError(
                    user.where.file,
                    user.where.line,
                    _("“%(value)s” is not an email address.", value=user.email_raw[:80])
                    if user.email_raw
                    else _("The email address is missing."),
                )
            )
            continue
        reading.entries.append(
            Entry(where=where, person_where=user.where, email=email, name=user.name, role=role)
        )
    return reading


# The cohort as it is ----------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    name: str
    role: Role
    is_active: bool


@dataclass(frozen=True)
class Membership:
    id: int
    user_id: int
    role: CohortRole
    status: MembershipStatus


@dataclass
class CohortState:
    """What planning needs to know about the cohort and the people named in the file."""

    people: dict[str, Person] = field(default_factory=dict)  # by email
    memberships: dict[int, Membership] = field(default_factory=dict)  # by user id
    current_coach: dict[int, int] = field(default_factory=dict)  # fellow id -> coach id
    people_by_id: dict[int, Person] = field(default_factory=dict)


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load_state(cohort_id: int, emails: Iterable[str]) -> CohortState:
    """The cohort's members and coach assignments, and the accounts of `emails` (read-only).

    Three queries plus one per 500 addresses not already in the cohort.
    """
    state = CohortState()
    person_columns = (User.id, User.email, User.name, User.role, User.is_active)

    def keep(row: tuple[int, str, str, Role, bool]) -> Person:
        person = Person(*row)
        state.people[person.email] = person
        state.people_by_id[person.id] = person
        return person

    members = db.session.execute(
        sa.select(
            CohortMembership.id,
            CohortMembership.user_id,
            CohortMembership.role,
            CohortMembership.status,
            *person_columns,
        )
        .join(User, User.id == CohortMembership.user_id)
        .where(CohortMembership.cohort_id == cohort_id)
    )
    for membership_id, user_id, role, status, *person in members:
        keep((person[0], person[1], person[2], person[3], person[4]))
        state.memberships[user_id] = Membership(membership_id, user_id, role, status)
    missing = sorted({email for email in emails if email not in state.people})
    for chunk in _chunks(missing):
        for row in db.session.execute(sa.select(*person_columns).where(User.email.in_(chunk))):
            keep((row[0], row[1], row[2], row[3], row[4]))
    assignments = db.session.execute(
        sa.select(CoachAssignment.fellow_id, CoachAssignment.coach_id).where(
            CoachAssignment.cohort_id == cohort_id, CoachAssignment.ends_on.is_(None)
        )
    )
    state.current_coach = {fellow_id: coach_id for fellow_id, coach_id in assignments}
    return state


# Planning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPerson:
    email: str
    name: str
    staff: bool
    locale: str
    where: Where


@dataclass(frozen=True)
class NewMembership:
    email: str
    name: str
    role: CohortRole
    status: MembershipStatus
    user_id: int | None  # None: the person is created by this import
    where: Where


@dataclass(frozen=True)
class MembershipChange:
    membership_id: int
    user_id: int
    email: str
    name: str
    role_from: CohortRole
    role_to: CohortRole
    status_from: MembershipStatus
    status_to: MembershipStatus
    where: Where


@dataclass(frozen=True)
class CoachChange:
    fellow_email: str
    fellow_name: str
    fellow_id: int | None  # None: created by this import
    coach_from: str | None  # name of the current coach
    coach_email: str
    coach_name: str
    coach_id: int | None  # None: created by this import
    where: Where


@dataclass
class Plan:
    people_to_create: list[NewPerson] = field(default_factory=list)
    memberships_to_add: list[NewMembership] = field(default_factory=list)
    changes: list[MembershipChange] = field(default_factory=list)
    coach_changes: list[CoachChange] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def has_work(self) -> bool:
        return bool(
            self.people_to_create or self.memberships_to_add or self.changes or self.coach_changes
        )

    def fingerprint(self) -> str:
        """A digest of exactly what would change, so a confirm applies what was previewed."""
        work = (self.people_to_create, self.memberships_to_add, self.changes, self.coach_changes)
        return hashlib.sha256(repr(work).encode()).hexdigest()

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.people_to_create),
            "added": len(self.memberships_to_add),
            "changed": len(self.changes),
            "coaches": len(self.coach_changes),
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "errors": len(self.errors),
        }


def plan_roster(
    reading: Reading,
    state: CohortState,
    *,
    may_grant_staff: bool,
    default_locale: str = "en",
    locales: Iterable[str] = ("en", "es"),
) -> Plan:
    """Compare what the file says with the cohort as it is: what to create, add and change."""
    plan = Plan(skipped=list(reading.skipped), errors=list(reading.errors))
    known_locales = set(locales)
    seen: dict[str, Where] = {}
    # Each accepted entry with the target role and status of its membership (None: staff).
    targets: list[tuple[Entry, Person | None, CohortRole | None, MembershipStatus | None]] = []

    def error(where: Where, message: str) -> None:
        plan.errors.append(LineError(where.file, where.line, message))

    for entry in reading.entries:
        if entry.email in seen:
            first = seen[entry.email]
            error(
                entry.where,
                _(
                    "%(email)s is already on line %(line)d of %(file)s.",
                    email=entry.email,
                    line=first.line,
                    file=first.file,
                ),
            )
            continue
        seen[entry.email] = entry.where
        person = state.people.get(entry.email)
        problems = False
        if person is not None and not person.is_active:
            error(
                entry.person_where,
                _(
                    "The account of %(email)s is deactivated. Reactivate it first.",
                    email=entry.email,
                ),
            )
            problems = True
        if person is None:
            name = entry.name.strip()
            if not name:
                error(
                    entry.person_where,
                    _("%(email)s has no account yet: the name is needed.", email=entry.email),
                )
                problems = True
            elif len(name) > MAX_NAME_LENGTH:
                error(
                    entry.person_where,
                    _("The name is longer than %(n)d characters.", n=MAX_NAME_LENGTH),
                )
                problems = True
            if entry.locale is not None and entry.locale not in known_locales:
                error(
                    entry.where,
                    _(
                        "Unknown language “%(value)s”: use one of %(codes)s.",
                        value=entry.locale[:20],
                        codes=", ".join(sorted(known_locales)),
                    ),
                )
                problems = True
            if entry.staff and not may_grant_staff:
                error(entry.where, _("Only an administrator can import staff (administrator)."))
                problems = True
        if entry.coach_email and entry.role != CohortRole.FELLOW:
            error(entry.where, _("A coach can be given only on a fellow's row."))
            problems = True
        if problems:
            continue
        membership = state.memberships.get(person.id) if person is not None else None
        if entry.role is None:
            targets.append((entry, person, None, None))
        else:
            keep_or_new = membership.status if membership is not None else MembershipStatus.ACTIVE
            targets.append((entry, person, entry.role, entry.status or keep_or_new))

    # Who will be an active coach of the cohort once the file is applied.
    in_file = {entry.email for entry, *_rest in targets}
    coaches: dict[str, tuple[str, int | None]] = {}  # email -> (name, user id or None if new)
    for existing in state.memberships.values():
        holder = state.people_by_id[existing.user_id]
        if (
            existing.role == CohortRole.COACH
            and existing.status == MembershipStatus.ACTIVE
            and holder.email not in in_file
            and holder.is_active
        ):
            coaches[holder.email] = (holder.name, holder.id)
    for entry, person, role, target_status in targets:
        if role == CohortRole.COACH and target_status == MembershipStatus.ACTIVE:
            coaches[entry.email] = (
                (person.name, person.id) if person else (entry.name.strip(), None)
            )

    for entry, person, role, status in targets:
        changed = False
        if person is None:
            plan.people_to_create.append(
                NewPerson(
                    email=entry.email,
                    name=entry.name.strip(),
                    staff=entry.staff,
                    locale=entry.locale or default_locale,
                    where=entry.person_where,
                )
            )
            changed = True
        name = person.name if person else entry.name.strip()
        membership = state.memberships.get(person.id) if person else None
        if role is not None and status is not None:
            if membership is None:
                plan.memberships_to_add.append(
                    NewMembership(
                        email=entry.email,
                        name=name,
                        role=role,
                        status=status,
                        user_id=person.id if person else None,
                        where=entry.where,
                    )
                )
                changed = True
            elif (membership.role, membership.status) != (role, status):
                assert person is not None
                plan.changes.append(
                    MembershipChange(
                        membership_id=membership.id,
                        user_id=person.id,
                        email=entry.email,
                        name=name,
                        role_from=membership.role,
                        role_to=role,
                        status_from=membership.status,
                        status_to=status,
                        where=entry.where,
                    )
                )
                changed = True
        if entry.coach_email:
            coach = coaches.get(entry.coach_email)
            if entry.coach_email == entry.email:
                error(entry.where, _("A fellow cannot be their own coach."))
                continue
            if coach is None:
                error(
                    entry.where,
                    _(
                        "%(email)s is neither a coach in this file nor an active coach of "
                        "the cohort.",
                        email=entry.coach_email,
                    ),
                )
                continue
            if status != MembershipStatus.ACTIVE:
                error(entry.where, _("Only an active fellow can be assigned a coach."))
                continue
            # A fellow who stays an active fellow keeps their coach unless the file names
            # another; one who was not an active fellow has no current coach to keep.
            was_active_fellow = membership is not None and (
                membership.role,
                membership.status,
            ) == (CohortRole.FELLOW, MembershipStatus.ACTIVE)
            current_id = (
                state.current_coach.get(person.id) if person and was_active_fellow else None
            )
            coach_name, coach_id = coach
            if current_id is None or current_id != coach_id:
                current = state.people_by_id.get(current_id) if current_id else None
                plan.coach_changes.append(
                    CoachChange(
                        fellow_email=entry.email,
                        fellow_name=name,
                        fellow_id=person.id if person else None,
                        coach_from=current.name if current else None,
                        coach_email=entry.coach_email,
                        coach_name=coach_name,
                        coach_id=coach_id,
                        where=entry.where,
                    )
                )
                changed = True
        if not changed:
            plan.unchanged += 1
    plan.errors.sort(key=lambda e: (e.file, e.line or 0))
    return plan
