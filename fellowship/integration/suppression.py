"""Small-cell suppression: the one function every published count goes through.

Pages, CSV files, PDFs and any later API publish counts and shares ONLY through
`suppress(...)` and the `PublishedTable` it returns. Templates and exports use the public API
(`cell`, `row_total`, `column_total`, `total`, `share`, `Published.text`); the table keeps the
true counts in private attributes (`_counts`) that only `share` reads. Nothing outside this
module may read an attribute whose name starts with an underscore.

The table
    Rows × columns of counts, plus a total per row, a total per column (the district row) and
    the grand total. Totals are cells too: they can be small and they can be hidden.

Primary suppression
    Every count from 1 to N−1 (N = `threshold`), totals included, is hidden with status SMALL
    and shows as "<N". A 0 is shown, and so is any count ≥ N, unless it is chosen as a
    complement (below).

Complementary suppression
    Published totals let a reader work out a hidden count by subtraction, so more cells are
    hidden (status COMPLEMENT, shown as "*") until none of the hidden counts can be worked out
    exactly from what is published. The model: the table with its margins is an
    (R+1)×(C+1) grid. Flip the sign of every row total and column total (the grand total keeps
    its sign): then every line of the grid — each row with its total, each column with its
    total, the district row with the grand total, the column of row totals with the grand
    total — sums to zero. Each cell is an edge between its row node and its column node of a
    complete bipartite graph; the hidden cells are a subgraph H. What a reader knows about the
    hidden values is "at each node, the hidden edges sum to a known number", i.e. the node-edge
    incidence system of H. Its null space is H's cycle space (an alternating ± walk round a
    cycle keeps every node's sum), so a hidden cell is determined exactly when no cycle of H
    passes through it — when its edge is a bridge of H. Suppression therefore repeats: find a
    hidden edge that is a bridge, add the cheapest set of cells that closes a cycle through it,
    until no hidden edge is a bridge. "Cheapest" compares, in order: how many district totals
    (column totals, the grand total) it hides, how many row totals, how many cells that are 0
    or exactly N (they barely protect: see "Bounds"), how many cells whose class
    (`column_classes`) differs from the hidden cells already in their row, how many cells, and
    the sum of their values. So a complement is, in order of preference, a cell that is
    already hidden, a cell above N of the same class (the minority groups' sum can then still
    be published), the smallest cell above N, a 0 or an N, a row total, and last a district
    total. When the only way is to hide totals (a table of one row, say), totals are hidden;
    in the district row, too, a cell of the class already hidden there comes first (so the
    district's share P can still be published).

    A row total has no class unless `total_class` gives it one. With a class, the total is
    as cheap as a cell of that class while the row hides nothing of another class (and as
    dear as before otherwise). A share over the known race groups treats "the other columns
    and the total" as one part (see "Shares"), so a small `unknown` count is best partnered
    by the school's total: `total_class="unknown"` makes that the first choice, and the
    school's share stays publishable.

    `forced` cells are hidden whatever their count and protected like small ones (given a
    cycle); `suppress_linked` uses the same machinery.

    Bridges are tracked as cells are added with the online bridge algorithm (two union-finds
    over 2-edge-connected and connected components). A cycle is usually closed with one new
    cell joining the two sides of the bridge, found from its smaller side; when no single cell
    does it as cheaply as the row allows, a cheapest-path (Dijkstra) search over all columns
    and the cheapest free cells of each column finds a longer path (it always finds one: any
    second row and second column close a rectangle). The choice is a heuristic — the cheapest
    suppression overall is NP-hard — but safety does not depend on it: a final iterative
    Tarjan pass re-checks that no hidden edge is a bridge and closes any it finds. Everything
    runs in a fixed order (rows sorted by key, columns as given), so the same counts give the
    same table whatever the order of the mapping.

Bounds
    A reader also knows that "<N" means 1..N−1 and "*" means 0 or at least N, and bounds with
    sums can pin a count that no subtraction gives: a row "<10", "<10" whose published total
    is 2 can only be 1 + 1; "<10" and "*" with a published total of 11 can only be 1 + 10. So
    each small count must also be able to move: another table that publishes exactly the same
    must exist in which it is one more or one less. In the signed grid, a unit move of a hidden
    cell is an arc — row → column where its signed value can go up by one and stay true to its
    mark, column → row where it can go down — and adding one round a directed cycle of such
    arcs gives another table with the same published counts and marks. After the
    complementary pass, every small count one of whose arcs lies on no directed cycle (without
    its own reverse arc) gets the cheapest cells that make one (a directed Dijkstra search; a
    new "*" above N can move both ways, an N only up, a 0 not at all). Adding hidden cells only
    adds arcs, so no count loses its cycle. Where no suppression can give one, the count stays
    as it is: with N = 2, "<2" can only be 1; with N = 3 a row "<3", "<3" whose total is "<3"
    can only be 1 + 1 whatever else is hidden. A reader can still narrow a hidden count to a
    range (at most 3, say); the promise is that it is one value only where no suppression
    could help.

Shares
    `PublishedTable.share(row, numerator, denominator)` publishes Σ numerator / Σ denominator
    for one line (a row, or `TOTAL` for the district row). Publishing it exactly adds one
    linear equation, (1 − p)·A − p·B = 0, where A is the numerator sum and B the sum of the
    denominator columns outside the numerator. The line itself already publishes
    A + B + O = T (O: the other columns, T: the line's total). If all the hidden cells of the
    line lie in A, then B, O and T are published and A = T − B − O is known, so p is too; the
    same holds when they all lie in B; and when they all lie in O ∪ {T}, A and B are published.
    In those three cases the share is a function of published counts and adds nothing. In any
    other case it splits a published sum into two parts that were not separately known, which
    can make a hidden cell exact; it is then not shown (`reason="would_reveal"`). The reason
    given for a share that is not shown is itself worked out from published information only,
    so the reason cannot leak either: "no_data" (the denominator is 0) and "small_denominator"
    (it is below N) are given when the denominator is known from the published counts, or, for
    "small_denominator", when the published counts bound it below N (a line whose total is
    "<N"); otherwise the share is "would_reveal".

Linked tables
    Published tables can be tied by identities a reader knows or can check: federal counts
    satisfy enrollment = applied and enrolled + new, did not apply + continuing, group by group
    and total by total, in every school and the district; a school's race table total equals
    its income table total when every student has an income group. A count hidden in one
    table could then be worked out from the others, so `suppress_linked` suppresses such
    tables together. It takes two kinds of link, each checked against the counts: a SUM at
    the same place (row and column, totals addressable) of tables with the same columns — a
    total table and its parts — and two ROW TOTALS of one row in tables with different
    columns.

    Hiding until no link has exactly one hidden count is necessary but not enough: an exact
    audit of small random sets of tables done that way found one set in seven still giving
    a count away. What is enough is, for every hidden count, another set of tables that
    publishes the same, satisfies every table's lines and every link, and differs in that
    count. They are built from cycles, as for one table:
    - Sums. Two parts that hide the same places can move in opposite directions round any
      cycle of hidden cells, and the total does not change; a total and a part that hide the
      same places can move together. So two parts (the "core": the two with the most small
      counts) hide every place that any table of the sum hides; the total and the other
      parts hide only what their own suppression needs. Each hidden count lies on a cycle of
      its own table, and that cycle is hidden in a core part too: a core part moves against
      the other core part, another part against a core part, the total with a core part.
      With a single part, the total and the part hide the same places (same rows needed); the
      parts must have the same rows, and the total's rows among them.
    - Row totals. The table that is the total of a sum (else the first by name) is
      suppressed first; the other starts from the row totals it hides, so both pair their
      hidden totals alike. A linked total hidden in one table is hidden in the other. The
      two tables then make one graph: a row whose linked totals are hidden is a single node
      carrying both tables' hidden cells (its total follows from either side and is no
      edge), both columns of totals are one node, and the other hidden totals are edges to
      it. A cycle of that graph changes both tables (and, through the core, the sum) and
      keeps everything published; a merged row's total changes when a cycle passes there
      from one table's cells to the other's (two such cells in one biconnected block). When
      a merged row has no such cycle, the rows whose totals are hidden are joined in both
      tables through their cells; a cell still on no cycle gets the cheapest rectangle (or
      path) that puts it on one. Where no path exists (a race table of one column), every
      linked total is hidden, and failing that every cell of the two tables.
    Every step only hides more, and all are repeated until nothing changes. The tests audit
    the result by exact rational elimination over every table and link. What it costs: the
    core parts hide many more cells (they are mostly small counts anyway), and a school whose
    race table total is hidden loses its low-income share (the income table hides that
    total and one of its two counts). Bounds across tables ("<N" in one table and a known sum
    in another) are not checked: across tables the promise is the linear one.
"""

from __future__ import annotations

