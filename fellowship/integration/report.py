"""The integration figures as every output shows them: the one place pages, CSVs, PDFs, the
review packet and `flask integration indices` read from.

- `year_report(year)`: one school year — the published (suppressed) tables per measure, each
  active school's indicators, the district's indices and the magnet schools' objectives.
- `district_series(years)`: the district's indices and the share of magnet schools meeting
  their objective, for each year (the dashboard's charts).
- `school_history(school, years)`: one school's published composition, share, flags and
  objective result per year (its page).

Two kinds of figures, on purpose:

- What is *published* — counts and shares — goes through `suppression` (one table per
  measure, the whole district's schools as its rows, so a school's page and the dashboard hide
  the same cells). A share is a `Rate` from `PublishedTable.share`; a gap or a change is shown
  only when both of its shares are. A year's tables are suppressed together, with
  `suppress_linked`, because a reader can tie them: enrollment = applied and enrolled + new,
  did not apply + continuing (group by group, school by school, totals too) wherever the
  counts say so, and a school's race total = its income total where the income counts are
  complete. Suppressed one by one, a count hidden in one table could be worked out from the
  others. The race tables give the row total the class "unknown" (`TOTAL_CLASS`): a small
  unknown count is then partnered by the school's total, and its share p stays publishable.
- What is *judged* — a school's isolated / watch-band flags, whether an objective was met, and
  the district's indices — comes from the true counts through `metrics`, so the judgement does
  not change with the suppression threshold.

The district's share P is published like any share: the share of the enrollment table's
district row (`table.share(TOTAL, minority, known)`), never a ratio of true counts; so is the
district's low-income share. The other indices (D, exposure, isolation, separation, Theil's H)
are shown as computed from the true counts: a decision — they are aggregate statistics over
every school, not counts, and no published total minus them gives a count. One exception:
separation and isolation together give P back (separation = (isolation − P) / (1 − P)), so
when P is not published, neither is separation (`YearReport.race`, `.income` and
`indices_document` carry the published P and leave both out then).

Everything is memoised for the request (or CLI command) on `flask.g`: a page that asks for a
year twice, or for a year and the series, loads and computes each piece once. Counts are
loaded with `queries.counts_by_school` for just the (year, measure) pairs still missing, so a
page sends a fixed number of queries however many schools and years there are.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flask import g

from fellowship.integration import metrics, queries
from fellowship.integration.metrics import Indices
from fellowship.integration.models import (
    INCOME_GROUPS,
    KNOWN_RACE_GROUPS,
    RACE_GROUPS,
    Group,
    Measure,
    ObjectiveKind,
)
from fellowship.integration.queries import (
    ObjectiveRow,
    SchoolRow,
    SettingsView,
    YearRow,
)
from fellowship.integration.suppression import (
    TOTAL,
    CellRef,
    CellStatus,
    Link,
    Published,
    PublishedTable,
    Rate,
    TableSpec,
    gc_paused,
    suppress,
    suppress_linked,
)

# The published tables of a year, by key: one race table per measure, plus these two.
INCOME = "income"  # enrollment by income group
NEW_ENROLLEES = "new_enrollees"  # applied_enrolled + new_not_applied, per race group
RACE_MEASURES: tuple[Measure, ...] = tuple(Measure)
TABLE_KEYS: tuple[str, ...] = (*(m.value for m in RACE_MEASURES), INCOME, NEW_ENROLLEES)

_RACE = tuple(g.value for g in RACE_GROUPS)
_KNOWN = tuple(g.value for g in KNOWN_RACE_GROUPS)
_INCOME = tuple(g.value for g in INCOME_GROUPS)
_LOW = (Group.LOW_INCOME.value,)

# A school's status in a year, on the dashboard.
ISOLATED = "isolated"
WATCH = "watch"
NEITHER = "neither"
NO_DATA = "no_data"
STATUSES = (ISOLATED, WATCH, NEITHER, NO_DATA)

NO_DATA_RATE = Rate(value=None, reason="no_data")

# The class of a race table's row totals (see the module docstring).
TOTAL_CLASS = Group.UNKNOWN.value
# The measures whose tables are linked: enrollment is the sum of these, where the counts say so.
ENROLLMENT_PARTS: tuple[Measure, ...] = (
    Measure.APPLIED_ENROLLED,
    Measure.NEW_NOT_APPLIED,
    Measure.CONTINUING,
)


@dataclass(frozen=True)
class Meeting:
    """The share of magnet schools meeting their objective: met of judged (an objective
    whose figures are missing is not judged)."""

    met: int
    judged: int
    share: float | None


@dataclass(frozen=True)
class ObjectiveResult:
    school: SchoolRow
    objective: ObjectiveRow
    met: bool | None  # None: not judged (a figure it needs is missing)


@dataclass(frozen=True)
class SchoolIndicators:
    """One school in one year. Rates are published (suppressed) shares; `status` and `met`
    are judged from the true counts."""

    school: SchoolRow
    status: str  # ISOLATED / WATCH / NEITHER / NO_DATA
    p: Rate  # minority share of enrollment
    gap: Rate  # p - P (the district's share)
    change: Rate  # p - last year's p
    applicants: Rate  # a_s: minority share of applicants
    new_enrollees: Rate  # minority share of new enrollees (applied_enrolled + new_not_applied)
    low_income: Rate  # low-income share of enrollment
    low_income_gap: Rate  # low-income share - the district's
    objective: ObjectiveRow | None
    met: bool | None

    @property
    def isolated(self) -> bool:
        return self.status == ISOLATED

    @property
    def watch(self) -> bool:
        return self.status == WATCH


@dataclass(frozen=True)
class YearSummary:
    """The district in one year: the indices and the objectives met (a chart point)."""

    year: YearRow
    race: Indices
    income: Indices
    meeting: Meeting


@dataclass(frozen=True)
class YearReport:
    year: YearRow
    previous_year: YearRow | None
    settings: SettingsView
    tables: Mapping[str, PublishedTable]  # by TABLE_KEYS
    schools: tuple[SchoolIndicators, ...]  # every active school, by name
    district_p: Rate  # P, published from the enrollment table's district row
    district_low_income: Rate
    race: Indices  # as published: `share` is district_p's value, see `_published_indices`
    income: Indices  # the same, with the district's low-income share
    objectives: tuple[ObjectiveResult, ...]  # magnet schools with an objective in force
    meeting: Meeting

    def indicators_for(self, school_id: int) -> SchoolIndicators | None:
        for row in self.schools:
            if row.school.id == school_id:
                return row
        return None

    def by_status(self) -> dict[str, list[SchoolIndicators]]:
        groups: dict[str, list[SchoolIndicators]] = {status: [] for status in STATUSES}
        for row in self.schools:
            groups[row.status].append(row)
        return groups


@dataclass(frozen=True)
class HistoryYear:
    """One school in one year, for its page."""

    year: YearRow
    has_data: bool
    counts: tuple[Published, ...]  # per RACE_GROUPS column (enrollment); () without data
    total: Published | None
    p: Rate
    change: Rate
    status: str
    objective: ObjectiveRow | None
    met: bool | None


# Rates ---------------------------------------------------------------------------------------


def difference(a: Rate, b: Rate) -> Rate:
    """a − b, shown only when both are; otherwise the first reason it is not."""
    if a.value is None:
        return Rate(value=None, reason=a.reason)
    if b.value is None:
        return Rate(value=None, reason=b.reason)
    return Rate(value=a.value - b.value, reason=None)


def _share(
    table: PublishedTable | None,
    row: Any,
    numerator: Collection[str],
    denominator: Collection[str],
) -> Rate:
    """The table's share for a school (or TOTAL); "no data" for a school not in it."""
    if table is None or (row is not TOTAL and row not in _row_set(table)):
        return NO_DATA_RATE
    return table.share(row, numerator, denominator)


