"""Benchmark `flask reminders run` at district scale M, then the delivery of what it queued.

Builds a scale-M-like world in a fresh database (QUALITY.md: 40 cohorts, 2,400 fellows,
1,200 modules, about 30,000 check-ins, 500 schools and 1,000 cycles): per cohort 60 active
fellows, 6 coaches with 10 fellows each, 5 reviewers and 30 modules of 3 steps (the 15 past
ones done by most fellows, one due in 2 days, 14 later ones), a fellow's check-ins every two
weeks whose latest is 0 to 23 days old, an action item on the latest one, and in 10 cohorts a
capstone per fellow with two reviewers; 500 cycles this school year (4 goals with
measurements, half of them stale; goals reviews in a week and tomorrow) and 500 closed ones
of last year. Every rule has work: modules due soon and overdue, extensions, check-ins due
soon and overdue, reviews waiting, stale goals, goals reviews and action items.

Then it times `run_reminders(now)` three times on fresh data (the notifications and the
outbox emptied before each run) and prints the median with the SQL statements of a run and
what each rule made; times a run straight after (nothing new: the hourly cron's usual cost);
and finally delivers every queued email to a local SMTP server (aiosmtpd, in this process)
(aiosmtpd's Sink, in a process of its own) with `deliver_outbox` and prints messages per
second.

    .venv/bin/python scripts/bench_reminders.py                 # SQLite only
    .venv/bin/python scripts/bench_reminders.py --cohorts 4     # smaller
    .venv/bin/python scripts/bench_reminders.py \\
        --postgresql postgresql://postgres@127.0.0.1:5432/postgres   # SQLite, then PostgreSQL

The SQLite file lives in a temporary folder and is removed afterwards. With --postgresql the
script creates a scratch database there (bench_reminders_<pid>), runs in it and drops it; the
database named in the URL is only used to create and drop it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink

from config import database_url
from fellowship import create_app
from fellowship.auth.models import Role, User
from fellowship.capstones.models import (
    Capstone,
    CapstoneStatus,
    CapstoneVersion,
    ReviewAssignment,
    Stage,
)
from fellowship.coaching.models import ActionItem, CheckIn, CheckInMode
from fellowship.cohorts.models import (
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    CohortStatus,
    MembershipStatus,
)
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemKind,
    ItemProgress,
    Module,
    ModuleItem,
)
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    CycleRole,
    CycleStage,
    Goal,
    GoalCategory,
    GoalDirection,
    GoalsReview,
    Measurement,
    ReviewStatus,
    School,
    SchoolLevel,
)
from fellowship.extensions import db
from fellowship.mail import OutboxMessage, OutboxStatus, deliver_outbox
from fellowship.notifications.models import Notification
from fellowship.notifications.reminders import REMINDER_KINDS, RULES, Clock, run_reminders
from fellowship.school_years import get_or_create

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 09:00 in New York, everyone's timezone here
TODAY = date(2026, 12, 1)
FELLOWS_PER_COHORT = 60
COACHES_PER_COHORT = 6
REVIEWERS_PER_COHORT = 5
MODULES_PER_COHORT = 30
STEPS_PER_MODULE = 3
CAPSTONE_COHORTS = 10


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def insert(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (in chunks); their ids, in the order given."""
    ids: list[int] = []
    for start in range(0, len(rows), 2000):
        ids.extend(
            db.session.execute(
                sa.insert(model).returning(model.id, sort_by_parameter_order=True),
                rows[start : start + 2000],
            ).scalars()
        )
    return ids


def people(prefix: str, count: int, role: Role = Role.MEMBER) -> list[int]:
    return insert(
        User,
        [
            {
                "email": f"{prefix}{n}@bench.example.org",
                "name": f"{prefix.title()} {n:05d}",
                "role": role,
                "locale": "es" if n % 5 == 0 else "en",
                "timezone": "America/New_York",
            }
            for n in range(count)
        ],
    )