import gc
import heapq
import itertools
from collections.abc import (
    Callable,
    Collection,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final, NamedTuple


class CellStatus(StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # a count from 1 to N-1: "<N"
    COMPLEMENT = "complement"  # hidden so that a small count cannot be worked out: "*"


class _Total(Enum):
    TOTAL = "total"

    def __repr__(self) -> str:
        return "TOTAL"

    __str__ = __repr__


# The district row (column totals and the grand total), for `cell`, `row_total` and `share`.
TOTAL: Final = _Total.TOTAL


@dataclass(frozen=True, slots=True)
class Published:
    """One published count. `value` is the count when it is shown and None when it is hidden:
    a hidden count is never stored here."""

    status: CellStatus
    value: int | None

    def __post_init__(self) -> None:
        if (self.status == CellStatus.SHOWN) != (self.value is not None):
            raise ValueError("a shown count has a value; a hidden one has none")

    def text(self, threshold: int) -> str:
        """Plain digits for CSV and cells ("1234", no separators), "<N" for a small count,
        "*" for a complementary suppression."""
        if self.status == CellStatus.SHOWN:
            return str(self.value)
        if self.status == CellStatus.SMALL:
            return f"<{threshold}"
        return "*"


@dataclass(frozen=True, slots=True)
class Rate:
    """One published share: `value` in [0, 1] when shown, else None with a `reason`:
    "small_denominator" (fewer than N in the denominator), "no_data" (the denominator is 0) or
    "would_reveal" (publishing it could let a reader work out a hidden count)."""

    value: float | None
    reason: str | None


_SMALL: Final = Published(CellStatus.SMALL, None)
_COMPLEMENT: Final = Published(CellStatus.COMPLEMENT, None)


@dataclass(frozen=True)
class PublishedTable:
    """The published form of one table. Use only the public methods: the attributes whose names
    start with an underscore hold the true counts and are for `share` alone."""

    threshold: int
    rows: tuple[Hashable, ...]  # in the order of the mapping given to `suppress`
    columns: tuple[str, ...]
    _grid: tuple[tuple[Published, ...], ...] = field(repr=False)
    _row_index: Mapping[Hashable, int] = field(repr=False)
    _column_index: Mapping[str, int] = field(repr=False)
    _counts: tuple[tuple[int, ...], ...] = field(repr=False, compare=False)

    def _row(self, row: Hashable) -> int:
        return len(self._grid) - 1 if row is TOTAL else self._row_index[row]

    def cell(self, row: Hashable, column: str) -> Published:
        """The count of `row` in `column`; `row=TOTAL` gives the column total."""
        return self._grid[self._row(row)][self._column_index[column]]

    def row_total(self, row: Hashable) -> Published:
        """The row's total over the table's columns; `row=TOTAL` gives the grand total."""
        return self._grid[self._row(row)][-1]

    def column_total(self, column: str) -> Published:
        """The column's total over the rows (the district row)."""
        return self._grid[-1][self._column_index[column]]

    def total(self) -> Published:
        """The grand total."""
        return self._grid[-1][-1]

    def share(
        self, row: Hashable, numerator: Collection[str], denominator: Collection[str]
    ) -> Rate:
        """Σ numerator / Σ denominator for `row` (or `TOTAL`, the district row), when it is
        safe to publish (see the module docstring for why exactly these cases are safe).
        `numerator` must be a subset of `denominator`, both of the table's columns."""
        num = set(numerator)
        den = set(denominator)
        unknown = (num | den) - set(self.columns)
        if unknown:
            raise ValueError(f"not columns of this table: {sorted(unknown)}")
        if not den or not num <= den:
            raise ValueError("the numerator columns must be a non-empty denominator's subset")
        r = self._row(row)
        line = self._grid[r]
        index = self._column_index
        total_hidden = line[-1].status != CellStatus.SHOWN
        groups = {"num": False, "rest": False, "other": total_hidden}
        for column in self.columns:
            if line[index[column]].status != CellStatus.SHOWN:
                key = "num" if column in num else "rest" if column in den else "other"
                groups[key] = True
        if sum(groups.values()) <= 1:
            # The denominator (and the numerator) follow from published counts.
            counts = self._counts[r]
            n = sum(counts[index[c]] for c in num)
            d = sum(counts[index[c]] for c in den)
            if d == 0:
                return Rate(None, "no_data")
            if d < self.threshold:
                return Rate(None, "small_denominator")
            return Rate(n / d, None)
        # Some hidden count is split across the parts: never shown. Say "small" only when the
        # published counts alone bound the denominator below N.
        bounds = [_published_bound(line[index[c]], self.threshold) for c in den]
        known = [b for b in (_published_bound(line[-1], self.threshold),) if b is not None]
        if all(b is not None for b in bounds):
            known.append(sum(b for b in bounds if b is not None))
        if known and min(known) == 0:
            return Rate(None, "no_data")
        if known and min(known) < self.threshold:
            return Rate(None, "small_denominator")
        return Rate(None, "would_reveal")


def _published_bound(cell: Published, threshold: int) -> int | None:
    """The largest value the published cell allows (None: no bound)."""
    if cell.status == CellStatus.SHOWN:
        return cell.value
    if cell.status == CellStatus.SMALL:
        return threshold - 1
    return None


def suppress(
    counts: Mapping[Hashable, Mapping[str, int]],
    columns: Sequence[str],
    threshold: int,
    *,
    column_classes: Mapping[str, str] | None = None,
    total_class: str | None = None,
    forced: Collection[tuple[Hashable, str | _Total]] = (),
) -> PublishedTable:
    """The published form of the table `counts` ({row: {column: count}}, a missing count is 0)
    over `columns` (other keys of a row are ignored), with the small-cell threshold N:
    counts 1..N−1 are hidden (SMALL) and enough other cells (COMPLEMENT) that none of them can
    be worked out from the published ones. `column_classes` ({column: class}, a column not in
    it is a class of its own) steers complements towards columns of the class already hidden
    in the row, so that shares over whole classes stay publishable; `total_class` says which
    class a row's total belongs to (say "unknown" when shares leave out the unknown column:
    the total then partners an unknown count as well as another unknown count would).
    `forced`: cells that must be hidden whatever their count, as (row, column) with `TOTAL`
    for the district row or for the row total; they are protected like small ones."""
    with gc_paused():
        table = _prepare(counts, columns, threshold, column_classes)
        suppressor = _Suppressor(table.grid, table.classes, threshold, total_class)
        suppressor.start([table.position(row, column) for row, column in forced])
        suppressor.finish()
        while suppressor.cover_small_sums():
            suppressor.finish()
        return table.publish(suppressor.hidden, threshold)


@dataclass(frozen=True)
class TableSpec:
    """One table for `suppress_linked`: the arguments `suppress` takes, but the threshold."""

    counts: Mapping[Hashable, Mapping[str, int]]
    columns: Sequence[str]
    column_classes: Mapping[str, str] | None = None
    total_class: str | None = None
    forced: Collection[tuple[Hashable, str | _Total]] = ()


class CellRef(NamedTuple):
    """One count of one of the linked tables: `row` may be `TOTAL` (the district row) and
    `column` may be `TOTAL` (the row's total)."""

    table: str
    row: Hashable
    column: str | _Total


@dataclass(frozen=True)
class Link:
    """An identity a reader knows between counts of the linked tables: `total` is the sum of
    `parts` (in the true counts: `suppress_linked` checks it)."""

    total: CellRef
    parts: tuple[CellRef, ...]


def suppress_linked(
    tables: Mapping[str, TableSpec], links: Iterable[Link], threshold: int
) -> dict[str, PublishedTable]:
    """The published form of several tables whose counts are tied by `links` (see "Linked
    tables" in the module docstring), by name. Two kinds of link are understood: a sum of
    counts at the same place (row and column) of tables with the same columns ("enrollment
    = applied and enrolled + new, did not apply + continuing", cell by cell and total by
    total), and two row totals of one row in two tables with different columns ("the race
    table's total = the income table's total"). Every table is suppressed as `suppress`
    would; then more cells are hidden until every hidden count of every table can still
    change in another set of tables that publishes exactly the same and satisfies every
    link. The same tables and links give the same result whatever their order."""
    with gc_paused():
        return _Linked(tables, links, threshold).run()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a burst of allocation that makes no reference
    cycles (hundreds of thousands of small tuples and lists for a district's tables): it
    would otherwise run many times for nothing, a quarter of the time. Reference counting
    still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Prepared:
    """A table's true (R+1)×(C+1) grid (rows sorted, totals last) and how to address it."""

    rows_in: tuple[Hashable, ...]
    canon: list[Hashable]
    columns: tuple[str, ...]
    grid: list[list[int]]
    classes: list[str] | None
    row_index: dict[Hashable, int]
    column_index: dict[str, int]

    def position(self, row: Hashable, column: str | _Total) -> tuple[int, int]:
        try:
            r = len(self.grid) - 1 if row is TOTAL else self.row_index[row]
            c = len(self.columns) if column is TOTAL else self.column_index[column]
        except (KeyError, TypeError):
            raise ValueError(f"no such cell: row {row!r}, column {column!r}") from None
        return r, c

    def publish(self, hidden: list[list[bool]], threshold: int) -> PublishedTable:
        interned: dict[int, Published] = {}

        def publish(value: int, hid: bool) -> Published:
            if 0 < value < threshold:
                return _SMALL
            if hid:
                return _COMPLEMENT
            shown = interned.get(value)
            if shown is None:
                shown = interned[value] = Published(CellStatus.SHOWN, value)
            return shown

        grid = self.grid
        published = [tuple(map(publish, line, hid)) for line, hid in zip(grid, hidden, strict=True)]
        return PublishedTable(
            threshold=threshold,
            rows=self.rows_in,
            columns=self.columns,
            _grid=tuple(published),
            _row_index=self.row_index,
            _column_index=self.column_index,
            _counts=tuple(tuple(line) for line in grid),
        )


def _prepare(
    counts: Mapping[Hashable, Mapping[str, int]],
    columns: Sequence[str],
    threshold: int,
    column_classes: Mapping[str, str] | None,
) -> _Prepared:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"threshold must be a positive integer, got {threshold!r}")
    cols = tuple(columns)
    if len(set(cols)) != len(cols):
        raise ValueError("columns must be distinct")
    rows_in = tuple(counts)
    canon = _canonical_order(rows_in)
    grid: list[list[int]] = []
    for key in canon:
        get = counts[key].get
        values = [get(column, 0) for column in cols]
        if not all(type(v) is int and v >= 0 for v in values):
            for column, value in zip(cols, values, strict=True):
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(
                        f"count for {key!r}, {column!r} must be a non-negative integer, "
                        f"got {value!r}"
                    )
        values.append(sum(values))
        grid.append(values)
    grid.append([sum(column) for column in zip(*grid, strict=True)] or [0] * (len(cols) + 1))
    classes: list[str] | None = None
    if column_classes is not None:
        classes = [column_classes.get(c, "\0" + c) for c in cols]
    return _Prepared(
        rows_in=rows_in,
        canon=canon,
        columns=cols,
        grid=grid,
        classes=classes,
        row_index={key: i for i, key in enumerate(canon)},
        column_index={c: i for i, c in enumerate(cols)},
    )


def _canonical_order(rows: tuple[Hashable, ...]) -> list[Hashable]:
    """Rows sorted by key (by their repr when the keys do not compare), so that the result does
    not depend on the order of the mapping."""
    try:
        return sorted(rows)  # type: ignore[type-var]
    except TypeError:
        return sorted(rows, key=repr)


# --- complementary suppression ------------------------------------------------------------

# A cost counts (district totals, row totals, zeros, class mismatches, cells, sum of values),
# compared in that order. It is packed into one integer (each count in its own bits, the
# value sum in the lowest 64) so that adding and comparing costs is plain integer arithmetic.
_COUNT_BITS: Final = 32
_VALUE_BITS: Final = 64
_FREE: Final = 0
_CELL: Final = 1 << _VALUE_BITS
_MISMATCH: Final = _CELL << _COUNT_BITS
_STIFF: Final = _MISMATCH << _COUNT_BITS
_ROW_TOTAL: Final = _STIFF << _COUNT_BITS
_DISTRICT: Final = _ROW_TOTAL << _COUNT_BITS

# Bounds on work, not on safety. At most this many candidates are weighed down one column
# when looking for a single cell that closes a cycle ...
_SCAN_LIMIT: Final = 64
# ... and the cheapest-path search uses, besides the rows on the smaller side of the bridge,
# only this many of the cheapest cells of each column that are not hidden yet.
_PATH_ROWS_PER_COLUMN: Final = 8


def _rank(cost: int) -> int:
    """The part of a cost before the number of cells: totals, cells of 0 or N, mismatches."""
    return cost >> (_COUNT_BITS + _VALUE_BITS)


class _Suppressor:
    """Chooses the hidden cells of one (R+1)×(C+1) grid (the last row and column are the
    totals). Row node r is r; column node c is R + 1 + c."""

    def __init__(
        self,
        grid: list[list[int]],
        classes: list[str] | None,
        threshold: int,
        total_class: str | None = None,
    ):
        self.grid = grid
        self.R = len(grid) - 1  # index of the district row
        self.C = len(grid[0]) - 1  # index of the total column
        self.classes = classes
        # The class of the row totals (and the grand total); None: no class, and a row
        # total is a dear complement (see `_cost`).
        self.total_class = total_class if classes is not None else None
        self.threshold = threshold
        self.hidden = [[False] * (self.C + 1) for _ in grid]
        self.adjacent: list[list[int]] = [[] for _ in range(self.R + self.C + 2)]
        self.bridges = _OnlineBridges(self.R + self.C + 2)
        self.row_classes: list[set[str]] = [set() for _ in grid]
        self.column_orders: dict[tuple[int, bool], list[int]] = {}
        # The unit moves of the hidden cells: an arc row -> column where the signed value can
        # go up by one, column -> row where it can go down.
        self.arcs_out: list[list[int]] = [[] for _ in range(self.R + self.C + 2)]
        self.arcs_in: list[list[int]] = [[] for _ in range(self.R + self.C + 2)]
        # When a list, every cell hidden is appended to it (`suppress_linked` reads it).
        self.log: list[tuple[int, int]] | None = None
        self.hides = 0  # cells hidden so far
        # With `total_class`: the rows that hide cells of that class only, but not their total.
        self.total_class_rows: set[int] = set()
        self.checked = -1  # `hides` when `finish` last found no bridge

    def start(self, forced: Sequence[tuple[int, int]] = ()) -> None:
        """Hide the small counts and the forced cells, close a cycle through each, and let
        each small count slide (see "Bounds")."""
        n = self.threshold
        primary = [
            (r, c) for r, line in enumerate(self.grid) for c, v in enumerate(line) if 0 < v < n
        ]
        for r, c in primary:
            self._hide(r, c)
        extra = [(r, c) for r, c in dict.fromkeys(forced) if not self.hidden[r][c]]
        for r, c in extra:
            self._hide(r, c)
        for r, c in primary + extra:
            if self._is_bridge(r, c):
                self._close_cycle(r, c)
        self._let_small_counts_slide(primary)

    def force(self, r: int, c: int) -> None:
        """Hide one more cell and close a cycle through it."""
        if not self.hidden[r][c]:
            self._hide(r, c)
            if self._is_bridge(r, c):
                self._close_cycle(r, c)

    def finish(self) -> bool:
        """Re-check from scratch; the loop ends at once unless the incremental bookkeeping
        missed a bridge, and then it closes that one too. Whether it hid anything."""
        if self.checked == self.hides:
            return False  # nothing hidden since the last check found no bridge
        added = False
        while remaining := self._bridges_now():
            added = True
            for r, c in remaining:
                self._close_cycle(r, c)
        self.checked = self.hides
        return added

    def cover_small_sums(self) -> bool:
        """Hide one more cell in every line whose hidden counts add up to 1..N−1 while its
        total is shown: the total less the shown cells would publish that small sum (two
        hidden counts of 1 and 2 beside a shown total say "3 students" of those groups).
        The cell hidden is the line's smallest shown count above 0, else its total. Whether
        it hid anything (the caller then closes cycles again with `finish`)."""
        n = self.threshold
        added = False
        lines = [[(r, c) for c in range(self.C + 1)] for r in range(self.R + 1)]
        lines += [[(r, c) for r in range(self.R + 1)] for c in range(self.C + 1)]
        for line in lines:
            *cells, (tr, tc) = line
            if self.hidden[tr][tc]:
                continue
            hidden_sum = sum(self.grid[r][c] for r, c in cells if self.hidden[r][c])
            if not 0 < hidden_sum < n:
                continue
            shown = [(self.grid[r][c], r, c) for r, c in cells if not self.hidden[r][c]]
            above_zero = sorted(item for item in shown if item[0] > 0)
            _value, r, c = above_zero[0] if above_zero else (0, tr, tc)
            self.force(r, c)
            added = True
        return added

    def _class_of(self, c: int) -> str | None:
        assert self.classes is not None
        return self.classes[c] if c < self.C else self.total_class

    # graph bookkeeping

    def _hide(self, r: int, c: int) -> None:
        self.hidden[r][c] = True
        col_node = self.R + 1 + c
        self.adjacent[r].append(col_node)
        self.adjacent[col_node].append(r)
        self.bridges.add_edge(r, col_node)
        if self.classes is not None:
            kind = self._class_of(c)
            if kind is not None:
                self.row_classes[r].add(kind)
            if self.total_class is not None and r < self.R:
                if self.row_classes[r] == {self.total_class} and not self.hidden[r][self.C]:
                    self.total_class_rows.add(r)
                else:
                    self.total_class_rows.discard(r)
        self.hides += 1
        if self.log is not None:
            self.log.append((r, c))
        up, down = self._moves(r, c)
        if up:
            self.arcs_out[r].append(col_node)
            self.arcs_in[col_node].append(r)
        if down:
            self.arcs_out[col_node].append(r)
            self.arcs_in[r].append(col_node)

    def _moves(self, r: int, c: int) -> tuple[bool, bool]:
        """Whether the cell's signed value (a row or column total counts negative) can go up,
        and down, by one while the cell stays true to its mark once hidden: "<N" is 1..N-1,
        "*" is 0 or at least N."""
        value, n = self.grid[r][c], self.threshold
        if 0 < value < n:
            up, down = value < n - 1, value > 1
        else:
            up, down = value >= n, value > n
        if (r == self.R) != (c == self.C):
            return down, up
        return up, down

    def _is_bridge(self, r: int, c: int) -> bool:
        find = self.bridges.find_ecc
        return find(r) != find(self.R + 1 + c)

    def _bridges_now(self) -> list[tuple[int, int]]:
        edges = [(r, c) for r, line in enumerate(self.hidden) for c, hid in enumerate(line) if hid]
        found = _tarjan_bridges(self.R + self.C + 2, [(r, self.R + 1 + c) for r, c in edges])
        return sorted(edges[i] for i in found)

    def _cost(self, r: int, c: int) -> int:
        """The cost of hiding one more cell."""
        value = self.grid[r][c]
        cost = _CELL + value
        if r == self.R:
            cost += _DISTRICT
        elif c == self.C and self.total_class is None:
            return cost + _ROW_TOTAL
        elif value <= self.threshold:
            # A 0 or exactly N cannot move both ways once hidden ("*" is 0 or at least N).
            cost += _STIFF
        if self.classes is not None:
            kind = self._class_of(c)
            seen = self.row_classes[r]
            if kind is not None and seen and (len(seen) > 1 or kind not in seen):
                cost += _MISMATCH
                if c == self.C and r < self.R and len(seen) == 1:
                    # The total of a row that hides one other class: as dear as without
                    # classes (a row hiding two classes already has no such share to keep).
                    cost += _ROW_TOTAL
        return cost

    def _cost_beside(self, r: int, c: int, other: int | None) -> int:
        """The cost of hiding (r, c) along with (r, other), not hidden yet, on one path."""
        if other is None or self.classes is None:
            return self._cost(r, c)
        kind = self._class_of(other)
        seen = self.row_classes[r]
        if kind is None or kind in seen:
            return self._cost(r, c)
        seen.add(kind)
        try:
            return self._cost(r, c)
        finally:
            seen.discard(kind)

    def _column_order(self, c: int, movable: bool = False) -> list[int]:
        """Rows by (zero last, value, row), the district row at the end; with `movable`, only
        the rows whose count in the column is above N (a "*" there can move both ways)."""
        order = self.column_orders.get((c, movable))
        if order is None:
            grid, n = self.grid, self.threshold
            if movable:
                order = [r for r in self._column_order(c) if grid[r][c] > n]
            else:
                last = 1 + max((line[c] for line in grid), default=0)
                keys = [line[c] or last for line in grid]  # zeros after every other count
                order = sorted(range(self.R), key=keys.__getitem__)  # stable: ties by row
                order.append(self.R)
            self.column_orders[(c, movable)] = order
        return order

    # closing a cycle through a bridge

    def _close_cycle(self, r0: int, c0: int) -> None:
        x, y = r0, self.R + 1 + c0
        split = self._split(x, y)
        if split is None:
            return  # not a bridge (any more)
        small = split
        small_set = set(small)
        find_cc = self.bridges.find_cc
        component = find_cc(x)
        R, C, hidden = self.R, self.C, self.hidden

        def on_big_side(node: int) -> bool:
            return node not in small_set and find_cc(node) == component

        # One new cell joining the two sides closes a cycle.
        best: tuple[int, tuple[int, int]] | None = None
        for node in small:
            if node <= R:
                r = node
                for c in range(C + 1):
                    if not hidden[r][c] and on_big_side(R + 1 + c):
                        cost = self._cost(r, c)
                        if best is None or cost < best[0]:
                            best = (cost, (r, c))
            else:
                c = node - R - 1
                found = 0
                for r in self._column_order(c):
                    if hidden[r][c] or not on_big_side(r):
                        continue
                    cost = self._cost(r, c)
                    if best is None or cost < best[0]:
                        best = (cost, (r, c))
                    found += 1
                    if _rank(cost) == 0 or found > _SCAN_LIMIT:
                        break
        if best is not None and _rank(best[0]) <= _rank(self._lower_bound(r0, c0)):
            self._hide(*best[1])
            return
        # No single cell, or a dearer one than the row allows: search longer paths.
        path_cost, cells = self._cheapest_path((r0, c0), small, on_big_side)
        if best is not None and best[0] <= path_cost:
            cells = [best[1]]
        for r, c in cells:
            self._hide(r, c)

    def _lower_bound(self, r0: int, c0: int) -> int:
        """A cost no cycle through the bridge (r0, c0) can beat: any cycle leaves row r0 by a
        second cell, so when (r0, c0) is the row's only hidden cell the cheapest other cell
        of the row is a lower bound."""
        if len(self.adjacent[r0]) > 1:
            return _FREE
        costs = [self._cost(r0, c) for c in range(self.C + 1) if c != c0]
        return min(costs) if costs else _FREE

    def _split(self, x: int, y: int) -> list[int] | None:
        """The nodes on the smaller side of the hidden edge x–y once it is removed (which
        side it is does not matter: a cycle needs one new cell from either side to the
        other); None when x and y stay connected (not a bridge). The two sides are explored
        one edge at a time in turn, so the work is bounded by the smaller side."""
        side: dict[int, int] = {x: 0, y: 1}
        walks = [self._walk(x, y, 0, side), self._walk(y, x, 1, side)]
        while True:
            for which in (0, 1):
                try:
                    if next(walks[which]):
                        return None
                except StopIteration:
                    return [n for n, s in side.items() if s == which]

    def _walk(self, start: int, other: int, which: int, side: dict[int, int]) -> Iterator[bool]:
        queue = [start]
        i = 0
        while i < len(queue):
            node = queue[i]
            i += 1
            for nxt in self.adjacent[node]:
                if node == start and nxt == other:
                    continue  # the edge being tested
                seen = side.get(nxt)
                if seen is None:
                    side[nxt] = which
                    queue.append(nxt)
                elif seen != which:
                    yield True
                    return
                yield False

    def _cheapest_path(
        self,
        bridge: tuple[int, int],
        small: list[int],
        on_big_side: Callable[[int], bool],
    ) -> tuple[int, list[tuple[int, int]]]:
        """The cost and the new cells of the cheapest path from the smaller side of the bridge
        to its other side that does not use the bridge (hidden cells cost nothing): Dijkstra
        from every node of the smaller side at once, over all columns and a subset of rows —
        those of the smaller side, the district row, and the few cheapest cells of each column
        that are not hidden yet; with `total_class`, also the few rows with the smallest
        totals that hide cells of that class only (their total is a cheap way into them).
        The subset always holds a path (any second row and second column close a
        rectangle)."""
        R, C, hidden, cost_of = self.R, self.C, self.hidden, self._cost
        r0, c0 = bridge
        rows = {node for node in small if node <= R}
        rows.update((r0, R, 0, min(1, R)))  # at least two rows: a rectangle always closes
        for c in range(C + 1):
            taken = 0
            for r in self._column_order(c):
                if not hidden[r][c]:
                    rows.add(r)
                    taken += 1
                    if taken == _PATH_ROWS_PER_COLUMN:
                        break
        grid = self.grid
        rows.update(
            heapq.nsmallest(
                _PATH_ROWS_PER_COLUMN, self.total_class_rows, key=lambda r: (grid[r][C], r)
            )
        )
        row_list = sorted(rows)
        best: dict[int, int] = {}
        came_from: dict[int, int] = {}
        done: set[int] = set()
        heap: list[tuple[int, int]] = []
        for node in small:
            best[node] = _FREE
            heap.append((_FREE, node))
        heapq.heapify(heap)

        # The column of the new cell by which the cheapest path so far enters a row: the
        # cell that leaves the row is then costed as if that one were hidden (its class).
        entered: dict[int, int] = {}

        def relax(node: int, nxt: int, new: int) -> bool:
            old = best.get(nxt)
            if old is None or new < old:
                best[nxt] = new
                came_from[nxt] = node
                heapq.heappush(heap, (new, nxt))
                return True
            return False

        goal = -1
        while heap:
            cost, node = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            if on_big_side(node):
                goal = node
                break
            if node <= R:
                r, line = node, hidden[node]
                came_by = entered.get(r)
                for c in range(C + 1):
                    nxt = R + 1 + c
                    if nxt not in done and not (r == r0 and c == c0):
                        if line[c]:
                            relax(node, nxt, cost)
                        else:
                            relax(node, nxt, cost + self._cost_beside(r, c, came_by))
            else:
                c = node - R - 1
                for r in row_list:
                    if r not in done and not (r == r0 and c == c0):
                        if hidden[r][c]:
                            if relax(node, r, cost):
                                entered.pop(r, None)
                        elif relax(node, r, cost + cost_of(r, c)):
                            entered[r] = c
        if goal == -1:  # pragma: no cover - the rows searched always hold a path
            raise RuntimeError("no path closes the cycle")
        cells: list[tuple[int, int]] = []
        node = goal
        while node in came_from:
            prev = came_from[node]
            r, c = (prev, node - R - 1) if prev <= R else (node, prev - R - 1)
            if not hidden[r][c]:
                cells.append((r, c))
            node = prev
        return best[goal], cells

    # letting every small count slide

    def _let_small_counts_slide(self, primary: list[tuple[int, int]]) -> None:
        """Make sure each small count could be one more or one less in another table that
        publishes exactly the same: its unit move lies on a directed cycle of unit moves of
        hidden cells (see the module docstring). Quick tests first, on the moves as they
        stand: a count that can move both ways and lies on a cycle of such cells, or a count
        that moves one way whose two ends are strongly connected. Otherwise search, and if
        there is no such cycle, add the cheapest cells that make one."""
        R = self.R
        free = [
            (r, R + 1 + c)
            for r, line in enumerate(self.hidden)
            for c, hid in enumerate(line)
            if hid and all(self._moves(r, c))
        ]
        stuck = {free[i] for i in _tarjan_bridges(R + self.C + 2, free)}
        component = _strong_components(self.arcs_out)
        for r, c in primary:
            up, down = self._moves(r, c)
            col = R + 1 + c
            if not (up or down):
                continue  # N = 2: "<2" can only be 1, nothing can hide it
            if up and down:
                if (r, col) not in stuck:
                    continue
            elif component[r] == component[col]:
                continue
            self._slide(r, c, None if up and down else component)

    def _slide(self, r0: int, c0: int, component: list[int] | None) -> None:
        """Close a directed cycle through a unit move of the small count (r0, c0), unless
        one exists already. `component`: strongly connected components of the moves at the
        start of the pass, when the count moves one way only."""
        R, C, hidden = self.R, self.C, self.hidden
        col = R + 1 + c0
        up, down = self._moves(r0, c0)
        moves = ([(r0, col)] if up else []) + ([(col, r0)] if down else [])
        seen: set[int] = set()
        for tail, head in moves:
            found, explored = self._reaches(head, tail, (r0, col))
            if found:
                return
            seen |= explored
        best: tuple[int, list[tuple[int, int]]] | None = None
        if component is not None:
            # One new cell that moves both ways, in the count's row from a column strongly
            # connected to its column, or in its column from a row strongly connected to its
            # row, closes a cycle (the count's own move cannot be on the way: its ends are in
            # different components).
            candidates = [(r0, c) for c in range(C + 1) if component[R + 1 + c] == component[col]]
            candidates += [(r, c0) for r in range(R + 1) if component[r] == component[r0]]
            for r, c in candidates:
                if not hidden[r][c] and all(self._moves(r, c)):
                    cost = self._cost(r, c)
                    if best is None or cost < best[0]:
                        best = (cost, [(r, c)])
            if best is not None and _rank(best[0]) == 0:
                self._hide(*best[1][0])
                return
        for tail, head in moves:
            path = self._cheapest_moves((r0, c0), head, tail, seen)
            if path is not None and (best is None or path[0] < best[0]):
                best = path
        if best is not None:
            for r, c in best[1]:
                self._hide(r, c)

    def _reaches(self, start: int, goal: int, avoid: tuple[int, int]) -> tuple[bool, set[int]]:
        """Whether a path of unit moves leads from `start` to `goal` without the cell whose
        ends are `avoid`, searching forwards from `start` and backwards from `goal` one arc
        at a time in turn (the work is bounded by the side that runs out first); and the
        nodes seen."""
        forward, backward = {start}, {goal}
        walks = [
            _directed_walk(start, self.arcs_out, forward, backward, avoid),
            _directed_walk(goal, self.arcs_in, backward, forward, avoid),
        ]
        while True:
            for walk in walks:
                try:
                    if next(walk):
                        return True, forward | backward
                except StopIteration:
                    return False, forward | backward

    def _cheapest_moves(
        self, cell: tuple[int, int], start: int, goal: int, seen: set[int]
    ) -> tuple[int, list[tuple[int, int]]] | None:
        """The cost and the new cells of the cheapest path of unit moves from `start` to
        `goal` that does not use `cell` (Dijkstra; hidden cells cost nothing, a new cell
        moves as a "*" would), over all columns and the rows seen by the search, the rows of
        the cell, and the cheapest cells of each column that can move both ways. Tried again
        over every row when that finds nothing; None when no path exists."""
        R, C, hidden = self.R, self.C, self.hidden
        r0 = cell[0]
        rows = {node for node in seen if node <= R}
        rows.update((r0, R, 0, min(1, R)))
        for c in range(C + 1):
            taken = 0
            for r in self._column_order(c, movable=True):
                if not hidden[r][c]:
                    rows.add(r)
                    taken += 1
                    if taken == _PATH_ROWS_PER_COLUMN:
                        break
        for row_list in (sorted(rows), list(range(R + 1))):
            found = self._directed_dijkstra(cell, start, goal, row_list)
            if found is not None:
                return found
            if len(row_list) == R + 1:
                break
        return None

    def _directed_dijkstra(
        self, cell: tuple[int, int], start: int, goal: int, row_list: list[int]
    ) -> tuple[int, list[tuple[int, int]]] | None:
        R, C, hidden, cost_of, moves = self.R, self.C, self.hidden, self._cost, self._moves
        r0, c0 = cell
        best: dict[int, int] = {start: _FREE}
        came_from: dict[int, int] = {}
        done: set[int] = set()
        heap: list[tuple[int, int]] = [(_FREE, start)]
        while heap:
            cost, node = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            if node == goal:
                break
            if node <= R:  # leave a row by a cell that can go up
                steps = [(node, c, R + 1 + c, 0) for c in range(C + 1)]
            else:  # leave a column by a cell that can go down
                steps = [(r, node - R - 1, r, 1) for r in row_list]
            for r, c, nxt, way in steps:
                if nxt in done or (r == r0 and c == c0) or not moves(r, c)[way]:
                    continue
                new = cost if hidden[r][c] else cost + cost_of(r, c)
                old = best.get(nxt)
                if old is None or new < old:
                    best[nxt] = new
                    came_from[nxt] = node
                    heapq.heappush(heap, (new, nxt))
        if goal not in done:
            return None
        cells: list[tuple[int, int]] = []
        node = goal
        while node != start:
            prev = came_from[node]
            r, c = (prev, node - R - 1) if prev <= R else (node, prev - R - 1)
            if not hidden[r][c]:
                cells.append((r, c))
            node = prev
        return best[goal], cells


def _directed_walk(
    start: int,
    arcs: list[list[int]],
    mine: set[int],
    theirs: set[int],
    avoid: tuple[int, int],
) -> Iterator[bool]:
    """Breadth-first along `arcs` from `start`, one arc per step: True once it meets a node
    of `theirs`. The arcs between the two nodes of `avoid` are skipped."""
    a, b = avoid
    queue = [start]
    i = 0
    while i < len(queue):
        node = queue[i]
        i += 1
        for nxt in arcs[node]:
            if (node == a and nxt == b) or (node == b and nxt == a):
                continue
            if nxt in theirs:
                yield True
                return
            if nxt not in mine:
                mine.add(nxt)
                queue.append(nxt)
            yield False


def _strong_components(arcs_out: list[list[int]]) -> list[int]:
    """The strongly connected component of each node (iterative Tarjan)."""
    n = len(arcs_out)
    order = [-1] * n
    low = [0] * n
    component = [-1] * n
    on_stack = [False] * n
    stack: list[int] = []
    counter = 0
    components = 0
    for source in range(n):
        if order[source] != -1:
            continue
        order[source] = low[source] = counter
        counter += 1
        stack.append(source)
        on_stack[source] = True
        work: list[tuple[int, Iterator[int]]] = [(source, iter(arcs_out[source]))]
        while work:
            node, nexts = work[-1]
            descended = False
            for nxt in nexts:
                if order[nxt] == -1:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack[nxt] = True
                    work.append((nxt, iter(arcs_out[nxt])))
                    descended = True
                    break
                if on_stack[nxt]:
                    low[node] = min(low[node], order[nxt])
            if descended:
                continue
            work.pop()
            if work:
                up = work[-1][0]
                low[up] = min(low[up], low[node])
            if low[node] == order[node]:
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component[member] = components
                    if member == node:
                        break
                components += 1
    return component


class _OnlineBridges:
    """Bridges of a graph that only gains edges ("Finding bridges online", cp-algorithms):
    a union-find of 2-edge-connected components (two nodes share one exactly when an edge
    between them would not be a bridge), a union-find of connected components, and a forest
    of the 2-edge-connected components joined by the bridges. An edge inside one tree merges
    the components on the tree path between its ends; an edge between two trees re-roots the
    smaller tree and hangs it under the other."""

    def __init__(self, n: int):
        self.parent = [-1] * n  # forest parent, between 2-edge-connected representatives
        self.ecc = list(range(n))
        self.cc = list(range(n))
        self.size = [1] * n
        self.visit = [0] * n
        self.stamp = 0

    def find_ecc(self, v: int) -> int:
        root = v
        while self.ecc[root] != root:
            root = self.ecc[root]
        while self.ecc[v] != root:
            nxt = self.ecc[v]
            self.ecc[v] = root
            v = nxt
        return root

    def find_cc(self, v: int) -> int:
        v = self.find_ecc(v)
        path = []
        while self.cc[v] != v:
            path.append(v)
            v = self.find_ecc(self.cc[v])
        for u in path:
            self.cc[u] = v
        return v

    def _make_root(self, v: int) -> None:
        v = self.find_ecc(v)
        root, child = v, -1
        while v != -1:
            up = self.parent[v]
            up = self.find_ecc(up) if up != -1 else -1
            self.parent[v] = child
            self.cc[v] = root
            child, v = v, up
        self.size[root] = self.size[child]

    def _merge_path(self, a: int, b: int) -> None:
        self.stamp += 1
        path_a: list[int] = []
        path_b: list[int] = []
        lca = -1
        while lca == -1:
            if a != -1:
                a = self.find_ecc(a)
                path_a.append(a)
                if self.visit[a] == self.stamp:
                    lca = a
                    break
                self.visit[a] = self.stamp
                a = self.parent[a]
            if b != -1:
                b = self.find_ecc(b)
                path_b.append(b)
                if self.visit[b] == self.stamp:
                    lca = b
                    break
                self.visit[b] = self.stamp
                b = self.parent[b]
        for path in (path_a, path_b):
            for v in path:
                self.ecc[v] = lca
                if v == lca:
                    break

    def add_edge(self, a: int, b: int) -> None:
        a, b = self.find_ecc(a), self.find_ecc(b)
        if a == b:
            return
        ca, cb = self.find_cc(a), self.find_cc(b)
        if ca != cb:
            if self.size[ca] > self.size[cb]:
                a, b, ca, cb = b, a, cb, ca
            self._make_root(a)
            self.parent[a] = b
            self.cc[a] = b
            self.size[cb] += self.size[a]
        else:
            self._merge_path(a, b)


def _tarjan_bridges(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """Indexes of the bridges among `edges` of an n-node graph (iterative Tarjan: no
    recursion, whatever the size)."""
    adjacent: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for i, (a, b) in enumerate(edges):
        adjacent[a].append((b, i))
        adjacent[b].append((a, i))
    order = [-1] * n
    low = [0] * n
    counter = 0
    found: list[int] = []
    for source in range(n):
        if order[source] != -1 or not adjacent[source]:
            continue
        order[source] = low[source] = counter
        counter += 1
        stack: list[tuple[int, int, Iterator[tuple[int, int]]]] = [
            (source, -1, iter(adjacent[source]))
        ]
        while stack:
            node, via, neighbours = stack[-1]
            descended = False
            for nxt, edge in neighbours:
                if edge == via:
                    continue
                if order[nxt] == -1:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, edge, iter(adjacent[nxt])))
                    descended = True
                    break
                low[node] = min(low[node], order[nxt])
            if not descended:
                stack.pop()
                if stack:
                    up = stack[-1][0]
                    low[up] = min(low[up], low[node])
                    if low[node] > order[up]:
                        found.append(via)
    return found


# --- linked tables --------------------------------------------------------------------------


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, v: int) -> int:
        root = v
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[v] != root:
            self.parent[v], v = root, self.parent[v]
        return root

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


