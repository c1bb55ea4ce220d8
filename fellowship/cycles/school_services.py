"""Schools: add and edit one at a time, and import many from a CSV file.

The import reads the file (`read_school_csv`, a pure function of its text), compares it with
the schools as they are (`plan_school_import`: one query per 10,000 codes, reads only) and
applies the plan (`apply_school_import`: one INSERT and one UPDATE statement for any number
of rows). The dry run, the browser's confirm step and the CLI all go through the same three
steps, so what the preview shows is what gets applied, and a file with any error changes
nothing. Re-importing updates schools by `code`; schools not in the file are left alone, and
the file never changes whether a school is active.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit
from fellowship.auth.models import User
from fellowship.cycles.models import School, SchoolLevel
from fellowship.db import db, utcnow

MAX_CODE = 32
MAX_NAME = 200
MAX_THEME = 120
MAX_REGION = 80
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")

CODE_NEEDED = _l("Enter the school's state code.")
CODE_TOO_LONG = _l("Keep the code to 32 characters or fewer.")
CODE_SHAPE = _l("Use only letters, digits, - and _ in the code (no spaces).")
NAME_NEEDED = _l("Enter the school's name.")
NAME_TOO_LONG = _l("Keep the name to 200 characters or fewer.")
LEVEL_NEEDED = _l("Choose the school's level.")
THEME_NEEDED = _l("Enter the magnet theme (for example STEM, or Arts and humanities).")
THEME_TOO_LONG = _l("Keep the magnet theme to 120 characters or fewer.")
REGION_TOO_LONG = _l("Keep the region to 80 characters or fewer.")
STALE_SCHOOL = _l(
    "Someone changed this school while you were editing it. Your changes were not saved. "
    "The form below still has what you typed, and the saved school is shown above it. Save "
    "again to replace it with yours."
)

# The import file -----------------------------------------------------------------------------

HEADER = ("code", "name", "level", "magnet", "magnet_theme", "pilot", "region")
YES_WORDS = frozenset({"yes"})
NO_WORDS = frozenset({"no"})
# The level column takes the stored values and their English labels (any case); the hyphen
# spellings are how a spreadsheet usually writes the en dash in the labels of K8 and K12.
LEVEL_WORDS: dict[str, SchoolLevel] = {
    **{level.value: level for level in SchoolLevel},
    "middle school": SchoolLevel.MIDDLE,
    "high school": SchoolLevel.HIGH,
    "k–8": SchoolLevel.K8,
    "k-8": SchoolLevel.K8,
    "k–12": SchoolLevel.K12,
    "k-12": SchoolLevel.K12,
}
CODES_PER_QUERY = 10_000


class SchoolError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleSchool(SchoolError):
    """Someone saved the school after this form was opened."""


class ImportFileError(Exception):
    """The upload as a whole cannot be read as a CSV file."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class SchoolData:
    """What the school form says."""

    code: str
    name: str
    level: str
    is_magnet: bool = False
    magnet_theme: str = ""
    is_pilot: bool = False
    region: str = ""
    is_active: bool = True


# One school at a time ------------------------------------------------------------------------


def _one_line(value: str) -> str:
    """Text on one line: control characters dropped, runs of whitespace made one space."""
    return " ".join("".join(ch for ch in value if ch.isprintable() or ch.isspace()).split())


def code_problem(code: str) -> str | None:
    if not code:
        return str(CODE_NEEDED)
    if len(code) > MAX_CODE:
        return str(CODE_TOO_LONG)
    if not CODE_PATTERN.fullmatch(code):
        return str(CODE_SHAPE)
    return None


def _clean(data: SchoolData) -> SchoolData:
    """The data with its text tidied, or SchoolError naming the field at fault."""
    code = (data.code or "").strip()
    problem = code_problem(code)
    if problem:
        raise SchoolError("code", problem)
    name = _one_line(data.name or "")
    if not name:
        raise SchoolError("name", str(NAME_NEEDED))
    if len(name) > MAX_NAME:
        raise SchoolError("name", str(NAME_TOO_LONG))
    if data.level not in {level.value for level in SchoolLevel}:
        raise SchoolError("level", str(LEVEL_NEEDED))
    theme = _one_line(data.magnet_theme or "") if data.is_magnet else ""
    if data.is_magnet and not theme:
        raise SchoolError("magnet_theme", str(THEME_NEEDED))
    if len(theme) > MAX_THEME:
        raise SchoolError("magnet_theme", str(THEME_TOO_LONG))
    region = _one_line(data.region or "")
    if len(region) > MAX_REGION:
        raise SchoolError("region", str(REGION_TOO_LONG))
    return SchoolData(
        code=code,
        name=name,
        level=data.level,
        is_magnet=bool(data.is_magnet),
        magnet_theme=theme,
        is_pilot=bool(data.is_pilot),
        region=region,
        is_active=bool(data.is_active),
    )


