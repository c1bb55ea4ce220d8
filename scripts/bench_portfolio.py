"""Benchmark the school cycles portfolio at district scale.

Builds N cycles (one school each, this school year) in a fresh database: every school with
4 goals of 10 measurements each, 5 support entries and a goals review in one of every state;
then requests the pages as a staff member through the Flask test client and prints, per
page, the median and p95 server time (wall clock; the median CPU time of the app process
beside it, which other load on the machine disturbs less) and the SQL queries of one request.

    .venv/bin/python scripts/bench_portfolio.py                       # 20 and 1,000 cycles, SQLite
    .venv/bin/python scripts/bench_portfolio.py --cycles 1000 --runs 50
    .venv/bin/python scripts/bench_portfolio.py \\
        --database postgresql://postgres@127.0.0.1:5432/bench_portfolio  # wipes that database
    .venv/bin/python scripts/bench_portfolio.py --cycles 1000 --profile  # where the time goes

The bar (QUALITY.md): the portfolio of 1,000 cycles under 150 ms median on SQLite, at most
15 queries, the same number at every scale. The SQLite file lives in a temporary folder and
is removed afterwards; a PostgreSQL database given with --database is emptied first.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
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
from fellowship.cycles.models import (
    Cycle,
    CycleStage,
    Goal,
    GoalCategory,
    GoalDirection,
    GoalsReview,
    Measurement,
    ReviewStatus,
    School,
    SchoolLevel,
    SupportActivity,
    SupportKind,
)
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.school_years import get_or_create, label_for

PAGES = ("/portfolio/", "/portfolio/years", "/")
REGIONS = ("North", "Central", "South", "East", "West")
THEMES = ("STEM", "Arts", "International Baccalaureate", "Dual Language", "Montessori")
STAGES = (CycleStage.PLANNING, CycleStage.IMPLEMENTING, CycleStage.IMPLEMENTING)
REVIEWS = (None, ReviewStatus.SCHEDULED, ReviewStatus.IN_MEETING, ReviewStatus.SIGNED)
GOALS_PER_CYCLE = 4
MEASUREMENTS_PER_GOAL = 10
SUPPORT_PER_CYCLE = 5


def fresh_database(url: str | None, folder: Path) -> str:
    if url is None:
        return f"sqlite:///{folder / 'bench_portfolio.db'}"
    url = database_url(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


def build(cycles: int, today: date) -> User:
    """N schools with a cycle each in this school year, in bulk. Returns the staff user."""
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now}
    year = get_or_create(label_for(today))
    staff = User(email="bench.staff@example.org", name="Bench Staff", role=Role.STAFF)
    db.session.add(staff)
    db.session.flush()
    db.session.execute(
        sa.insert(School),
        [
            {
                "code": f"BN-{i:05d}",
                "name": f"Bench Magnet School {i:05d}",
                "level": SchoolLevel.ELEMENTARY,
                "is_magnet": i % 7 != 0,
                "magnet_theme": THEMES[i % len(THEMES)] if i % 7 else "",
                "is_pilot": i % 50 == 0,
                "region": REGIONS[i % len(REGIONS)],
                "is_active": True,
                "version": 1,
                **stamps,
            }
            for i in range(cycles)
        ],
    )
    school_ids = list(db.session.scalars(sa.select(School.id).order_by(School.id)))
    db.session.execute(
        sa.insert(Cycle),
        [
            {
                "school_id": school_id,
                "school_year_id": year.id,
                "stage": STAGES[i % len(STAGES)],
                "initiative_title": "Every family chooses us",
                "version": 1,
                **stamps,
            }
            for i, school_id in enumerate(school_ids)
        ],
    )
    cycle_ids = list(db.session.scalars(sa.select(Cycle.id).order_by(Cycle.id)))
    baseline = today - timedelta(days=150)
    db.session.execute(
        sa.insert(Goal),
        [
            {
                "cycle_id": cycle_id,
                "title": f"Goal {g + 1}",
                "category": GoalCategory.ENROLLMENT_DIVERSITY,
                "metric": "Share of applicants from outside the attendance zone",
                "unit": "%",
                "baseline_value": 18.0,
                "baseline_on": baseline,
                "target_value": 30.0,
                "direction": (GoalDirection.RAISE, GoalDirection.LOWER, GoalDirection.HOLD)[g % 3],
                "due_on": None,
                "position": g,
                "version": 1,
                **stamps,
            }
            for cycle_id in cycle_ids
            for g in range(GOALS_PER_CYCLE)
        ],
    )
    goal_ids = list(db.session.scalars(sa.select(Goal.id).order_by(Goal.id)))
    # Values that rise at different speeds, so every status turns up; every third cycle
    # stopped measuring two months ago (stale).
    db.session.execute(
        sa.insert(Measurement),
        [
            {
                "goal_id": goal_id,
                "measured_on": baseline + timedelta(days=(m + 1) * (9 if n % 3 else 6)),
                "value": 18.0 + (m + 1) * (n % 5) * 0.35,
                "note": "",
                "evidence_url": "",
                "created_at": now,
            }
            for n, goal_id in enumerate(goal_ids)
            for m in range(MEASUREMENTS_PER_GOAL)
        ],
    )
    db.session.execute(
        sa.insert(SupportActivity),
        [
            {
                "cycle_id": cycle_id,
                "provider_name": "Bridges Collaborative",
                "kind": SupportKind.COACHING,
                "held_on": baseline + timedelta(days=10 * s),
                "hours": 1.5 + s,
                "participants": 5,
                "topic": "Coaching the team",
                "notes": "",
                **stamps,
            }
            for cycle_id in cycle_ids
            for s in range(SUPPORT_PER_CYCLE)
        ],
    )
    reviews = [
        {
            "cycle_id": cycle_id,
            "scheduled_for": today + timedelta(days=i % 60),
            "status": REVIEWS[i % len(REVIEWS)],
            "location": "",
            "participants": "",
            "notes_md": "",
            "version": 1,
            **stamps,
        }
        for i, cycle_id in enumerate(cycle_ids)
        if REVIEWS[i % len(REVIEWS)] is not None
    ]
    db.session.execute(sa.insert(GoalsReview), reviews)
    db.session.commit()
    return staff


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


def measure(app: Flask, client: Any, path: str, runs: int) -> dict[str, Any]:
    response = client.get(path)  # warm up (templates compiled, caches filled)
    assert response.status_code == 200, (path, response.status_code)
    counter = Counter()
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", counter)
    client.get(path)
    sa.event.remove(engine, "before_cursor_execute", counter)
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    times.sort()
    return {
        "median": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * len(times)) - 1)],
        "cpu": statistics.median(cpu),
        "queries": counter.count,
        "bytes": len(response.get_data()),
    }


def run(cycles: int, url: str | None, runs: int, profile: bool) -> None:
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
            staff = build(cycles, utcnow().date())
            staff_id = staff.id
            if db.engine.dialect.name == "postgresql":
                # What autovacuum does soon after a bulk load: fresh planner statistics.
                with db.engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                        "ANALYZE"
                    )
        built = time.perf_counter() - started
        client = sign_in(app, staff_id)
        kind = sa.engine.make_url(target).get_backend_name()
        print(
            f"\n{kind}: {cycles} cycles, {cycles * GOALS_PER_CYCLE} goals, "
            f"{cycles * GOALS_PER_CYCLE * MEASUREMENTS_PER_GOAL} measurements "
            f"(built in {built:.1f} s); {runs} requests per page"
        )
        for path in PAGES:
            result = measure(app, client, path, runs)
            print(
                f"  {path:<18} median {result['median']:7.1f} ms   p95 {result['p95']:7.1f} ms   "
                f"(CPU median {result['cpu']:6.1f} ms)   {result['queries']:2d} queries   "
                f"{result['bytes'] / 1024:5.0f} KiB"
            )
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(5):
                client.get(PAGES[0])
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        with app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cycles",
        type=int,
        action="append",
        help="number of cycles (repeat for several; default 20 and 1000)",
    )
    parser.add_argument(
        "--database",
        help="a PostgreSQL URL to use instead of a temporary SQLite file (it is emptied)",
    )
    parser.add_argument("--runs", type=int, default=30, help="requests per page (default 30)")
    parser.add_argument("--profile", action="store_true", help="profile the portfolio page")
    args = parser.parse_args()
    for cycles in args.cycles or [20, 1000]:
        run(cycles, args.database, args.runs, args.profile)


if __name__ == "__main__":
    main()