class _LinkedTable:
    """One table of `suppress_linked`: its grid, its suppressor and how to address it."""

    def __init__(self, name: str, spec: TableSpec, threshold: int) -> None:
        self.name = name
        self.prep = _prepare(spec.counts, spec.columns, threshold, spec.column_classes)
        self.sup = _Suppressor(self.prep.grid, self.prep.classes, threshold, spec.total_class)
        self.sup.log = []
        self.forced = [self.prep.position(row, column) for row, column in spec.forced]
        self.R = len(self.prep.grid) - 1  # the district row
        self.C = len(self.prep.columns)  # the column of row totals
        self.copied = 0  # how much of the log its family has copied to the other tables
        self.keys = frozenset(self.prep.row_index)

    def row(self, key: Hashable) -> int | None:
        return self.R if key is TOTAL else self.prep.row_index.get(key)

    def key(self, r: int) -> Hashable:
        return TOTAL if r == self.R else self.prep.canon[r]

    def hidden(self, r: int, c: int) -> bool:
        return self.sup.hidden[r][c]

    def hide(self, r: int, c: int) -> bool:
        """Hide one cell without closing a cycle (the caller closes it); whether it was
        shown."""
        if self.sup.hidden[r][c]:
            return False
        self.sup._hide(r, c)
        return True

    def cost(self, r: int, c: int) -> int:
        return _FREE if self.sup.hidden[r][c] else self.sup._cost(r, c)