def _follows_from_published(
    table: PublishedTable, row: Any, numerator: Collection[str], denominator: Collection[str]
) -> bool:
    """Whether the line's numerator and denominator sums can already be worked out from its
    published cells: its hidden cells (total included) all lie in one of the numerator
    columns, the other denominator columns, or the remaining columns and the total."""
    if row not in _row_set(table):
        return True  # no counts: the line adds nothing
    num, den = set(numerator), set(denominator)
    parts = set()
    for column in table.columns:
        if table.cell(row, column).status != CellStatus.SHOWN:
            parts.add("num" if column in num else "rest" if column in den else "other")
    if table.row_total(row).status != CellStatus.SHOWN:
        parts.add("other")
    return len(parts) <= 1


def _new_enrollee_share(
    tables: Mapping[str, PublishedTable], school_id: int, minority: Any
) -> Rate:
    """The minority share of new enrollees, from the table of applied_enrolled +
    new_not_applied. The two measures are published too (the federal table), so the sum's
    share is shown only when it follows from what those two tables publish: otherwise it
    would split a sum they hide into parts, and a hidden count could be worked out. That is
    checked first, so that the reason given when the share is not shown comes from published
    counts too (the table of the sum itself is published nowhere)."""
    for measure in (Measure.APPLIED_ENROLLED, Measure.NEW_NOT_APPLIED):
        if not _follows_from_published(tables[measure.value], school_id, minority, _KNOWN):
            return Rate(value=None, reason="would_reveal")
    return _share(tables[NEW_ENROLLEES], school_id, minority, _KNOWN)


