"""Small-cell suppression: hand-worked tables, then an audit on random tables that no published
count is small, no hidden count can be worked out from the published ones (exact rational
elimination), none is pinned by the bounds the marks imply either (another table publishing the
same is built and checked), every output agrees with the counts, and a shown share reveals
nothing more."""

from __future__ import annotations

import random
import time
from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fellowship.integration.suppression import (
    TOTAL,
    CellStatus,
    Published,
    PublishedTable,
    Rate,
    _OnlineBridges,
    _tarjan_bridges,
    suppress,
)

SHOWN, SMALL, COMPLEMENT = CellStatus.SHOWN, CellStatus.SMALL, CellStatus.COMPLEMENT
Counts = Mapping[Hashable, Mapping[str, int]]
Position = tuple[int, int]  # (row index, column index) in the (R+1) x (C+1) grid


# --- reading a table back -------------------------------------------------------------------


def true_grid(table: PublishedTable, counts: Counts) -> list[list[int]]:
    """The true (R+1)×(C+1) grid in the table's row order, totals last, computed here."""
    columns = table.columns
    body = [[counts[r].get(c, 0) for c in columns] for r in table.rows]
    grid = [[*line, sum(line)] for line in body]
    grid.append([sum(line[j] for line in grid) for j in range(len(columns) + 1)])
    return grid


def published_grid(table: PublishedTable) -> list[list[Published]]:
    """Every published count through the public API, in the same layout."""
    return [
        [*(table.cell(r, c) for c in table.columns), table.row_total(r)]
        for r in (*table.rows, TOTAL)
    ]


def statuses(table: PublishedTable) -> list[list[CellStatus]]:
    return [[cell.status for cell in line] for line in published_grid(table)]


def line_equations(n_rows: int, n_cols: int) -> list[dict[Position, Fraction]]:
    """What the table says without the counts: every row sums to its total, every column to
    its total, the column totals to the grand total, the row totals to the grand total."""
    R, C = n_rows, n_cols
    one = Fraction(1)
    equations = []
    for i in range(R + 1):  # the body rows and the district row
        eq = {(i, j): one for j in range(C)}
        eq[(i, C)] = -one
        equations.append(eq)
    for j in range(C + 1):  # the columns and the column of row totals
        eq = {(i, j): one for i in range(R)}
        eq[(R, j)] = -one
        equations.append(eq)
    return equations


def recoverable(
    hidden: Sequence[Position], equations: Sequence[Mapping[Position, Fraction]]
) -> set[Position]:
    """The hidden cells a reader can work out exactly: those whose unit vector lies in the row
    space of the equations restricted to the hidden cells (published cells move to the right
    side). In reduced row echelon form that is a row with a single non-zero entry."""
    index = {p: k for k, p in enumerate(hidden)}
    matrix = []
    for eq in equations:
        line = [Fraction(0)] * len(hidden)
        for p, coefficient in eq.items():
            if p in index:
                line[index[p]] += coefficient
        if any(line):
            matrix.append(line)
    rank = 0
    pivots: list[int] = []
    for col in range(len(hidden)):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        head = matrix[rank][col]
        matrix[rank] = [v / head for v in matrix[rank]]
        for i in range(len(matrix)):
            if i != rank and matrix[i][col] != 0:
                factor = matrix[i][col]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[rank], strict=True)]
        pivots.append(col)
        rank += 1
    return {
        hidden[col] for row, col in enumerate(pivots) if sum(1 for v in matrix[row] if v != 0) == 1
    }


def hidden_positions(table: PublishedTable) -> list[Position]:
    return [
        (i, j)
        for i, line in enumerate(statuses(table))
        for j, status in enumerate(line)
        if status != SHOWN
    ]


def audit(table: PublishedTable) -> set[Position]:
    """Hidden cells that published counts give away (must be empty)."""
    return recoverable(hidden_positions(table), line_equations(len(table.rows), len(table.columns)))