@dataclass
class _Family:
    """A table that is the sum of other tables with the same columns, place by place."""

    total: _LinkedTable
    parts: list[_LinkedTable]
    core: list[_LinkedTable] = field(default_factory=list)

    def choose_core(self, threshold: int) -> None:
        """The two parts with the most small counts hide every place any table of the sum
        hides (the total too, when there is a single part); see "Linked tables"."""
        if len(self.parts) == 1:
            self.core = [self.total, *self.parts]
            return

        def small(table: _LinkedTable) -> int:
            return sum(1 for line in table.prep.grid for v in line if 0 < v < threshold)

        ranked = sorted(self.parts, key=lambda t: (-small(t), t.name))
        self.core = sorted(ranked[:2], key=lambda t: t.name)


@dataclass
class _Coupled:
    """Two tables with different columns whose row totals are equal in the rows `rows`
    (row key -> row index in `a`, in `b`)."""

    a: _LinkedTable
    b: _LinkedTable
    rows: dict[Hashable, tuple[int, int]]
    checked: tuple[int, int] = (-1, -1)  # cells hidden in each when last found safe


def _row_keys_in_order(keys: Iterable[Hashable]) -> list[Hashable]:
    keys = list(keys)
    plain = [k for k in keys if k is not TOTAL]
    return [*_canonical_order(tuple(plain)), *([TOTAL] if len(plain) < len(keys) else [])]


