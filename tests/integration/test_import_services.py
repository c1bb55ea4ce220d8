"""The enrollment-count import: reading the file (long and wide layouts, every line error,
what is read leniently), planning against the counts as they are (school-years replaced or
new, inactive schools, new years, the fingerprint), and applying it all at once (replace a
school-year as a whole, leave the rest, refuse a plan the database no longer matches)."""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from fellowship.cycles.school_services import ImportFileError
from fellowship.extensions import db
from fellowship.integration import import_services as counts
from fellowship.integration.models import EnrollmentCount, Group, Measure
from fellowship.school_years import SchoolYear
from tests.cycles.helpers import SchoolFactory
from tests.integration.helpers import add_counts, year
from tests.integration.import_helpers import (
    LONG,
    WIDE,
    audit_events,
    big_counts_csv,
    counts_table,
    csv_bytes,
    csv_text,
)

GOOD = "NC-001,2025-26,,enrollment,black,120"


def errors_of(text: str) -> list[str]:
    return [error.text for error in counts.read_counts_csv(text).errors]


def plan_errors(text: str) -> list[str]:
    return [error.text for error in counts.plan_counts_import(text).errors]


# Reading ------------------------------------------------------------------------------------


def test_a_good_long_file_reads_into_counts_by_key(ctx):
    reading = counts.read_counts_csv(
        csv_text(
            GOOD, "", "NC-001,2025-26,K,enrollment,black,18", "NC-001,2025-26,,applicants,asian,4"
        )
    )
    assert reading.errors == []
    assert reading.layout == counts.LONG
    assert reading.counts == {
        ("NC-001", "2025-26", None, Measure.ENROLLMENT, Group.BLACK): 120,
        ("NC-001", "2025-26", "K", Measure.ENROLLMENT, Group.BLACK): 18,
        ("NC-001", "2025-26", None, Measure.APPLICANTS, Group.ASIAN): 4,
    }


ROW_ERRORS = [
    # (line of the file after the header, the error it gets)
    (",2025-26,,enrollment,black,5", "Line 2: the school code is empty."),
    ("NC-001,2025/26,,enrollment,black,5", "Line 2: school year “2025/26” is not a school year"),
    ("NC-001,2025-27,,enrollment,black,5", "Line 2: school year “2025-27” is not a school year"),
    ("NC-001,,,enrollment,black,5", "Line 2: the school year is empty: write it like 2025-26."),
    ("NC-001,2025-26,13,enrollment,black,5", "Line 2: grade “13” is not one of PK, K, 1, 2"),
    ("NC-001,2025-26,first,enrollment,black,5", "Line 2: grade “first” is not one of"),
    ("NC-001,2025-26,,enrolment,black,5", "Line 2: measure “enrolment” is not one of enrollment,"),
    ("NC-001,2025-26,,,black,5", "Line 2: the measure is empty: use one of enrollment"),
    ("NC-001,2025-26,,enrollment,latino,5", "Line 2: group “latino” is not one of american_indian"),
    ("NC-001,2025-26,,enrollment,,5", "Line 2: the group is empty: use one of american_indian"),
    (
        "NC-001,2025-26,,enrollment,black,-3",
        "Line 2: count “-3” is negative: a count is 0 or more.",
    ),
    ("NC-001,2025-26,,enrollment,black,1.0", "Line 2: count “1.0” is not a whole number"),
    ("NC-001,2025-26,,enrollment,black,1e3", "Line 2: count “1e3” is not a whole number"),
    ('NC-001,2025-26,,enrollment,black,"1,000"', "Line 2: count “1,000” is not a whole number"),
    ("NC-001,2025-26,,enrollment,black,+5", "Line 2: count “+5” is not a whole number"),
    ("NC-001,2025-26,,enrollment,black,١٢", "Line 2: count “١٢” is not a whole number"),
    ("NC-001,2025-26,,enrollment,black,", "Line 2: the count is empty."),
    ("NC-001,2025-26,,enrollment,black,2000000", "Line 2: count “2000000” is more than 1,000,000"),
    ("NC-001,2025-26,,enrollment,black", "Line 2: this line has 5 values, but the header has 6"),
    ("NC-001,2025-26,,enrollment,black,5,x", "Line 2: this line has 7 values"),
    (
        'NC-001,"2025-26' + "x" * 200_000 + ",,enrollment,black,5",
        "Line 2: this line cannot be read",
    ),
]


