"""Enrollment counts in: read a CSV file, plan the import, apply it all at once.

Like the school import, in three steps that the CLI, the browser's preview and its confirm all
go through, so what the preview shows is what gets applied and a file with any error changes
nothing:

- `read_counts_csv(text)` (pure): the long layout, one count a line,
  ``school_code,school_year,grade,measure,group,count``, or the wide one, one column per
  group, ``school_code,school_year,grade,measure,<group>,<group>…`` (any of the ten groups;
  a blank cell is no count). Every line is checked and errors name their line.
- `plan_counts_import(text)` (reads only): the school codes and school years looked up, and
  for every school-year in the file whether it replaces counts already there (and how many)
  or is new; `fingerprint()` digests the file and the state of those school-years.
- `apply_counts_import(actor, plan)`: each school-year in the file ends up holding exactly the
  file's counts (every measure and grade it held before is gone); other school-years are
  untouched. Bulk statements only: a delete per year and one executemany on SQLite; COPY on
  PostgreSQL, where school-years that already hold counts are merged through a temporary
  table (same result, far fewer foreign-key checks and index entries). Flushes and audits,
  never commits. If the school-years no longer hold the rows the plan counted, it refuses,
  so the caller rolls back.

One import at a time: `lock_imports()` makes an import wait until no other one is being
applied (PostgreSQL: a transaction-level advisory lock; SQLite: a writing request or command
holds the database's write lock from its first statement). The confirm and the command plan
under that lock (`plan_counts_import(text, lock=True)`), so they plan against the counts as the
other import left them; `apply_counts_import` takes it too and, for a plan made before it,
checks again under it that the school-years still hold what was planned. Two imports of the
same school-years therefore never mix: the second waits, then sees the first's counts and is
refused ("changed since the preview").

Schools must exist already (a code no school has is an error); inactive schools are fine,
since counts are history. A school year with a valid label that is not in the database yet
is created. The upload is kept between the preview and the confirm under
``UPLOAD_DIR/imports/counts-<person id>-<sha256>.csv`` (`keep_upload`, `read_kept_upload`).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import io
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from fellowship import audit
from fellowship.cycles.models import School
from fellowship.cycles.school_services import ImportFileError, LineError
from fellowship.db import db, utcnow
from fellowship.integration import figures
from fellowship.integration.models import GRADES, EnrollmentCount, Group, Measure
from fellowship.school_years import SchoolYear, get_or_create, parse_label

LONG = "long"
WIDE = "wide"
KEY_COLUMNS = ("school_code", "school_year", "grade", "measure")
LONG_HEADER = (*KEY_COLUMNS, "group", "count")
GROUP_COLUMNS = tuple(group.value for group in Group)
# Errors kept (and shown); the total is always counted. A wrong column in a 500,000-line file
# is one fix, not half a million messages.
MAX_ERRORS = 1000
MAX_COUNT = 1_000_000  # no school has more students; a bigger number is a typo
MAX_COUNT_DIGITS = len(str(MAX_COUNT))
IDS_PER_QUERY = 2000  # values in one IN (...): well under SQLite's and PostgreSQL's limits
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # config COUNTS_IMPORT_MAX_BYTES overrides it
KEPT_PREFIX = "counts-"
PART_PREFIX = ".upload-"  # a kept upload being written (renamed when complete)
KEPT_FOR = timedelta(days=1)
_SHA256 = re.compile(r"[0-9a-f]{64}")

# (school code, school year label, grade or None for all grades, measure, group)
Key = tuple[str, str, str | None, Measure, Group]

# The PostgreSQL advisory lock every enrollment import takes (`lock_imports`): one fixed
# bigint, made from a name so that no other lock of the app picks the same number by chance.
IMPORT_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"fellowship.integration: enrollment counts import").digest()[:8],
    "big",
    signed=True,
)
_LOCK_HELD = "integration.counts_import_lock"  # session.info: the transaction holding it


class CountsImportError(Exception):
    """The import as a whole was refused; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Words the file may use ------------------------------------------------------------------------


def _word(value: str) -> str:
    """A measure, group or header name as the import compares it: trimmed, lower case, spaces
    and hyphens as underscores ("Hispanic Latino" -> "hispanic_latino")."""
    return "_".join(value.strip().lower().replace("-", " ").split())


MEASURE_WORDS: dict[str, Measure] = {measure.value: measure for measure in Measure}
GROUP_WORDS: dict[str, Group] = {group.value: group for group in Group}
# Grades as written in the file (upper case) -> the stored grade; blank is all grades.
GRADE_WORDS: dict[str, str] = {
    **{grade: grade for grade in GRADES},
    "KG": "K",
    "PREK": "PK",
    "PRE-K": "PK",
    **{f"{n:02d}": str(n) for n in range(1, 13)},
}


