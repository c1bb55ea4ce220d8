"""`flask integration import FILE [--dry-run]`: the counts printed, errors by line with exit
code 1 and nothing changed, the dry run, and the help text."""

from __future__ import annotations

import pytest

from fellowship.integration.models import Group, Measure
from tests.cycles.helpers import SchoolFactory
from tests.integration.helpers import add_counts, year
from tests.integration.import_helpers import audit_events, counts_table, csv_bytes

GOOD = "NC-001,2025-26,,enrollment,black,120"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def write(tmp_path, data: bytes, name: str = "counts.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_the_command_imports_a_good_file_and_prints_the_counts(ctx, runner, tmp_path):
    school = SchoolFactory(code="NC-001")
    SchoolFactory(code="NC-002", is_active=False)
    add_counts(school, year("2025-26"), {"white": 80, "black": 90})
    data = csv_bytes(
        GOOD,
        "NC-001,2025-26,K,enrollment,black,11",
        "NC-002,2039-40,,enrollment,asian,3",
        bom=True,
    )
    result = runner.invoke(args=["integration", "import", write(tmp_path, data)])
    assert result.exit_code == 0, result.output
    assert (
        "counts.csv: long layout, 3 counts, 2 schools, 2 school years; school-years new 1, "
        "replaced 1 (2 counts there now); errors 0"
    ) in result.output
    assert "school years to add: 2039-40" in result.output
    assert "inactive schools (their counts are kept as history): NC-002" in result.output
    assert "imported: 3 counts; school-years new 1, replaced 1 (2 counts removed)" in result.output
    assert {(row[2], row[4], row[5]) for row in counts_table() if row[0] == school.id} == {
        (None, Group.BLACK, 120),
        ("K", Group.BLACK, 11),
    }
    (event,) = audit_events("integration.counts_imported")
    assert event.details["source"] == "cli"
    assert event.details["file"] == "counts.csv"
    assert event.actor_id is None


def test_the_dry_run_counts_and_changes_nothing(ctx, runner, tmp_path):
    SchoolFactory(code="NC-001")
    result = runner.invoke(
        args=["integration", "import", write(tmp_path, csv_bytes(GOOD)), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "1 counts, 1 schools, 1 school years; school-years new 1, replaced 0" in result.output
    assert "dry run: nothing was changed" in result.output
    assert counts_table() == []
    assert audit_events("integration.counts_imported") == []


@pytest.mark.parametrize("dry_run", [False, True])
def test_errors_are_printed_by_line_exit_1_and_change_nothing(ctx, runner, tmp_path, dry_run):
    school = SchoolFactory(code="NC-001")
    add_counts(school, year("2025-26"), {"white": 80}, measure=Measure.APPLICANTS)
    before = counts_table()
    data = csv_bytes(
        GOOD, "NC-001,2025-26,,enrollment,white,-4", "NOPE,2025-26,,enrollment,black,3"
    )
    args = ["integration", "import", write(tmp_path, data)] + (["--dry-run"] if dry_run else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "errors 2" in result.output
    assert "Line 3: count “-4” is negative: a count is 0 or more." in result.output
    assert "Line 4: no school has the code NOPE." in result.output
    assert "nothing was changed: fix the errors and run the import again" in result.output
    assert counts_table() == before


def test_a_school_year_losing_a_measure_is_a_warning(ctx, runner, tmp_path):
    school = SchoolFactory(code="NC-001")
    add_counts(school, year("2025-26"), {"black": 90})
    data = csv_bytes("NC-001,2025-26,,applicants,black,31")
    result = runner.invoke(args=["integration", "import", write(tmp_path, data), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        "warning: 1 school-years hold measures the file has none of for them; the import "
        "removes them: NC-001 2025-26 (enrollment)"
    ) in result.output


def test_grade_counts_without_all_grades_counts_are_a_warning(ctx, runner, tmp_path):
    SchoolFactory(code="NC-001")
    data = csv_bytes("NC-001,2025-26,K,enrollment,black,12", "NC-001,2025-26,1,enrollment,black,9")
    result = runner.invoke(args=["integration", "import", write(tmp_path, data), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        "warning: 1 school-years have grade counts but no all-grades counts of some measures; "
        "the figures read all-grades counts only, so these show no data: NC-001 2025-26 "
        "(enrollment)"
    ) in result.output


def test_a_wide_file_is_told_from_its_header(ctx, runner, tmp_path):
    SchoolFactory(code="NC-001")
    data = csv_bytes(
        "NC-001,2025-26,,enrollment,120,80",
        header="school_code,school_year,grade,measure,black,white",
    )
    result = runner.invoke(args=["integration", "import", write(tmp_path, data)])
    assert result.exit_code == 0, result.output
    assert "wide layout, 2 counts" in result.output
    assert len(counts_table()) == 2


def test_a_file_that_is_not_text_exits_1(ctx, runner, tmp_path):
    result = runner.invoke(args=["integration", "import", write(tmp_path, b"\x00\x01binary")])
    assert result.exit_code == 1
    assert "This is not a text file." in result.output


def test_the_command_explains_itself(runner):
    result = runner.invoke(args=["integration", "import", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "school_code,school_year,grade,measure,group,count" in text
    assert "--dry-run" in text
    assert "replaced as a whole" in text