@pytest.mark.parametrize(("row", "expected"), ROW_ERRORS)
def test_each_kind_of_line_error_is_reported_with_its_line_number(ctx, row, expected):
    found = errors_of(csv_text(row))
    assert any(text.startswith(expected) for text in found), found


def test_one_line_can_have_several_errors_and_each_is_reported(ctx):
    found = errors_of(csv_text("NC-001,2025,13,enrolment,latino,1.5"))
    assert len(found) == 5, found
    assert all(text.startswith("Line 2: ") for text in found)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "school_code,school_year,grade,measure,group",
            "Line 1: The header is missing the column(s) count. The first line must be: " + LONG,
        ),
        (
            LONG + ",note",
            "Line 1: The header has column(s) this import does not know: note.",
        ),
        (LONG + ",count", "Line 1: The header has the column(s) count more than once."),
        ("school,year,grade,measure,black", "Line 1: The header is missing the column(s) school"),
        ("code,name,level", "Line 1: The first line must be a header, either " + LONG),
    ],
)
def test_header_problems_are_reported_clearly_and_no_line_is_read(ctx, header, expected):
    reading = counts.read_counts_csv(csv_text(GOOD, header=header))
    found = [error.text for error in reading.errors]
    assert any(text.startswith(expected) for text in found), found
    assert reading.counts == {}


def test_the_same_key_twice_names_the_earlier_line(ctx):
    found = errors_of(
        csv_text(
            GOOD, "NC-001,2025-26,,enrollment,white,80", " NC-001 ,2025-26,,Enrollment,Black,99"
        )
    )
    assert found == [
        "Line 4: the count for NC-001, 2025-26, all grades, enrollment, black is already on line 2."
    ]


def test_grade_counts_adding_up_to_more_than_the_all_grades_count_are_an_error(ctx):
    text = csv_text(
        "NC-001,2025-26,,enrollment,black,20",
        "NC-001,2025-26,K,enrollment,black,12",
        "NC-001,2025-26,1,enrollment,black,9",
        "NC-001,2025-26,,enrollment,white,20",  # white: grades sum to 20, fine
        "NC-001,2025-26,K,enrollment,white,20",
        "NC-001,2025-26,K,applicants,black,50",  # no all-grades applicants: not compared
        "NC-001,2025-26,K,enrollment,asian,0",  # no all-grades asian, but 0 fits in 0
    )
    assert errors_of(text) == [
        "Line 2: the grade counts for NC-001, 2025-26, enrollment, black add up to 21 "
        "(lines 3, 4), more than this all-grades count of 20."
    ]


# layout, lines, the error
MISSING_ALL_GRADES = [
    (
        "long",
        [
            "NC-001,2025-26,1,enrollment,hispanic_latino,4",
            "NC-001,2025-26,,enrollment,black,20",
            "NC-001,2025-26,K,enrollment,hispanic_latino,3",
        ],
        "Line 3: the all-grades counts of NC-001, 2025-26, enrollment (the first is on this "
        "line) have none for hispanic_latino, so it counts as 0, but the grade counts of "
        "hispanic_latino add up to 7 (lines 2, 4). Add a line with the all-grades count of "
        "hispanic_latino.",
    ),
    (
        "wide",
        [
            "NC-001,2025-26,,enrollment,20,",
            "NC-001,2025-26,K,enrollment,3,5",
        ],
        "Line 2: the white cell of this all-grades line of NC-001, 2025-26, enrollment is "
        "blank, so it counts as 0, but the grade counts of white add up to 5 (line 3). Write "
        "the all-grades count of white in it.",
    ),
]