def _row_set(table: PublishedTable) -> frozenset[Any]:
    memo = _memo()
    rows = memo.row_sets.get(id(table))  # tables live in the memo, so ids stay theirs
    if rows is None:
        rows = memo.row_sets[id(table)] = frozenset(table.rows)
    return rows


# The per-request memo ------------------------------------------------------------------------

# Whose counts a load covers: every active school, or only the schools that have an
# applicant-pool objective (the series needs their applicants, not everyone's).
ALL = "all"
APPLICANT_POOL = "applicant_pool"
_Key = tuple[int, Measure, str]  # (year id, measure, scope)


@dataclass
class _Truth:
    """The judged figures of one year: the district's indices and the objectives' results,
    from the true counts (never shown as counts)."""

    race: Indices
    income: Indices
    results: dict[int, ObjectiveResult]  # by school id
    meeting: Meeting


@dataclass
class _Memo:
    settings: SettingsView
    years: list[YearRow]
    schools: list[SchoolRow]
    counts: dict[_Key, dict[int, dict[str, int]]] = field(default_factory=dict)
    objectives: dict[tuple[int, int], ObjectiveRow] = field(default_factory=dict)
    objective_years: set[int] = field(default_factory=set)
    tables: dict[tuple[int, str], PublishedTable] = field(default_factory=dict)
    truths: dict[int, _Truth] = field(default_factory=dict)
    reports: dict[int, YearReport] = field(default_factory=dict)
    row_sets: dict[int, frozenset[Any]] = field(default_factory=dict)
    with_counts: list[YearRow] | None = None

    def previous(self, year: YearRow) -> YearRow | None:
        """The school year just before this one (by its start), if it exists."""
        wanted = year.starts_on.year - 1
        for other in self.years:
            if other.starts_on.year == wanted:
                return other
        return None

    def _have(self, key: _Key) -> bool:
        year_id, measure, scope = key
        return key in self.counts or (scope != ALL and (year_id, measure, ALL) in self.counts)

    def need_counts(self, wanted: Iterable[_Key]) -> None:
        """Load the counts not loaded yet: one query per scope and distinct set of measures
        missing (a few at most, whatever the number of schools and years)."""
        missing: dict[tuple[int, str], set[Measure]] = {}
        for key in wanted:
            if not self._have(key):
                year_id, measure, scope = key
                missing.setdefault((year_id, scope), set()).add(measure)
        groups: dict[tuple[str, frozenset[Measure]], list[int]] = {}
        for (year_id, scope), some in missing.items():
            groups.setdefault((scope, frozenset(some)), []).append(year_id)
        for (scope, measures), year_ids in groups.items():
            loaded = queries.counts_by_school(
                year_ids, measures, applicant_pool_only=scope == APPLICANT_POOL
            )
            for (year_id, measure), by_school in loaded.items():
                self.counts[(year_id, measure, scope)] = by_school

    def counts_for(
        self, year_id: int, measure: Measure, scope: str = ALL
    ) -> dict[int, dict[str, int]]:
        self.need_counts([(year_id, measure, scope)])
        found = self.counts.get((year_id, measure, ALL))
        return found if found is not None else self.counts[(year_id, measure, scope)]

    def need_objectives(self, year_ids: Iterable[int]) -> None:
        missing = set(year_ids) - self.objective_years
        if missing:
            self.objectives.update(queries.objectives_in_force(missing))
            self.objective_years |= missing