def _check_code_free(code: str, school_id: int | None) -> None:
    holder = db.session.execute(
        sa.select(School.id, School.name).where(School.code == code)
    ).one_or_none()
    if holder is not None and holder.id != school_id:
        raise SchoolError(
            "code",
            _(
                "The code %(code)s already belongs to %(name)s. Each school has its own code.",
                code=code,
                name=holder.name,
            ),
        )


_FIELDS = ("code", "name", "level", "is_magnet", "magnet_theme", "is_pilot", "region", "is_active")


def create_school(actor: User, data: SchoolData) -> School:
    cleaned = _clean(data)
    _check_code_free(cleaned.code, None)
    school = School(
        code=cleaned.code,
        name=cleaned.name,
        level=SchoolLevel(cleaned.level),
        is_magnet=cleaned.is_magnet,
        magnet_theme=cleaned.magnet_theme,
        is_pilot=cleaned.is_pilot,
        region=cleaned.region,
        is_active=cleaned.is_active,
    )
    db.session.add(school)
    db.session.flush()
    audit.record(actor, "school.created", school, details={"code": school.code})
    return school


def update_school(actor: User, school: School, data: SchoolData, *, version: int | None) -> School:
    """Save an edit made on the form opened at `version`; StaleSchool when someone saved since."""
    if version != school.version:
        raise StaleSchool(None, str(STALE_SCHOOL))
    cleaned = _clean(data)
    _check_code_free(cleaned.code, school.id)
    new_values: dict[str, Any] = {
        "code": cleaned.code,
        "name": cleaned.name,
        "level": SchoolLevel(cleaned.level),
        "is_magnet": cleaned.is_magnet,
        "magnet_theme": cleaned.magnet_theme,
        "is_pilot": cleaned.is_pilot,
        "region": cleaned.region,
        "is_active": cleaned.is_active,
    }
    changed = sorted(name for name, value in new_values.items() if getattr(school, name) != value)
    for name, value in new_values.items():
        setattr(school, name, value)
    school.updated_at = utcnow()  # always an UPDATE, so the version moves on
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleSchool(None, str(STALE_SCHOOL)) from error
    audit.record(actor, "school.updated", school, details={"changed": changed})
    return school


# The import: reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class LineError:
    """A problem at a line of the file (line None: the file as a whole)."""

    line: int | None
    message: str

    @property
    def text(self) -> str:
        if self.line is None:
            return self.message
        return _("Line %(line)d: %(problem)s", line=self.line, problem=self.message)


@dataclass(frozen=True)
class SchoolRow:
    """One school as the file describes it."""

    line: int
    code: str
    name: str
    level: SchoolLevel
    is_magnet: bool
    magnet_theme: str
    is_pilot: bool
    region: str

    def values(self) -> tuple[str, SchoolLevel, bool, str, bool, str]:
        """What an import sets on an existing school (everything but the code)."""
        return (
            self.name,
            self.level,
            self.is_magnet,
            self.magnet_theme,
            self.is_pilot,
            self.region,
        )