@pytest.mark.parametrize(("layout", "lines", "expected"), MISSING_ALL_GRADES, ids=["long", "wide"])
def test_a_blank_all_grades_count_is_0_when_the_school_year_has_other_all_grades_counts(
    ctx, layout, lines, expected
):
    header = LONG if layout == "long" else "school_code,school_year,grade,measure,black,white"
    assert errors_of(csv_text(*lines, header=header)) == [expected]


def test_grade_counts_without_any_all_grades_count_are_a_warning_on_the_plan(ctx):
    SchoolFactory(code="NC-001")
    SchoolFactory(code="NC-002")
    plan = counts.plan_counts_import(
        csv_text(
            "NC-001,2025-26,K,enrollment,black,3",  # grades only: no data on the dashboard
            "NC-001,2025-26,K,applicants,black,4",
            "NC-001,2025-26,,applicants,black,9",
            "NC-002,2025-26,,enrollment,black,7",
            "NC-002,2025-26,K,enrollment,black,7",
        )
    )
    assert plan.ok
    assert [(item.code, item.measures_without_all_grades) for item in plan.without_all_grades] == [
        ("NC-001", ("enrollment",))
    ]


def test_an_error_shows_the_value_as_typed_cut_to_a_readable_length(ctx):
    found = errors_of(csv_text("NC-001,2025-26,,enrollment,black," + "9" * 50 + ".5"))
    assert found[0].startswith("Line 2: count “99999999999999999999999999999")
    assert "…" in found[0]


def test_at_most_a_thousand_errors_are_kept_and_all_are_counted(ctx):
    reading = counts.read_counts_csv(csv_text(*["NC-001,2025-26,,enrollment,black,x"] * 1500))
    assert reading.error_count == 1500
    assert len(reading.errors) == counts.MAX_ERRORS


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("", None), ("KG", "K"), ("k", "K"), ("pk", "PK"), ("Pre-K", "PK"), ("01", "1"), ("12", "12")],
)
def test_grades_are_read_in_their_usual_spellings(ctx, typed, stored):
    reading = counts.read_counts_csv(csv_text(f"NC-001,2025-26,{typed},enrollment,black,5"))
    assert reading.errors == []
    assert next(iter(reading.counts))[2] == stored


def test_header_measures_and_groups_are_read_without_regard_to_case_or_spaces(ctx):
    reading = counts.read_counts_csv(
        csv_text(
            "5, Hispanic Latino ,ENROLLMENT , ,2025-26,NC-001",
            "6,two-or-more,new_not_applied,,2025-26,NC-001",
            header=" COUNT,Group,measure,Grade,School_Year,school code",
        )
    )
    assert reading.errors == []
    assert reading.counts == {
        ("NC-001", "2025-26", None, Measure.ENROLLMENT, Group.HISPANIC_LATINO): 5,
        ("NC-001", "2025-26", None, Measure.NEW_NOT_APPLIED, Group.TWO_OR_MORE): 6,
    }


@pytest.mark.parametrize("bom", [False, True])
def test_utf8_with_or_without_a_byte_order_mark_is_read(ctx, bom):
    text = counts.decode_counts_csv(csv_bytes(GOOD, bom=bom))
    reading = counts.read_counts_csv(text)
    assert reading.errors == []
    assert next(iter(reading.counts))[0] == "NC-001"  # no BOM glued to the first name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"school_code\x00", "This is not a text file."),
        ("school_code\nCafé".encode("latin-1"), "This file is not UTF-8 text."),
        (b"<!DOCTYPE html><html></html>", "This is a web page"),
        (b"PK\x03\x04\x14\x00\x00\x00", "This is not a text file."),
    ],
)
def test_a_file_that_is_not_csv_text_is_refused_as_a_whole(ctx, data, message):
    with pytest.raises(ImportFileError) as raised:
        counts.decode_counts_csv(data)
    assert raised.value.message.startswith(message)


