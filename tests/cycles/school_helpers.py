"""Builders for the school tests: CSV files, the schools table as rows, form data."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cycles.models import School
from fellowship.extensions import db

HEADER = "code,name,level,magnet,magnet_theme,pilot,region"


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def csv_bytes(*rows: str, header: str = HEADER, bom: bool = False) -> bytes:
    data = csv_text(*rows, header=header).encode()
    return b"\xef\xbb\xbf" + data if bom else data


def big_csv(count: int, *, start: int = 0) -> str:
    """`count` valid rows with codes BIG00000…, a third of them magnet schools."""
    levels = ["elementary", "Middle school", "HIGH", "k8", "K-12", "other"]
    rows = []
    for n in range(start, start + count):
        magnet = n % 3 == 0
        rows.append(
            f"BIG{n:05d},School number {n},{levels[n % len(levels)]},"
            f"{'Yes' if magnet else 'no'},{'STEM' if magnet else ''},"
            f"{'YES' if n % 7 == 0 else 'No'},Region {n % 12}"
        )
    return csv_text(*rows)


def schools_table() -> list[tuple]:
    """Every school row (to prove nothing changed)."""
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(
                School.id,
                School.code,
                School.name,
                School.level,
                School.is_magnet,
                School.magnet_theme,
                School.is_pilot,
                School.region,
                School.is_active,
                School.version,
            ).order_by(School.id)
        )
    ]


def audit_actions(prefix: str = "") -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.id)
        )
    )


def text_of(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def school_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "NC-0101",
        "name": "Hillside Magnet Elementary",
        "level": "elementary",
        "is_magnet": "y",
        "magnet_theme": "STEM",
        "is_pilot": "",
        "region": "North",
        "is_active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v not in ("", None)}
