"""The year report: every figure a page or export shows, from one place. Published shares
are the suppressed tables' shares; statuses, objectives and indices come from the true
counts through `metrics`."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fellowship.integration import metrics, queries, report
from fellowship.integration.models import (
    DEFAULT_MINORITY,
    INCOME_GROUPS,
    KNOWN_RACE_GROUPS,
    RACE_GROUPS,
    Group,
    Measure,
    ObjectiveKind,
)
from fellowship.integration.suppression import TOTAL, CellStatus, Rate, TableSpec, suppress_linked
from tests.integration.district_helpers import (
    ENROLLMENT,
    INCOME,
    LAST,
    OTHER_MEASURES,
    THIS,
    build_district,
    set_settings,
)
from tests.integration.test_linked_suppression import sum_links, total_links

RACE = [g.value for g in RACE_GROUPS]
KNOWN = [g.value for g in KNOWN_RACE_GROUPS]
MINORITY = [g.value for g in DEFAULT_MINORITY]
ACTIVE = ["Alder", "Birch", "Cedar", "Dogwood", "Elm"]  # Fir is inactive
PARTS = (Measure.APPLIED_ENROLLED, Measure.NEW_NOT_APPLIED, Measure.CONTINUING)


@pytest.fixture
def district(ctx):
    return build_district()


def year_row(district, label):
    found = queries.year_by_label(label)
    assert found is not None
    return found


def the_report(district, label=THIS):
    return report.year_report(year_row(district, label))


def by_name(data, district):
    return {
        name: data.indicators_for(district.id(name))
        for name in ACTIVE
        if data.indicators_for(district.id(name)) is not None
    }


def race_classes(minority):
    def kind(group):
        if group in minority:
            return "minority"
        return group if group in ("white", "unknown") else "other"

    return {g: kind(g) for g in RACE}


def hand_tables(district, minority=MINORITY, threshold=10):
    """The publication the report must make of this year: the race table of every measure
    and the income table, suppressed together with the links that hold (enrollment = the
    three parts where the counts say so; a school's race total = its income total)."""
    active = [name for name in ACTIVE if name in ENROLLMENT[THIS]]
    race = {
        Measure.ENROLLMENT.value: {
            district.id(n): {g: ENROLLMENT[THIS][n].get(g, 0) for g in RACE} for n in active
        }
    }
    for measure, by_school in OTHER_MEASURES.items():
        # The parts list every school of the enrollment table (zeros where none counted).
        names = active if measure in PARTS else sorted(by_school)
        race[measure.value] = {
            district.id(n): {g: by_school.get(n, {}).get(g, 0) for g in RACE} for n in names
        }
    income_groups = [g.value for g in INCOME_GROUPS]
    income = {
        district.id(n): {g: INCOME[THIS][n].get(g, 0) for g in income_groups}
        for n in active
        if n in INCOME[THIS]
    }
    specs = {
        key: TableSpec(counts, RACE, race_classes(minority), "unknown")
        for key, counts in race.items()
    }
    specs["income"] = TableSpec(income, income_groups)
    counts = {key: race[key] for key in race}
    links = sum_links(counts, RACE, Measure.ENROLLMENT.value, [m.value for m in PARTS])
    links += total_links(race[Measure.ENROLLMENT.value], RACE, income, income_groups)
    return suppress_linked(specs, links, threshold)


def test_the_report_publishes_the_linked_suppression_of_the_years_tables(district):
    data = the_report(district)
    expected = hand_tables(district)

    for key, table in expected.items():
        published = data.tables[key]
        assert published.rows == table.rows, key
        for row in (*table.rows, TOTAL):
            for column in table.columns:
                assert published.cell(row, column) == table.cell(row, column), (key, row)
            assert published.row_total(row) == table.row_total(row), (key, row)


def test_each_schools_shares_are_the_published_tables_shares(district):
    data = the_report(district)
    tables = data.tables
    enrollment = tables[Measure.ENROLLMENT.value]
    income = tables["income"]
    for name in ("Alder", "Birch", "Cedar", "Dogwood"):
        row = data.indicators_for(district.id(name))
        sid = district.id(name)
        assert row.p == enrollment.share(sid, MINORITY, KNOWN), name
        assert row.low_income == income.share(sid, ["low_income"], ["low_income", "not_low_income"])
        if name in OTHER_MEASURES[Measure.APPLICANTS]:
            applicants = tables[Measure.APPLICANTS.value]
            assert row.applicants == applicants.share(sid, MINORITY, KNOWN)
        if name in ("Alder", "Birch") and row.new_enrollees.value is not None:
            assert row.new_enrollees == tables["new_enrollees"].share(sid, MINORITY, KNOWN)
    assert data.district_p == enrollment.share(TOTAL, MINORITY, KNOWN)
    assert data.district_p.value == pytest.approx(170 / 395)
    assert data.indicators_for(district.id("Birch")).p.value == pytest.approx(35 / 115)


def test_the_published_indices_carry_the_published_shares(district):
    data = the_report(district)
    assert data.race.share == data.district_p.value
    assert data.income.share == data.district_low_income.value
    # When P is not shown, neither is separation (with isolation it would give P back); the
    # other indices stay.
    hidden = report._published_indices(data.race, Rate(value=None, reason="would_reveal"))
    assert (hidden.share, hidden.separation) == (None, None)
    assert hidden.dissimilarity == data.race.dissimilarity
    assert hidden.isolation == data.race.isolation
    document = report.indices_document(replace(data, race=hidden))
    assert document["share_p"] is None
    assert document["race"]["separation"] is None
    assert document["race"]["theil_h"] == data.race.theil_h


def hidden_parts(table, row, numerator, denominator):
    parts = set()
    for column in table.columns:
        if table.cell(row, column).status != CellStatus.SHOWN:
            parts.add("num" if column in numerator else "rest" if column in denominator else "o")
    if table.row_total(row).status != CellStatus.SHOWN:
        parts.add("o")
    return parts


def test_a_new_enrollee_share_is_shown_only_when_its_two_published_tables_imply_it(district):
    """applied_enrolled and new_not_applied are published (the federal table): a share of
    their sum that split a sum they hide would let a reader work out a hidden count."""
    data = the_report(district)
    derived = data.tables["new_enrollees"]
    for name in ("Alder", "Birch"):
        sid = district.id(name)
        rate = data.indicators_for(sid).new_enrollees
        parts = [
            hidden_parts(data.tables[m.value], sid, MINORITY, KNOWN)
            for m in (Measure.APPLIED_ENROLLED, Measure.NEW_NOT_APPLIED)
        ]
        if all(len(p) <= 1 for p in parts):
            assert rate == derived.share(sid, MINORITY, KNOWN), name
        else:
            assert rate == Rate(value=None, reason="would_reveal"), name
    new = {
        g: OTHER_MEASURES[Measure.APPLIED_ENROLLED]["Alder"].get(g, 0)
        + OTHER_MEASURES[Measure.NEW_NOT_APPLIED]["Alder"].get(g, 0)
        for g in RACE
    }
    alder = data.indicators_for(district.id("Alder")).new_enrollees
    if alder.value is not None:
        assert alder.value == pytest.approx(metrics.minority_share(new, MINORITY))


def test_small_counts_are_hidden_in_every_table_of_the_report(district):
    data = the_report(district)
    cedar, dogwood = district.id("Cedar"), district.id("Dogwood")
    enrollment = data.tables[Measure.ENROLLMENT.value]
    assert enrollment.cell(cedar, "black").status == CellStatus.SMALL
    assert enrollment.cell(cedar, "black").value is None
    assert enrollment.row_total(dogwood).status == CellStatus.SMALL
    # Too few students for a share at Dogwood: no share, no gap, no change.
    row = data.indicators_for(dogwood)
    assert row.p == Rate(value=None, reason="small_denominator")
    assert row.gap.value is None
    assert row.change.value is None
    for key, table in data.tables.items():
        for school_id in table.rows:
            for group in table.columns:
                cell = table.cell(school_id, group)
                assert cell.value is None or not 0 < cell.value < 10, (key, school_id, group)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("Alder", report.ISOLATED),  # 72 % minority
        ("Birch", report.WATCH),  # 30 %, rose from 23 %
        ("Cedar", report.NEITHER),  # 21 %, fell from 23 %
        ("Dogwood", report.WATCH),  # 3/8 after 2/8: judged on the true counts, not shown
        ("Elm", report.NO_DATA),  # no counts this year
    ],
)
def test_a_schools_status_comes_from_its_true_counts(district, name, status):
    assert the_report(district).indicators_for(district.id(name)).status == status