def _memo() -> _Memo:
    memo: _Memo | None = g.get("_integration_report")
    if memo is None:
        memo = _Memo(
            settings=queries.current_settings(),
            years=queries.school_years(),
            schools=queries.active_schools(),
        )
        g._integration_report = memo
    return memo


def forget() -> None:
    """Drop this request's memo (after counts or settings changed within it)."""
    g.pop("_integration_report", None)


def settings() -> SettingsView:
    return _memo().settings


def years_with_counts() -> list[YearRow]:
    """The school years with counts, oldest first (memoised for the request)."""
    memo = _memo()
    if memo.with_counts is None:
        memo.with_counts = queries.years_with_counts()
    return memo.with_counts


def year_with_counts(label: str) -> YearRow | None:
    """The school year with this label, if it has counts."""
    label = label.strip()
    return next((year for year in years_with_counts() if year.label == label), None)


# Tables --------------------------------------------------------------------------------------


def _race_classes(minority: Collection[str]) -> dict[str, str]:
    chosen = set(minority)
    classes = {}
    for group in _RACE:
        if group in chosen:
            classes[group] = "minority"
        elif group == Group.WHITE.value:
            classes[group] = "white"
        elif group == Group.UNKNOWN.value:
            classes[group] = "unknown"
        else:
            classes[group] = "other"  # a known group the district does not count as minority
    return classes


def _rows(
    memo: _Memo, counts: Mapping[int, Mapping[str, int]], columns: Sequence[str]
) -> dict[Hashable, dict[str, int]]:
    """The table's rows: the schools with counts in these columns, by name."""
    rows: dict[Hashable, dict[str, int]] = {}
    for school in memo.schools:
        found = counts.get(school.id)
        if found is not None and any(column in found for column in columns):
            rows[school.id] = {column: found.get(column, 0) for column in columns}
    return rows


def _table(memo: _Memo, year: YearRow, key: str) -> PublishedTable:
    cached = memo.tables.get((year.id, key))
    if cached is not None:
        return cached
    if key != NEW_ENROLLEES:
        _suppress_year(memo, year)
        return memo.tables[(year.id, key)]
    # The minority share of new enrollees comes from this table of applied_enrolled +
    # new_not_applied; its counts are published nowhere, and its share only where the two
    # published tables imply it (`_new_enrollee_share`).
    first = memo.counts_for(year.id, Measure.APPLIED_ENROLLED)
    second = memo.counts_for(year.id, Measure.NEW_NOT_APPLIED)
    counts: dict[int, dict[str, int]] = {}
    for school_id in first.keys() | second.keys():
        a, b = first.get(school_id, {}), second.get(school_id, {})
        counts[school_id] = {g: a.get(g, 0) + b.get(g, 0) for g in a.keys() | b.keys()}
    table = suppress(
        _rows(memo, counts, _RACE),
        _RACE,
        memo.settings.threshold,
        column_classes=_race_classes(memo.settings.minority),
        total_class=TOTAL_CLASS,
    )
    memo.tables[(year.id, key)] = table
    return table