class _CoupledGraph:
    """The hidden cells of two coupled tables as one graph (see "Linked tables" in the
    module docstring). Nodes: each table's rows and columns (not its column of totals), one
    node T for both columns of totals; a row whose totals are linked and hidden in both is
    one node shared by the two tables (its total is then no edge: it follows from either
    side). Edges: the hidden cells, and the hidden totals of the other rows (to T)."""

    def __init__(self, pair: _Coupled) -> None:
        a, b = pair.a, pair.b
        self.pair = pair
        self.merged = {
            key for key, (ra, rb) in pair.rows.items() if a.hidden(ra, a.C) and b.hidden(rb, b.C)
        }
        self.offset_a = 0
        self.offset_b = a.R + 1 + a.C
        self.t_node = self.offset_b + b.R + 1 + b.C
        self.n = self.t_node + 1
        self.shared_b: dict[int, int] = {}  # b's row -> a's row node, for merged rows
        self.a_of_merged: dict[int, int] = {}  # a's row -> b's row, for merged rows
        for key in self.merged:
            ra, rb = pair.rows[key]
            self.shared_b[rb] = ra
            self.a_of_merged[ra] = rb
        self.edges: list[tuple[int, int]] = []
        self.owners: list[tuple[_LinkedTable, int, int]] = []
        for table in (a, b):
            hidden = table.sup.hidden
            for r in range(table.R + 1):
                line = hidden[r]
                for c in range(table.C + 1):
                    if line[c]:
                        edge = self.edge(table, r, c)
                        if edge is not None:
                            self.edges.append(edge)
                            self.owners.append((table, r, c))

    def row_node(self, table: _LinkedTable, r: int) -> int:
        if table is self.pair.a:
            return r
        shared = self.shared_b.get(r)
        return shared if shared is not None else self.offset_b + r

    def column_node(self, table: _LinkedTable, c: int) -> int:
        if c == table.C:
            return self.t_node
        if table is self.pair.a:
            return table.R + 1 + c
        return self.offset_b + table.R + 1 + c

    def linked(self, table: _LinkedTable, r: int) -> bool:
        return table.key(r) in self.pair.rows

    def edge(self, table: _LinkedTable, r: int, c: int) -> tuple[int, int] | None:
        """The edge of a cell; None for a total of a linked row (it is hidden together with
        the other table's, and then follows from either row)."""
        if c == table.C and self.linked(table, r):
            return None
        return self.row_node(table, r), self.column_node(table, c)

    def unprotected(self) -> tuple[list[tuple[_LinkedTable, int, int]], list[Hashable]]:
        """The hidden cells on no cycle, and the merged rows through which no cycle passes
        from one table's cells to the other's (their totals could not change)."""
        block = _blocks(self.n, self.edges)
        size: dict[int, int] = {}
        for k in block:
            size[k] = size.get(k, 0) + 1
        cells = [owner for owner, k in zip(self.owners, block, strict=True) if size[k] == 1]
        a = self.pair.a
        sides: dict[int, tuple[set[int], set[int]]] = {}
        for (table, _r, _c), (u, _v), k in zip(self.owners, self.edges, block, strict=True):
            if u in self.a_of_merged:
                sides.setdefault(u, (set(), set()))[0 if table is a else 1].add(k)
        rows = []
        for key in _row_keys_in_order(self.merged):
            from_a, from_b = sides.get(self.pair.rows[key][0], (set(), set()))
            if not from_a & from_b:
                rows.append(key)
        return cells, rows

    def neighbours(self, node: int) -> Iterator[tuple[_LinkedTable, int, int, int]]:
        """Every cell that is or could become an edge at the node, with its other end (the
        totals of linked rows are left out: hiding one changes which rows are merged)."""
        a, b = self.pair.a, self.pair.b
        if node == self.t_node:
            for table in (a, b):
                for r in range(table.R + 1):
                    if not self.linked(table, r):
                        yield table, r, table.C, self.row_node(table, r)
            return
        if node < self.offset_b:
            table, local = a, node
        else:
            table, local = b, node - self.offset_b
        if local > table.R:
            c = local - table.R - 1
            for r in range(table.R + 1):
                yield table, r, c, self.row_node(table, r)
            return
        if table is b and local in self.shared_b:
            return  # a merged row: its cells are listed at a's row node
        rows = [(table, local)]
        if table is a and local in self.a_of_merged:
            rows.append((b, self.a_of_merged[local]))
        for owner, r in rows:
            for c in range(owner.C + 1):
                if c < owner.C or not self.linked(owner, r):
                    yield owner, r, c, self.column_node(owner, c)

    def cheapest_path(
        self,
        start: int,
        goal: int,
        *,
        avoid: tuple[_LinkedTable, int, int] | None = None,
        leave_by: _LinkedTable | None = None,
        enter_by: _LinkedTable | None = None,
    ) -> list[tuple[_LinkedTable, int, int]] | None:
        """The cells not hidden yet on the cheapest path from `start` to `goal` (Dijkstra;
        hidden cells cost nothing) that does not use the cell `avoid`, leaves `start` by a
        cell of `leave_by` and enters `goal` by a cell of `enter_by` (when given; `start`
        may be `goal`). None when there is no path."""
        target = -1
        best: dict[int, int] = {start: _FREE}
        came: dict[int, tuple[int, _LinkedTable, int, int]] = {}
        done: set[int] = set()
        heap: list[tuple[int, int]] = [(_FREE, start)]
        while heap:
            cost, node = heapq.heappop(heap)
            if node == target:
                break
            if node in done:
                continue
            done.add(node)
            for table, r, c, nxt in self.neighbours(node):
                if avoid is not None and avoid == (table, r, c):
                    continue
                if node == start and leave_by is not None and table is not leave_by:
                    continue
                if nxt == goal:
                    if enter_by is not None and table is not enter_by:
                        continue
                    nxt = target
                elif nxt in done:
                    continue
                new = cost + table.cost(r, c)
                old = best.get(nxt)
                if old is None or new < old:
                    best[nxt] = new
                    came[nxt] = (node, table, r, c)
                    heapq.heappush(heap, (new, nxt))
        if target not in came:
            return None
        cells = []
        node = target
        while True:
            prev, table, r, c = came[node]
            if not table.hidden(r, c):
                cells.append((table, r, c))
            if prev == start:
                return cells
            node = prev