def test_the_inactive_school_is_in_no_table_and_no_list(district):
    data = the_report(district)
    fir = district.id("Fir")
    assert data.indicators_for(fir) is None
    assert all(fir not in table.rows for table in data.tables.values())


def test_gap_and_change_are_differences_of_shown_shares_only(district):
    data = the_report(district)
    birch = data.indicators_for(district.id("Birch"))
    assert birch.gap.value == pytest.approx(birch.p.value - data.district_p.value)
    last_year = report.year_report(year_row(district, LAST))
    before = last_year.indicators_for(district.id("Birch")).p
    assert birch.change.value == pytest.approx(birch.p.value - before.value)
    assert birch.change.value == pytest.approx(35 / 115 - 25 / 110)
    for row in data.schools:  # a share not shown leaves its gap and change unshown, same reason
        if row.p.value is None:
            assert row.gap == row.p
            assert row.change == row.p
    elm = data.indicators_for(district.id("Elm"))
    assert elm.p == report.NO_DATA_RATE
    assert elm.change.value is None
    # The first year with counts has nothing to change from.
    assert last_year.indicators_for(district.id("Birch")).change == report.NO_DATA_RATE
    low = next(row for row in data.schools if row.low_income.value is not None)
    assert low.low_income_gap.value == pytest.approx(
        low.low_income.value - data.district_low_income.value
    )