def build(cohorts: int) -> dict[str, int]:
    """The world; returns counts of what it made."""
    this_year = get_or_create("2026-27")
    last_year = get_or_create("2025-26")
    staff = people("staff", 10, Role.STAFF)
    made: dict[str, int] = {}

    # Cohorts, people, memberships, coaches ---------------------------------------------------
    cohort_ids = insert(
        Cohort,
        [
            {
                "name": f"Cohort {n:02d}",
                "school_year_id": this_year.id,
                "starts_on": date(2026, 8, 1),
                "ends_on": date(2027, 6, 15),
                "status": CohortStatus.ACTIVE,
                "checkin_rhythm_days": 14,
                "settings": {},
            }
            for n in range(cohorts)
        ],
    )
    fellows = people("fellow", cohorts * FELLOWS_PER_COHORT)
    coaches = people("coach", cohorts * COACHES_PER_COHORT)
    reviewers = people("reviewer", cohorts * REVIEWERS_PER_COHORT)
    memberships: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    fellows_of: dict[int, list[int]] = {}
    coach_of: dict[int, int] = {}
    for c, cohort_id in enumerate(cohort_ids):
        own = fellows[c * FELLOWS_PER_COHORT : (c + 1) * FELLOWS_PER_COHORT]
        own_coaches = coaches[c * COACHES_PER_COHORT : (c + 1) * COACHES_PER_COHORT]
        own_reviewers = reviewers[c * REVIEWERS_PER_COHORT : (c + 1) * REVIEWERS_PER_COHORT]
        fellows_of[cohort_id] = own
        for role, group in (
            (CohortRole.FELLOW, own),
            (CohortRole.COACH, own_coaches),
            (CohortRole.REVIEWER, own_reviewers),
        ):
            memberships.extend(
                {
                    "cohort_id": cohort_id,
                    "user_id": user_id,
                    "role": role,
                    "status": MembershipStatus.ACTIVE,
                    "joined_on": date(2026, 8, 1),
                }
                for user_id in group
            )
        for f, fellow_id in enumerate(own):
            coach_of[fellow_id] = own_coaches[f % COACHES_PER_COHORT]
            assignments.append(
                {
                    "cohort_id": cohort_id,
                    "fellow_id": fellow_id,
                    "coach_id": coach_of[fellow_id],
                    "starts_on": date(2026, 8, 1),
                }
            )
    insert(CohortMembership, memberships)
    insert(CoachAssignment, assignments)
    made["fellows"] = len(fellows)

    # Modules: 15 past (every 10 days, the last 3 days ago), one due in 2 days, 14 later --
    offsets = [-143 + 10 * m for m in range(15)] + [2] + [12 + 10 * m for m in range(14)]
    module_rows = [
        {
            "cohort_id": cohort_id,
            "position": m,
            "title": f"Module {m + 1}",
            "summary": "",
            "outcomes_md": "",
            "release_on": day(offset - 14),
            "due_on": day(offset),
            "estimated_minutes": 60,
        }
        for cohort_id in cohort_ids
        for m, offset in enumerate(offsets)
    ]
    module_ids = insert(Module, module_rows)
    item_ids = insert(
        ModuleItem,
        [
            {
                "module_id": module_id,
                "position": s,
                "kind": ItemKind.READING,
                "title": f"Step {s + 1}",
                "body_md": "Read this.",
                "required": True,
            }
            for module_id in module_ids
            for s in range(STEPS_PER_MODULE)
        ],
    )
    made["modules"] = len(module_ids)
    progress: list[dict[str, Any]] = []
    extensions: list[dict[str, Any]] = []
    for c, cohort_id in enumerate(cohort_ids):
        for f, fellow_id in enumerate(fellows_of[cohort_id]):
            for m, offset in enumerate(offsets):
                module_index = c * MODULES_PER_COHORT + m
                steps = item_ids[
                    module_index * STEPS_PER_MODULE : (module_index + 1) * STEPS_PER_MODULE
                ]
                if offset < 0:
                    # Past modules: done, except the last two for one fellow in ten.
                    done = STEPS_PER_MODULE - (1 if f % 10 == 0 and m >= 13 else 0)
                elif offset == 2:
                    done = [3, 1, 0, 0, 2][f % 5]  # complete, started, not started
                    if f % 10 == 3:
                        extensions.append(
                            {
                                "module_id": module_ids[module_index],
                                "fellow_id": fellow_id,
                                "due_on": day(20),
                                "reason": "Leave",
                            }
                        )
                else:
                    done = 0
                progress.extend(
                    {
                        "item_id": item_id,
                        "fellow_id": fellow_id,
                        "completed_at": NOW - timedelta(days=1),
                        "response_md": "",
                    }
                    for item_id in steps[:done]
                )
    insert(ItemProgress, progress)
    insert(DueDateExtension, extensions)
    made["item progress"] = len(progress)

    # Check-ins every two weeks, the latest 0 to 23 days old, an action item on it -----------
    checkins: list[dict[str, Any]] = []
    latest: list[tuple[int, int]] = []  # (index in checkins, fellow)
    for cohort_id in cohort_ids:
        for f, fellow_id in enumerate(fellows_of[cohort_id]):
            last = (f * 7) % 24
            for k in range(12):
                if k == 0:
                    latest.append((len(checkins), fellow_id))
                checkins.append(
                    {
                        "cohort_id": cohort_id,
                        "coach_id": coach_of[fellow_id],
                        "fellow_id": fellow_id,
                        "held_on": day(-last - 14 * k),
                        "duration_minutes": 45,
                        "mode": CheckInMode.VIDEO,
                        "shared_summary_md": "We talked.",
                        "next_steps_md": "",
                        "shared_at": NOW - timedelta(days=last + 14 * k),
                    }
                )
    checkin_ids = insert(CheckIn, checkins)
    insert(
        ActionItem,
        [
            {
                "checkin_id": checkin_ids[index],
                "owner_id": fellow_id,
                "description": "Draft the memo to the board",
                "due_on": day(1 + n % 3),
                "position": 0,
            }
            for n, (index, fellow_id) in enumerate(latest)
        ],
    )
    made["check-ins"] = len(checkin_ids)

    # Capstones in 10 cohorts, two reviewers each, half assigned 10 days ago ------------------
    capstone_rows = [
        {
            "cohort_id": cohort_id,
            "fellow_id": fellow_id,
            "title": f"A school for everyone {fellow_id}",
            "status": CapstoneStatus.PROPOSAL_SUBMITTED,
        }
        for cohort_id in cohort_ids[:CAPSTONE_COHORTS]
        for fellow_id in fellows_of[cohort_id]
    ]
    capstone_ids = insert(Capstone, capstone_rows)
    version_ids = insert(
        CapstoneVersion,
        [
            {
                "capstone_id": capstone_id,
                "number": 1,
                "stage": Stage.PROPOSAL,
                "narrative_md": "Why.",
                "submitted_at": NOW - timedelta(days=12),
            }
            for capstone_id in capstone_ids
        ],
    )
    review_rows = []
    for n, (version_id, row) in enumerate(zip(version_ids, capstone_rows, strict=True)):
        c = cohort_ids.index(row["cohort_id"])
        own_reviewers = reviewers[c * REVIEWERS_PER_COHORT : (c + 1) * REVIEWERS_PER_COHORT]
        for r in range(2):
            review_rows.append(
                {
                    "version_id": version_id,
                    "reviewer_id": own_reviewers[(n + r) % REVIEWERS_PER_COHORT],
                    "assigned_at": NOW - timedelta(days=10 if n % 2 else 3),
                }
            )
    insert(ReviewAssignment, review_rows)
    made["review assignments"] = len(review_rows)

    # Schools and cycles: 500 this year with goals and reviews, 500 closed last year ----------
    school_count = 500
    school_ids = insert(
        School,
        [
            {
                "code": f"BR-{n:05d}",
                "name": f"Bench School {n:05d}",
                "level": SchoolLevel.ELEMENTARY,
                "is_magnet": n % 7 == 0,
                "magnet_theme": "",
                "is_pilot": False,
                "region": "",
                "is_active": True,
            }
            for n in range(school_count)
        ],
    )
    current = insert(
        Cycle,
        [
            {
                "school_id": school_id,
                "school_year_id": this_year.id,
                "stage": CycleStage.IMPLEMENTING,
            }
            for school_id in school_ids
        ],
    )
    insert(
        Cycle,
        [
            {"school_id": school_id, "school_year_id": last_year.id, "stage": CycleStage.CLOSED}
            for school_id in school_ids
        ],
    )
    leads = people("lead", school_count)
    cycle_people = [
        {"cycle_id": cycle_id, "user_id": leads[n], "role": CycleRole.LEAD_TEACHER}
        for n, cycle_id in enumerate(current)
    ] + [
        {"cycle_id": cycle_id, "user_id": staff[n % len(staff)], "role": CycleRole.STAFF_LIAISON}
        for n, cycle_id in enumerate(current)
    ]
    insert(CycleMembership, cycle_people)
    goal_ids = insert(
        Goal,
        [
            {
                "cycle_id": cycle_id,
                "title": f"Goal {g + 1}",
                "category": GoalCategory.ENROLLMENT_DIVERSITY,
                "metric": "Share of applicants from outside the zone",
                "unit": "%",
                "baseline_value": 18.0,
                "baseline_on": date(2026, 8, 15),
                "target_value": 30.0,
                "direction": GoalDirection.RAISE,
                "position": g,
            }
            for cycle_id in current
            for g in range(4)
        ],
    )
    insert(
        Measurement,
        [
            {
                "goal_id": goal_id,
                "measured_on": day(-(30 if n % 2 else 70) - 20 * k),
                "value": 20.0 + k,
                "note": "",
                "evidence_url": "",
            }
            for n, goal_id in enumerate(goal_ids)
            for k in range(3)
        ],
    )
    insert(
        GoalsReview,
        [
            {
                "cycle_id": cycle_id,
                "scheduled_for": day(7 if n % 10 == 0 else 1),
                "status": ReviewStatus.SCHEDULED,
                "scheduled_by_id": staff[0],
                "location": "District office",
                "participants": "",
            }
            for n, cycle_id in enumerate(current)
            if n % 10 in (0, 1)
        ],
    )
    made["cycles"] = 2 * school_count
    made["goals"] = len(goal_ids)
    db.session.commit()
    return made