def max_upload_bytes() -> int:
    """The largest counts file the browser accepts (config ``COUNTS_IMPORT_MAX_BYTES``)."""
    return int(current_app.config.get("COUNTS_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def decode_counts_csv(data: bytes) -> str:
    """UTF-8 text (with or without a byte-order mark); anything else is refused."""
    if b"\x00" in data:
        raise ImportFileError(_("This is not a text file. Save the counts as CSV."))
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


def _shown(value: str, limit: int = 40) -> str:
    value = " ".join("".join(ch for ch in value if ch.isprintable() or ch.isspace()).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def describe_key(key: Key) -> str:
    """A count's key in words: "NC-001, 2025-26, grade 3, enrollment, black"."""
    code, label, grade, measure, group = key
    where = _("all grades") if grade is None else _("grade %(grade)s", grade=grade)
    return f"{code}, {label}, {where}, {measure.value}, {group.value}"


# Reading --------------------------------------------------------------------------------------


@dataclass
class Reading:
    """What a file says: its counts by key, and the errors found (the first MAX_ERRORS)."""

    layout: str = LONG
    counts: dict[Key, int] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    # The first line each school code is on, and on how many lines it is.
    code_lines: dict[str, int] = field(default_factory=dict)
    code_line_count: Counter[str] = field(default_factory=Counter)
    # (school code, year label, measure) with grade counts but no all-grades count: the
    # figures read all-grades counts only, so the preview warns about them.
    without_all_grades: set[tuple[str, str, Measure]] = field(default_factory=set)

    def error(self, line: int | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(LineError(line, message))


def _header_layout(names: list[str]) -> tuple[str | None, list[str]]:
    """The layout the header names (long or wide) and its problems."""
    long_like = "group" in names or "count" in names
    wide_like = any(name in GROUP_WORDS for name in names)
    long_header = ",".join(LONG_HEADER)
    wide_header = ",".join((*KEY_COLUMNS, *GROUP_COLUMNS))
    if not long_like and not wide_like:
        missing_keys = [name for name in KEY_COLUMNS if name not in names]
        return None, [
            _(
                "The first line must be a header, either %(long)s (one count a line) or "
                "%(wide)s (one column per group; any of the groups).",
                long=long_header,
                wide=wide_header,
            )
            + (
                " "
                + _(
                    "This one lacks the column(s) %(columns)s.",
                    columns=", ".join(missing_keys),
                )
                if missing_keys
                else ""
            )
        ]
    layout = LONG if long_like else WIDE
    expected: Sequence[str] = LONG_HEADER if layout == LONG else (*KEY_COLUMNS, *GROUP_COLUMNS)
    problems: list[str] = []
    seen: set[str] = set()
    twice: list[str] = []
    for name in names:
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    required = LONG_HEADER if layout == LONG else KEY_COLUMNS
    missing = [name for name in required if name not in seen]
    unknown = [name or _("(empty)") for name in names if name not in expected]
    shown = long_header if layout == LONG else wide_header
    if missing:
        problems.append(
            _(
                "The header is missing the column(s) %(columns)s. The first line must be: "
                "%(header)s",
                columns=", ".join(missing),
                header=shown,
            )
        )
    if unknown:
        problems.append(
            _(
                "The header has column(s) this import does not know: %(columns)s. The first "
                "line must be: %(header)s",
                columns=", ".join(dict.fromkeys(unknown)),
                header=shown,
            )
        )
    if twice:
        problems.append(
            _("The header has the column(s) %(columns)s more than once.", columns=", ".join(twice))
        )
    return layout, problems


def _count_problem(column: str, raw: str) -> str:
    """Why a count cell that is not plain digits is refused (what was typed is shown)."""
    value = raw.strip()
    if not value:
        return _("the count is empty.")
    if value.startswith("-") and value[1:].isascii() and value[1:].isdigit():
        return _(
            "%(column)s “%(value)s” is negative: a count is 0 or more.",
            column=column,
            value=_shown(value),
        )
    if value.isascii() and value.isdigit():
        return _(
            "%(column)s “%(value)s” is more than %(max)s: check the number.",
            column=column,
            value=_shown(value),
            max=format_decimal(MAX_COUNT),
        )
    return _(
        "%(column)s “%(value)s” is not a whole number: write digits only, like 25 (no "
        "decimals, exponents, signs or thousands separators).",
        column=column,
        value=_shown(value),
    )


def _parse_count(raw: str) -> int | None:
    value = raw.strip()
    if value.isdigit() and value.isascii() and len(value) <= 20:
        number = int(value)
        if number <= MAX_COUNT:
            return number
    return None


_BAD = object()  # a cell the caches know to be wrong


class _RowReader:
    """Reads the cells of one line into keys.

    Big files repeat the same few values (5,000 codes, 10 years, 5 measures, 10 groups), so
    each cell as typed is looked up in a cache of what it means; a line whose every cell is
    known and whose count is plain digits takes the fast path. Anything else takes the slow
    path (`_key_cells` and the `_code`, `_year`… helpers), which names what is wrong and
    teaches the caches the values that are fine.
    """

    def __init__(self, reading: Reading, names: list[str]) -> None:
        self.reading = reading
        at = {name: index for index, name in enumerate(names)}
        self.i_code = at["school_code"]
        self.i_year = at["school_year"]
        self.i_grade = at["grade"]
        self.i_measure = at["measure"]
        self.i_group = at.get("group", -1)
        self.i_count = at.get("count", -1)
        self.group_columns = [
            (index, GROUP_WORDS[name]) for index, name in enumerate(names) if name in GROUP_WORDS
        ]
        # The cell as typed -> what it means (_BAD: known to be wrong).
        self.code_of: dict[str, str] = {}
        self.year_of: dict[str, Any] = {}
        self.grade_of: dict[str, Any] = {"": None}
        self.measure_of: dict[str, Any] = dict(MEASURE_WORDS)
        self.group_of: dict[str, Any] = dict(GROUP_WORDS)
        self.lines: dict[Key, int] = {}  # the line each key is first on

    # Learning what a cell means -------------------------------------------------------------

    def _code(self, raw: str, line: int, problems: list[str]) -> str | None:
        code = raw.strip()
        if not code:
            problems.append(_("the school code is empty."))
            return None
        if code not in self.reading.code_lines:
            self.reading.code_lines[code] = line
        self.code_of[raw] = code
        return code

    def _year(self, raw: str, problems: list[str]) -> str | None:
        label = raw.strip()
        if parse_label(label) is not None:
            self.year_of[raw] = label
            return label
        self.year_of[raw] = _BAD
        problems.append(
            _("school year “%(value)s” is not a school year like 2025-26.", value=_shown(raw))
            if label
            else _("the school year is empty: write it like 2025-26.")
        )
        return None

    def _grade(self, raw: str, problems: list[str]) -> Any:
        grade = GRADE_WORDS.get(raw.strip().upper(), _BAD) if raw.strip() else None
        self.grade_of[raw] = grade
        if grade is _BAD:
            problems.append(
                _(
                    "grade “%(value)s” is not one of %(grades)s (or blank for all grades).",
                    value=_shown(raw),
                    grades=", ".join(GRADES),
                )
            )
        return grade

    def _measure(self, raw: str, problems: list[str]) -> Measure | None:
        measure = MEASURE_WORDS.get(_word(raw))
        self.measure_of[raw] = measure if measure is not None else _BAD
        if measure is None:
            names = ", ".join(m.value for m in Measure)
            problems.append(
                _(
                    "measure “%(value)s” is not one of %(measures)s.",
                    value=_shown(raw),
                    measures=names,
                )
                if raw.strip()
                else _("the measure is empty: use one of %(measures)s.", measures=names)
            )
        return measure

    def _group(self, raw: str, problems: list[str]) -> Group | None:
        group = GROUP_WORDS.get(_word(raw))
        self.group_of[raw] = group if group is not None else _BAD
        if group is None:
            names = ", ".join(GROUP_COLUMNS)
            problems.append(
                _("group “%(value)s” is not one of %(groups)s.", value=_shown(raw), groups=names)
                if raw.strip()
                else _("the group is empty: use one of %(groups)s.", groups=names)
            )
        return group

    def _key_cells(
        self, line: int, cells: list[str], problems: list[str]
    ) -> tuple[str | None, str | None, Any, Measure | None]:
        """(code, year label, grade, measure) of a line, each None (grade: _BAD) when wrong."""
        raw = cells[self.i_code]
        code = self.code_of.get(raw) or self._code(raw, line, problems)
        raw = cells[self.i_year]
        label = self.year_of.get(raw)
        if label is None or label is _BAD:
            label = self._year(raw, problems)
        raw = cells[self.i_grade]
        grade = self.grade_of.get(raw, _BAD)
        if grade is _BAD:
            grade = self._grade(raw, problems)
        raw = cells[self.i_measure]
        measure = self.measure_of.get(raw)
        if measure is None or measure is _BAD:
            measure = self._measure(raw, problems)
        return code, label, grade, measure

    # Keeping counts ------------------------------------------------------------------------

    def _keep(self, line: int, key: Key, count: int) -> int:
        """Keep a count; returns the line its key is on (this one unless seen before)."""
        first = self.lines.setdefault(key, line)
        if first == line:
            self.reading.counts[key] = count
        return first

    # One line ------------------------------------------------------------------------------

    def read_long(self, line: int, cells: list[str]) -> None:
        code = self.code_of.get(cells[self.i_code])
        label = self.year_of.get(cells[self.i_year])
        grade = self.grade_of.get(cells[self.i_grade], _BAD)
        measure = self.measure_of.get(cells[self.i_measure])
        group = self.group_of.get(cells[self.i_group])
        raw = cells[self.i_count]
        if (
            code is None
            or label is None
            or label is _BAD
            or grade is _BAD
            or measure is None
            or measure is _BAD
            or group is None
            or group is _BAD
            or not (raw.isdigit() and raw.isascii() and len(raw) <= MAX_COUNT_DIGITS)
            or int(raw) > MAX_COUNT
        ):
            self._read_long_slowly(line, cells)
            return
        self.reading.code_line_count[code] += 1
        key: Key = (code, label, grade, measure, group)
        first = self._keep(line, key, int(raw))
        if first != line:
            self._duplicate(line, key, first)

    def _read_long_slowly(self, line: int, cells: list[str]) -> None:
        problems: list[str] = []
        code, label, grade, measure = self._key_cells(line, cells, problems)
        raw_group = cells[self.i_group]
        group = self.group_of.get(raw_group)
        if group is None or group is _BAD:
            group = self._group(raw_group, problems)
        raw_count = cells[self.i_count]
        count = _parse_count(raw_count)
        if count is None:
            problems.append(_count_problem("count", raw_count))
        if code is not None:
            self.reading.code_line_count[code] += 1
        if problems or code is None or label is None or measure is None or group is None:
            for problem in problems:
                self.reading.error(line, problem)
            return
        key: Key = (code, label, grade, measure, group)
        first = self._keep(line, key, cast(int, count))
        if first != line:
            self._duplicate(line, key, first)

    def _duplicate(self, line: int, key: Key, first: int) -> None:
        self.reading.error(
            line,
            _(
                "the count for %(key)s is already on line %(line)d.",
                key=describe_key(key),
                line=first,
            ),
        )

    def read_wide(self, line: int, cells: list[str]) -> None:
        problems: list[str] = []
        code, label, grade, measure = self._key_cells(line, cells, problems)
        if code is not None:
            self.reading.code_line_count[code] += 1
        values: list[tuple[Group, int]] = []
        for index, group in self.group_columns:
            raw = cells[index]
            if raw.isdigit() and raw.isascii() and len(raw) <= MAX_COUNT_DIGITS:
                number = int(raw)
                if number <= MAX_COUNT:
                    values.append((group, number))
                    continue
            if not raw.strip():
                continue  # a blank cell is no count
            count = _parse_count(raw)
            if count is None:
                problems.append(_count_problem(group.value, raw))
            else:
                values.append((group, count))
        if problems or code is None or label is None or measure is None:
            for problem in problems:
                self.reading.error(line, problem)
            return
        twice: dict[int, list[str]] = defaultdict(list)
        for group, count in values:
            first = self._keep(line, (code, label, grade, measure, group), count)
            if first != line:
                twice[first].append(group.value)
        for first, groups in twice.items():
            where = _("all grades") if grade is None else _("grade %(grade)s", grade=grade)
            self.reading.error(
                line,
                _(
                    "the counts for %(school)s, %(year)s, %(where)s, %(measure)s (%(groups)s) "
                    "are already on line %(line)d.",
                    school=code,
                    year=label,
                    where=where,
                    measure=measure.value,
                    groups=", ".join(groups),
                    line=first,
                ),
            )


def _check_grade_sums(reading: Reading, lines: dict[Key, int]) -> None:
    """The counts of the grades must not add up to more than the all-grades count of the same
    school, year, measure and group. Checked when the file has any all-grades count of that
    school, year and measure: a group whose all-grades count is missing there (a blank cell
    of the wide layout, a line the long one lacks) is compared as 0, and the error names it.

    Also notes in `reading.without_all_grades` the school, year and measure with grade counts
    and no all-grades count at all (not an error: a warning)."""
    sums: dict[tuple[str, str, Measure, Group], int] = defaultdict(int)
    grade_lines: dict[tuple[str, str, Measure, Group], list[int]] = defaultdict(list)
    counts = reading.counts
    for key, count in counts.items():
        if key[2] is not None:
            short = (key[0], key[1], key[3], key[4])
            sums[short] += count
            grade_lines[short].append(lines[key])
    if not sums:
        return  # all-grades counts only (the usual big file): nothing to compare
    graded = {(code, label, measure) for code, label, measure, _group in sums}
    # (code, label, measure) with grade counts -> the first line with one of its all-grades
    # counts.
    all_lines: dict[tuple[str, str, Measure], int] = {}
    for key in counts:
        if key[2] is None and (where := (key[0], key[1], key[3])) in graded:
            line = lines[key]
            if line < all_lines.get(where, line + 1):
                all_lines[where] = line
    reading.without_all_grades = graded - all_lines.keys()
    for (code, label, measure, group), total in sums.items():
        all_key: Key = (code, label, None, measure, group)
        all_grades = counts.get(all_key)
        found_on = sorted(grade_lines[(code, label, measure, group)])
        if all_grades is None:
            first = all_lines.get((code, label, measure))
            if first is None or total == 0:
                # No all-grades count of this school, year and measure at all (a warning,
                # see without_all_grades), or grades adding up to 0: nothing to compare.
                continue
            if reading.layout == WIDE:
                message = ngettext(
                    "the %(group)s cell of this all-grades line of %(school)s, %(year)s, "
                    "%(measure)s is blank, so it counts as 0, but the grade counts of "
                    "%(group)s add up to %(sum)d (line %(lines)s). Write the all-grades count "
                    "of %(group)s in it.",
                    "the %(group)s cell of this all-grades line of %(school)s, %(year)s, "
                    "%(measure)s is blank, so it counts as 0, but the grade counts of "
                    "%(group)s add up to %(sum)d (lines %(lines)s). Write the all-grades count "
                    "of %(group)s in it.",
                    len(found_on),
                    school=code,
                    year=label,
                    measure=measure.value,
                    group=group.value,
                    sum=total,
                    lines=_line_list(found_on),
                )
            else:
                message = ngettext(
                    "the all-grades counts of %(school)s, %(year)s, %(measure)s (the first is "
                    "on this line) have none for %(group)s, so it counts as 0, but the grade "
                    "counts of %(group)s add up to %(sum)d (line %(lines)s). Add a line with "
                    "the all-grades count of %(group)s.",
                    "the all-grades counts of %(school)s, %(year)s, %(measure)s (the first is "
                    "on this line) have none for %(group)s, so it counts as 0, but the grade "
                    "counts of %(group)s add up to %(sum)d (lines %(lines)s). Add a line with "
                    "the all-grades count of %(group)s.",
                    len(found_on),
                    school=code,
                    year=label,
                    measure=measure.value,
                    group=group.value,
                    sum=total,
                    lines=_line_list(found_on),
                )
            reading.error(first, message)
            continue
        if total <= all_grades:
            continue
        reading.error(
            lines[all_key],
            ngettext(
                "the grade counts for %(school)s, %(year)s, %(measure)s, %(group)s add up "
                "to %(sum)d (line %(lines)s), more than this all-grades count of %(total)d.",
                "the grade counts for %(school)s, %(year)s, %(measure)s, %(group)s add up "
                "to %(sum)d (lines %(lines)s), more than this all-grades count of %(total)d.",
                len(found_on),
                school=code,
                year=label,
                measure=measure.value,
                group=group.value,
                sum=total,
                lines=_line_list(found_on),
                total=all_grades,
            ),
        )


def _line_list(lines: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(line) for line in lines[:limit])
    return shown + (", …" if len(lines) > limit else "")


def read_counts_csv(text: str) -> Reading:
    """The counts of a CSV text by key, each line checked (the header is line 1).

    Header names are compared without case or surrounding spaces, in any order; the layout
    (long or wide) is told from them. Blank lines are skipped; a row must have as many values
    as the header (empty extra cells are fine).
    """
    reading = Reading()
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: _RowReader | None = None
    width = 0
    previous_end = 0
    try:
        for cells in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if rows is None:
                if not any(cell.strip() for cell in cells):
                    continue
                names = [_word(cell) for cell in cells]
                layout, problems = _header_layout(names)
                for problem in problems:
                    reading.error(line, problem)
                if problems or layout is None:
                    return reading
                reading.layout = layout
                rows = _RowReader(reading, names)
                width = len(names)
                read = rows.read_long if layout == LONG else rows.read_wide
                continue
            if len(cells) != width:
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) > width and not any(c.strip() for c in cells[width:]):
                    cells = cells[:width]
                else:
                    reading.error(
                        line,
                        _(
                            "this line has %(found)d values, but the header has %(expected)d "
                            "columns.",
                            found=len(cells),
                            expected=width,
                        ),
                    )
                    continue
            read(line, cells)
    except csv.Error:  # its English reason is not shown: the same advice in our words
        reading.error(
            previous_end + 1,
            _(
                "this line cannot be read as CSV: check its quotes (a value that starts "
                "with a quote must end with one) and that no value is extremely long."
            ),
        )
    if rows is None:
        if not reading.errors:
            reading.error(None, _("The file is empty."))
        return reading
    _check_grade_sums(reading, rows.lines)
    reading.errors.sort(key=lambda error: error.line or 0)
    return reading


# Planning -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolYearPlan:
    """One school-year of the file: what it holds now and what it will hold."""

    school_id: int
    code: str
    name: str
    is_active: bool
    year_label: str
    rows_before: int
    rows_after: int
    # Measures the school-year holds now that the file does not have: the import removes them.
    measures_lost: tuple[str, ...] = ()
    # Measures the file has grade counts of for this school-year but no all-grades count: the
    # figures read all-grades counts only, so the school shows no data for them.
    measures_without_all_grades: tuple[str, ...] = ()

    @property
    def replaces(self) -> bool:
        return self.rows_before > 0


@dataclass
class CountsPlan:
    layout: str = LONG
    counts: dict[Key, int] = field(default_factory=dict, repr=False)
    school_years: list[SchoolYearPlan] = field(default_factory=list, repr=False)
    school_ids: dict[str, int] = field(default_factory=dict, repr=False)
    year_ids: dict[str, int] = field(default_factory=dict)
    new_years: list[str] = field(default_factory=list)
    inactive_codes: list[str] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    error_count: int = 0
    source: str = ""  # sha256 of the text read
    state: str = ""  # digest of the school-years' rows as they were when planned
    # The transaction that held the import lock when this was planned (see `lock_imports`):
    # applied in it, the plan needs no second look at the counts.
    locked_in: object | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def has_work(self) -> bool:
        return bool(self.counts)

    @property
    def replaced(self) -> list[SchoolYearPlan]:
        return [item for item in self.school_years if item.replaces]

    @property
    def losing_measures(self) -> list[SchoolYearPlan]:
        """School-years whose counts of some measure the import removes without new ones."""
        return [item for item in self.school_years if item.measures_lost]

    @property
    def without_all_grades(self) -> list[SchoolYearPlan]:
        """School-years with grade counts of some measure and no all-grades count of it."""
        return [item for item in self.school_years if item.measures_without_all_grades]

    def counts_summary(self) -> dict[str, int]:
        replaced = sum(1 for item in self.school_years if item.replaces)
        return {
            "rows": len(self.counts),
            "schools": len(self.school_ids),
            "years": len({item.year_label for item in self.school_years}),
            "school_years_new": len(self.school_years) - replaced,
            "school_years_replaced": replaced,
            "rows_removed": sum(item.rows_before for item in self.school_years),
            "errors": self.error_count,
        }

    def fingerprint(self) -> str:
        """A digest of the file and of the rows it replaces, so a confirm applies exactly what
        was previewed."""
        return hashlib.sha256(f"{self.layout}\n{self.source}\n{self.state}".encode()).hexdigest()


def _chunks(values: Sequence[Any], size: int = IDS_PER_QUERY) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _ids(values: Sequence[int]) -> sa.BindParameter[Any]:
    """Ids written into the statement as numbers, not bound one by one: PostgreSQL then
    checks `IN (...)` with a hash table, and psycopg's prepared plans (a statement run five
    times is prepared) cannot be a generic plan that compares each row with every id."""
    return sa.bindparam(
        "ids", [int(value) for value in values], expanding=True, literal_execute=True, unique=True
    )


def _schools_by_code(codes: Iterable[str]) -> dict[str, tuple[int, str, bool]]:
    """{code: (id, name, is_active)}: one query per IDS_PER_QUERY codes."""
    found: dict[str, tuple[int, str, bool]] = {}
    for chunk in _chunks(sorted(codes)):
        for code, school_id, name, active in db.session.execute(
            sa.select(School.code, School.id, School.name, School.is_active).where(
                School.code.in_(chunk)
            )
        ):
            found[code] = (school_id, name, bool(active))
    return found


def _years_by_label(labels: Iterable[str]) -> dict[str, int]:
    return {
        label: year_id
        for label, year_id in db.session.execute(
            sa.select(SchoolYear.label, SchoolYear.id).where(SchoolYear.label.in_(sorted(labels)))
        )
    }


@dataclass(frozen=True)
class _Held:
    """What a school-year holds now: rows, their sum, the highest row id, the measures."""

    rows: int = 0
    total: int = 0
    highest: int = 0
    measures: frozenset[str] = frozenset()


def _existing_rows(
    school_ids: Sequence[int], year_ids: Sequence[int]
) -> dict[tuple[int, int], _Held]:
    """{(school id, year id): what it holds} for the school-years holding counts now."""
    table = cast(sa.Table, EnrollmentCount.__table__)
    found: dict[tuple[int, int], _Held] = {}
    if not school_ids or not year_ids:
        return found
    for chunk in _chunks(sorted(school_ids)):
        for school_id, year_id, measure, rows, total, highest in db.session.execute(
            sa.select(
                table.c.school_id,
                table.c.school_year_id,
                table.c.measure,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(table.c.count), 0),
                sa.func.max(table.c.id),
            )
            .where(table.c.school_id.in_(_ids(chunk)), table.c.school_year_id.in_(_ids(year_ids)))
            .group_by(table.c.school_id, table.c.school_year_id, table.c.measure)
        ):
            held = found.get((school_id, year_id), _Held())
            found[(school_id, year_id)] = _Held(
                rows=held.rows + int(rows),
                total=held.total + int(total),
                highest=max(held.highest, int(highest)),
                measures=held.measures | {str(getattr(measure, "value", measure))},
            )
    return found


def plan_counts_import(text: str, *, lock: bool = False) -> CountsPlan:
    """Read the text and compare it with the counts as they are (reads only). With `lock`,
    a plan that is going to be applied in this transaction: see `plan_from_reading`."""
    return plan_from_reading(
        read_counts_csv(text), source=hashlib.sha256(text.encode("utf-8")).hexdigest(), lock=lock
    )


def plan_from_reading(reading: Reading, *, source: str, lock: bool = False) -> CountsPlan:
    """Compare what a file says with the counts as they are (reads only); `source` is the
    digest of the text read, part of the fingerprint.

    With `lock` (a plan applied in this same transaction: the confirm, the command), the
    import lock is taken first (`lock_imports`) when the file reads without errors, so the
    plan sees the counts as any import applied meanwhile left them, and none can change them
    before this transaction ends."""
    plan = CountsPlan(
        layout=reading.layout,
        errors=list(reading.errors),
        error_count=reading.error_count,
        source=source,
    )
    if not reading.code_lines:
        if plan.ok:
            plan.errors.append(LineError(None, _("The file has a header but no counts.")))
            plan.error_count += 1
        return plan
    if lock and plan.ok:
        plan.locked_in = lock_imports()
    schools = _schools_by_code(reading.code_lines)
    unknown = [code for code in reading.code_lines if code not in schools]
    for code in unknown:
        more = reading.code_line_count[code] - 1
        message = _("no school has the code %(code)s.", code=_shown(code, 50))
        if more:
            message += " " + ngettext(
                "It is on %(num)d more line.", "It is on %(num)d more lines.", more
            )
        plan.error_count += 1
        plan.errors.append(LineError(reading.code_lines[code], message))
    if unknown:
        plan.errors.sort(key=lambda error: error.line or 0)
        del plan.errors[MAX_ERRORS:]
    if not plan.ok:
        return plan
    if not reading.counts:  # every line was blank past the header
        plan.errors.append(LineError(None, _("The file has a header but no counts.")))
        plan.error_count += 1
        return plan
    # Counts per (school code, year label, measure), in one pass at C speed; then per
    # school-year (what it will hold after the import) and the measures the file has for it.
    by_measure = Counter(map(itemgetter(0, 1, 3), reading.counts))
    pair_rows: Counter[tuple[str, str]] = Counter()
    file_measures: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (code, label, measure), rows in by_measure.items():
        pair_rows[(code, label)] += rows
        file_measures[(code, label)].add(measure.value)
    no_all_grades: dict[tuple[str, str], set[str]] = defaultdict(set)
    for code, label, measure in reading.without_all_grades:
        no_all_grades[(code, label)].add(measure.value)
    labels = {label for _code, label in pair_rows}
    plan.year_ids = _years_by_label(labels)
    plan.new_years = sorted(labels - plan.year_ids.keys())
    codes = sorted({code for code, _label in pair_rows})  # a wide line may hold no count
    plan.school_ids = {code: schools[code][0] for code in codes}
    plan.inactive_codes = [code for code in codes if not schools[code][2]]
    existing = _existing_rows(list(plan.school_ids.values()), list(plan.year_ids.values()))
    state = []
    for (code, label), rows_after in sorted(pair_rows.items()):
        school_id, name, active = schools[code]
        year_id = plan.year_ids.get(label)
        held = existing.get((school_id, year_id), _Held()) if year_id else _Held()
        plan.school_years.append(
            SchoolYearPlan(
                school_id=school_id,
                code=code,
                name=name,
                is_active=active,
                year_label=label,
                rows_before=held.rows,
                rows_after=rows_after,
                # A measure held now that the file lacks for this school-year is removed by
                # the import: the preview warns about it.
                measures_lost=tuple(
                    m.value
                    for m in Measure
                    if m.value in held.measures and m.value not in file_measures[(code, label)]
                ),
                measures_without_all_grades=tuple(
                    m.value for m in Measure if m.value in no_all_grades.get((code, label), ())
                ),
            )
        )
        state.append((school_id, label, held.rows, held.total, held.highest))
    plan.state = _state_digest(state)
    plan.counts = reading.counts
    return plan


def _state_digest(state: list[tuple[int, str, int, int, int]]) -> str:
    """The digest of what the school-years hold: (school id, year label, rows, their sum,
    the highest row id) each, in the plan's order."""
    return hashlib.sha256(repr(state).encode()).hexdigest()


def _state_now(plan: CountsPlan) -> str:
    """The `state` the plan would have if it were made now (the years looked up again: one
    may have been added since)."""
    year_ids = _years_by_label({item.year_label for item in plan.school_years})
    existing = _existing_rows(list(plan.school_ids.values()), list(year_ids.values()))
    state = []
    for item in plan.school_years:
        year_id = year_ids.get(item.year_label)
        held = existing.get((item.school_id, year_id), _Held()) if year_id else _Held()
        state.append((item.school_id, item.year_label, held.rows, held.total, held.highest))
    return _state_digest(state)


# One import at a time ---------------------------------------------------------------------------


def _lock_holder() -> object | None:
    """The transaction of the session that holds the import lock, if it is the current one."""
    session = db.session()
    held = session.info.get(_LOCK_HELD)
    return held if held is not None and held is session.get_transaction() else None


def lock_imports() -> object:
    """Wait until no other enrollment import is being applied, and make the others wait until
    this transaction ends (commit or rollback); returns the transaction holding it. Taking it
    again in the same transaction does nothing.

    PostgreSQL: a transaction-level advisory lock (`IMPORT_LOCK_KEY`). Each statement after it
    sees what was committed when it starts (READ COMMITTED), so what is read after it is the
    counts as the other import left them. SQLite has nothing to take: a request or command
    that writes holds the database's write lock from its first statement (BEGIN IMMEDIATE,
    `fellowship.db.configure_engine`), so two of them never overlap at all.
    """
    session = db.session()
    connection = session.connection()
    transaction = session.get_transaction()
    assert transaction is not None  # connection() began one
    if _lock_holder() is transaction:
        return transaction
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK_KEY})
    session.info[_LOCK_HELD] = transaction
    return transaction