# The wide layout ----------------------------------------------------------------------------


def test_the_wide_layout_reads_one_count_per_group_cell_and_skips_blank_cells(ctx):
    reading = counts.read_counts_csv(
        csv_text(
            "NC-001,2025-26,,enrollment,120,80,,",
            "NC-001,2025-26,KG,enrollment,10,8,,0",
            header="school_code,school_year,grade,measure,black,white,low_income,asian",
        )
    )
    # (Kindergarten's 0 asian students fit in the blank all-grades asian cell, taken as 0.)
    assert reading.errors == []
    assert reading.layout == counts.WIDE
    assert reading.counts == {
        ("NC-001", "2025-26", None, Measure.ENROLLMENT, Group.BLACK): 120,
        ("NC-001", "2025-26", None, Measure.ENROLLMENT, Group.WHITE): 80,
        ("NC-001", "2025-26", "K", Measure.ENROLLMENT, Group.BLACK): 10,
        ("NC-001", "2025-26", "K", Measure.ENROLLMENT, Group.WHITE): 8,
        ("NC-001", "2025-26", "K", Measure.ENROLLMENT, Group.ASIAN): 0,
    }


def test_the_wide_and_long_layouts_of_the_same_counts_read_the_same(ctx):
    values = [3, 24, 118, 96, 0, 152, 19, 4, 201, 215]
    wide = csv_text("NC-001,2025-26,,enrollment," + ",".join(map(str, values)), header=WIDE)
    long = csv_text(
        *(f"NC-001,2025-26,,enrollment,{g.value},{v}" for g, v in zip(Group, values, strict=True))
    )
    assert counts.read_counts_csv(wide).counts == counts.read_counts_csv(long).counts


def test_wide_cells_name_their_column_in_errors_and_a_repeated_line_names_the_first(ctx):
    header = "school_code,school_year,grade,measure,black,white"
    assert errors_of(csv_text("NC-001,2025-26,,enrollment,1.5,-2", header=header)) == [
        "Line 2: black “1.5” is not a whole number: write digits only, like 25 (no decimals, "
        "exponents, signs or thousands separators).",
        "Line 2: white “-2” is negative: a count is 0 or more.",
    ]
    found = errors_of(
        csv_text("NC-001,2025-26,,enrollment,5,6", "NC-001,2025-26,,enrollment,7,", header=header)
    )
    assert found == [
        "Line 3: the counts for NC-001, 2025-26, all grades, enrollment (black) are already on "
        "line 2."
    ]


# Planning -----------------------------------------------------------------------------------


def test_unknown_school_codes_are_errors_once_per_code_with_how_often_they_occur(ctx):
    SchoolFactory(code="NC-001")
    found = plan_errors(
        csv_text(GOOD, "NOPE,2025-26,,enrollment,black,5", "NOPE,2026-27,,enrollment,black,5")
    )
    assert found == ["Line 3: no school has the code NOPE. It is on 1 more line."]


def test_unknown_codes_are_reported_beside_the_other_errors_in_line_order(ctx):
    SchoolFactory(code="NC-001")
    found = plan_errors(
        csv_text("NOPE,2025-26,,enrollment,black,5", "NC-001,2025-26,,enrollment,black,x")
    )
    assert [text[:7] for text in found] == ["Line 2:", "Line 3:"]


def test_a_header_without_counts_is_an_error(ctx):
    assert plan_errors(csv_text()) == ["The file has a header but no counts."]