def _suppress_year(memo: _Memo, year: YearRow) -> None:
    """Suppress the year's published tables together — a race table per measure and the
    income table — with the links a reader can check (see the module docstring), into
    `memo.tables`."""
    memo.need_counts([(year.id, measure, ALL) for measure in Measure])
    classes = _race_classes(memo.settings.minority)
    race: dict[str, dict[Hashable, dict[str, int]]] = {
        m.value: _rows(memo, memo.counts_for(year.id, m), _RACE) for m in Measure
    }
    enrollment = Measure.ENROLLMENT.value
    parts = [m.value for m in ENROLLMENT_PARTS if race[m.value]]
    schools = set(race[enrollment]).union(*(race[p] for p in parts))
    if len(parts) == 1 and schools != set(race[enrollment]):
        parts = []  # a single part with schools enrollment lacks: left unlinked
    for part in parts:
        # Linked parts list the same schools, every school of the enrollment table among
        # them (zeros where a school has no counts of that part), as `suppress_linked` needs.
        found = race[part]
        race[part] = {
            school.id: found.get(school.id) or dict.fromkeys(_RACE, 0)
            for school in memo.schools
            if school.id in schools
        }
    income = _rows(memo, memo.counts_for(year.id, Measure.ENROLLMENT), _INCOME)
    specs = {key: TableSpec(counts, _RACE, classes, TOTAL_CLASS) for key, counts in race.items()}
    specs[INCOME] = TableSpec(income, _INCOME)
    with gc_paused():  # tens of thousands of links: see `gc_paused`
        links = _sum_links(race, enrollment, parts) + _total_links(race[enrollment], income)
        tables = suppress_linked(specs, links, memo.settings.threshold)
    for key, table in tables.items():
        memo.tables[(year.id, key)] = table


def _sum_links(
    race: Mapping[str, Mapping[Hashable, Mapping[str, int]]], total: str, parts: Sequence[str]
) -> list[Link]:
    """enrollment = the parts, at every place (group or total; school or district) where the
    counts say so."""
    if not parts:
        return []
    links = []
    for school_id, counts in race[total].items():
        rows = [counts, *(race[p][school_id] for p in parts)]
        links += _links_of_line(school_id, rows, total, parts)
    district = [_column_sums(race[name]) for name in (total, *parts)]
    return links + _links_of_line(TOTAL, district, total, parts)


def _column_sums(rows: Mapping[Hashable, Mapping[str, int]]) -> dict[str, int]:
    sums = dict.fromkeys(_RACE, 0)
    for counts in rows.values():
        for group in _RACE:
            sums[group] += counts[group]
    return sums


def _links_of_line(
    row: Hashable, rows: Sequence[Mapping[str, int]], total: str, parts: Sequence[str]
) -> list[Link]:
    links = []
    sums = [0] * len(rows)
    for group in _RACE:
        values = [line[group] for line in rows]
        for i, v in enumerate(values):
            sums[i] += v
        if values[0] == sum(values[1:]):
            links.append(_sum_link(row, group, total, parts))
    if sums[0] == sum(sums[1:]):
        links.append(_sum_link(row, TOTAL, total, parts))
    return links


def _sum_link(row: Hashable, column: Any, total: str, parts: Sequence[str]) -> Link:
    return Link(CellRef(total, row, column), tuple(CellRef(p, row, column) for p in parts))


def _total_links(
    race: Mapping[Hashable, Mapping[str, int]], income: Mapping[Hashable, Mapping[str, int]]
) -> list[Link]:
    """A school's race total = its income total, where they are equal (its income counts
    complete); the same for the district."""
    links = []
    race_all = 0
    for school_id, counts in race.items():
        race_total = sum(counts.values())
        race_all += race_total
        found = income.get(school_id)
        if found is not None and sum(found.values()) == race_total:
            links.append(_total_link(school_id))
    income_all = sum(sum(counts.values()) for counts in income.values())
    if race and income and race_all == income_all:
        links.append(_total_link(TOTAL))
    return links


def _total_link(row: Hashable) -> Link:
    return Link(CellRef(Measure.ENROLLMENT.value, row, TOTAL), (CellRef(INCOME, row, TOTAL),))


class _Tables(Mapping[str, PublishedTable]):
    """A year's published tables, each suppressed the first time it is asked for (the
    dashboard needs five of the seven; the federal table all of them)."""

    def __init__(self, memo: _Memo, year: YearRow) -> None:
        self._memo = memo
        self._year = year

    def __getitem__(self, key: str) -> PublishedTable:
        if key not in TABLE_KEYS:
            raise KeyError(key)
        return _table(self._memo, self._year, key)

    def __iter__(self) -> Iterator[str]:
        return iter(TABLE_KEYS)

    def __len__(self) -> int:
        return len(TABLE_KEYS)