def in_mark(status: CellStatus, value: int, threshold: int) -> bool:
    """Whether a value fits what its mark says: "<N" is 1..N-1, "*" is 0 or at least N."""
    if status == SMALL:
        return 0 < value < threshold
    return value == 0 or value >= threshold


def slid(
    grid: list[list[int]], marks: list[list[CellStatus]], threshold: int, position: Position
) -> list[list[int]] | None:
    """Another table that publishes exactly what `marks` publish of `grid` but in which the
    small count at `position` is one more or one less, or None when this search finds none.
    The search looks for a cycle of hidden cells whose counts change by +1, -1, +1, ... round
    it (a row or column total changes with the cells it sums); whatever it finds is then
    checked from scratch: totals recomputed, every shown count equal, every hidden count true
    to its mark."""
    R, C = len(grid) - 1, len(grid[0]) - 1
    # Node ("r", i) or ("c", j); an arc for each hidden cell and each direction its count may
    # take. Going row -> column adds +1 to the line sums' signed cell (a total counts
    # negative), column -> row adds -1.
    arcs: dict[tuple[str, int], list[tuple[tuple[str, int], Position, int]]] = {}
    for i in range(R + 1):
        for j in range(C + 1):
            if marks[i][j] == SHOWN:
                continue
            sign = -1 if (i == R) != (j == C) else 1
            for change in (1, -1):
                if in_mark(marks[i][j], grid[i][j] + change, threshold):
                    a, b = (("r", i), ("c", j)) if change * sign > 0 else (("c", j), ("r", i))
                    arcs.setdefault(a, []).append((b, (i, j), change))
    i0, j0 = position
    for change0 in (1, -1):
        if not in_mark(marks[i0][j0], grid[i0][j0] + change0, threshold):
            continue
        sign0 = -1 if (i0 == R) != (j0 == C) else 1
        tail, head = (("r", i0), ("c", j0)) if change0 * sign0 > 0 else (("c", j0), ("r", i0))
        came: dict[tuple[str, int], tuple[tuple[str, int], Position, int] | None] = {head: None}
        queue = [head]
        for node in queue:
            for nxt, cell, change in arcs.get(node, []):
                if cell != position and nxt not in came:
                    came[nxt] = (node, cell, change)
                    queue.append(nxt)
        if tail not in came:
            continue
        changes = {position: change0}
        node = tail
        while (step := came[node]) is not None:
            node, cell, change = step
            changes[cell] = change
        body = [line[:C] for line in grid[:R]]
        for (i, j), change in changes.items():
            if i < R and j < C:
                body[i][j] += change
        other = [[*line, sum(line)] for line in body]
        other.append([sum(column) for column in zip(*other, strict=True)] or [0] * (C + 1))
        for i in range(R + 1):
            for j in range(C + 1):
                if marks[i][j] == SHOWN:
                    assert other[i][j] == grid[i][j], "a shown count changed"
                else:
                    assert in_mark(marks[i][j], other[i][j], threshold), "a mark is broken"
        assert other[i0][j0] != grid[i0][j0]
        return other
    return None


def layout(table: PublishedTable) -> list[list[str]]:
    return [[cell.text(table.threshold) for cell in line] for line in published_grid(table)]


# --- hand-worked tables ---------------------------------------------------------------------


def test_one_small_cell_in_a_two_by_two_table_hides_the_four_cell_rectangle():
    table = suppress({"a": {"x": 3, "y": 20}, "b": {"x": 15, "y": 30}}, ["x", "y"], 10)

    assert layout(table) == [
        ["<10", "*", "23"],
        ["*", "*", "45"],
        ["18", "50", "68"],
    ]
    assert audit(table) == set()


