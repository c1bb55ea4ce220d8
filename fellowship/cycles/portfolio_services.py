"""The portfolio changes nothing; the one thing it writes is the audit row of an export."""

from __future__ import annotations

from typing import Any

from fellowship import audit
from fellowship.cycles.portfolio_queries import Portfolio
from fellowship.db import db


def record_portfolio_export(actor: Any, portfolio: Portfolio) -> None:
    """Audit a CSV export of the portfolio: which year, which filters, how many rows."""
    audit.record(
        actor,
        "cycle.portfolio_exported",
        portfolio.year,
        details={
            "year": portfolio.year.label if portfolio.year else None,
            "filters": portfolio.filters.as_args(),
            "sort": f"{portfolio.sort} {portfolio.direction}",
            "rows": len(portfolio.rows),
        },
    )
    db.session.flush()