@dataclass
class Reading:
    rows: list[SchoolRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def decode_csv(data: bytes) -> str:
    """UTF-8 text (with or without a byte-order mark); anything else is refused."""
    if b"\x00" in data:
        raise ImportFileError(_("This is not a text file. Save the list of schools as CSV."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("This file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
        ) from error
    head = text.lstrip()[:15].lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<svg", "<script")):
        raise ImportFileError(_("This is a web page, not a CSV file."))
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    return text


def _header_problems(names: list[str]) -> list[str]:
    problems = []
    seen: set[str] = set()
    twice = []
    for name in names:
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    missing = [name for name in HEADER if name not in seen]
    unknown = [name or _("(empty)") for name in names if name not in HEADER]
    expected = ",".join(HEADER)
    if missing:
        problems.append(
            _(
                "The header is missing the column(s) %(columns)s. The first line must be: "
                "%(header)s",
                columns=", ".join(missing),
                header=expected,
            )
        )
    if unknown:
        problems.append(
            _(
                "The header has column(s) this import does not know: %(columns)s. The first "
                "line must be: %(header)s",
                columns=", ".join(dict.fromkeys(unknown)),
                header=expected,
            )
        )
    if twice:
        problems.append(
            _("The header has the column(s) %(columns)s more than once.", columns=", ".join(twice))
        )
    return problems


def _shown(value: str, limit: int = 40) -> str:
    value = _one_line(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _yes_no(column: str, raw: str, problems: list[str]) -> bool:
    word = raw.strip().lower()
    if word in YES_WORDS:
        return True
    if word not in NO_WORDS:
        problems.append(
            _("%(column)s “%(value)s” must be yes or no.", column=column, value=_shown(raw))
        )
    return False


def _read_row(line: int, values: dict[str, str], seen: dict[str, int]) -> SchoolRow | list[str]:
    problems: list[str] = []
    code = values["code"].strip()
    if not code:
        problems.append(_("the code is empty."))
    elif len(code) > MAX_CODE:
        problems.append(_("code “%(value)s” is longer than 32 characters.", value=_shown(code, 50)))
    elif not CODE_PATTERN.fullmatch(code):
        problems.append(
            _(
                "code “%(value)s” may have only letters, digits, - and _.",
                value=_shown(code),
            )
        )
    elif code in seen:
        problems.append(_("code %(code)s is already on line %(line)d.", code=code, line=seen[code]))
    name = _one_line(values["name"])
    if not name:
        problems.append(_("the name is empty."))
    elif len(name) > MAX_NAME:
        problems.append(_("the name is longer than 200 characters."))
    raw_level = values["level"]
    level = LEVEL_WORDS.get(_one_line(raw_level).lower())
    if level is None:
        problems.append(
            _(
                "level “%(value)s” is not one of %(levels)s.",
                value=_shown(raw_level),
                levels=", ".join(level.value for level in SchoolLevel),
            )
            if raw_level.strip()
            else _(
                "the level is empty: use one of %(levels)s.",
                levels=", ".join(level.value for level in SchoolLevel),
            )
        )
    is_magnet = _yes_no("magnet", values["magnet"], problems)
    theme = _one_line(values["magnet_theme"]) if is_magnet else ""
    if is_magnet and not theme:
        problems.append(_("magnet is yes, so magnet_theme is needed."))
    elif len(theme) > MAX_THEME:
        problems.append(_("magnet_theme is longer than 120 characters."))
    is_pilot = _yes_no("pilot", values["pilot"], problems)
    region = _one_line(values["region"])
    if len(region) > MAX_REGION:
        problems.append(_("region is longer than 80 characters."))
    if code and code not in seen:
        seen[code] = line
    if problems or level is None:
        return problems
    return SchoolRow(
        line=line,
        code=code,
        name=name,
        level=level,
        is_magnet=is_magnet,
        magnet_theme=theme,
        is_pilot=is_pilot,
        region=region,
    )


def read_school_csv(text: str) -> Reading:
    """The rows of a CSV text, each with the line it starts on (the header is line 1).

    Header names are compared without case or surrounding spaces, in any order; blank lines
    are skipped; a row must have as many values as the header (empty extra cells are fine).
    """
    reading = Reading()
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    seen: dict[str, int] = {}
    previous_end = 0
    try:
        for cells in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                for problem in _header_problems(header):
                    reading.errors.append(LineError(line, problem))
                if reading.errors:
                    return reading
                continue
            if len(cells) > len(header) and not any(c.strip() for c in cells[len(header) :]):
                cells = cells[: len(header)]
            if len(cells) != len(header):
                reading.errors.append(
                    LineError(
                        line,
                        _(
                            "this line has %(found)d values, but the header has %(expected)d "
                            "columns.",
                            found=len(cells),
                            expected=len(header),
                        ),
                    )
                )
                continue
            result = _read_row(line, dict(zip(header, cells, strict=True)), seen)
            if isinstance(result, SchoolRow):
                reading.rows.append(result)
            else:
                reading.errors.extend(LineError(line, problem) for problem in result)
    except csv.Error:  # its English reason is not shown: the same advice in our words
        reading.errors.append(
            LineError(
                previous_end + 1,
                _(
                    "this line cannot be read as CSV: check its quotes (a value that starts "
                    "with a quote must end with one) and that no value is extremely long."
                ),
            )
        )
    if header is None:
        reading.errors.append(LineError(None, _("The file is empty.")))
    return reading


# The import: planning ------------------------------------------------------------------------


@dataclass(frozen=True)
class Existing:
    id: int
    version: int
    name: str
    level: SchoolLevel
    is_magnet: bool
    magnet_theme: str
    is_pilot: bool
    region: str

    def values(self) -> tuple[str, SchoolLevel, bool, str, bool, str]:
        return (
            self.name,
            self.level,
            self.is_magnet,
            self.magnet_theme,
            self.is_pilot,
            self.region,
        )


@dataclass(frozen=True)
class Update:
    school_id: int
    version: int  # the school's version when planned: the apply refuses if it moved
    row: SchoolRow
    changed: tuple[str, ...]  # the fields that change


@dataclass
class ImportPlan:
    to_add: list[SchoolRow] = field(default_factory=list)
    to_update: list[Update] = field(default_factory=list)
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def has_work(self) -> bool:
        return bool(self.to_add or self.to_update)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.to_add),
            "updated": len(self.to_update),
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }

    def fingerprint(self) -> str:
        """A digest of exactly what would change, so a confirm applies what was previewed."""
        work = (
            [(row.code, row.values()) for row in self.to_add],
            [(u.school_id, u.version, u.row.code, u.row.values()) for u in self.to_update],
        )
        return hashlib.sha256(repr(work).encode()).hexdigest()


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def existing_schools(codes: list[str]) -> dict[str, Existing]:
    """{code: the school as it is} for these codes: one query per 10,000 codes."""
    found: dict[str, Existing] = {}
    for chunk in _chunks(sorted(set(codes)), CODES_PER_QUERY):
        rows = db.session.execute(
            sa.select(
                School.code,
                School.id,
                School.version,
                School.name,
                School.level,
                School.is_magnet,
                School.magnet_theme,
                School.is_pilot,
                School.region,
            ).where(School.code.in_(chunk))
        )
        for code, *rest in rows:
            found[code] = Existing(*rest)
    return found


_COLUMN_NAMES = ("name", "level", "magnet", "magnet_theme", "pilot", "region")


def plan_school_import(text: str) -> ImportPlan:
    """Read the text and compare it with the schools as they are (reads only)."""
    reading = read_school_csv(text)
    plan = ImportPlan(errors=list(reading.errors))
    if not reading.errors and not reading.rows:
        plan.errors.append(LineError(None, _("The file has a header but no schools.")))
    if plan.errors:
        return plan
    existing = existing_schools([row.code for row in reading.rows])
    for row in reading.rows:
        current = existing.get(row.code)
        if current is None:
            plan.to_add.append(row)
        elif current.values() == row.values():
            plan.unchanged += 1
        else:
            changed = tuple(
                name
                for name, old, new in zip(
                    _COLUMN_NAMES, current.values(), row.values(), strict=True
                )
                if old != new
            )
            plan.to_update.append(Update(current.id, current.version, row, changed))
    return plan


# The import: applying ------------------------------------------------------------------------


def apply_school_import(
    actor: User | None, plan: ImportPlan, *, file_label: str = "", source: str = "browser"
) -> dict[str, int]:
    """Apply a plan without errors: one INSERT and one UPDATE for all rows; flushes and
    audits, never commits. A school changed since the plan was made refuses the whole
    import (SchoolError), so the caller rolls back and nothing is half-imported."""
    if not plan.ok:
        raise SchoolError(None, _("The file has errors: nothing was imported."))
    now = utcnow()
    if plan.to_add:
        db.session.execute(
            sa.insert(School),
            [
                {
                    "code": row.code,
                    "name": row.name,
                    "level": row.level,
                    "is_magnet": row.is_magnet,
                    "magnet_theme": row.magnet_theme,
                    "is_pilot": row.is_pilot,
                    "region": row.region,
                    "is_active": True,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for row in plan.to_add
            ],
        )
    if plan.to_update:
        table = cast(sa.Table, School.__table__)
        statement = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("p_id"), table.c.version == sa.bindparam("p_was"))
            .values(
                name=sa.bindparam("p_name"),
                level=sa.bindparam("p_level"),
                is_magnet=sa.bindparam("p_magnet"),
                magnet_theme=sa.bindparam("p_theme"),
                is_pilot=sa.bindparam("p_pilot"),
                region=sa.bindparam("p_region"),
                version=sa.bindparam("p_version"),
                updated_at=sa.bindparam("p_now"),
            )
        )
        result = db.session.execute(
            statement,
            [
                {
                    "p_id": update.school_id,
                    "p_was": update.version,
                    "p_name": update.row.name,
                    "p_level": update.row.level.value,
                    "p_magnet": update.row.is_magnet,
                    "p_theme": update.row.magnet_theme,
                    "p_pilot": update.row.is_pilot,
                    "p_region": update.row.region,
                    "p_version": update.version + 1,
                    "p_now": now,
                }
                for update in plan.to_update
            ],
        )
        if getattr(result, "rowcount", len(plan.to_update)) != len(plan.to_update):
            raise SchoolError(
                None,
                _(
                    "Nothing was imported: someone changed some of these schools while the "
                    "import was running. Upload the file again to see what is left to do."
                ),
            )
        # Schools already in the session hold the old values: read them again when used.
        for held in list(db.session.identity_map.values()):
            if isinstance(held, School):
                db.session.expire(held)
    counts = plan.counts()
    del counts["errors"]
    audit.record(
        actor,
        "school.imported",
        None,
        details={**counts, "file": file_label[:120], "source": source},
    )
    db.session.flush()
    return counts