def test_a_small_cell_with_a_published_row_total_gets_the_rows_smallest_other_cell_as_partner():
    counts = {
        "a": {"x": 4, "y": 50, "z": 60},
        "b": {"x": 30, "y": 40, "z": 35},
        "c": {"x": 80, "y": 45, "z": 90},
    }
    table = suppress(counts, ["x", "y", "z"], 10)

    # y (50) is the smallest other cell of row a; row b closes the rectangle more cheaply than c.
    assert layout(table) == [
        ["<10", "*", "60", "114"],
        ["*", "*", "35", "105"],
        ["80", "45", "90", "215"],
        ["114", "135", "185", "434"],
    ]
    assert audit(table) == set()


def test_a_small_row_total_is_hidden_and_another_total_goes_with_it():
    table = suppress({"a": {"x": 2, "y": 3}, "b": {"x": 40, "y": 50}}, ["x", "y"], 10)

    # Row a's total (5) is small; only another row total (or the grand total) can hide it.
    assert layout(table) == [
        ["<10", "<10", "<10"],
        ["*", "*", "*"],
        ["42", "53", "95"],
    ]
    assert audit(table) == set()


def test_zeros_are_shown_and_a_non_zero_cell_is_chosen_as_a_complement_before_a_zero():
    table = suppress(
        {"a": {"x": 3, "y": 0, "z": 40}, "b": {"x": 20, "y": 0, "z": 50}}, ["x", "y", "z"], 10
    )

    assert layout(table) == [
        ["<10", "0", "*", "43"],
        ["*", "0", "*", "70"],
        ["23", "0", "90", "113"],
    ]


def every_small_count_slides(table: PublishedTable, counts: Counts) -> bool:
    grid, marks = true_grid(table, counts), statuses(table)
    return all(
        slid(grid, marks, table.threshold, (i, j)) is not None
        for i, line in enumerate(marks)
        for j, status in enumerate(line)
        if status == SMALL
    )


def test_two_small_counts_that_could_only_be_one_and_one_get_a_third_partner():
    counts = {"a": {"x": 1, "y": 1, "z": 40}, "b": {"x": 20, "y": 30, "z": 50}}
    table = suppress(counts, ["x", "y", "z"], 10)

    # Hiding x and y in rows a and b is enough against subtraction, but "<10" + "<10" = 2
    # would still say 1 + 1: z is hidden too.
    assert layout(table) == [
        ["<10", "<10", "*", "42"],
        ["*", "*", "*", "100"],
        ["21", "31", "90", "142"],
    ]
    assert every_small_count_slides(table, counts)


def test_a_complement_of_exactly_n_leaves_no_room_so_totals_give_it():
    counts = {"a": {"x": 1, "y": 10}, "b": {"x": 20, "y": 30}}
    table = suppress(counts, ["x", "y"], 10)

    # "<10" + "*" = 11 could only be 1 + 10: the row totals are hidden as well.
    assert layout(table) == [["<10", "*", "*"], ["*", "*", "*"], ["21", "40", "61"]]
    assert every_small_count_slides(table, counts)
    assert audit(table) == set()


def test_a_cell_of_exactly_n_is_a_partner_only_after_larger_ones():
    table = suppress(
        {"a": {"x": 1, "y": 10, "z": 40}, "b": {"x": 20, "y": 30, "z": 50}}, ["x", "y", "z"], 10
    )

    assert layout(table)[:2] == [["<10", "10", "*", "51"], ["*", "30", "*", "100"]]


def test_a_table_without_small_counts_shows_everything_including_zeros():
    table = suppress({"a": {"x": 0, "y": 12}, "b": {"y": 40}}, ["x", "y"], 10)

    assert layout(table) == [["0", "12", "12"], ["0", "40", "40"], ["0", "52", "52"]]