def _has_race(counts: Mapping[str, int]) -> bool:
    return any(group in counts for group in _RACE)


def _has_income(counts: Mapping[str, int]) -> bool:
    return any(group in counts for group in _INCOME)


# The truth of a year -------------------------------------------------------------------------


def _share_of(
    counts: Mapping[int, Mapping[str, int]], school_id: int, minority: Collection[str]
) -> float | None:
    row = counts.get(school_id)
    if row is None or not _has_race(row):
        return None
    return metrics.minority_share(row, minority)


def _truths(memo: _Memo, years: Sequence[YearRow]) -> list[_Truth]:
    """The judged figures of these years, loading what is missing for all of them at once:
    enrollment of every school, and applicants of the schools with an applicant-pool
    objective."""
    wanted = [y for y in years if y.id not in memo.truths]
    if wanted:
        previous = [p for p in (memo.previous(y) for y in wanted) if p is not None]
        memo.need_counts(
            [(y.id, Measure.ENROLLMENT, ALL) for y in wanted]
            + [(p.id, Measure.ENROLLMENT, ALL) for p in previous]
            + [(y.id, Measure.APPLICANTS, APPLICANT_POOL) for y in wanted]
        )
        memo.need_objectives(y.id for y in wanted)
        for year in wanted:
            memo.truths[year.id] = _truth(memo, year)
    return [memo.truths[y.id] for y in years]


def _truth(memo: _Memo, year: YearRow) -> _Truth:
    minority = memo.settings.minority
    enrollment = memo.counts_for(year.id, Measure.ENROLLMENT)
    applicants = memo.counts_for(year.id, Measure.APPLICANTS, APPLICANT_POOL)
    previous = memo.previous(year)
    before = memo.counts_for(previous.id, Measure.ENROLLMENT) if previous else {}
    race = metrics.race_indices([row for row in enrollment.values() if _has_race(row)], minority)
    income = metrics.income_indices([row for row in enrollment.values() if _has_income(row)])
    results: dict[int, ObjectiveResult] = {}
    for school in memo.schools:
        objective = memo.objectives.get((school.id, year.id))
        if objective is None or not school.is_magnet:
            continue
        outcome = _judge(objective, school.id, minority, enrollment, before, applicants, race.share)
        results[school.id] = ObjectiveResult(school=school, objective=objective, met=outcome)
    met, judged, share = metrics.share_meeting(r.met for r in results.values())
    return _Truth(
        race=race,
        income=income,
        results=results,
        meeting=Meeting(met=met, judged=judged, share=share),
    )


def _judge(
    objective: ObjectiveRow,
    school_id: int,
    minority: Collection[str],
    enrollment: Mapping[int, Mapping[str, int]],
    before: Mapping[int, Mapping[str, int]],
    applicants: Mapping[int, Mapping[str, int]],
    district_p: float | None,
) -> bool | None:
    """Whether the school met its objective, from the true counts (the one call site of
    `metrics.objective_met`, for the dashboard and a school's page alike)."""
    return metrics.objective_met(
        objective.kind.value,
        p=_share_of(enrollment, school_id, minority),
        previous_p=_share_of(before, school_id, minority),
        district_p=district_p,
        applicant_p=_share_of(applicants, school_id, minority),
        band_k=float(objective.band_k),
    )


def _district_share(
    enrollment: Mapping[int, Mapping[str, int]], minority: Collection[str]
) -> float | None:
    """P = X / T over the schools with counts: the same integers, hence the same float, as
    `metrics.race_indices(...).share` (schools with no student add 0 to both)."""
    rows = [row for row in enrollment.values() if _has_race(row)]
    return metrics.ratio(
        sum(metrics.minority_total(row, minority) for row in rows),
        sum(metrics.known_total(row) for row in rows),
    )


def _status(p: float | None, previous_p: float | None) -> str:
    if p is None:
        return NO_DATA
    if metrics.is_isolated(p):
        return ISOLATED
    if metrics.in_watch_band(p, previous_p):
        return WATCH
    return NEITHER


# The outputs ---------------------------------------------------------------------------------


