"""How a published figure is written, once for the pages and the CSV files, so every output
shows the same thing: the same rounding, the same marks for what is hidden.

- A count shown: its digits ("1,234" on a page in the reader's locale, "1234" in a CSV).
- A count hidden because it is small (1 to N−1): "<N". Hidden so that a small one cannot be
  worked out from the totals (complementary suppression): "*".
- A share: a percentage with one decimal ("42.3%" on a page, "42.3" in a CSV); a gap or a
  change in percentage points, signed ("+5.2" / "−5.2" on a page, "5.2" / "-5.2" in a CSV).
- A share not shown: "<N" when fewer than N students are behind it, "*" when it would reveal
  a hidden count, "—" when there is no data.
- An index: three decimals ("0.412").
"""

from __future__ import annotations

from flask import g
from flask_babel import format_decimal as _format_decimal

from fellowship.integration.suppression import CellStatus, Published, Rate

NO_DATA = "—"
HIDDEN = "*"


def format_decimal(number: float | int, pattern: str) -> str:
    """Babel's locale-aware formatting, memoised for the request: a page of 5,000 schools
    writes a few hundred distinct percentages thousands of times."""
    cache: dict[tuple[float | int, str], str] = g.setdefault("_integration_numbers", {})
    key = (number, pattern)
    text = cache.get(key)
    if text is None:
        text = cache[key] = str(_format_decimal(number, format=pattern))
    return text


def small(threshold: int) -> str:
    return f"<{threshold}"


# A figure as the figures store keeps it (`figures.py`): a count is its number when it is
# shown, else its status ("small" / "complement"); a share is its value when it is shown, else
# the reason it is not. The writers below take either form and write the same text.
CountCode = int | str
RateCode = float | str


def count_code(cell: Published) -> CountCode:
    return cell.value if cell.value is not None else cell.status.value


def rate_code(rate: Rate) -> RateCode:
    return rate.value if rate.value is not None else (rate.reason or "no_data")


def count(cell: Published | None, threshold: int, *, csv: bool = False) -> str:
    if cell is None:
        return NO_DATA
    return count_text(count_code(cell), threshold, csv=csv)


def count_text(code: CountCode | None, threshold: int, *, csv: bool = False) -> str:
    """A stored count (see `count_code`)."""
    if code is None:
        return NO_DATA
    if isinstance(code, int):
        return str(code) if csv else format_decimal(code, "#,##0")
    return small(threshold) if code == CellStatus.SMALL.value else HIDDEN


def _hidden_rate(reason: str, threshold: int) -> str:
    if reason == "small_denominator":
        return small(threshold)
    if reason == "would_reveal":
        return HIDDEN
    return NO_DATA


def percent(rate: Rate, threshold: int, *, csv: bool = False) -> str:
    """A share as a percentage with one decimal."""
    return percent_text(rate_code(rate), threshold, csv=csv)


def percent_text(code: RateCode, threshold: int, *, csv: bool = False) -> str:
    """A stored share (see `rate_code`) as a percentage with one decimal."""
    if isinstance(code, str):
        return _hidden_rate(code, threshold)
    number = round(code * 100, 1)
    if csv:
        return f"{number:.1f}"
    return f"{format_decimal(number, '#,##0.0')}%"


def points(rate: Rate, threshold: int, *, csv: bool = False) -> str:
    """A difference of two shares in percentage points, signed, one decimal."""
    return points_text(rate_code(rate), threshold, csv=csv)


def points_text(code: RateCode, threshold: int, *, csv: bool = False) -> str:
    """A stored difference of two shares (see `rate_code`) in signed percentage points."""
    if isinstance(code, str):
        return _hidden_rate(code, threshold)
    number = round(code * 100, 1)
    if number == 0:
        number = 0.0  # no "-0.0"
    if csv:
        return f"{number:.1f}"
    text = format_decimal(abs(number), "#,##0.0")
    if number > 0:
        return f"+{text}"
    return f"\u2212{text}" if number < 0 else text


def index(value: float | None, *, csv: bool = False) -> str:
    """An index (or a share P) between 0 and 1, three decimals."""
    if value is None:
        return NO_DATA
    number = round(value, 3)
    if csv:
        return f"{number:.3f}"
    return format_decimal(number, "0.000")


def share_of(value: float | None, *, csv: bool = False) -> str:
    """A plain share (not suppressed: e.g. the magnet schools meeting their objective)."""
    if value is None:
        return NO_DATA
    number = round(value * 100, 1)
    if csv:
        return f"{number:.1f}"
    return f"{format_decimal(number, '#,##0.0')}%"