def test_complements_stay_in_the_class_of_the_small_cell_when_they_can():
    counts = {"a": {"m1": 3, "m2": 45, "w": 30}, "b": {"m1": 20, "m2": 50, "w": 25}}
    columns = ["m1", "m2", "w"]
    minority = ["m1", "m2"]

    plain = suppress(counts, columns, 10)
    classed = suppress(
        counts, columns, 10, column_classes={"m1": "minority", "m2": "minority", "w": "white"}
    )

    # Without classes the smallest other cell (w = 30) is the partner ...
    assert layout(plain)[0] == ["<10", "45", "*", "78"]
    assert plain.share("a", minority, columns) == Rate(None, "would_reveal")
    # ... with classes the other minority cell is, and the minority share can be published.
    assert layout(classed)[0] == ["<10", "*", "30", "78"]
    assert classed.share("a", minority, columns) == Rate(48 / 78, None)
    assert audit(classed) == set()


def test_classes_give_way_when_no_cell_of_the_same_class_can_close_the_cycle():
    counts = {"a": {"m": 3, "w": 40, "u": 30}, "b": {"m": 20, "w": 50, "u": 25}}
    classes = {"m": "minority", "w": "white", "u": "unknown"}

    table = suppress(counts, ["m", "w", "u"], 10, column_classes=classes)

    assert layout(table)[0] == ["<10", "40", "*", "73"]
    assert audit(table) == set()


@pytest.mark.parametrize(
    ("counts", "columns", "expected"),
    [
        # nothing at all: only a grand total of 0
        ({}, ["x"], [["0", "0"]]),
        ({"a": {}}, [], [["0"], ["0"]]),
        # one cell: all four counts are that count
        ({"a": {"x": 3}}, ["x"], [["<10", "<10"], ["<10", "<10"]]),
        ({"a": {"x": 0}}, ["x"], [["0", "0"], ["0", "0"]]),
        ({"a": {"x": 25}}, ["x"], [["25", "25"], ["25", "25"]]),
        # one row: the district row repeats it, so the column totals are the partners
        ({"a": {"x": 3, "y": 20}}, ["x", "y"], [["<10", "*", "23"], ["<10", "*", "23"]]),
        # one column: the row totals repeat it, so they are the partners
        (
            {"a": {"x": 3}, "b": {"x": 20}},
            ["x"],
            [["<10", "<10"], ["*", "*"], ["23", "23"]],
        ),
        # all zeros
        ({"a": {"x": 0, "y": 0}, "b": {}}, ["x", "y"], [["0"] * 3] * 3),
        # everything small: everything hidden, nothing to work out
        (
            {"a": {"x": 1, "y": 2}, "b": {"x": 3, "y": 1}},
            ["x", "y"],
            [["<10", "<10", "<10"], ["<10", "<10", "<10"], ["<10", "<10", "<10"]],
        ),
    ],
)
def test_degenerate_shapes_are_published_safely(counts, columns, expected):
    table = suppress(counts, columns, 10)

    assert layout(table) == expected
    assert audit(table) == set()
    assert every_small_count_slides(table, counts)


def test_other_keys_of_a_row_are_ignored_and_missing_ones_are_zero():
    table = suppress({"a": {"x": 12, "income": 3}}, ["x", "y"], 10)

    assert layout(table) == [["12", "0", "12"], ["12", "0", "12"]]


def test_rows_keep_the_order_given_and_total_names_the_district_row():
    table = suppress({"b": {"x": 20}, "a": {"x": 30}}, ["x"], 10)

    assert table.rows == ("b", "a")
    assert table.cell(TOTAL, "x") == table.column_total("x") == Published(SHOWN, 50)
    assert table.row_total(TOTAL) == table.total() == Published(SHOWN, 50)
    assert repr(TOTAL) == "TOTAL"
    with pytest.raises(KeyError):
        table.cell("c", "x")
    with pytest.raises(KeyError):
        table.cell("a", "y")


@pytest.mark.parametrize(
    ("counts", "threshold"),
    [
        ({"a": {"x": -1}}, 10),
        ({"a": {"x": 2.5}}, 10),
        ({"a": {"x": True}}, 10),
        ({"a": {"x": 1}}, 0),
    ],
)
def test_negative_or_non_integer_counts_and_thresholds_are_refused(counts, threshold):
    with pytest.raises(ValueError, match="must be"):
        suppress(counts, ["x"], threshold)