class _Linked:
    """`suppress_linked`: see "Linked tables" in the module docstring."""

    def __init__(
        self, specs: Mapping[str, TableSpec], links: Iterable[Link], threshold: int
    ) -> None:
        self.threshold = threshold
        self.names = list(specs)
        self.tables = {name: _LinkedTable(name, specs[name], threshold) for name in sorted(specs)}
        family_parts: dict[str, set[str]] = {}
        coupled_rows: dict[tuple[str, str], set[Hashable]] = {}
        for link in links:
            self._add(link, family_parts, coupled_rows)
        self.families = self._families(family_parts)
        self.couples = self._couples(coupled_rows)

    # reading the links

    def _value(self, ref: CellRef) -> tuple[_LinkedTable, int]:
        table = self.tables.get(ref.table)
        if table is None:
            raise ValueError(f"a link names an unknown table: {ref.table!r}")
        r, c = table.prep.position(ref.row, ref.column)
        return table, table.prep.grid[r][c]

    def _add(
        self,
        link: Link,
        family_parts: dict[str, set[str]],
        coupled_rows: dict[tuple[str, str], set[Hashable]],
    ) -> None:
        first, parts = link.total, link.parts
        if not parts:
            raise ValueError(f"a link needs at least one part: {link!r}")
        table, total = self._value(first)
        names = {first.table}
        same_place = same_columns = True
        for ref in parts:
            part, value = self._value(ref)
            total -= value
            if ref.table in names:
                raise ValueError(f"a link names a table twice: {link!r}")
            names.add(ref.table)
            same_place = same_place and ref.row == first.row and ref.column == first.column
            same_columns = same_columns and part.prep.columns == table.prep.columns
        if total != 0:
            raise ValueError(f"a link does not hold in the counts: {link!r}")
        if same_place and same_columns:
            family_parts.setdefault(first.table, set()).update(names - {first.table})
            return
        if (
            len(parts) == 1
            and first.column is TOTAL
            and parts[0].column is TOTAL
            and first.row == parts[0].row
            and not same_columns
        ):
            pair = (first.table, parts[0].table)
            if pair[0] > pair[1]:
                pair = (pair[1], pair[0])
            coupled_rows.setdefault(pair, set()).add(first.row)
            return
        raise ValueError(
            "a link must be a sum of counts at the same place of tables with the same columns, "
            f"or two row totals of one row in tables with different columns: {link!r}"
        )

    def _families(self, family_parts: dict[str, set[str]]) -> list[_Family]:
        families = []
        roles: dict[str, str] = {}
        for total in sorted(family_parts):
            parts = sorted(family_parts[total])
            for name in (total, *parts):
                if name in roles and not (name == total and roles[name] == "total"):
                    raise ValueError(f"table {name!r} is in two sums; only one is supported")
            roles[total] = "total"
            for name in parts:
                roles[name] = "part"
            members = [self.tables[name] for name in parts]
            rows = members[0].keys
            total_rows = self.tables[total].keys
            if (
                any(part.keys != rows for part in members)
                or not total_rows <= rows
                or (len(members) == 1 and total_rows != rows)
            ):
                raise ValueError(
                    f"the parts of {total!r} must have the same rows, every row of {total!r}, "
                    "and no other when there is one part"
                )
            families.append(_Family(self.tables[total], members))
        self.parts = {name for name, role in roles.items() if role == "part"}
        return families

    def _couples(self, coupled_rows: dict[tuple[str, str], set[Hashable]]) -> list[_Coupled]:
        couples = []
        seen: set[str] = set()
        for first, second in sorted(coupled_rows):
            for name in (first, second):
                if name in self.parts:
                    raise ValueError(f"the row totals of {name!r}, a part of a sum, are linked")
                if name in seen:
                    raise ValueError(f"table {name!r} has its row totals linked to two tables")
                seen.add(name)
            a, b = self.tables[first], self.tables[second]
            rows = {}
            for key in coupled_rows[(first, second)]:
                ra, rb = a.row(key), b.row(key)
                assert ra is not None  # located when the link was read
                assert rb is not None
                rows[key] = (ra, rb)
            couples.append(_Coupled(a, b, rows))
        return couples

    # suppressing

    def run(self) -> dict[str, PublishedTable]:
        # Of two coupled tables, the one that is the total of a sum (else the first by name)
        # starts first; the other starts from the linked totals it hides, so that both pair
        # their hidden totals alike.
        totals = {family.total.name for family in self.families}
        followers = {}
        for couple in self.couples:
            lead, follower = couple.a, couple.b
            if follower.name in totals and lead.name not in totals:
                lead, follower = follower, lead
            followers[follower.name] = (lead, follower, couple)
        for name, table in self.tables.items():
            if name not in self.parts and name not in followers:
                table.sup.start(table.forced)
        for lead, follower, _couple in followers.values():
            # Every row of both, linked or not: where the lead pairs a linked total with one
            # that is not, the follower pairs it with the same row's.
            extra = []
            for r in range(lead.R + 1):
                if lead.hidden(r, lead.C):
                    found = follower.row(lead.key(r))
                    if found is not None:
                        extra.append((found, follower.C))
            extra.sort()
            follower.sup.start([*follower.forced, *extra])
        for family in self.families:
            family.choose_core(self.threshold)
            # The core starts from the cells the total and the core parts before it hide, so
            # that their complements close the same cycles; the other parts on their own.
            places = self._hidden_places(family.total)
            for part in family.parts:
                if part in family.core:
                    rows = [(part.row(key), c) for key, c in places]
                    extra = sorted((r, c) for r, c in rows if r is not None)
                    part.sup.start([*part.forced, *extra])
                    places |= self._hidden_places(part)
                else:
                    part.sup.start(part.forced)
        while True:
            changed = False
            for family in self.families:
                changed |= self._make_uniform(family)
            for couple in self.couples:
                changed |= self._couple(couple)
            for table in self.tables.values():
                changed |= table.sup.cover_small_sums()
                changed |= table.sup.finish()
            if not changed:
                break
        return {
            name: self.tables[name].prep.publish(self.tables[name].sup.hidden, self.threshold)
            for name in self.names
        }

    @staticmethod
    def _hidden_places(table: _LinkedTable) -> set[tuple[Hashable, int]]:
        return {
            (table.key(r), c)
            for r, line in enumerate(table.sup.hidden)
            for c, hid in enumerate(line)
            if hid
        }

    def _make_uniform(self, family: _Family) -> bool:
        """Hide in every table of the family's core every place hidden in any table of the
        family (see "Linked tables")."""
        core = family.core
        added = False
        while True:
            places: list[tuple[Hashable, int]] = []
            for table in (family.total, *family.parts):
                log = table.sup.log
                assert log is not None
                places.extend((table.key(r), c) for r, c in log[table.copied :])
                table.copied = len(log)
            if not places:
                return added
            for table in core:
                for key, c in places:
                    r = table.row(key)
                    if r is not None and table.hide(r, c):
                        added = True

    def _couple(self, couple: _Coupled) -> bool:
        """Hide the linked totals in both tables or in neither, join the rows whose totals
        are hidden through each table's cells, then close a cycle through any cell or total
        that could still be worked out (see "Linked tables")."""
        a, b = couple.a, couple.b
        if couple.checked == (a.sup.hides, b.sup.hides):
            return False  # nothing hidden in either since the last check found all safe
        added = False
        keys = _row_keys_in_order(couple.rows)
        for key in keys:
            ra, rb = couple.rows[key]
            if a.hidden(ra, a.C) != b.hidden(rb, b.C):
                table, r = (b, rb) if a.hidden(ra, a.C) else (a, ra)
                table.sup.force(r, table.C)
                added = True
        graph = _CoupledGraph(couple)
        cells, rows = graph.unprotected()
        if rows and self._join_merged_rows(couple, keys):
            added = True
            graph = _CoupledGraph(couple)
            cells, rows = graph.unprotected()
        if not (cells or rows):
            if not added:
                couple.checked = (a.sup.hides, b.sup.hides)
            return added
        bridges = _OnlineBridges(graph.n)
        for u, v in graph.edges:
            bridges.add_edge(u, v)
        for table, r, c in cells:
            u, v = graph.edge(table, r, c)  # type: ignore[misc]
            if bridges.find_ecc(u) == bridges.find_ecc(v):
                continue  # an earlier repair closed a cycle through it
            new = self._rectangle(table, r, c) if c < table.C else None
            if new is None:
                new = graph.cheapest_path(u, v, avoid=(table, r, c))
            self._hide_in_couple(graph, bridges, new, couple)
            added = True
        for key in rows:
            ra, _rb = couple.rows[key]
            new = graph.cheapest_path(ra, ra, leave_by=a, enter_by=b)
            self._hide_in_couple(graph, None, new, couple)
            added = True
        return added

    def _hide_in_couple(
        self,
        graph: _CoupledGraph,
        bridges: _OnlineBridges | None,
        cells: list[tuple[_LinkedTable, int, int]] | None,
        couple: _Coupled,
    ) -> None:
        if cells is None:
            # No path over the cells that keep the merged rows as they are (a race table of
            # one column, say): hide every linked total in both tables, which opens paths
            # through either table's cells; when they are all hidden already, hide every cell.
            a, b = couple.a, couple.b
            cells = [(a, ra, a.C) for ra, _rb in couple.rows.values()]
            cells += [(b, rb, b.C) for _ra, rb in couple.rows.values()]
            if all(table.hidden(r, c) for table, r, c in cells):
                cells = [
                    (table, r, c)
                    for table in (a, b)
                    for r in range(table.R + 1)
                    for c in range(table.C + 1)
                ]
        for table, r, c in cells:
            if table.hide(r, c) and bridges is not None:
                edge = graph.edge(table, r, c)
                if edge is not None:
                    bridges.add_edge(*edge)

    @staticmethod
    def _rectangle(
        table: _LinkedTable, r: int, c: int
    ) -> list[tuple[_LinkedTable, int, int]] | None:
        """The cheapest three cells that close a rectangle with the cell (r, c) among the
        table's counts (not its totals): another row, another column."""
        if table.C < 2:
            return None
        rows = [t for t in range(table.R + 1) if t != r and table.hidden(t, c)][:_SCAN_LIMIT]
        cheap = [t for t in table.sup._column_order(c) if t != r and not table.hidden(t, c)]
        best: tuple[int, int, int] | None = None
        for t in rows + cheap[:_PATH_ROWS_PER_COLUMN]:
            for g in range(table.C):
                if g != c:
                    cost = table.cost(r, g) + table.cost(t, c) + table.cost(t, g)
                    if best is None or cost < best[0]:
                        best = (cost, t, g)
        if best is None:
            return None
        _cost, t, g = best
        return [(table, r, g), (table, t, c), (table, t, g)]

    def _join_merged_rows(self, couple: _Coupled, keys: list[Hashable]) -> bool:
        """Join consecutive rows whose linked totals are hidden through each table's own
        cells (a rectangle over the cheapest column), so that a change of one total can be
        balanced by another in both tables. A single such row gets a partner."""
        a, b = couple.a, couple.b
        merged = [k for k in keys if a.hidden(couple.rows[k][0], a.C)]
        if not merged:
            return False
        added = False
        if len(merged) == 1:
            others = [k for k in keys if k not in merged]
            if not others:
                return False
            order = {k: i for i, k in enumerate(keys)}
            key = min(
                others,
                key=lambda k: (
                    a.cost(couple.rows[k][0], a.C) + b.cost(couple.rows[k][1], b.C),
                    order[k],
                ),
            )
            ra, rb = couple.rows[key]
            a.hide(ra, a.C)
            b.hide(rb, b.C)
            added = True
            merged = [k for k in keys if a.hidden(couple.rows[k][0], a.C)]
        for index, table in enumerate((a, b)):
            if table.C == 0:
                continue
            world = _UnionFind(table.R + 1 + table.C)
            hidden = table.sup.hidden
            for r in range(table.R + 1):
                for c in range(table.C):
                    if hidden[r][c]:
                        world.union(r, table.R + 1 + c)
            for first, second in itertools.pairwise(merged):
                r1, r2 = couple.rows[first][index], couple.rows[second][index]
                if world.find(r1) == world.find(r2):
                    continue
                c = min(range(table.C), key=lambda c: (table.cost(r1, c) + table.cost(r2, c), c))
                added |= table.hide(r1, c)
                added |= table.hide(r2, c)
                world.union(r1, table.R + 1 + c)
                world.union(r2, table.R + 1 + c)
        return added