def test_the_objective_in_force_is_the_latest_not_after_the_year(district):
    ids = district.year_ids
    found = queries.objectives_in_force(ids.values())
    birch = district.id("Birch")
    assert found[(birch, ids[LAST])].kind == ObjectiveKind.ABSOLUTE
    assert found[(birch, ids[THIS])].kind == ObjectiveKind.RELATIVE_BAND
    assert found[(district.id("Alder"), ids[THIS])].effective_from_label == LAST
    assert (district.id("Cedar"), ids[THIS]) not in found


def test_objectives_are_judged_from_the_true_counts_with_metrics(district):
    data = the_report(district)
    p = {n: metrics.minority_share(ENROLLMENT[THIS][n], MINORITY) for n in ("Alder", "Birch")}
    results = {r.school.name: r.met for r in data.objectives}
    assert results == {
        "Alder School": metrics.objective_met(
            "applicant_pool",
            p=p["Alder"],
            previous_p=None,
            district_p=None,
            applicant_p=metrics.minority_share(
                OTHER_MEASURES[Measure.APPLICANTS]["Alder"], MINORITY
            ),
            band_k=0.15,
        ),
        "Birch School": metrics.objective_met(
            "relative_band",
            p=p["Birch"],
            previous_p=None,
            district_p=data.race.share,
            applicant_p=None,
            band_k=0.15,
        ),
        "Elm School": None,  # prevent, with no counts this year: not judged
    }
    assert results["Alder School"] is True
    assert results["Birch School"] is True
    assert (data.meeting.met, data.meeting.judged, data.meeting.share) == (2, 2, 1.0)
    last = report.year_report(year_row(district, LAST))
    assert {r.school.name: r.met for r in last.objectives} == {
        "Alder School": None,  # no applicants counted in 2024-25
        "Birch School": True,  # absolute: 25 / 110 <= 0.50
        "Elm School": None,  # prevent needs 2023-24's share
    }


def test_the_minority_setting_changes_the_figures(district):
    set_settings(["black"])
    data = the_report(district)
    assert data.settings.minority == (Group.BLACK,)
    alder = data.indicators_for(district.id("Alder"))
    assert alder.p.value == pytest.approx(60 / 145)
    assert alder.status == report.WATCH  # 41 %, up from 38 %: no longer isolated
    enrollment = [ENROLLMENT[THIS][n] for n in ACTIVE if n in ENROLLMENT[THIS]]
    assert data.race == metrics.race_indices(enrollment, ["black"])
    assert data.race != metrics.race_indices(enrollment, MINORITY)


def test_the_threshold_setting_changes_what_is_hidden(district):
    set_settings(MINORITY, threshold=5)
    data = the_report(district)
    table = data.tables[Measure.ENROLLMENT.value]
    dogwood = district.id("Dogwood")
    assert table.threshold == 5
    assert table.cell(dogwood, "black").status != CellStatus.SHOWN  # 3 < 5
    assert table.row_total(dogwood).status == CellStatus.SHOWN  # 8 >= 5
    assert data.indicators_for(dogwood).p.reason != "small_denominator"


def test_the_series_is_the_year_reports_figures(district):
    years = report.years_with_counts()
    assert [y.label for y in years] == [LAST, THIS]
    series = report.district_series(years)
    for entry in series:
        data = report.year_report(entry.year)
        assert entry.race == data.race
        assert entry.income == data.income
        assert entry.meeting == data.meeting


def test_a_schools_history_shows_the_cells_of_the_district_tables(district):
    years = report.years_with_counts()
    cedar = queries.school_row(district.id("Cedar"))
    history = report.school_history(cedar, years)
    assert [h.year.label for h in history] == [LAST, THIS]
    for entry in history:
        data = report.year_report(entry.year)
        table = data.tables[Measure.ENROLLMENT.value]
        assert entry.counts == tuple(table.cell(cedar.id, g) for g in RACE)
        assert entry.total == table.row_total(cedar.id)
        shown = data.indicators_for(cedar.id)
        assert (entry.p, entry.change, entry.status) == (shown.p, shown.change, shown.status)
    assert history[1].counts[RACE.index("black")].status == CellStatus.SMALL
    elm = report.school_history(queries.school_row(district.id("Elm")), years)
    assert [h.has_data for h in elm] == [True, False]