@pytest.mark.parametrize(
    ("published", "text"),
    [
        (Published(SHOWN, 1234), "1234"),
        (Published(SHOWN, 0), "0"),
        (Published(SMALL, None), "<10"),
        (Published(COMPLEMENT, None), "*"),
    ],
)
def test_a_published_count_reads_as_plain_digits_or_its_mark(published, text):
    assert published.text(10) == text


@pytest.mark.parametrize(("status", "value"), [(SHOWN, None), (SMALL, 3), (COMPLEMENT, 40)])
def test_a_published_count_holds_a_value_exactly_when_shown(status, value):
    with pytest.raises(ValueError, match="value"):
        Published(status, value)


# --- shares ---------------------------------------------------------------------------------

SHARE_TABLE = {
    # x, y: numerator columns; z: the rest of the denominator; u: outside it.
    "safe": {"x": 3, "y": 40, "z": 50, "u": 12},  # x hidden with y: both in the numerator
    "split": {"x": 3, "y": 4, "z": 50, "u": 10},  # hidden in numerator and in the rest
    "tiny": {"x": 2, "y": 1, "z": 0, "u": 0},  # total 3: small
    "empty": {"x": 0, "y": 0, "z": 0, "u": 25},
    "plain": {"x": 30, "y": 40, "z": 50, "u": 60},
    "other": {"x": 35, "y": 40, "z": 55, "u": 60},
}


@pytest.mark.parametrize(
    ("row", "numerator", "denominator", "expected"),
    [
        ("other", ["x", "y"], ["x", "y", "z"], Rate(75 / 130, None)),
        # The hidden x of the rows above add up to 8 beside a shown column total: plain's x
        # is hidden too (the small sum must not show), and with its partner y in its class
        # the share over both is still shown.
        ("plain", ["x", "y"], ["x", "y", "z"], Rate(70 / 120, None)),
        ("safe", ["x", "y"], ["x", "y", "z"], Rate(43 / 93, None)),
        # y alone splits the hidden x + y: it would give x away.
        ("safe", ["y"], ["x", "y", "z"], Rate(None, "would_reveal")),
        # The denominator is 7, but saying so would tell more than "<10" + "<10": the reason
        # is worked out from published counts only.
        ("split", ["x"], ["x", "y"], Rate(None, "would_reveal")),
        ("split", ["x", "y"], ["x", "y", "z"], Rate(None, "would_reveal")),
        ("tiny", ["x"], ["x", "y", "z"], Rate(None, "small_denominator")),
        ("empty", ["x"], ["x", "y", "z"], Rate(None, "no_data")),
        ("other", [], ["x"], Rate(0.0, None)),
        (TOTAL, ["x", "y"], ["x", "y", "z"], Rate(198 / 403, None)),
    ],
)
def test_a_share_is_shown_only_when_the_published_counts_already_imply_it(
    row, numerator, denominator, expected
):
    table = suppress(SHARE_TABLE, ["x", "y", "z", "u"], 10, column_classes={"x": "n", "y": "n"})

    assert table.share(row, numerator, denominator) == expected


def test_a_share_of_a_small_denominator_is_not_shown_even_when_nothing_is_hidden():
    table = suppress({"a": {"x": 0, "y": 0}}, ["x", "y"], 1)

    assert table.share("a", ["x"], ["x", "y"]) == Rate(None, "no_data")
    small = suppress({"a": {"x": 4, "y": 5}}, ["x", "y"], 1)
    assert small.share("a", ["x"], ["x", "y"]) == Rate(4 / 9, None)
    assert suppress({"a": {"x": 4, "y": 5}}, ["x", "y"], 10).share("a", ["x"], ["x"]) == Rate(
        None, "small_denominator"
    )