def _blocks(n: int, edges: Sequence[tuple[int, int]]) -> list[int]:
    """The biconnected component (block) of each edge of an n-node graph without parallel
    edges (iterative Tarjan). Two edges lie on a common cycle exactly when they are in the
    same block; an edge alone in its block is a bridge."""
    adjacent: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for i, (x, y) in enumerate(edges):
        adjacent[x].append((y, i))
        adjacent[y].append((x, i))
    order = [-1] * n
    low = [0] * n
    block = [-1] * len(edges)
    counter = 0
    blocks = 0
    pending: list[int] = []
    for source in range(n):
        if order[source] != -1 or not adjacent[source]:
            continue
        order[source] = low[source] = counter
        counter += 1
        stack: list[tuple[int, int, Iterator[tuple[int, int]]]] = [
            (source, -1, iter(adjacent[source]))
        ]
        while stack:
            node, via, neighbours = stack[-1]
            descended = False
            for nxt, edge in neighbours:
                if edge == via:
                    continue
                if order[nxt] == -1:
                    pending.append(edge)
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, edge, iter(adjacent[nxt])))
                    descended = True
                    break
                if order[nxt] < order[node]:  # a back edge, seen from its lower end
                    pending.append(edge)
                    low[node] = min(low[node], order[nxt])
            if descended:
                continue
            stack.pop()
            if stack:
                up = stack[-1][0]
                low[up] = min(low[up], low[node])
                if low[node] >= order[up]:
                    while True:
                        edge = pending.pop()
                        block[edge] = blocks
                        if edge == via:
                            break
                    blocks += 1
    return block