# Applying -------------------------------------------------------------------------------------

_VALUES: dict[Measure | Group, str] = {
    **{measure: measure.value for measure in Measure},
    **{group: group.value for group in Group},
}
_COLUMNS = ("school_id", "school_year_id", "grade", "measure", "student_group", "count")


_TABLE = EnrollmentCount.__tablename__
_COLUMN_LIST = ", ".join(_COLUMNS)


def _copies(connection: sa.Connection) -> bool:
    """Whether rows go in by COPY (PostgreSQL through psycopg)."""
    return connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg"


def _copy_rows(connection: sa.Connection, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
    driver = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,  # type: ignore[union-attr]
        cursor.copy(f"COPY {table} ({_COLUMN_LIST}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _insert_rows(rows: list[tuple[int, int, str | None, str, str, int]]) -> None:
    """Insert plain tuples in bulk: COPY on PostgreSQL, executemany elsewhere."""
    connection = db.session.connection()
    if _copies(connection):
        _copy_rows(connection, _TABLE, rows)
        return
    paramstyle = connection.dialect.paramstyle
    if paramstyle not in ("qmark", "format", "pyformat"):
        # Any other driver: SQLAlchemy's own executemany (slower, always right).
        statement = sa.insert(cast(sa.Table, EnrollmentCount.__table__))
        connection.execute(statement, [dict(zip(_COLUMNS, row, strict=True)) for row in rows])
        return
    marks = ", ".join(["?" if paramstyle == "qmark" else "%s"] * len(_COLUMNS))
    # The table and columns are this module's constants; the values are bound parameters.
    sql = f"INSERT INTO {_TABLE} ({_COLUMN_LIST}) VALUES ({marks})"  # noqa: S608
    if connection.dialect.name != "sqlite":
        connection.exec_driver_sql(sql, rows)
        return
    # SQLite checks the measure and group CHECK constraints (value IN (...)) slowly: they
    # take two thirds of the insert. Every value here was already checked against the same
    # enums, and every count is 0 or more, so they are switched off for this one statement.
    # Foreign keys, NOT NULL and the unique indexes are still checked.
    connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    try:
        connection.exec_driver_sql(sql, rows)
    finally:
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")


def _delete_school_years(by_year: dict[int, list[int]]) -> int:
    """Delete every count of these schools in these years ({year id: school ids}); returns how
    many rows were deleted."""
    table = cast(sa.Table, EnrollmentCount.__table__)
    removed = 0
    for year_id, school_ids in sorted(by_year.items()):
        for chunk in _chunks(sorted(school_ids)):
            result = db.session.execute(
                sa.delete(table).where(
                    table.c.school_year_id == year_id, table.c.school_id.in_(_ids(chunk))
                )
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


# The file's rows joined with the stored ones on the whole key (grade NULL = all grades; a
# stored grade is never "").
_SAME_KEY = """t.school_id = e.school_id AND t.school_year_id = e.school_year_id
    AND t.measure = e.measure AND t.student_group = e.student_group
    AND coalesce(t.grade, '') = coalesce(e.grade, '')"""
# Constants only: no value from the file is ever part of these statements' text.
_MERGE = (
    # Counts of these school-years that the file does not have.
    f"""DELETE FROM {_TABLE} e
    USING (SELECT DISTINCT school_id, school_year_id FROM import_counts) p
    WHERE e.school_id = p.school_id AND e.school_year_id = p.school_year_id
    AND NOT EXISTS (SELECT 1 FROM import_counts t WHERE {_SAME_KEY})""",  # noqa: S608
    # Counts the file changes.
    f"""UPDATE {_TABLE} e SET count = t.count FROM import_counts t
    WHERE {_SAME_KEY} AND e.count <> t.count""",  # noqa: S608
    # Counts new to these school-years.
    f"""INSERT INTO {_TABLE} ({_COLUMN_LIST})
    SELECT {", ".join("t." + column for column in _COLUMNS)} FROM import_counts t
    WHERE NOT EXISTS (SELECT 1 FROM {_TABLE} e WHERE {_SAME_KEY})""",  # noqa: S608
)


def _merge_on_postgresql(
    connection: sa.Connection, rows: list[tuple[int, int, str | None, str, str, int]], expected: int
) -> int:
    """Make the school-years of `rows` hold exactly `rows`, on PostgreSQL, when some of them
    hold counts already; returns how many counts they held (nothing is changed unless that is
    `expected`).

    The same end as deleting the school-years and inserting the file, but much faster when
    most counts stay: every inserted row costs PostgreSQL two foreign-key checks and an entry
    in each index (its unique checks meet the just-deleted rows too), while a count that is
    unchanged costs nothing and a changed one an UPDATE without either. The file goes into a
    temporary table by COPY; three statements then delete, update and insert by joining it.
    """
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE import_counts (school_id integer NOT NULL, "
        "school_year_id integer NOT NULL, grade varchar(4), measure varchar(32) NOT NULL, "
        "student_group varchar(32) NOT NULL, count integer NOT NULL) ON COMMIT DROP"
    )
    _copy_rows(connection, "import_counts", rows)
    connection.exec_driver_sql("ANALYZE import_counts")
    there = connection.exec_driver_sql(
        f"SELECT count(*) FROM {_TABLE} e "  # noqa: S608 - constants only
        "JOIN (SELECT DISTINCT school_id, school_year_id FROM import_counts) p "
        "ON e.school_id = p.school_id AND e.school_year_id = p.school_year_id"
    ).scalar_one()
    if there == expected:
        for statement in _MERGE:
            connection.exec_driver_sql(statement)
    connection.exec_driver_sql("DROP TABLE import_counts")
    return int(there)


def apply_counts_import(
    actor: Any | None, plan: CountsPlan, *, file_label: str = "", source: str = "browser"
) -> dict[str, int]:
    """Replace each school-year of the plan with the file's counts; flushes and audits, never
    commits. Refuses (CountsImportError, nothing written by it that the caller keeps) a plan
    with errors, or when the school-years no longer hold the rows the plan counted."""
    if not plan.ok:
        raise CountsImportError(_("The file has errors: nothing was imported."))
    if not plan.has_work:
        raise CountsImportError(_("The file has no counts: nothing was imported."))
    db.session.flush()
    # A plan made under the lock in this transaction saw the counts as they are; any other
    # (a preview's, made in an earlier request) is checked again once the lock is held.
    planned_under_lock = plan.locked_in is not None and plan.locked_in is _lock_holder()
    lock_imports()
    if not planned_under_lock and _state_now(plan) != plan.state:
        raise CountsImportError(
            _(
                "Nothing was imported: the counts of these schools changed since the preview "
                "(someone imported counts of the same school-years meanwhile). Upload the "
                "file again to see what it would do now."
            )
        )
    year_ids = dict(plan.year_ids)
    for label in plan.new_years:
        year_ids[label] = get_or_create(label).id
    school_id = plan.school_ids
    value = _VALUES  # plain strings: a dict lookup is faster than Enum.value
    rows = [
        (school_id[code], year_ids[label], grade, value[measure], value[group], count)
        for (code, label, grade, measure, group), count in plan.counts.items()
    ]
    # Every school-year of the file is cleared, not only those that held rows when planned
    # (nor only years known then): rows someone added since make the numbers differ, and the
    # import is refused (a second guard: under the lock nobody else imports meanwhile).
    expected = sum(item.rows_before for item in plan.school_years)
    connection = db.session.connection()
    if expected and _copies(connection):
        there = _merge_on_postgresql(connection, rows, expected)
    else:
        by_year: dict[int, list[int]] = defaultdict(list)
        for item in plan.school_years:
            by_year[year_ids[item.year_label]].append(item.school_id)
        there = _delete_school_years(by_year)
        if there == expected:
            _insert_rows(rows)
    if there != expected:
        raise CountsImportError(
            _(
                "Nothing was imported: someone changed the counts of these schools while the "
                "import was running. Upload the file again to see what it would do now."
            )
        )
    # The figures of these school years (and of the years after) are now out of date.
    figures.counts_changed(year_ids[item.year_label] for item in plan.school_years)
    if connection.dialect.name == "postgresql":
        # Fresh planner statistics for the pages that read the counts next (and for the next
        # import), instead of waiting for autovacuum: a sample, ~0.1 s.
        connection.exec_driver_sql(f"ANALYZE {EnrollmentCount.__tablename__}")
    # Counts held in the session describe rows that are gone.
    for held in list(db.session.identity_map.values()):
        if isinstance(held, EnrollmentCount):
            db.session.expunge(held)
    summary = plan.counts_summary()
    del summary["errors"]
    audit.record(
        actor,
        "integration.counts_imported",
        None,
        details={
            **summary,
            "years_added": plan.new_years,
            "inactive_schools": len(plan.inactive_codes),
            "format": plan.layout,
            "file": file_label[:120],
            "source": source,
        },
    )
    db.session.flush()
    return summary


# Keeping the upload between the preview and the confirm ---------------------------------------


def _kept_dir(*, create: bool = False) -> Path:
    directory = Path(current_app.config["UPLOAD_DIR"]) / "imports"
    if create:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def _purge_kept() -> None:
    """Remove kept counts files older than a day (a preview is confirmable for an hour), and
    the leftovers of uploads whose writing never finished (a process killed meanwhile)."""
    directory = _kept_dir()
    if not directory.is_dir():
        return
    cutoff = (utcnow() - KEPT_FOR).timestamp()
    for pattern in (f"{KEPT_PREFIX}*", f"{PART_PREFIX}*.part"):
        for path in directory.glob(pattern):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


def _kept_path(owner: object, sha256: object) -> Path | None:
    """Where the upload of this person with this sha256 is kept; None for anything that is
    not a person's id and a sha256 (never a path from elsewhere)."""
    if (
        not isinstance(owner, int)
        or isinstance(owner, bool)
        or owner < 0
        or not isinstance(sha256, str)
        or not _SHA256.fullmatch(sha256)
    ):
        return None
    return _kept_dir() / f"{KEPT_PREFIX}{owner}-{sha256}.csv"


def keep_upload(owner: int, data: bytes) -> str:
    """Keep the bytes uploaded by this person (their id) under a name made of their id and
    the bytes' sha256 (written to a temporary file, then renamed): two people previewing the
    same file each have their own. Returns the sha256."""
    _purge_kept()
    digest = hashlib.sha256(data).hexdigest()
    target = _kept_path(owner, digest)
    if target is None:
        raise ValueError(f"not a person's id: {owner!r}")
    directory = _kept_dir(create=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=PART_PREFIX, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return digest


def read_kept_upload(owner: object, sha256: object) -> bytes:
    """The bytes this person uploaded with this sha256; CountsImportError when gone or
    changed."""
    gone = _("This import has already been applied or has expired. Upload the file again.")
    path = _kept_path(owner, sha256)
    if path is None:
        raise CountsImportError(gone)
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise CountsImportError(gone) from error
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), str(sha256)):
        raise CountsImportError(_("The stored file has changed. Upload the file again."))
    return data


def drop_kept_upload(owner: object, sha256: object) -> None:
    path = _kept_path(owner, sha256)
    if path is not None:
        path.unlink(missing_ok=True)


# Template files ---------------------------------------------------------------------------------


def template_csv(layout: str, year_label: str, code: str = "EXAMPLE-01") -> str:
    """A small example file: the header and two example lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if layout == WIDE:
        writer.writerow((*KEY_COLUMNS, *GROUP_COLUMNS))
        writer.writerow(
            (code, year_label, "", "enrollment", 3, 24, 118, 96, 0, 152, 19, 4, 201, 215)
        )
        writer.writerow((code, year_label, "K", "enrollment", 0, 2, 11, 9, 0, 14, 2, 0, 19, 19))
    else:
        writer.writerow(LONG_HEADER)
        writer.writerow((code, year_label, "", "enrollment", "black", 118))
        writer.writerow((code, year_label, "K", "enrollment", "black", 11))
    return out.getvalue()