@pytest.mark.parametrize(
    ("numerator", "denominator"), [(["x"], ["y"]), (["x"], []), (["nope"], ["nope"])]
)
def test_a_share_must_take_its_numerator_from_its_denominator(numerator, denominator):
    table = suppress({"a": {"x": 40, "y": 50}}, ["x", "y"], 10)

    with pytest.raises(ValueError, match="column"):
        table.share("a", numerator, denominator)


# --- random tables --------------------------------------------------------------------------


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[Hashable, dict[str, int]], list[str], int, dict | None]:
    n_rows = draw(st.integers(1, 8))
    n_cols = draw(st.integers(1, 6))
    threshold = draw(st.integers(2, 20))
    columns = [f"c{j}" for j in range(n_cols)]
    count = st.one_of(st.just(0), st.integers(1, 12), st.integers(0, 60), st.integers(0, 400))
    counts: dict[Hashable, dict[str, int]] = {}
    for i in range(n_rows):
        row = {c: draw(count) for c in columns}
        # A missing count is a zero.
        counts[f"s{i}"] = {c: v for c, v in row.items() if v or draw(st.booleans())}
    classes = draw(
        st.none()
        | st.lists(st.sampled_from("abc"), min_size=n_cols, max_size=n_cols).map(
            lambda cs: dict(zip(columns, cs, strict=True))
        )
    )
    return counts, columns, threshold, classes


@given(tables())
def test_no_published_count_is_between_one_and_n_minus_one(case):
    counts, columns, threshold, classes = case
    table = suppress(counts, columns, threshold, column_classes=classes)

    for line in published_grid(table):
        for cell in line:
            assert cell.status != SHOWN or not 0 < cell.value < threshold


@given(tables())
def test_the_hidden_counts_of_a_line_with_a_shown_total_never_add_up_to_a_small_number(case):
    """A shown total less the shown cells is the sum of the hidden ones: never 1..N−1."""
    counts, columns, threshold, classes = case
    table = suppress(counts, columns, threshold, column_classes=classes)
    shown = published_grid(table)
    true = true_grid(table, counts)
    rows = [[(r, c) for c in range(len(true[0]))] for r in range(len(true))]
    cols = [[(r, c) for r in range(len(true))] for c in range(len(true[0]))]
    for line in rows + cols:
        *cells, (tr, tc) = line
        if shown[tr][tc].status != SHOWN:
            continue
        hidden = sum(true[r][c] for r, c in cells if shown[r][c].status != SHOWN)
        assert not 0 < hidden < threshold, (line, hidden)


def test_two_small_groups_beside_a_shown_total_do_not_publish_their_small_sum():
    """White 200, black 2, asian 1 and a shown total of 203 would say "3 minority students"."""
    counts = {
        "A": {"white": 200, "black": 2, "asian": 1},
        "B": {"white": 150, "black": 90, "asian": 40},
        "C": {"white": 120, "black": 70, "asian": 35},
    }
    table = suppress(counts, ["white", "black", "asian"], 10)
    row = [table.cell("A", c) for c in ("white", "black", "asian")] + [table.row_total("A")]
    shown = sum(cell.value or 0 for cell in row[:-1] if cell.status == SHOWN)
    if row[-1].status == SHOWN:
        assert not 0 < (row[-1].value or 0) - shown < 10
    assert audit(table) == set()


@given(tables())
def test_no_hidden_count_can_be_worked_out_from_the_published_counts(case):
    counts, columns, threshold, classes = case
    table = suppress(counts, columns, threshold, column_classes=classes)

    assert audit(table) == set()


