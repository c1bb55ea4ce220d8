"""The integration figures, written down once: a school's minority share and its flags, the
district's segregation indices, and whether a magnet school met its objective.

Pure functions (no database, no Flask, no translations), so the dashboard, a school's page,
the CSV and PDF exports, the review packet and `flask integration indices` all agree. The
help text on the pages says the same in plain words; change both together.

Counts arrive as a mapping from a group's value (`"black"`, `"white"`, `"low_income"`, ...)
to a count; a group that is missing counts 0. Students of `unknown` race/ethnicity are left
out of every numerator and denominator. A school whose total is 0 is left out of the
district's indices.

For the district indices, on one dimension:

- race: x = the school's students in the groups the district counts as "minority",
  y = its white students, t = its students of known race/ethnicity (the seven known groups);
- income: x = low-income students, y = the others, t = x + y.

X, Y and T are the district's totals, and P = X / T the district's share.

- **Dissimilarity** D = ½ Σ |x_i/X − y_i/Y|: the share of minority (or white) students who
  would have to change schools for every school to have the district's mix. 0 = every school
  has the same mix; 1 = no school has students of both kinds.
- **Exposure** Σ (x_i/X)(y_i/t_i): the share of white students in the school of the average
  minority student. 0 = no minority student shares a school with a white student.
- **Isolation** Σ (x_i/X)(x_i/t_i): the share of minority students in the school of the
  average minority student. It is never below P; 1 = every minority student is in a school
  with only minority students. When "minority" is every group but white, exposure and
  isolation add up to 1.
- **Separation** (isolation − P) / (1 − P), the correlation ratio: how much more isolated
  minority students are than they would be if every school had the district's mix. 0 = every
  school has the district's share; 1 = complete separation.
- **Theil's H** (multigroup entropy index) Σ t_i (E − E_i) / (E T), where a mix's diversity
  (entropy) is E = Σ_m π_m ln(1/π_m) over the groups' shares π_m (a group with no students adds
  0): how much less diverse the average student's school is than the district, as a share of
  the district's diversity. Race uses the seven known race/ethnicity groups, income its two
  groups. 0 = every school is as diverse as the district; 1 = every school has one group only.

An index that cannot be computed (no minority students, no white students, a share of 0 or 1
where the formula divides by 1 − P, a district with one group only, no schools) is None, never
NaN. Results are clamped to [0, 1] against rounding; sums use `math.fsum`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from fellowship.integration.models import (
    KNOWN_RACE_GROUPS,
    MINORITY_CHOICES,
    Group,
    ObjectiveKind,
)

ISOLATION_LINE = 0.5  # a school is isolated when its minority share is above this
WATCH_LOW = 0.2  # the watch band runs from this share to ISOLATION_LINE, both included

# |p - P| <= k is compared with this much slack: p and P are each one correctly rounded
# division and k a three-place decimal, so float error is below 1e-15, while two different
# exact values for districts of realistic size (t_s · T < 1e11) differ by more than 1e-14.
# Without it a school exactly k away (0.65 against 0.50 with k = 0.15) would miss its band.
_BAND_SLACK = 1e-14

_KNOWN = tuple(g.value for g in KNOWN_RACE_GROUPS)
_MINORITY_ALLOWED = frozenset(g.value for g in MINORITY_CHOICES)


def _count(counts: Mapping[str, int], group: str) -> int:
    return counts.get(group, 0)


def known_total(counts: Mapping[str, int]) -> int:
    """Students of known race/ethnicity: the seven known groups (`unknown` left out)."""
    return sum(_count(counts, group) for group in _KNOWN)


def _minority_groups(minority: Collection[str]) -> frozenset[str]:
    chosen = frozenset(str(group) for group in minority)
    wrong = chosen - _MINORITY_ALLOWED
    if wrong:
        raise ValueError(f"not a group that may count as minority: {sorted(wrong)}")
    return chosen


def minority_total(counts: Mapping[str, int], minority: Collection[str]) -> int:
    """Students in the groups the district counts as "minority" (each group once). Only the
    known groups other than white may be minority groups (ValueError otherwise)."""
    return sum(_count(counts, group) for group in _minority_groups(minority))


def ratio(num: int, den: int) -> float | None:
    """num / den, or None when den is 0 (a share of nobody is not 0, it is unknown)."""
    if den == 0:
        return None
    return num / den


def minority_share(counts: Mapping[str, int], minority: Collection[str]) -> float | None:
    """A school's minority share p_s: minority students over students of known
    race/ethnicity. 0 = no minority students; 1 = only minority students. None with no
    student of known race/ethnicity."""
    return ratio(minority_total(counts, minority), known_total(counts))


def low_income_share(counts: Mapping[str, int]) -> float | None:
    """Low-income students over low-income plus not-low-income students. None when both
    are 0."""
    low = _count(counts, Group.LOW_INCOME.value)
    return ratio(low, low + _count(counts, Group.NOT_LOW_INCOME.value))


def is_isolated(p: float | None) -> bool:
    """A school is isolated when more than half its students (of known race/ethnicity) are
    minority students: p > 0.50. Exactly half is not isolated; no share is not isolated."""
    return p is not None and p > ISOLATION_LINE


def in_watch_band(p: float | None, previous_p: float | None) -> bool:
    """A school is in the watch band when its minority share is from 0.20 to 0.50 (both
    included) and rose since last year (strictly: the same share is not a rise). Without
    this year's or last year's share it is not in the band."""
    if p is None or previous_p is None:
        return False
    return WATCH_LOW <= p <= ISOLATION_LINE and p > previous_p


@dataclass(frozen=True)
class Indices:
    """The district's indices on one dimension (race or income) for one school year. Each
    is between 0 and 1, or None when it cannot be computed (see the module's docstring)."""

    schools: int  # schools with a non-zero total
    share: float | None  # P = X / T: the district's minority (or low-income) share
    dissimilarity: float | None  # D = ½ Σ |x_i/X - y_i/Y|
    exposure: float | None  # Σ (x_i/X)(y_i/t_i)
    isolation: float | None  # Σ (x_i/X)(x_i/t_i)
    separation: float | None  # (isolation - P) / (1 - P)
    theil_h: float | None  # Σ t_i (E - E_i) / (E T), E = Σ π_m ln(1/π_m)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _entropy(counts: Iterable[int], total: int) -> float:
    """E = Σ π ln(1/π) over the shares π = count / total; a share of 0 adds 0."""
    return math.fsum(c / total * math.log(total / c) for c in counts if c > 0)


# The five indices one by one, on parallel lists per school (x_i, y_i, t_i as above; a
# school with t_i = 0 adds nothing). `two_group_indices` checks the counts and calls them all.


def dissimilarity(xs: Sequence[int], ys: Sequence[int]) -> float | None:
    """Dissimilarity D = ½ Σ |x_i/X − y_i/Y|: half the sum, over schools, of the gap between
    the school's share of the district's minority students and its share of the district's
    white students. It is the share of either group that would have to move for every school
    to have the district's mix. 0 = every school has the same mix; 1 = complete separation (no
    school has students of both). None without minority or without white students.

    Computed exactly on integers (Σ |x_i Y − y_i X| / 2XY), then divided once."""
    big_x, big_y = sum(xs), sum(ys)
    if big_x == 0 or big_y == 0:
        return None
    gaps = sum(abs(x * big_y - y * big_x) for x, y in zip(xs, ys, strict=True))
    return _clamp(gaps / (2 * big_x * big_y))


def exposure(xs: Sequence[int], ys: Sequence[int], ts: Sequence[int]) -> float | None:
    """Exposure Σ (x_i/X)(y_i/t_i): the white share of each school, weighted by the school's
    share of the district's minority students, i.e. the share of white students in the
    average minority student's school. 0 = no minority student has a white schoolmate; the
    higher, the more minority students learn beside white students. It is never above 1 − P,
    nor above 1 − isolation. None without minority students."""
    big_x = sum(xs)
    if big_x == 0:
        return None
    return _clamp(math.fsum(x * y / t for x, y, t in zip(xs, ys, ts, strict=True) if t) / big_x)


def isolation(xs: Sequence[int], ts: Sequence[int]) -> float | None:
    """Isolation Σ (x_i/X)(x_i/t_i): the minority share of each school, weighted by the
    school's share of the district's minority students, i.e. the share of minority students
    in the average minority student's school. It is at least P (every school with the
    district's mix gives exactly P); 1 = every minority student is in a school with only
    minority students. None without minority students."""
    big_x = sum(xs)
    if big_x == 0:
        return None
    return _clamp(math.fsum(x * x / t for x, t in zip(xs, ts, strict=True) if t) / big_x)


def separation(xs: Sequence[int], ts: Sequence[int]) -> float | None:
    """Separation (the correlation ratio) (isolation − P) / (1 − P): how far isolation is
    above the district's share P, as a part of the most it could be. 0 = every school has
    the district's share; 1 = complete separation (every school has only minority students
    or none). None when the district's share is 0 or 1.

    Computed as the between-school share of the variance, Σ (x_i T − t_i X)² / t_i divided
    by T X (T − X) (the same value, rearranged), on integers as far as it goes, so that equal
    mixes give exactly 0 and complete separation exactly 1."""
    big_x, big_t = sum(xs), sum(ts)
    if big_x == 0 or big_x == big_t:
        return None
    spread = math.fsum((x * big_t - t * big_x) ** 2 / t for x, t in zip(xs, ts, strict=True) if t)
    return _clamp(spread / (big_t * big_x * (big_t - big_x)))


def theil_h(groups: Sequence[Sequence[int]]) -> float | None:
    """Theil's H (the multigroup entropy index) Σ t_i (E − E_i) / (E T): the diversity
    (entropy E = Σ π_m ln(1/π_m), over the groups' shares π_m) of the district, less the
    diversity E_i of each school, weighted by the school's size t_i, as a share of the
    district's. 0 = every school is as diverse as the district; 1 = every school has one
    group only. None when the district has one group only (E = 0) or no students.

    `groups` holds, per school, its count in each group (the same groups in the same order);
    t_i is the row's sum."""
    ts = [sum(row) for row in groups]
    big_t = sum(ts)
    if big_t == 0:
        return None
    district = [sum(column) for column in zip(*groups, strict=True)]
    big_e = _entropy(district, big_t)
    if big_e == 0:
        return None
    weighted = math.fsum(t * _entropy(row, t) for row, t in zip(groups, ts, strict=True) if t)
    return _clamp((big_e * big_t - weighted) / (big_e * big_t))


def two_group_indices(
    xs: Sequence[int],
    ys: Sequence[int],
    ts: Sequence[int],
    groups: Sequence[Sequence[int]],
) -> Indices:
    """The indices for schools given as parallel lists: x_i the focus group (minority or
    low-income), y_i the comparison group (white or not low-income), t_i the school's total
    and groups[i] its count in each group Theil's H is taken over (summing to t_i). Schools
    with t_i = 0 are left out. Counts must be whole and non-negative, with x_i + y_i ≤ t_i
    (ValueError otherwise)."""
    if not len(xs) == len(ys) == len(ts) == len(groups):
        raise ValueError("xs, ys, ts and groups must have one entry per school")
    kept: list[tuple[int, int, int, Sequence[int]]] = []
    for x, y, t, row in zip(xs, ys, ts, groups, strict=True):
        if min(x, y, *row) < 0 or x + y > t or sum(row) != t:
            raise ValueError(f"inconsistent school counts: x={x} y={y} t={t} groups={list(row)}")
        if t > 0:
            kept.append((x, y, t, row))
    kx = [x for x, _, _, _ in kept]
    ky = [y for _, y, _, _ in kept]
    kt = [t for _, _, t, _ in kept]
    return Indices(
        schools=len(kept),
        share=ratio(sum(kx), sum(kt)),
        dissimilarity=dissimilarity(kx, ky),
        exposure=exposure(kx, ky, kt),
        isolation=isolation(kx, kt),
        separation=separation(kx, kt),
        theil_h=theil_h([row for _, _, _, row in kept]),
    )


def race_indices(schools: Sequence[Mapping[str, int]], minority: Collection[str]) -> Indices:
    """The race indices: x = minority students, y = white students, t = students of known
    race/ethnicity; Theil's H over the seven known race/ethnicity groups (so it does not
    depend on which groups count as minority). `unknown` is left out everywhere."""
    chosen = _minority_groups(minority)
    xs = [sum(_count(s, g) for g in chosen) for s in schools]
    ys = [_count(s, Group.WHITE.value) for s in schools]
    groups = [[_count(s, g) for g in _KNOWN] for s in schools]
    return two_group_indices(xs, ys, [sum(row) for row in groups], groups)


def income_indices(schools: Sequence[Mapping[str, int]]) -> Indices:
    """The income indices: x = low-income students, y = not-low-income students, t = x + y;
    Theil's H over those two groups."""
    xs = [_count(s, Group.LOW_INCOME.value) for s in schools]
    ys = [_count(s, Group.NOT_LOW_INCOME.value) for s in schools]
    return two_group_indices(
        xs, ys, [x + y for x, y in zip(xs, ys, strict=True)], list(zip(xs, ys, strict=True))
    )


def objective_met(
    kind: str,
    *,
    p: float | None,
    previous_p: float | None,
    district_p: float | None,
    applicant_p: float | None,
    band_k: float,
) -> bool | None:
    """Whether a magnet school met its integration objective in a year, from its minority
    share p (and, by kind, last year's share, the district's share and its applicants'
    share). None when a figure the kind needs is missing (the objective is not judged).

    - absolute: at most half its students are minority students, p ≤ 0.50;
    - relative_band: its share is within k of the district's, |p − P| ≤ k (exactly k meets);
    - applicant_pool: its applicants are less minority than its students, a < p (equal does
      not meet);
    - prevent: its share is in the watch band range, 0.20 ≤ p ≤ 0.50, and did not rise since
      last year, p ≤ last year's. A share outside the range does not meet it, whatever last
      year's was (known or not); a share in the range with no share last year is not judged.
    """
    if kind not in tuple(ObjectiveKind):
        raise ValueError(f"unknown objective kind: {kind!r}")
    if p is None:
        return None
    if kind == ObjectiveKind.ABSOLUTE:
        return p <= ISOLATION_LINE
    if kind == ObjectiveKind.RELATIVE_BAND:
        if district_p is None:
            return None
        return abs(p - district_p) <= band_k + _BAND_SLACK
    if kind == ObjectiveKind.APPLICANT_POOL:
        if applicant_p is None:
            return None
        return applicant_p < p
    if not WATCH_LOW <= p <= ISOLATION_LINE:
        return False
    if previous_p is None:
        return None
    return p <= previous_p


def share_meeting(results: Iterable[bool | None]) -> tuple[int, int, float | None]:
    """(met, judged, share): how many objectives were met, how many could be judged (None
    results, missing data, are left out of both), and met / judged (None when none was
    judged) — the federal program's measure."""
    met = judged = 0
    for result in results:
        if result is None:
            continue
        judged += 1
        met += result
    return met, judged, ratio(met, judged)
