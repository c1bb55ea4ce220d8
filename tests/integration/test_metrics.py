"""The integration figures (fellowship/integration/metrics.py): hand-worked districts with the
arithmetic written out, the properties every index has on random districts (checked against a
second, exact calculation on fractions), and the flag and objective rules as tables with
their boundaries."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fellowship.integration.metrics import (
    Indices,
    in_watch_band,
    income_indices,
    is_isolated,
    known_total,
    low_income_share,
    minority_share,
    minority_total,
    objective_met,
    race_indices,
    ratio,
    share_meeting,
    two_group_indices,
)
from fellowship.integration.models import (
    DEFAULT_MINORITY,
    KNOWN_RACE_GROUPS,
    MINORITY_CHOICES,
    RACE_GROUPS,
    Group,
    ObjectiveKind,
)

AIAN, ASIAN, BLACK, HISPANIC, NHPI, WHITE, TWO, UNKNOWN = (g.value for g in RACE_GROUPS)
LOW, NOT_LOW = Group.LOW_INCOME.value, Group.NOT_LOW_INCOME.value
INDEX_FIELDS = ("share", "dissimilarity", "exposure", "isolation", "separation", "theil_h")
EXACT = 1e-12  # float error allowed against a figure worked out exactly


def close(value: float | None) -> object:
    return pytest.approx(value, abs=EXACT)


# --- Counts, shares and flags -----------------------------------------------------------


def test_known_total_counts_the_seven_known_groups_and_leaves_out_unknown_and_income() -> None:
    counts = {BLACK: 3, WHITE: 4, TWO: 5, UNKNOWN: 100, LOW: 7, NOT_LOW: 5}
    assert known_total(counts) == 12


def test_a_missing_group_counts_zero_and_enum_keys_work_like_their_values() -> None:
    assert known_total({}) == 0
    assert minority_total({Group.ASIAN: 2, Group.WHITE: 9}, DEFAULT_MINORITY) == 2
    assert minority_share({Group.ASIAN: 1, Group.WHITE: 3}, [ASIAN]) == 0.25


def test_minority_total_sums_only_the_chosen_groups_each_once() -> None:
    counts = {BLACK: 3, HISPANIC: 4, ASIAN: 5, WHITE: 50}
    assert minority_total(counts, DEFAULT_MINORITY) == 12
    assert minority_total(counts, [BLACK, HISPANIC, BLACK]) == 7
    assert minority_total(counts, []) == 0


@pytest.mark.parametrize("group", [WHITE, UNKNOWN, LOW, "martian"])
def test_only_a_known_group_other_than_white_may_count_as_minority(group: str) -> None:
    with pytest.raises(ValueError, match="minority"):
        minority_total({BLACK: 1}, [BLACK, group])
    with pytest.raises(ValueError, match="minority"):
        race_indices([{BLACK: 1}], [group])


def test_a_share_of_nobody_is_none_not_zero() -> None:
    assert ratio(0, 0) is None
    assert ratio(0, 7) == 0.0
    assert minority_share({UNKNOWN: 40}, DEFAULT_MINORITY) is None
    assert low_income_share({}) is None


def test_the_minority_share_leaves_unknown_out_of_the_denominator() -> None:
    # 30 minority of 30 + 90 known = 0.25; the 80 unknown count nowhere.
    assert minority_share({BLACK: 10, HISPANIC: 20, WHITE: 90, UNKNOWN: 80}, DEFAULT_MINORITY) == (
        0.25
    )


def test_the_low_income_share_is_low_over_low_plus_not_low() -> None:
    assert low_income_share({LOW: 3, NOT_LOW: 9, WHITE: 100}) == 0.25


# case, p, isolated
ISOLATED = [
    ("exactly half is not isolated", ratio(50, 100), False),
    ("one student over half is isolated", ratio(501, 1000), True),
    ("all minority is isolated", 1.0, True),
    ("no share is not isolated", None, False),
]


@pytest.mark.parametrize(("case", "p", "expected"), ISOLATED, ids=[c[0] for c in ISOLATED])
def test_a_school_is_isolated_above_half_minority(
    case: str, p: float | None, expected: bool
) -> None:
    assert is_isolated(p) is expected


# case, p, previous p, in the band
WATCH = [
    ("rising inside the band", 0.3, 0.25, True),
    ("rising to exactly 0.20 (lower edge included)", ratio(1, 5), 0.1, True),
    ("rising to exactly 0.50 (upper edge included)", ratio(1, 2), 0.4, True),
    ("rising but just below the band", ratio(199, 1000), 0.1, False),
    ("rising but just above the band (isolated)", ratio(501, 1000), 0.4, False),
    ("the same share is not rising", ratio(3, 10), ratio(30, 100), False),
    ("falling inside the band", 0.3, 0.35, False),
    ("no share last year", 0.3, None, False),
    ("no share this year", None, 0.2, False),
]


@pytest.mark.parametrize(("case", "p", "previous", "expected"), WATCH, ids=[c[0] for c in WATCH])
def test_the_watch_band_is_020_to_050_inclusive_and_rising_strictly(
    case: str, p: float | None, previous: float | None, expected: bool
) -> None:
    assert in_watch_band(p, previous) is expected


# --- Hand-worked districts ----------------------------------------------------------------

# Three schools (the default minority: every known group but white).
#   school  black  hispanic  white  unknown |  x   y   t
#   A        40      20       20      9     | 60  20  80   (unknown left out)
#   B         0      30       30      0     | 30  30  60
#   C        10       0       50      0     | 10  50  60
#   district 50      50      100            | X=100 Y=100 T=200, P = 100/200 = 0.5
RACE_DISTRICT: list[Mapping[str, int]] = [
    {BLACK: 40, HISPANIC: 20, WHITE: 20, UNKNOWN: 9},
    {HISPANIC: 30, WHITE: 30},
    {BLACK: 10, WHITE: 50},
]


def test_race_indices_of_a_three_school_district_worked_by_hand() -> None:
    got = race_indices(RACE_DISTRICT, DEFAULT_MINORITY)
    # D = ½ (|60/100 - 20/100| + |30/100 - 30/100| + |10/100 - 50/100|)
    #   = ½ (0.4 + 0 + 0.4) = 0.4
    # exposure = 0.6·(20/80) + 0.3·(30/60) + 0.1·(50/60) = 0.15 + 0.15 + 1/12 = 23/60 ≈ 0.3833
    # isolation = 0.6·(60/80) + 0.3·(30/60) + 0.1·(10/60) = 0.45 + 0.15 + 1/60 = 37/60 ≈ 0.6167
    # separation = (37/60 - 1/2) / (1 - 1/2) = (7/60)·2 = 7/30 ≈ 0.2333
    # Theil H, over black / hispanic / white:
    #   district shares 50/200, 50/200, 100/200 = ¼, ¼, ½
    #     E = ¼ ln 4 + ¼ ln 4 + ½ ln 2 = ln 2 + ½ ln 2 = 1.5 ln 2 ≈ 1.0397
    #   A: 40/80, 20/80, 20/80 = ½, ¼, ¼ -> E_A = 1.5 ln 2 (the district's mix)
    #   B: 30/60, 30/60 = ½, ½ -> E_B = ln 2 ≈ 0.6931
    #   C: 10/60, 50/60 = 1/6, 5/6 -> E_C = (1/6) ln 6 + (5/6) ln (6/5) = ln 6 - (5/6) ln 5
    #                                                                    ≈ 0.4506
    #   H = [80·0 + 60·(0.5 ln 2) + 60·(1.5 ln 2 - E_C)] / (1.5 ln 2 · 200)
    #     = (120 ln 2 - 60 ln 6 + 50 ln 5) / (300 ln 2)
    #     = (6 ln 2 - 6 ln 3 + 5 ln 5) / (30 ln 2) ≈ 0.2700
    ln2, ln3, ln5 = math.log(2), math.log(3), math.log(5)
    assert got.schools == 3
    assert got.share == 0.5
    assert got.dissimilarity == close(0.4)
    assert got.exposure == close(23 / 60)
    assert got.isolation == close(37 / 60)
    assert got.separation == close(7 / 30)
    assert got.theil_h == close((6 * ln2 - 6 * ln3 + 5 * ln5) / (30 * ln2))
    assert got.theil_h == pytest.approx(0.2700, abs=5e-5)


def test_race_indices_with_only_black_students_counted_as_minority_worked_by_hand() -> None:
    got = race_indices(RACE_DISTRICT, [BLACK])
    # x = black, y = white, t = every known group (hispanic students stay in t):
    #   A: x 40, y 20, t 80;  B: x 0, y 30, t 60;  C: x 10, y 50, t 60
    #   X = 50, Y = 100, T = 200, P = 50/200 = 0.25
    # D = ½ (|40/50 - 20/100| + |0 - 30/100| + |10/50 - 50/100|) = ½ (0.6 + 0.3 + 0.3) = 0.6
    # exposure = 0.8·(20/80) + 0 + 0.2·(50/60) = 0.2 + 1/6 = 11/30
    # isolation = 0.8·(40/80) + 0 + 0.2·(10/60) = 0.4 + 1/30 = 13/30
    #   (together 24/30 = 0.8: the rest of a black student's schoolmates are hispanic)
    # separation = (13/30 - 1/4) / (3/4) = (11/60)·(4/3) = 11/45
    # Theil H is over the seven known groups, so it does not change with the minority choice.
    assert got.share == 0.25
    assert got.dissimilarity == close(0.6)
    assert got.exposure == close(11 / 30)
    assert got.isolation == close(13 / 30)
    assert got.separation == close(11 / 45)
    assert got.theil_h == race_indices(RACE_DISTRICT, DEFAULT_MINORITY).theil_h


def test_income_indices_of_a_district_worked_by_hand_leave_out_a_school_with_no_counts() -> None:
    got = income_indices([{LOW: 30, NOT_LOW: 10}, {LOW: 10, NOT_LOW: 50}, {WHITE: 40}])
    #   school  low  not low |  t
    #   S1       30     10   |  40
    #   S2       10     50   |  60
    #   S3        0      0   |   0  -> left out
    #   X = 40, Y = 60, T = 100, P = 0.4
    # D = ½ (|30/40 - 10/60| + |10/40 - 50/60|) = ½ (7/12 + 7/12) = 7/12 ≈ 0.5833
    # exposure = (30/40)(10/40) + (10/40)(50/60) = 3/16 + 5/24 = 19/48 ≈ 0.3958
    # isolation = (30/40)(30/40) + (10/40)(10/60) = 9/16 + 1/24 = 29/48 ≈ 0.6042
    # separation = (29/48 - 2/5) / (3/5) = (49/240)·(5/3) = 49/144 ≈ 0.3403
    # Theil H: E = 0.4 ln 2.5 + 0.6 ln (5/3) ≈ 0.6730
    #   E_1 = 0.75 ln (4/3) + 0.25 ln 4 ≈ 0.5623;  E_2 = (1/6) ln 6 + (5/6) ln 1.2 ≈ 0.4506
    #   H = [40 (E - E_1) + 60 (E - E_2)] / (100 E) = 1 - (0.4 E_1 + 0.6 E_2) / E
    #     ≈ 1 - (0.22493 + 0.27034) / 0.67301 ≈ 0.2641
    e = 0.4 * math.log(2.5) + 0.6 * math.log(5 / 3)
    e1 = 0.75 * math.log(4 / 3) + 0.25 * math.log(4)
    e2 = math.log(6) / 6 + 5 / 6 * math.log(1.2)
    assert got.schools == 2
    assert got.share == 0.4
    assert got.dissimilarity == close(7 / 12)
    assert got.exposure == close(19 / 48)
    assert got.isolation == close(29 / 48)
    assert got.separation == close(49 / 144)
    assert got.theil_h == close(1 - (0.4 * e1 + 0.6 * e2) / e)
    assert got.theil_h == pytest.approx(0.2641, abs=5e-5)


def test_complete_separation_gives_one_and_identical_schools_give_zero() -> None:
    apart = income_indices([{LOW: 25}, {NOT_LOW: 70}, {LOW: 5}])
    assert apart == Indices(
        schools=3,
        share=0.3,
        dissimilarity=1.0,
        exposure=0.0,
        isolation=1.0,
        separation=1.0,
        theil_h=1.0,
    )
    alike = income_indices([{LOW: 1, NOT_LOW: 3}, {LOW: 20, NOT_LOW: 60}])
    assert alike.share == 0.25
    assert alike.dissimilarity == 0.0
    assert alike.separation == close(0.0)
    assert alike.theil_h == close(0.0)
    assert alike.isolation == close(0.25)
    assert alike.exposure == close(0.75)


# case, schools (race counts), minority, expected (None marks an index that cannot be computed)
UNDEFINED = [
    ("no schools at all", [], DEFAULT_MINORITY, Indices(0, None, None, None, None, None, None)),
    (
        "only schools with no known students",
        [{UNKNOWN: 30}, {}],
        DEFAULT_MINORITY,
        Indices(0, None, None, None, None, None, None),
    ),
    (
        "no minority students (X = 0, one group only)",
        [{WHITE: 30}, {WHITE: 10}],
        DEFAULT_MINORITY,
        Indices(2, 0.0, None, None, None, None, None),
    ),
    (
        "no white students, one group only (Y = 0, P = 1, E = 0)",
        [{BLACK: 30}, {BLACK: 10}],
        DEFAULT_MINORITY,
        Indices(2, 1.0, None, 0.0, 1.0, None, None),
    ),
    (
        "no white students, two groups: Theil H still defined",
        [{BLACK: 30}, {ASIAN: 10}],
        DEFAULT_MINORITY,
        Indices(2, 1.0, None, 0.0, 1.0, None, 1.0),
    ),
    (
        "no one chosen as minority",
        [{BLACK: 30, WHITE: 30}],
        [],
        Indices(1, 0.0, None, None, None, None, 0.0),
    ),
]


@pytest.mark.parametrize(
    ("case", "schools", "minority", "expected"), UNDEFINED, ids=[c[0] for c in UNDEFINED]
)
def test_an_index_that_cannot_be_computed_is_none_never_nan(
    case: str, schools: list[Mapping[str, int]], minority: list[str], expected: Indices
) -> None:
    assert race_indices(schools, minority) == expected


def test_one_school_alone_is_not_segregated_from_itself() -> None:
    got = race_indices([{BLACK: 10, HISPANIC: 10, WHITE: 20}], DEFAULT_MINORITY)
    assert (got.dissimilarity, got.separation, got.theil_h) == (0.0, 0.0, 0.0)
    assert (got.exposure, got.isolation) == (0.5, 0.5)


# case, xs, ys, ts, groups
INCONSISTENT = [
    ("lists of different lengths", [1, 2], [1], [2, 3], [[1, 1], [2, 1]]),
    ("a negative count", [-1], [3], [2], [[-1, 3]]),
    ("x + y above t", [2], [2], [3], [[2, 1]]),
    ("groups not summing to t", [1], [1], [2], [[1, 2]]),
]


@pytest.mark.parametrize(
    ("case", "xs", "ys", "ts", "groups"), INCONSISTENT, ids=[c[0] for c in INCONSISTENT]
)
def test_inconsistent_school_counts_are_refused(
    case: str, xs: list[int], ys: list[int], ts: list[int], groups: list[list[int]]
) -> None:
    with pytest.raises(ValueError, match="school"):
        two_group_indices(xs, ys, ts, groups)


# --- Properties on random districts -----------------------------------------------------

some_count = st.one_of(st.just(0), st.integers(1, 60))
race_school = st.fixed_dictionaries({g.value: some_count for g in RACE_GROUPS})
race_district = st.lists(race_school, max_size=8)
minority_sets = st.sets(st.sampled_from([g.value for g in MINORITY_CHOICES]))
income_school = st.fixed_dictionaries({LOW: some_count, NOT_LOW: some_count})
income_district = st.lists(income_school, max_size=8)


def race_columns(
    schools: Sequence[Mapping[str, int]], minority: set[str]
) -> tuple[list[int], list[int], list[int], list[list[int]]]:
    groups = [[s[g.value] for g in KNOWN_RACE_GROUPS] for s in schools]
    xs = [sum(s[g] for g in minority) for s in schools]
    return xs, [s[WHITE] for s in schools], [sum(row) for row in groups], groups


def exact_indices(
    xs: Sequence[int], ys: Sequence[int], ts: Sequence[int], groups: Sequence[Sequence[int]]
) -> dict[str, float | None]:
    """The indices worked out another way: D, exposure, isolation and separation by their
    defining formulas on exact fractions (the module computes D on integers and separation
    as the between-school share of the variance); Theil H as the mutual information between
    school and group over the district's entropy (the module averages the schools'
    entropies)."""
    kept = [(x, y, t, row) for x, y, t, row in zip(xs, ys, ts, groups, strict=True) if t]
    big_x = sum(x for x, _, _, _ in kept)
    big_y = sum(y for _, y, _, _ in kept)
    big_t = sum(t for _, _, t, _ in kept)
    out: dict[str, float | None] = dict.fromkeys(INDEX_FIELDS)
    if big_t == 0:
        return out
    share = Fraction(big_x, big_t)
    out["share"] = float(share)
    if big_x and big_y:
        d = sum(abs(Fraction(x, big_x) - Fraction(y, big_y)) for x, y, _, _ in kept) / 2
        out["dissimilarity"] = float(d)
    if big_x:
        out["exposure"] = float(sum(Fraction(x, big_x) * Fraction(y, t) for x, y, t, _ in kept))
        isolation = sum(Fraction(x, big_x) * Fraction(x, t) for x, _, t, _ in kept)
        out["isolation"] = float(isolation)
        if share < 1:
            out["separation"] = float((isolation - share) / (1 - share))
    columns = [sum(c) for c in zip(*(row for _, _, _, row in kept), strict=True)]
    entropy = sum(c / big_t * math.log(big_t / c) for c in columns if c)
    if entropy > 0:
        information = sum(
            g / big_t * math.log(g * big_t / (t * columns[m]))
            for _, _, t, row in kept
            for m, g in enumerate(row)
            if g
        )
        out["theil_h"] = information / entropy
    return out


def as_dict(indices: Indices) -> dict[str, float | None]:
    return {name: getattr(indices, name) for name in INDEX_FIELDS}


def assert_matches(got: Indices, expected: Mapping[str, float | None]) -> None:
    for name in INDEX_FIELDS:
        want = expected[name]
        value = getattr(got, name)
        if want is None:
            assert value is None, name
        else:
            assert value == pytest.approx(want, abs=1e-9), name


def assert_in_unit_interval(indices: Indices) -> None:
    for name in INDEX_FIELDS:
        value = getattr(indices, name)
        assert value is None or (isinstance(value, float) and 0.0 <= value <= 1.0), (name, value)


@given(race_district, minority_sets)
def test_race_indices_are_between_0_and_1_and_agree_with_an_exact_calculation(
    schools: list[dict[str, int]], minority: set[str]
) -> None:
    got = race_indices(schools, minority)
    assert_in_unit_interval(got)
    assert got.schools == sum(1 for s in schools if known_total(s) > 0)
    if got.isolation is not None:  # never below the district's share
        assert got.share is not None
        assert got.isolation >= got.share - EXACT
    assert_matches(got, exact_indices(*race_columns(schools, minority)))


@given(income_district)
def test_income_indices_are_between_0_and_1_and_agree_with_an_exact_calculation(
    schools: list[dict[str, int]],
) -> None:
    got = income_indices(schools)
    assert_in_unit_interval(got)
    xs, ys = [s[LOW] for s in schools], [s[NOT_LOW] for s in schools]
    ts = [x + y for x, y in zip(xs, ys, strict=True)]
    assert_matches(got, exact_indices(xs, ys, ts, [[x, y] for x, y in zip(xs, ys, strict=True)]))


@given(race_district)
def test_exposure_and_isolation_add_up_to_one_when_minority_is_every_group_but_white(
    schools: list[dict[str, int]],
) -> None:
    got = race_indices(schools, DEFAULT_MINORITY)
    if got.exposure is None or got.isolation is None:
        assert got.exposure is None
        assert got.isolation is None
    else:
        assert got.exposure + got.isolation == close(1.0)


@given(race_school, st.lists(st.integers(1, 20), min_size=1, max_size=6), minority_sets)
def test_schools_with_the_same_mix_give_zero_dissimilarity_separation_and_theil_h(
    mix: dict[str, int], sizes: list[int], minority: set[str]
) -> None:
    got = race_indices([{g: c * n for g, c in mix.items()} for n in sizes], minority)
    for value in (got.dissimilarity, got.separation, got.theil_h):
        assert value is None or value == close(0.0)
    if got.isolation is not None:
        assert got.isolation == close(got.share)


@given(
    st.lists(
        st.tuples(st.sampled_from([g.value for g in KNOWN_RACE_GROUPS]), st.integers(1, 60)),
        min_size=2,
        max_size=8,
    ).filter(lambda schools: len({g == WHITE for g, _ in schools}) == 2)
)
def test_schools_with_one_group_each_give_complete_separation(
    schools: list[tuple[str, int]],
) -> None:
    # Each school has students of one group only, and the district has white students and
    # minority students: nobody shares a school with the other kind.
    got = race_indices([{group: n} for group, n in schools], DEFAULT_MINORITY)
    assert (got.dissimilarity, got.separation, got.isolation, got.exposure) == (1.0, 1.0, 1.0, 0.0)
    assert got.theil_h == close(1.0)


@given(race_district, st.lists(some_count, max_size=8), st.randoms(use_true_random=False))
def test_unknown_counts_empty_schools_and_school_order_change_nothing(
    schools: list[dict[str, int]], unknowns: list[int], shuffler: random.Random
) -> None:
    before = race_indices(schools, DEFAULT_MINORITY)
    changed = [{**s, UNKNOWN: n} for s, n in zip(schools, unknowns, strict=False)]
    changed += schools[len(unknowns) :]
    changed += [{UNKNOWN: 5}, {}]
    shuffler.shuffle(changed)
    after = race_indices(changed, DEFAULT_MINORITY)
    assert after.schools == before.schools
    assert as_dict(after) == pytest.approx(as_dict(before), abs=EXACT)


# --- Objectives ----------------------------------------------------------------------------

ABS, BAND, POOL, PREVENT = (
    ObjectiveKind.ABSOLUTE,
    ObjectiveKind.RELATIVE_BAND,
    ObjectiveKind.APPLICANT_POOL,
    ObjectiveKind.PREVENT,
)
K = 0.15  # the default band, float(DEFAULT_BAND_K)

# case, kind, p, previous p, district P, applicant share a, k, met
OBJECTIVES = [
    # Absolute: p ≤ 0.50.
    ("absolute: below half", ABS, 0.4, None, None, None, K, True),
    ("absolute: exactly half meets", ABS, ratio(500, 1000), None, None, None, K, True),
    ("absolute: one student over half", ABS, ratio(501, 1000), None, None, None, K, False),
    ("absolute: no share", ABS, None, 0.4, 0.4, 0.4, K, None),
    ("absolute: needs nothing else", ABS, 0.3, None, None, None, K, True),
    # Relative band: |p - P| ≤ k.
    ("band: inside above", BAND, 0.6, None, 0.5, None, K, True),
    ("band: inside below", BAND, 0.4, None, 0.5, None, K, True),
    ("band: exactly k above meets", BAND, ratio(13, 20), None, ratio(1, 2), None, K, True),
    ("band: exactly k below meets", BAND, ratio(7, 20), None, ratio(1, 2), None, K, True),
    ("band: exactly k of 0.1", BAND, ratio(3, 10), None, ratio(1, 5), None, 0.1, True),
    ("band: exactly k of 0.5", BAND, 1.0, None, 0.5, None, 0.5, True),
    ("band: 0.001 over k", BAND, ratio(651, 1000), None, 0.5, None, K, False),
    ("band: 1e-11 over k", BAND, 0.65, None, ratio(49_999_999_999, 10**11), None, K, False),
    ("band: far below", BAND, 0.1, None, 0.5, None, K, False),
    ("band: no district share", BAND, 0.5, 0.5, None, 0.5, K, None),
    ("band: no school share", BAND, None, None, 0.5, None, K, None),
    # Applicant pool: a < p.
    ("pool: applicants less minority", POOL, 0.4, None, None, 0.3, K, True),
    ("pool: the same share does not meet", POOL, ratio(2, 5), None, None, ratio(40, 100), K, False),
    ("pool: applicants more minority", POOL, 0.4, None, None, 0.5, K, False),
    ("pool: no applicants' share", POOL, 0.4, 0.4, 0.4, None, K, None),
    ("pool: no school share", POOL, None, None, None, 0.3, K, None),
    # Prevent: 0.20 ≤ p ≤ 0.50 and p ≤ last year's; outside the band it is not met even
    # without last year's share.
    ("prevent: in the band and falling", PREVENT, 0.3, 0.35, None, None, K, True),
    (
        "prevent: in the band and unchanged",
        PREVENT,
        ratio(3, 10),
        ratio(6, 20),
        None,
        None,
        K,
        True,
    ),
    ("prevent: in the band and rising", PREVENT, 0.31, 0.3, None, None, K, False),
    ("prevent: exactly 0.20, falling", PREVENT, ratio(1, 5), 0.25, None, None, K, True),
    ("prevent: exactly 0.50, unchanged", PREVENT, ratio(1, 2), 0.5, None, None, K, True),
    ("prevent: just below the band", PREVENT, ratio(199, 1000), 0.25, None, None, K, False),
    ("prevent: isolated though falling", PREVENT, ratio(501, 1000), 0.6, None, None, K, False),
    ("prevent: no share last year", PREVENT, 0.3, None, 0.3, 0.3, K, None),
    ("prevent: no share last year, isolated", PREVENT, 0.7, None, None, None, K, False),
    ("prevent: no share last year, below the band", PREVENT, 0.1, None, None, None, K, False),
    ("prevent: no school share", PREVENT, None, 0.3, None, None, K, None),
]


@pytest.mark.parametrize(
    ("case", "kind", "p", "previous", "district", "applicant", "k", "expected"),
    OBJECTIVES,
    ids=[c[0] for c in OBJECTIVES],
)
def test_an_objective_is_met_by_its_kinds_rule_and_not_judged_without_its_figures(
    case: str,
    kind: ObjectiveKind,
    p: float | None,
    previous: float | None,
    district: float | None,
    applicant: float | None,
    k: float,
    expected: bool | None,
) -> None:
    got = objective_met(
        kind, p=p, previous_p=previous, district_p=district, applicant_p=applicant, band_k=k
    )
    assert got is expected
    # The kind may arrive as the stored string too.
    assert (
        objective_met(
            kind.value,
            p=p,
            previous_p=previous,
            district_p=district,
            applicant_p=applicant,
            band_k=k,
        )
        is expected
    )


def test_an_unknown_objective_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        objective_met("quota", p=0.3, previous_p=None, district_p=None, applicant_p=None, band_k=K)


# results, (met, judged, share)
MEETING = [
    ([True, False, None, True], (2, 3, 2 / 3)),
    ([True, True], (2, 2, 1.0)),
    ([False], (0, 1, 0.0)),
    ([None, None], (0, 0, None)),
    ([], (0, 0, None)),
]


@pytest.mark.parametrize(("results", "expected"), MEETING)
def test_the_share_meeting_counts_only_judged_objectives(
    results: list[bool | None], expected: tuple[int, int, float | None]
) -> None:
    assert share_meeting(results) == expected
    assert share_meeting(iter(results)) == expected