def test_the_plan_says_which_school_years_are_replaced_and_which_are_new(ctx):
    north = SchoolFactory(code="NC-001", name="North Elementary")
    south = SchoolFactory(code="NC-002", name="South Middle", is_active=False)
    add_counts(north, year("2024-25"), {"black": 10, "white": 12})
    add_counts(north, year("2024-25"), {"black": 4}, grade="K")
    add_counts(north, year("2023-24"), {"black": 9})
    year("2025-26")  # known, no counts yet
    plan = counts.plan_counts_import(
        csv_text(
            "NC-001,2024-25,,enrollment,asian,7",
            "NC-001,2025-26,,enrollment,asian,8",
            "NC-002,2031-32,,enrollment,asian,9",
            "NC-002,2031-32,,applicants,asian,19",
        )
    )
    assert plan.ok, plan.errors
    assert [
        (item.code, item.year_label, item.rows_before, item.rows_after, item.replaces)
        for item in plan.school_years
    ] == [
        ("NC-001", "2024-25", 3, 1, True),
        ("NC-001", "2025-26", 0, 1, False),
        ("NC-002", "2031-32", 0, 2, False),
    ]
    assert plan.counts_summary() == {
        "rows": 4,
        "schools": 2,
        "years": 3,
        "school_years_new": 2,
        "school_years_replaced": 1,
        "rows_removed": 3,
        "errors": 0,
    }
    assert plan.new_years == ["2031-32"]
    assert plan.inactive_codes == ["NC-002"]
    assert plan.school_ids == {"NC-001": north.id, "NC-002": south.id}


def test_the_plan_names_the_measures_a_replaced_school_year_loses(ctx):
    school = SchoolFactory(code="NC-001")
    y25 = year("2025-26")
    add_counts(school, y25, {"black": 10})
    add_counts(school, y25, {"black": 4}, measure=Measure.APPLICANTS)
    add_counts(school, y25, {"black": 2}, measure=Measure.CONTINUING, grade="K")
    add_counts(school, year("2024-25"), {"black": 9}, measure=Measure.APPLICANTS)
    plan = counts.plan_counts_import(
        csv_text(
            "NC-001,2025-26,3,applicants,white,1",
            "NC-001,2024-25,,applicants,black,9",
            "NC-001,2023-24,,enrollment,black,9",
        )
    )
    assert [(item.year_label, item.measures_lost) for item in plan.school_years] == [
        ("2023-24", ()),
        ("2024-25", ()),
        ("2025-26", ("enrollment", "continuing")),
    ]
    assert [item.year_label for item in plan.losing_measures] == ["2025-26"]


def test_the_fingerprint_changes_with_the_file_and_with_the_counts_it_replaces(ctx):
    school = SchoolFactory(code="NC-001")
    text = csv_text(GOOD)
    first = counts.plan_counts_import(text).fingerprint()
    assert counts.plan_counts_import(text).fingerprint() == first
    assert (
        counts.plan_counts_import(csv_text("NC-001,2025-26,,enrollment,black,121")).fingerprint()
        != first
    )
    add_counts(school, year("2025-26"), {"white": 3})
    assert counts.plan_counts_import(text).fingerprint() != first


# Applying -----------------------------------------------------------------------------------


def test_re_importing_a_school_year_replaces_all_of_it_and_leaves_the_rest(ctx):
    north = SchoolFactory(code="NC-001")
    south = SchoolFactory(code="NC-002")
    y24, y25 = year("2024-25"), year("2025-26")
    add_counts(north, y25, {"black": 10, "white": 12})
    add_counts(north, y25, {"black": 4, "white": 5}, grade="K")
    add_counts(north, y25, {"asian": 40}, measure=Measure.APPLICANTS)
    add_counts(north, y24, {"black": 9})  # another year: untouched
    add_counts(south, y25, {"black": 30})  # another school: untouched
    db.session.commit()
    plan = counts.plan_counts_import(
        csv_text("NC-001,2025-26,,enrollment,black,11", "NC-001,2025-26,1,enrollment,black,3")
    )
    done = counts.apply_counts_import(None, plan, file_label="district.csv", source="cli")
    db.session.commit()
    assert done == {
        "rows": 2,
        "schools": 1,
        "years": 1,
        "school_years_new": 0,
        "school_years_replaced": 1,
        "rows_removed": 5,
    }
    assert counts_table() == sorted(
        [
            (north.id, y24.id, None, Measure.ENROLLMENT, Group.BLACK, 9),
            (north.id, y25.id, None, Measure.ENROLLMENT, Group.BLACK, 11),
            (north.id, y25.id, "1", Measure.ENROLLMENT, Group.BLACK, 3),
            (south.id, y25.id, None, Measure.ENROLLMENT, Group.BLACK, 30),
        ],
        key=repr,
    )
    (event,) = audit_events("integration.counts_imported")
    assert event.actor_id is None
    assert event.details == {
        "rows": 2,
        "schools": 1,
        "years": 1,
        "school_years_new": 0,
        "school_years_replaced": 1,
        "rows_removed": 5,
        "years_added": [],
        "inactive_schools": 0,
        "format": "long",
        "file": "district.csv",
        "source": "cli",
    }