def year_report(year: YearRow) -> YearReport:
    """Everything shown about one school year (memoised for the request)."""
    memo = _memo()
    cached = memo.reports.get(year.id)
    if cached is not None:
        return cached
    previous = memo.previous(year)
    # Every measure of this year and the last: each year's tables are suppressed together.
    memo.need_counts(
        [(y.id, m, ALL) for y in (year, *([previous] if previous else [])) for m in Measure]
    )
    (truth,) = _truths(memo, [year])
    tables = _Tables(memo, year)
    enrollment = tables[Measure.ENROLLMENT.value]
    applicants = tables[Measure.APPLICANTS.value]
    income = tables[INCOME]
    before = _table(memo, previous, Measure.ENROLLMENT.value) if previous else None
    minority = [g.value for g in memo.settings.minority]
    district_p = _share(enrollment, TOTAL, minority, _KNOWN)
    district_low = _share(income, TOTAL, _LOW, _INCOME)
    true_now = memo.counts_for(year.id, Measure.ENROLLMENT)
    true_before = memo.counts_for(previous.id, Measure.ENROLLMENT) if previous else {}
    rows = []
    for school in memo.schools:
        p = _share(enrollment, school.id, minority, _KNOWN)
        # A change needs this year's share shown; without it, say why and ask no more.
        last = _share(before, school.id, minority, _KNOWN) if p.value is not None else p
        low = _share(income, school.id, _LOW, _INCOME)
        result = truth.results.get(school.id)
        status = _status(
            _share_of(true_now, school.id, minority), _share_of(true_before, school.id, minority)
        )
        rows.append(
            SchoolIndicators(
                school=school,
                status=status,
                p=p,
                gap=difference(p, district_p),
                change=difference(p, last),
                applicants=_share(applicants, school.id, minority, _KNOWN),
                new_enrollees=_new_enrollee_share(tables, school.id, minority),
                low_income=low,
                low_income_gap=difference(low, district_low),
                objective=result.objective if result else None,
                met=result.met if result else None,
            )
        )
    report = YearReport(
        year=year,
        previous_year=previous,
        settings=memo.settings,
        tables=tables,
        schools=tuple(rows),
        district_p=district_p,
        district_low_income=district_low,
        race=_published_indices(truth.race, district_p),
        income=_published_indices(truth.income, district_low),
        objectives=tuple(truth.results.values()),
        meeting=truth.meeting,
    )
    memo.reports[year.id] = report
    return report


def _published_indices(indices: Indices, share: Rate) -> Indices:
    """The indices as published: P is the share the district row publishes (`share`), and
    when it is not shown neither is separation, which with isolation would give it back."""
    if share.value is None:
        return replace(indices, share=None, separation=None)
    return replace(indices, share=share.value)


def district_series(years: Sequence[YearRow]) -> list[YearSummary]:
    """The district's indices (as published: see `_published_indices`) and objectives met
    for each of these years, oldest first as given. A fixed number of queries for any number
    of years."""
    memo = _memo()
    earlier = [p for p in (memo.previous(y) for y in years) if p is not None]
    memo.need_counts([(y.id, m, ALL) for y in (*years, *earlier) for m in Measure])
    _truths(memo, years)
    summaries = []
    for year in years:
        data = year_report(year)
        summaries.append(
            YearSummary(year=year, race=data.race, income=data.income, meeting=data.meeting)
        )
    return summaries