def forget_reminders() -> None:
    """Fresh data for the next timed run: no notification or email made yet."""
    db.session.execute(sa.delete(OutboxMessage))
    db.session.execute(sa.delete(Notification))
    db.session.commit()


def _serve_smtp(port: int) -> None:
    """The mail server's process: aiosmtpd accepting (and dropping) every message."""
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    threading.Event().wait()


@contextmanager
def smtp_server(port: int) -> Iterator[None]:
    """aiosmtpd in a process of its own, as a real mail server would be."""
    server = multiprocessing.Process(target=_serve_smtp, args=(port,), daemon=True)
    server.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.join(10)


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def run(url: str, folder: Path, cohorts: int, runs: int) -> None:
    port = _free_port()
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(folder / "uploads"),
            "RATELIMIT_ENABLED": False,
            "BASE_URL": "http://localhost",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "MAIL_SUPPRESS_SEND": False,
        },
    )
    kind = sa.engine.make_url(url).get_backend_name()
    with app.app_context():
        flask_migrate.upgrade()
        started = time.perf_counter()
        made = build(cohorts)
        summary = ", ".join(f"{count:,} {name}" for name, count in made.items())
        print(f"\n{kind}: built in {time.perf_counter() - started:.1f} s: {summary}")

        times: list[float] = []
        counts: dict[str, int] = {}
        queries = 0
        for _ in range(runs):
            forget_reminders()
            db.session.remove()
            with statements(db.engine) as seen:
                started = time.perf_counter()
                counts = run_reminders(NOW)
                times.append(time.perf_counter() - started)
            queries = len(seen)
            db.session.remove()
        total = sum(counts.values())
        print(
            f"  run_reminders on fresh data: median {statistics.median(times):.2f} s of "
            f"{runs} ({', '.join(f'{t:.2f}' for t in times)}), {queries} SQL statements, "
            f"{total:,} reminders"
        )
        for name in REMINDER_KINDS:
            print(f"    {name:28} {counts[name]:6,}")
        clock = Clock(NOW)
        for rule in RULES:
            started = time.perf_counter()
            rule(clock)
            print(f"    the rule {rule.__name__} alone: {time.perf_counter() - started:.2f} s")
        db.session.remove()
        started = time.perf_counter()
        again = run_reminders(NOW + timedelta(minutes=60))
        print(
            f"  the next hourly run (nothing new): {time.perf_counter() - started:.2f} s, "
            f"{sum(again.values())} new"
        )
        db.session.remove()

        queued = db.session.scalar(
            sa.select(sa.func.count(OutboxMessage.id)).where(
                OutboxMessage.status == OutboxStatus.QUEUED
            )
        )
        db.session.remove()
        with smtp_server(port):
            sent = 0
            started = time.perf_counter()
            while True:
                done = deliver_outbox(limit=1000)
                sent += done["sent"]
                if not done["sent"] or done["retry"] or done["failed"]:
                    break
            elapsed = time.perf_counter() - started
        assert sent == queued, (sent, queued)  # every one accepted by the server
        print(
            f"  delivery to a local SMTP server: {sent:,} messages in {elapsed:.1f} s, "
            f"{sent / elapsed:.0f} messages per second"
        )
        db.session.remove()
        db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_postgresql(server: str) -> tuple[str, str]:
    """(scratch database URL, maintenance URL)."""
    base = sa.engine.make_url(database_url(server))
    name = f"bench_reminders_{os.getpid()}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False), base.render_as_string(
        hide_password=False
    )


def drop_postgresql(maintenance: str, scratch: str) -> None:
    name = sa.engine.make_url(scratch).database
    engine = sa.create_engine(maintenance, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cohorts", type=int, default=40, help="60 fellows each (default 40)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs on fresh data")
    parser.add_argument(
        "--postgresql",
        help="a PostgreSQL server URL: a scratch database is created there, used and dropped",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if not args.no_sqlite:
            run(f"sqlite:///{folder / 'bench.db'}", folder, args.cohorts, args.runs)
        if args.postgresql:
            scratch, maintenance = fresh_postgresql(args.postgresql)
            try:
                run(scratch, folder, args.cohorts, args.runs)
            finally:
                drop_postgresql(maintenance, scratch)


if __name__ == "__main__":
    main()