def test_a_school_year_new_to_fellowship_is_added_with_the_import(ctx):
    school = SchoolFactory(code="NC-001", is_active=False)
    plan = counts.plan_counts_import(csv_text("NC-001,2040-41,,enrollment,black,11"))
    assert plan.new_years == ["2040-41"]
    counts.apply_counts_import(None, plan)
    db.session.commit()
    added = db.session.scalar(sa.select(SchoolYear).where(SchoolYear.label == "2040-41"))
    assert added is not None
    assert counts_table() == [(school.id, added.id, None, Measure.ENROLLMENT, Group.BLACK, 11)]


def test_a_file_with_one_bad_line_among_many_imports_nothing(ctx):
    school = SchoolFactory(code="NC-001")
    add_counts(school, year("2025-26"), {"black": 10})
    db.session.commit()
    before = counts_table()
    plan = counts.plan_counts_import(
        csv_text(GOOD, "NC-001,2025-26,,enrollment,white,80", "NC-001,2025-26,,enrollment,asian,x")
    )
    assert not plan.ok
    assert plan.counts == {}
    with pytest.raises(counts.CountsImportError):
        counts.apply_counts_import(None, plan)
    assert counts_table() == before
    assert audit_events("integration.counts_imported") == []


@pytest.mark.parametrize(
    ("held_counts", "planned_under_lock"), [(False, False), (True, False), (True, True)]
)
def test_counts_added_after_planning_refuse_the_whole_import(ctx, held_counts, planned_under_lock):
    """Whether the school-year was new when planned or held counts already (on PostgreSQL the
    second case merges through a temporary table rather than deleting and inserting), and
    whether the plan was made under the import lock of a transaction that has ended since:
    the apply looks again at what the school-years hold once it holds the lock itself."""
    school = SchoolFactory(code="NC-001")
    other = SchoolFactory(code="NC-002")
    if held_counts:
        add_counts(school, year("2025-26"), {"black": 100, "asian": 5})
    db.session.commit()
    text = csv_text(GOOD, "NC-002,2025-26,,enrollment,black,7")
    plan = counts.plan_counts_import(text, lock=planned_under_lock)
    db.session.commit()
    # Someone imports NC-001's year between the preview's plan and the apply.
    add_counts(school, year("2025-26"), {"white": 10})
    db.session.commit()
    before = counts_table()
    with pytest.raises(counts.CountsImportError) as raised:
        counts.apply_counts_import(None, plan)
    assert "changed since the preview" in raised.value.message
    db.session.rollback()
    assert counts_table() == before
    assert other.id not in {row[0] for row in counts_table()}


def test_counts_held_in_the_session_are_let_go_after_an_import(ctx):
    school = SchoolFactory(code="NC-001")
    add_counts(school, year("2025-26"), {"black": 10})
    held = db.session.scalar(sa.select(EnrollmentCount))
    counts.apply_counts_import(None, counts.plan_counts_import(csv_text(GOOD)))
    assert held not in db.session
    assert db.session.scalar(sa.select(EnrollmentCount.count)) == 120