def school_history(school: SchoolRow, years: Sequence[YearRow]) -> list[HistoryYear]:
    """One school over these years: its published enrollment counts (suppressed within the
    whole district's table, as on the dashboard), share, change, status and objective."""
    memo = _memo()
    earlier = [p for p in (memo.previous(y) for y in years) if p is not None]
    # Every measure: a year's enrollment table is suppressed with the year's other tables.
    memo.need_counts(
        [(y.id, m, ALL) for y in (*years, *earlier) for m in Measure]
        + [(y.id, Measure.APPLICANTS, APPLICANT_POOL) for y in years]
    )
    memo.need_objectives(y.id for y in years)
    minority = [g.value for g in memo.settings.minority]
    history = []
    for year in years:
        table = _table(memo, year, Measure.ENROLLMENT.value)
        previous = memo.previous(year)
        before = _table(memo, previous, Measure.ENROLLMENT.value) if previous else None
        has_data = school.id in _row_set(table)
        p = _share(table, school.id, minority, _KNOWN)
        last = _share(before, school.id, minority, _KNOWN)
        true_now = memo.counts_for(year.id, Measure.ENROLLMENT)
        true_before = memo.counts_for(previous.id, Measure.ENROLLMENT) if previous else {}
        objective = memo.objectives.get((school.id, year.id)) if school.is_magnet else None
        met = None
        if objective is not None:
            district_p = (
                _district_share(true_now, minority)
                if objective.kind == ObjectiveKind.RELATIVE_BAND
                else None
            )
            applicants = memo.counts_for(year.id, Measure.APPLICANTS, APPLICANT_POOL)
            met = _judge(
                objective, school.id, minority, true_now, true_before, applicants, district_p
            )
        history.append(
            HistoryYear(
                year=year,
                has_data=has_data,
                counts=tuple(table.cell(school.id, c) for c in _RACE) if has_data else (),
                total=table.row_total(school.id) if has_data else None,
                p=p,
                change=difference(p, last),
                status=_status(
                    _share_of(true_now, school.id, minority),
                    _share_of(true_before, school.id, minority),
                ),
                objective=objective,
                met=met,
            )
        )
    return history


# The indices as a document (`flask integration indices`, and any later API) ------------------

INDEX_FIELDS = ("share", "dissimilarity", "exposure", "isolation", "separation", "theil_h")


def _indices_dict(indices: Indices) -> dict[str, Any]:
    return {
        "schools": indices.schools,
        **{name: getattr(indices, name) for name in INDEX_FIELDS},
    }


def indices_document(data: YearReport) -> dict[str, Any]:
    """The district's indices of a year with what they depend on, as plain JSON values. The
    shares P are the published ones (null when not shown, and separation with them)."""
    return {
        "school_year": data.year.label,
        "minority_groups": [group.value for group in data.settings.minority],
        "suppression_threshold": data.settings.threshold,
        "schools": data.race.schools,
        "share_p": data.race.share,
        "race": _indices_dict(data.race),
        "income": _indices_dict(data.income),
        "magnet_objectives": {
            "met": data.meeting.met,
            "judged": data.meeting.judged,
            "share": data.meeting.share,
        },
    }


def indices_text(document: Mapping[str, Any]) -> str:
    """The document for people: one line per index, three decimals like the pages."""

    def number(value: float | None) -> str:
        return "-" if value is None else f"{round(value, 3):.3f}"

    lines = [
        f"School year {document['school_year']}",
        f"Minority groups: {', '.join(document['minority_groups'])}",
        f"Small-cell threshold N: {document['suppression_threshold']}",
        f"Schools counted: {document['schools']}",
        f"District minority share P: {number(document['share_p'])}",
        "",
        f"{'index':<16}{'race':>10}{'income':>10}",
    ]
    for name in INDEX_FIELDS:
        race, income = document["race"][name], document["income"][name]
        lines.append(f"{name:<16}{number(race):>10}{number(income):>10}")
    lines.append(
        f"{'schools':<16}{document['race']['schools']:>10}{document['income']['schools']:>10}"
    )
    meeting = document["magnet_objectives"]
    lines += [
        "",
        f"Magnet schools meeting their objective: {meeting['met']} of {meeting['judged']} "
        f"judged ({number(meeting['share'])})",
    ]
    return "\n".join(lines)


# Loading ahead -------------------------------------------------------------------------------


def prefetch(years: Sequence[YearRow]) -> None:
    """Load every count and objective the reports of these years need, in a few queries for
    all of them (the figures store computes several years at once: without this, each year's
    report would load its own)."""
    memo = _memo()
    previous = [p for p in (memo.previous(y) for y in years) if p is not None]
    memo.need_counts(
        [(y.id, m, ALL) for y in years for m in RACE_MEASURES]
        + [(p.id, Measure.ENROLLMENT, ALL) for p in previous]
    )
    memo.need_objectives(y.id for y in years)