@given(tables())
def test_every_small_count_could_be_one_more_or_one_less_for_all_that_is_published(case):
    # Bounds as well as sums: a reader knows "<N" is 1..N-1 and "*" is 0 or at least N, so
    # a row "<10", "<10" with a published total of 2 would give both away. Each small count
    # must fit another table that publishes exactly the same — whenever hiding more could
    # achieve that at all: with N = 2, "<2" is 1, and with N = 3 a row "<3", "<3" whose total
    # is "<3" can only be 1 + 1, whatever else is hidden.
    counts, columns, threshold, classes = case
    table = suppress(counts, columns, threshold, column_classes=classes)

    grid = true_grid(table, counts)
    marks = statuses(table)
    everything = [[SMALL if 0 < v < threshold else COMPLEMENT for v in line] for line in grid]
    for i, line in enumerate(marks):
        for j, status in enumerate(line):
            if status == SMALL and slid(grid, everything, threshold, (i, j)) is not None:
                assert slid(grid, marks, threshold, (i, j)) is not None, (i, j)


@given(tables())
def test_every_output_agrees_with_the_true_counts(case):
    counts, columns, threshold, classes = case
    table = suppress(counts, columns, threshold, column_classes=classes)

    truth = true_grid(table, counts)
    for true_line, line in zip(truth, published_grid(table), strict=True):
        for true, cell in zip(true_line, line, strict=True):
            assert (cell.status == SMALL) == (0 < true < threshold)
            if cell.status == SHOWN:
                assert cell.value == true
                assert cell.text(threshold) == str(true)
            else:
                assert cell.value is None
                assert cell.text(threshold) == (f"<{threshold}" if cell.status == SMALL else "*")


@given(tables(), st.randoms(use_true_random=False))
def test_the_same_counts_give_the_same_table_whatever_their_order(case, rng):
    counts, columns, threshold, classes = case
    keys = list(counts)
    rng.shuffle(keys)
    shuffled = {k: dict(reversed(list(counts[k].items()))) for k in keys}

    first = suppress(counts, columns, threshold, column_classes=classes)
    again = suppress(counts, columns, threshold, column_classes=classes)
    reordered = suppress(shuffled, columns, threshold, column_classes=classes)

    assert layout(first) == layout(again)
    by_row = dict(zip(first.rows, layout(first), strict=False))
    assert [by_row[r] for r in reordered.rows] == layout(reordered)[:-1]
    assert layout(first)[-1] == layout(reordered)[-1]


@given(tables(), st.data())
def test_a_shown_share_makes_no_hidden_count_recoverable(case, data):
    counts, columns, threshold, classes = case
    table = suppress(counts, columns, threshold, column_classes=classes)
    denominator = data.draw(st.sets(st.sampled_from(columns), min_size=1), label="denominator")
    numerator = data.draw(st.sets(st.sampled_from(sorted(denominator))), label="numerator")

    truth = true_grid(table, counts)
    hidden = hidden_positions(table)
    equations = line_equations(len(table.rows), len(columns))
    for i, row in enumerate((*table.rows, TOTAL)):
        rate = table.share(row, numerator, denominator)
        num = sum(truth[i][columns.index(c)] for c in numerator)
        den = sum(truth[i][columns.index(c)] for c in denominator)
        if rate.value is None:
            assert rate.reason in {"would_reveal", "small_denominator", "no_data"}
            assert rate.reason != "no_data" or den == 0
            assert rate.reason != "small_denominator" or den < threshold
            continue
        assert rate.reason is None
        assert den >= threshold
        assert rate.value == num / den
        p = Fraction(num, den)
        share = {(i, columns.index(c)): 1 - p for c in numerator}
        share.update({(i, columns.index(c)): -p for c in denominator if c not in numerator})
        assert recoverable(hidden, [*equations, share]) == set(), (row, numerator, denominator)


# --- the bridge bookkeeping -----------------------------------------------------------------


def bridges_by_brute_force(n: int, edges: list[tuple[int, int]]) -> set[int]:
    """Edges whose removal disconnects their two ends."""
    found = set()
    for k, (a, b) in enumerate(edges):
        adjacent: dict[int, list[int]] = {v: [] for v in range(n)}
        for i, (u, v) in enumerate(edges):
            if i != k:
                adjacent[u].append(v)
                adjacent[v].append(u)
        seen, stack = {a}, [a]
        while stack:
            for v in adjacent[stack.pop()]:
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        if b not in seen:
            found.add(k)
    return found