@pytest.mark.timing
def test_two_thousand_counts_are_planned_and_applied_in_well_under_a_second_or_two(
    ctx, count_queries
):
    codes = [SchoolFactory(code=f"BIG{n:03d}").code for n in range(20)]
    labels = [f"{2016 + n}-{(17 + n) % 100:02d}" for n in range(10)]
    text = big_counts_csv(codes, labels)
    started = time.perf_counter()
    with count_queries() as counter:
        plan = counts.plan_counts_import(text)
        done = counts.apply_counts_import(None, plan)
        db.session.commit()
    elapsed = time.perf_counter() - started
    print(f"\n2,000-count import: {elapsed:.2f} s, {counter.count} statements")
    assert done["rows"] == 2000
    assert done["school_years_new"] == 200
    assert elapsed < 3, elapsed
    # Lookups, one statement per new school year, a delete per year, one bulk insert: never a
    # statement per count.
    assert counter.count < 80, counter.statements[:40]
    # And again: every school-year replaced.
    plan = counts.plan_counts_import(text)
    assert plan.counts_summary()["school_years_replaced"] == 200
    assert counts.apply_counts_import(None, plan)["rows_removed"] == 2000
    assert db.session.scalar(sa.select(sa.func.count(EnrollmentCount.id))) == 2000


# Kept uploads -------------------------------------------------------------------------------


def test_a_kept_upload_is_read_back_by_its_sha256_and_a_changed_or_missing_one_is_refused(ctx):
    data = csv_bytes(GOOD)
    digest = counts.keep_upload(7, data)
    assert counts.read_kept_upload(7, digest) == data
    for owner, sha256 in [(7, "../" + digest[3:]), (7, "0" * 64), ("7", digest), (None, digest)]:
        with pytest.raises(counts.CountsImportError):
            counts.read_kept_upload(owner, sha256)
    path = counts._kept_dir() / f"counts-7-{digest}.csv"
    path.write_bytes(data + b"NC-001,2025-26,,enrollment,white,1\n")
    with pytest.raises(counts.CountsImportError) as raised:
        counts.read_kept_upload(7, digest)
    assert "has changed" in raised.value.message
    counts.drop_kept_upload(7, digest)
    assert not path.exists()


def test_two_people_keeping_the_same_bytes_each_keep_their_own_copy(ctx):
    data = csv_bytes(GOOD)
    digest = counts.keep_upload(7, data)
    assert counts.keep_upload(8, data) == digest
    counts.drop_kept_upload(7, digest)  # the first one's import is applied
    assert counts.read_kept_upload(8, digest) == data
    with pytest.raises(counts.CountsImportError):
        counts.read_kept_upload(7, digest)
    counts.drop_kept_upload(8, digest)


def test_kept_uploads_and_unfinished_ones_older_than_a_day_are_removed(ctx):
    folder = counts._kept_dir(create=True)
    old = time.time() - 25 * 3600
    stale = [folder / f"counts-7-{'a' * 64}.csv", folder / ".upload-x1y2z3.part"]
    fresh = [folder / f"counts-7-{'b' * 64}.csv", folder / ".upload-q9r8s7.part"]
    for path in stale + fresh:
        path.write_bytes(b"x")
    for path in stale:
        os.utime(path, (old, old))
    digest = counts.keep_upload(7, csv_bytes(GOOD))  # every keep tidies up first
    assert [path.exists() for path in stale + fresh] == [False, False, True, True]
    for path in fresh:
        path.unlink()
    counts.drop_kept_upload(7, digest)


@pytest.mark.parametrize("layout", [counts.LONG, counts.WIDE])
def test_the_template_files_read_back_without_errors(ctx, layout):
    reading = counts.read_counts_csv(counts.template_csv(layout, "2025-26"))
    assert reading.errors == []
    assert reading.layout == layout
    assert len(reading.counts) == (2 if layout == counts.LONG else 20)
