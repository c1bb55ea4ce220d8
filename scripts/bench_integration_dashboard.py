"""Benchmark the integration dashboard (and the school page, the federal table and the
indicators CSV) at district scale.

Builds N active schools with 10 school years of all-grades counts in a fresh database —
enrollment by race/ethnicity (8 groups) and income (2), applicants by race/ethnicity, every
fourth school a magnet school with an objective — inserted in bulk; then requests the pages
as a staff member through the Flask test client and prints, per page, the median and p95
server time (wall clock; the median CPU time of the process beside it) and the SQL queries
of one request, twice:

- cold: the figures store emptied before each request, so the request computes every year it
  shows from the counts and stores it (the first request after a change);
- warm: the figures store up to date (every later request).

    .venv/bin/python scripts/bench_integration_dashboard.py           # 20 and 5,000 schools, SQLite
    .venv/bin/python scripts/bench_integration_dashboard.py --schools 5000 --runs 5
    .venv/bin/python scripts/bench_integration_dashboard.py \\
        --database postgresql://postgres@127.0.0.1:5432/bench_integration  # wipes that database
    .venv/bin/python scripts/bench_integration_dashboard.py --schools 5000 --profile

The SQLite file lives in a temporary folder and is removed afterwards; a PostgreSQL database
given with --database is emptied first (create a scratch one, drop it afterwards).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
import sqlalchemy as sa
from flask import Flask

from config import database_url
from fellowship import create_app
from fellowship.auth.models import Role, User
from fellowship.auth.services import start_login
from fellowship.cycles.models import School, SchoolLevel
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.integration.models import (
    INCOME_GROUPS,
    RACE_GROUPS,
    EnrollmentCount,
    IntegrationFigures,
    IntegrationObjective,
    Measure,
    ObjectiveKind,
)
from fellowship.school_years import get_or_create

YEARS = 10
FIRST_YEAR = 2016
# A district's mix, per group: (base count, spread); each school gets base + a
# school-and-year-dependent part, so schools differ and drift over the years.
RACE_MIX = {
    "american_indian_alaska_native": (2, 6),
    "asian": (10, 30),
    "black": (20, 120),
    "hispanic_latino": (25, 150),
    "native_hawaiian_pacific_islander": (0, 4),
    "white": (30, 200),
    "two_or_more": (5, 20),
    "unknown": (0, 8),
}


def fresh_database(url: str | None, folder: Path) -> str:
    if url is None:
        return f"sqlite:///{folder / 'bench_integration.db'}"
    url = database_url(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


def _count(school: int, year: int, group: str) -> int:
    base, spread = RACE_MIX[group]
    # A deterministic spread: schools sorted into neighbourhoods, drifting by year.
    return base + (school * 37 + year * 11 + len(group) * 5) % (spread + 1)


def build(schools: int) -> tuple[int, int]:
    """N schools × 10 years in bulk. Returns (staff id, rows inserted)."""
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now}
    years = [
        get_or_create(f"{FIRST_YEAR + y}-{(FIRST_YEAR + y + 1) % 100:02d}") for y in range(YEARS)
    ]
    staff = User(email="bench.integration@example.org", name="Bench Staff", role=Role.STAFF)
    db.session.add(staff)
    db.session.flush()
    db.session.execute(
        sa.insert(School),
        [
            {
                "code": f"BI-{i:05d}",
                "name": f"Bench School {i:05d}",
                "level": SchoolLevel.ELEMENTARY,
                "is_magnet": i % 4 == 0,
                "magnet_theme": "STEM" if i % 4 == 0 else "",
                "is_pilot": i % 50 == 0,
                "region": "North",
                "is_active": True,
                "version": 1,
                **stamps,
            }
            for i in range(schools)
        ],
    )
    ids = list(db.session.scalars(sa.select(School.id).order_by(School.id)))
    table = EnrollmentCount.__table__
    rows = 0
    race = [g.value for g in RACE_GROUPS]
    income = [g.value for g in INCOME_GROUPS]
    for y, school_year in enumerate(years):
        batch = []
        for n, school_id in enumerate(ids):
            counts = {group: _count(n, y, group) for group in race}
            known = sum(v for g, v in counts.items() if g != "unknown")
            low = known * (30 + (n * 13 + y) % 50) // 100
            for group in race:
                batch.append((school_id, Measure.ENROLLMENT.value, group, counts[group]))
                batch.append((school_id, Measure.APPLICANTS.value, group, counts[group] // 3))
            batch.append((school_id, Measure.ENROLLMENT.value, income[0], low))
            batch.append((school_id, Measure.ENROLLMENT.value, income[1], known - low))
        db.session.execute(
            table.insert(),
            [
                {
                    "school_id": school_id,
                    "school_year_id": school_year.id,
                    "grade": None,
                    "measure": measure,
                    "student_group": group,
                    "count": count,
                }
                for school_id, measure, group, count in batch
            ],
        )
        rows += len(batch)
    kinds = list(ObjectiveKind)
    db.session.execute(
        sa.insert(IntegrationObjective),
        [
            {
                "school_id": school_id,
                "kind": kinds[n % len(kinds)],
                "band_k": 0.15,
                "effective_from_year_id": years[0].id,
                "note": "",
                **stamps,
            }
            for n, school_id in enumerate(ids[::4])
        ],
    )
    db.session.commit()
    return staff.id, rows


def sign_in(app: Flask, staff_id: int) -> Any:
    client = app.test_client()
    with app.test_request_context():
        user = db.session.get(User, staff_id)
        assert user is not None
        start_login(user, ip="127.0.0.1")
        user_id = user.get_id()
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
        session["seen_at"] = int(time.time())
        session.permanent = True
    return client


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


def empty_store(app: Flask) -> None:
    with app.app_context():
        db.session.execute(sa.delete(IntegrationFigures))
        db.session.commit()


def _timed(client: Any, path: str, runs: int, before: Any = None) -> dict[str, Any]:
    times, cpu = [], []
    for _ in range(runs):
        if before is not None:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return {
        "median": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * len(times)) - 1)],
        "cpu": statistics.median(cpu),
        "bytes": len(response.get_data()),
    }


def _queries(app: Flask, client: Any, path: str) -> int:
    counter = Counter()
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", counter)
    try:
        client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", counter)
    return counter.count


def measure(app: Flask, client: Any, path: str, runs: int, cold_runs: int) -> dict[str, Any]:
    response = client.get(path)  # warm up (templates compiled, the store filled)
    assert response.status_code == 200, (path, response.status_code)
    result = {}
    if cold_runs:
        result["cold"] = _timed(client, path, cold_runs, before=lambda: empty_store(app))
        empty_store(app)
        result["cold"]["queries"] = _queries(app, client, path)  # (this fills the store)
    client.get(path)
    result["warm"] = _timed(client, path, runs)
    result["warm"]["queries"] = _queries(app, client, path)
    return result


def run(
    schools: int, url: str | None, runs: int, cold_runs: int, profile: bool, pages: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = fresh_database(url, Path(folder))
        app = create_app(
            "testing",
            {
                "SQLALCHEMY_DATABASE_URI": target,
                "UPLOAD_DIR": folder,
                "RATELIMIT_ENABLED": False,
                "BASE_URL": "http://localhost",
            },
        )
        started = time.perf_counter()
        with app.app_context():
            flask_migrate.upgrade()
            staff_id, rows = build(schools)
            first_school = db.session.scalar(sa.select(sa.func.min(School.id)))
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                        "ANALYZE"
                    )
        built = time.perf_counter() - started
        client = sign_in(app, staff_id)
        kind = sa.engine.make_url(target).get_backend_name()
        print(
            f"\n{kind}: {schools} schools x {YEARS} years, {rows:,} counts "
            f"(built in {built:.1f} s); {cold_runs} cold and {runs} warm requests per page"
        )
        paths = [p.replace("<school>", str(first_school)) for p in pages]
        for path in paths:
            for store, figures in measure(app, client, path, runs, cold_runs).items():
                print(
                    f"  {path:<30} {store:<4} median {figures['median']:8.1f} ms"
                    f"   p95 {figures['p95']:8.1f} ms   (CPU median {figures['cpu']:7.1f} ms)"
                    f"   {figures['queries']:2d} queries   {figures['bytes'] / 1024:6.0f} KiB"
                )
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(3):
                client.get(paths[0])
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        with app.app_context():
            db.engine.dispose()


PAGES = [
    "/integration/",
    "/integration/schools/<school>",
    "/integration/federal",
    "/integration/indicators.csv",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--schools",
        type=int,
        action="append",
        help="number of schools (repeat for several; default 20 and 5000)",
    )
    parser.add_argument(
        "--database",
        help="a PostgreSQL URL to use instead of a temporary SQLite file (it is emptied)",
    )
    parser.add_argument("--runs", type=int, default=5, help="warm requests per page (default 5)")
    parser.add_argument(
        "--cold-runs", type=int, default=5, help="cold requests per page (default 5; 0: none)"
    )
    parser.add_argument("--profile", action="store_true", help="profile the first page")
    parser.add_argument(
        "--page",
        action="append",
        help="a page to request (repeat; default: dashboard, school page, federal table, CSV)",
    )
    args = parser.parse_args()
    for schools in args.schools or [20, 5000]:
        run(schools, args.database, args.runs, args.cold_runs, args.profile, args.page or PAGES)


if __name__ == "__main__":
    main()
