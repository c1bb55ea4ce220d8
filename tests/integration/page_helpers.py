"""Reading the integration pages back: their tables as text, cell by cell."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Table:
    attrs: dict[str, str]
    caption: str = ""
    rows: list[list[str]] = field(default_factory=list)  # every row (head, body, foot)
    row_attrs: list[dict[str, str]] = field(default_factory=list)

    def body(self) -> list[list[str]]:
        return self.rows[1:]


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[Table] = []
        self.stack: list[Table] = []
        self.cell: list[str] | None = None
        self.in_caption = False
        self.svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "svg":
            self.svg += 1
        if tag == "table":
            table = Table(attrs=values)
            self.tables.append(table)
            self.stack.append(table)
        elif not self.stack:
            return
        elif tag == "tr":
            self.stack[-1].rows.append([])
            self.stack[-1].row_attrs.append(values)
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "caption":
            self.in_caption = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.svg -= 1
        if not self.stack:
            return
        if tag == "table":
            self.stack.pop()
        elif tag in ("td", "th") and self.cell is not None:
            self.stack[-1].rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "caption":
            self.in_caption = False

    def handle_data(self, data: str) -> None:
        if self.svg:
            return
        if self.cell is not None:
            self.cell.append(data)
        elif self.in_caption and self.stack:
            self.stack[-1].caption += data


def tables(html: str) -> list[Table]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def table_with(html: str, **attrs: str) -> Table:
    """The one table whose attributes include these (data_status="isolated" for
    data-status, class_="..." for a class contained in its class list)."""
    found = []
    for table in tables(html):
        ok = True
        for key, value in attrs.items():
            name = key.rstrip("_").replace("_", "-")
            if name == "class":
                ok &= value in table.attrs.get("class", "").split()
            else:
                ok &= table.attrs.get(name) == value
        if ok:
            found.append(table)
    assert len(found) == 1, (attrs, [t.attrs for t in tables(html)])
    return found[0]


def read_csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def plain(text: str) -> str:
    """A page's figure written as the CSV writes it: no thousands separators, no % sign,
    ASCII minus, no plus sign."""
    return text.replace(",", "").replace("%", "").replace("\u2212", "-").lstrip("+")


def is_small_count(text: str, threshold: int = 10) -> bool:
    """True for a published count from 1 to N−1 (what must never appear)."""
    digits = text.replace(",", "")
    return digits.isdigit() and 0 < int(digits) < threshold
