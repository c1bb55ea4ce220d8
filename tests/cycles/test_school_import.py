"""The school CSV import: reading the file (header, every line error, BOM, yes/no, levels),
planning against the schools as they are (add / update by code / unchanged), applying all or
nothing, the audit row, 5,000 rows in seconds, and `flask schools import`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_file

from fellowship.audit import AuditEvent
from fellowship.cycles import school_services as schools
from fellowship.cycles.models import School, SchoolLevel
from fellowship.extensions import db
from tests.cycles.helpers import SchoolFactory
from tests.cycles.school_helpers import (
    HEADER,
    audit_actions,
    big_csv,
    csv_bytes,
    csv_text,
    schools_table,
)

GOOD = "NC-001,Hillside Elementary,elementary,yes,STEM,no,North"


def errors_of(text: str) -> list[str]:
    return [error.text for error in schools.read_school_csv(text).errors]


# Reading ------------------------------------------------------------------------------------


def test_a_good_file_reads_into_rows_with_their_line_numbers(ctx):
    reading = schools.read_school_csv(
        csv_text(GOOD, "", "NC-002,Lakeview Middle,middle,no,,yes,South")
    )
    assert reading.errors == []
    first, second = reading.rows
    assert (first.line, first.code, first.level, first.is_magnet, first.magnet_theme) == (
        2,
        "NC-001",
        SchoolLevel.ELEMENTARY,
        True,
        "STEM",
    )
    # The blank line 3 is skipped, and the next school is on line 4.
    assert (second.line, second.is_magnet, second.is_pilot, second.region) == (
        4,
        False,
        True,
        "South",
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "code,name,level,magnet,pilot,region",
            "Line 1: The header is missing the column(s) magnet_theme.",
        ),
        (
            "code,name,level,magnet,magnet_theme,pilot,region,phone",
            "Line 1: The header has column(s) this import does not know: phone.",
        ),
        (
            "code,name,level,magnet,magnet_theme,pilot,region,name",
            "Line 1: The header has the column(s) name more than once.",
        ),
        (
            "school code,name,level,magnet,magnet_theme,pilot,region",
            "Line 1: The header is missing the column(s) code.",
        ),
    ],
)
def test_header_problems_are_reported_clearly_and_no_line_is_read(ctx, header, expected):
    found = errors_of(csv_text(GOOD, header=header))
    assert len(found) >= 1
    assert any(text.startswith(expected) for text in found), found
    if "missing" in expected or "not know" in expected:
        assert any(HEADER in text for text in found)


def test_the_header_is_not_case_sensitive_and_its_columns_may_come_in_any_order(ctx):
    reading = schools.read_school_csv(
        csv_text(
            "North,no,STEM,yes,elementary,Hillside Elementary,NC-001",
            header=" Region,PILOT,Magnet_Theme,magnet,level,name,code ",
        )
    )
    assert reading.errors == []
    assert reading.rows[0].code == "NC-001"
    assert reading.rows[0].region == "North"


ROW_ERRORS = [
    # (line, message)
    (",Hillside,elementary,no,,no,", "Line 2: the code is empty."),
    ("A" * 33 + ",Hillside,elementary,no,,no,", "Line 2: code “" + "A" * 33 + "” is longer"),
    ("NC 001,Hillside,elementary,no,,no,", "Line 2: code “NC 001” may have only letters"),
    ("NC-001,,elementary,no,,no,", "Line 2: the name is empty."),
    ("NC-001," + "x" * 201 + ",elementary,no,,no,", "Line 2: the name is longer than 200"),
    (
        "NC-001,Hillside,primary,no,,no,",
        "Line 2: level “primary” is not one of elementary, middle, high, k8, k12, other.",
    ),
    ("NC-001,Hillside,,no,,no,", "Line 2: the level is empty: use one of elementary"),
    ("NC-001,Hillside,elementary,maybe,,no,", "Line 2: magnet “maybe” must be yes or no."),
    ("NC-001,Hillside,elementary,,,no,", "Line 2: magnet “” must be yes or no."),
    ("NC-001,Hillside,elementary,true,,no,", "Line 2: magnet “true” must be yes or no."),
    ("NC-001,Hillside,elementary,yes,,no,", "Line 2: magnet is yes, so magnet_theme is needed."),
    ("NC-001,Hillside,elementary,yes," + "t" * 121 + ",no,", "Line 2: magnet_theme is longer"),
    ("NC-001,Hillside,elementary,no,,1,", "Line 2: pilot “1” must be yes or no."),
    ("NC-001,Hillside,elementary,no,,no," + "r" * 81, "Line 2: region is longer than 80"),
    ("NC-001,Hillside,elementary,no,,no", "Line 2: this line has 6 values, but the header has 7"),
    ("NC-001,Hillside,elementary,no,,no,North,x", "Line 2: this line has 8 values"),
]


@pytest.mark.parametrize(("row", "expected"), ROW_ERRORS)
def test_each_kind_of_line_error_is_reported_with_its_line_number(ctx, row, expected):
    found = errors_of(csv_text(row))
    assert any(text.startswith(expected) for text in found), found


def test_one_line_can_have_several_errors_and_each_is_reported(ctx):
    found = errors_of(csv_text("NC 1,,primary,maybe,,sometimes,"))
    assert len(found) == 5, found
    assert all(text.startswith("Line 2: ") for text in found)


def test_a_code_twice_in_the_file_names_the_first_line(ctx):
    found = errors_of(csv_text(GOOD, "NC-002,Other,high,no,,no,", GOOD))
    assert found == ["Line 4: code NC-001 is already on line 2."]


def test_a_quoted_value_over_several_lines_keeps_the_numbering_of_the_file(ctx):
    text = csv_text('NC-001,"Hillside\nElementary",elementary,no,,no,', "NC-002,X,nursery,no,,no,")
    reading = schools.read_school_csv(text)
    assert reading.rows[0].name == "Hillside Elementary"  # one line, spaces collapsed
    assert next(e.text for e in reading.errors).startswith("Line 4: level “nursery”")


def test_empty_extra_cells_at_the_end_of_a_line_are_fine(ctx):
    assert errors_of(csv_text(GOOD + ",,")) == []


@pytest.mark.parametrize(
    ("word", "expected"),
    [("yes", True), ("YES", True), ("Yes", True), (" yes ", True), ("no", False), ("NO", False)],
)
def test_yes_and_no_are_read_in_any_case(ctx, word, expected):
    reading = schools.read_school_csv(csv_text(f"NC-001,Hillside,high,no,,{word},"))
    assert reading.errors == []
    assert reading.rows[0].is_pilot is expected


@pytest.mark.parametrize(
    ("word", "level"),
    [
        ("elementary", SchoolLevel.ELEMENTARY),
        ("Elementary", SchoolLevel.ELEMENTARY),
        ("middle", SchoolLevel.MIDDLE),
        ("Middle school", SchoolLevel.MIDDLE),
        ("HIGH SCHOOL", SchoolLevel.HIGH),
        ("k8", SchoolLevel.K8),
        ("K–8", SchoolLevel.K8),
        ("K-8", SchoolLevel.K8),
        ("k12", SchoolLevel.K12),
        ("K–12", SchoolLevel.K12),
        ("Other", SchoolLevel.OTHER),
    ],
)
def test_a_level_is_its_value_or_its_english_label_in_any_case(ctx, word, level):
    reading = schools.read_school_csv(csv_text(f"NC-001,Hillside,{word},no,,no,"))
    assert reading.errors == []
    assert reading.rows[0].level == level


def test_the_theme_of_a_school_that_is_not_a_magnet_is_not_kept(ctx):
    reading = schools.read_school_csv(csv_text("NC-001,Hillside,high,no,Arts,no,"))
    assert reading.rows[0].magnet_theme == ""


@pytest.mark.parametrize("bom", [False, True])
def test_utf8_with_or_without_a_byte_order_mark_is_read(ctx, bom):
    data = csv_bytes("NC-001,Escuela Número Uno,elementary,yes,Inmersión dual,no,Sur", bom=bom)
    reading = schools.read_school_csv(schools.decode_csv(data))
    assert reading.errors == []
    assert reading.rows[0].name == "Escuela Número Uno"
    assert reading.rows[0].code == "NC-001"  # no BOM glued to the first header name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"  \n\n", "The file is empty."),
        (b"code,name\x00", "This is not a text file."),
        ("code,name,level\nNC,Caf\u00e9,high".encode("latin-1"), "This file is not UTF-8 text."),
        (b"<!DOCTYPE html><html></html>", "This is a web page"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "This is not a text file."),
    ],
)
def test_a_file_that_is_not_csv_text_is_refused_as_a_whole(ctx, data, message):
    with pytest.raises(schools.ImportFileError) as raised:
        schools.decode_csv(data)
    assert raised.value.message.startswith(message)


def test_a_csv_field_over_the_reader_limit_is_a_line_error_not_a_crash(ctx):
    found = errors_of(csv_text(GOOD, 'NC-002,"' + "x" * 200_000 + '",high,no,,no,'))
    assert found
    assert found[-1].startswith("Line 3: this line cannot be read as CSV")


def test_a_line_the_csv_reader_refuses_is_explained_in_our_words_not_the_readers(ctx):
    found = errors_of(csv_text(GOOD, 'NC-002,"Unclosed' + "x" * 200_000 + ",high,no,,no,"))
    assert found[-1] == (
        "Line 3: this line cannot be read as CSV: check its quotes (a value that starts with "
        "a quote must end with one) and that no value is extremely long."
    )
    assert "field larger than field limit" not in found[-1]  # the csv module's English


def test_an_empty_column_name_is_named_in_the_readers_language(ctx):
    found = errors_of(csv_text(GOOD + ",", header=HEADER + ","))
    assert any("does not know: (empty)." in text for text in found), found
    source = Path(schools.__file__)
    marked = {
        message for _line, message, _comments, _context in extract_from_file("python", source)
    }
    assert "(empty)" in marked


# Planning and applying ---------------------------------------------------------------------


def test_the_plan_adds_new_codes_updates_changed_ones_and_counts_the_unchanged(ctx):
    same = SchoolFactory(
        code="NC-001",
        name="Hillside Elementary",
        level=SchoolLevel.ELEMENTARY,
        is_magnet=True,
        magnet_theme="STEM",
        is_pilot=False,
        region="North",
    )
    changed = SchoolFactory(
        code="NC-002", name="Lakeview", level=SchoolLevel.MIDDLE, is_magnet=False, magnet_theme=""
    )
    plan = schools.plan_school_import(
        csv_text(
            GOOD,
            "NC-002,Lakeview Middle,middle,yes,Arts,yes,South",
            "NC-003,Brand New High,high,no,,no,",
        )
    )
    assert plan.ok
    assert plan.counts() == {"added": 1, "updated": 1, "unchanged": 1, "errors": 0}
    assert plan.to_add[0].code == "NC-003"
    update = plan.to_update[0]
    assert update.school_id == changed.id
    assert update.changed == ("name", "magnet", "magnet_theme", "pilot", "region")
    assert same.id not in {u.school_id for u in plan.to_update}


def test_applying_writes_every_school_and_one_audit_row_with_the_counts(ctx):
    old = SchoolFactory(code="NC-002", name="Lakeview", is_active=False)
    version = old.version
    plan = schools.plan_school_import(csv_text(GOOD, "NC-002,Lakeview Middle,middle,no,,yes,South"))
    counts = schools.apply_school_import(None, plan, file_label="district.csv")
    db.session.commit()
    assert counts == {"added": 1, "updated": 1, "unchanged": 0}
    added = db.session.scalar(sa.select(School).where(School.code == "NC-001"))
    assert (added.name, added.level, added.is_magnet, added.magnet_theme, added.is_active) == (
        "Hillside Elementary",
        SchoolLevel.ELEMENTARY,
        True,
        "STEM",
        True,
    )
    db.session.refresh(old)
    assert (old.name, old.level, old.is_magnet, old.magnet_theme, old.is_pilot, old.region) == (
        "Lakeview Middle",
        SchoolLevel.MIDDLE,
        False,
        "",
        True,
        "South",
    )
    assert old.is_active is False  # the file never changes whether a school is active
    assert old.version == version + 1  # an open edit form of this school is now stale
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "school.imported")
    ).all()
    assert len(events) == 1
    assert events[0].details == {
        "added": 1,
        "updated": 1,
        "unchanged": 0,
        "file": "district.csv",
        "source": "browser",
    }


def test_re_importing_the_same_file_changes_nothing(ctx):
    text = csv_text(GOOD, "NC-002,Lakeview Middle,middle,no,,yes,South")
    schools.apply_school_import(None, schools.plan_school_import(text))
    db.session.commit()
    before = schools_table()
    plan = schools.plan_school_import(text)
    assert plan.counts() == {"added": 0, "updated": 0, "unchanged": 2, "errors": 0}
    assert not plan.has_work
    assert schools_table() == before


def test_a_file_with_one_bad_line_among_many_imports_nothing(ctx):
    SchoolFactory(code="NC-002", name="Lakeview")
    before = schools_table()
    plan = schools.plan_school_import(
        csv_text(GOOD, "NC-002,Lakeview Middle,middle,no,,yes,South", "NC-003,X,nursery,no,,no,")
    )
    assert not plan.ok
    assert plan.to_add == []
    assert plan.to_update == []
    with pytest.raises(schools.SchoolError):
        schools.apply_school_import(None, plan)
    assert schools_table() == before
    assert audit_actions("school.") == []


def test_a_header_without_rows_is_an_error(ctx):
    plan = schools.plan_school_import(csv_text())
    assert [e.text for e in plan.errors] == ["The file has a header but no schools."]


def test_a_school_changed_after_planning_refuses_the_whole_import(ctx):
    school = SchoolFactory(code="NC-002", name="Lakeview")
    plan = schools.plan_school_import(
        csv_text("NC-009,New School,high,no,,no,", "NC-002,Lakeview Middle,middle,no,,no,")
    )
    # Someone saves the school between the preview's plan and the apply.
    school.name = "Renamed meanwhile"
    db.session.commit()
    with pytest.raises(schools.SchoolError) as raised:
        schools.apply_school_import(None, plan)
    assert "someone changed" in raised.value.message
    db.session.rollback()
    assert db.session.scalar(sa.select(School.id).where(School.code == "NC-009")) is None


@pytest.mark.timing
def test_five_thousand_rows_are_planned_and_applied_in_a_few_seconds(ctx, count_queries):
    SchoolFactory(code="BIG00003", name="Old name")  # one update among the adds
    text = big_csv(5000)
    started = time.perf_counter()
    with count_queries() as counter:
        plan = schools.plan_school_import(text)
        counts = schools.apply_school_import(None, plan)
        db.session.commit()
    elapsed = time.perf_counter() - started
    print(f"\n5,000-row school import: {elapsed:.2f} s, {counter.count} statements")
    assert counts == {"added": 4999, "updated": 1, "unchanged": 0}
    assert elapsed < 5, elapsed
    # One read for the existing codes, and bulk writes (not a statement per row).
    assert counter.count < 20, counter.statements[:30]
    assert db.session.scalar(sa.select(sa.func.count(School.id))) == 5000


# The command line ----------------------------------------------------------------------------


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def write(tmp_path, data: bytes, name: str = "schools.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_the_command_imports_a_good_file_and_prints_the_counts(ctx, runner, tmp_path):
    SchoolFactory(code="NC-002", name="Lakeview")
    path = write(tmp_path, csv_bytes(GOOD, "NC-002,Lakeview Middle,middle,no,,yes,", bom=True))
    result = runner.invoke(args=["schools", "import", path])
    assert result.exit_code == 0, result.output
    assert "to add 1, to update 1, unchanged 0, errors 0" in result.output
    assert "imported: added 1, updated 1, unchanged 0" in result.output
    assert db.session.scalar(sa.select(School.name).where(School.code == "NC-002")) == (
        "Lakeview Middle"
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "school.imported"))
    assert event.details["source"] == "cli"
    assert event.actor_id is None


def test_the_dry_run_counts_and_changes_nothing(ctx, runner, tmp_path):
    before = schools_table()
    result = runner.invoke(
        args=["schools", "import", write(tmp_path, csv_bytes(GOOD)), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "to add 1, to update 0, unchanged 0, errors 0" in result.output
    assert "dry run: nothing was changed" in result.output
    assert schools_table() == before
    assert audit_actions("school.") == []


@pytest.mark.parametrize("dry_run", [False, True])
def test_errors_are_printed_by_line_exit_1_and_change_nothing(ctx, runner, tmp_path, dry_run):
    before = schools_table()
    data = csv_bytes(GOOD, "NC-002,Lakeview,primary,no,,no,", "NC-003,X,high,maybe,,no,")
    args = ["schools", "import", write(tmp_path, data)] + (["--dry-run"] if dry_run else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "errors 2" in result.output
    assert "Line 3: level “primary” is not one of" in result.output
    assert "Line 4: magnet “maybe” must be yes or no." in result.output
    assert schools_table() == before
    assert audit_actions("school.") == []


def test_a_file_that_is_not_text_exits_1(ctx, runner, tmp_path):
    result = runner.invoke(args=["schools", "import", write(tmp_path, b"\x00\x01binary")])
    assert result.exit_code == 1
    assert "This is not a text file." in result.output


def test_the_command_explains_itself(runner):
    result = runner.invoke(args=["schools", "import", "--help"])
    assert result.exit_code == 0
    assert "code,name,level,magnet,magnet_theme,pilot,region" in result.output
    assert "--dry-run" in result.output


def test_windows_line_endings_keep_the_line_numbers(ctx):
    text = csv_text(GOOD, "NC-002,Oak,nursery,no,,no,").replace("\n", "\r\n")
    assert errors_of(text) == [
        "Line 3: level “nursery” is not one of elementary, middle, high, k8, k12, other."
    ]