@given(
    st.integers(2, 12).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                .filter(lambda e: e[0] != e[1])
                .map(lambda e: (min(e), max(e))),
                unique=True,
                max_size=20,
            ),
        )
    )
)
def test_bridges_tracked_edge_by_edge_match_a_brute_force_search(graph):
    n, edges = graph
    online = _OnlineBridges(n)

    for k, (a, b) in enumerate(edges):
        online.add_edge(a, b)
        expected = bridges_by_brute_force(n, edges[: k + 1])
        assert {
            i for i, (u, v) in enumerate(edges[: k + 1]) if online.find_ecc(u) != online.find_ecc(v)
        } == expected
        assert set(_tarjan_bridges(n, edges[: k + 1])) == expected


# --- size -----------------------------------------------------------------------------------


def district(
    n_rows: int, n_cols: int, seed: int
) -> tuple[dict[Hashable, dict[str, int]], list[str]]:
    """A realistic table: 15 % of counts from 1 to 9, 5 % zeros, the rest 10 to 400."""
    rng = random.Random(seed)
    columns = [f"g{j}" for j in range(n_cols)]
    counts: dict[Hashable, dict[str, int]] = {}
    for i in range(n_rows):
        row = {}
        for c in columns:
            u = rng.random()
            row[c] = rng.randint(1, 9) if u < 0.15 else 0 if u < 0.2 else rng.randint(10, 400)
        counts[i] = row
    return counts, columns


def has_bridge(n: int, edges: list[tuple[int, int]], rng: random.Random) -> bool:
    """Whether some edge is a bridge, by the XOR-labelling test (independent of the code under
    test): label every edge off a spanning forest with a random 64-bit number; an edge of the
    forest is a bridge exactly when the labels of the edges that leave its subtree XOR to 0."""
    adjacent: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k, (a, b) in enumerate(edges):
        adjacent[a].append((b, k))
        adjacent[b].append((a, k))
    parent_edge = [-2] * n
    order: list[int] = []
    for root in range(n):
        if parent_edge[root] != -2:
            continue
        parent_edge[root] = -1
        stack = [root]
        while stack:
            v = stack.pop()
            order.append(v)
            for w, k in adjacent[v]:
                if parent_edge[w] == -2:
                    parent_edge[w] = k
                    stack.append(w)
    tree = {k for k in parent_edge if k >= 0}
    mark = [0] * n
    for k, (a, b) in enumerate(edges):
        if k not in tree:
            label = rng.getrandbits(64)
            mark[a] ^= label
            mark[b] ^= label
    for v in reversed(order):  # children before parents
        k = parent_edge[v]
        if k >= 0:
            if mark[v] == 0:
                return True
            a, b = edges[k]
            mark[a if b == v else b] ^= mark[v]
    return False


@pytest.mark.timing
def test_five_thousand_rows_of_ten_columns_are_suppressed_in_well_under_a_second():
    counts, columns = district(5000, 10, seed=7)
    classes = {c: "white" if c == "g5" else "unknown" if c == "g9" else "minority" for c in columns}

    started = time.perf_counter()
    table = suppress(counts, columns, 10, column_classes=classes)
    elapsed = time.perf_counter() - started

    print(f"suppress 5,000 × 10: {elapsed * 1000:.0f} ms")
    assert elapsed < 5  # generous: about 0.2 s on a 2-core machine
    grid = statuses(table)
    small = sum(line.count(SMALL) for line in grid)
    assert small > 5000
    hidden = hidden_positions(table)
    R = len(table.rows)
    edges = [(i, R + 1 + j) for i, j in hidden]
    assert not has_bridge(R + len(columns) + 2, edges, random.Random(1))
