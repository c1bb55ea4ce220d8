"""Benchmark the enrollment-count import at district scale (issue 8's bar: under 10 s).

Writes a CSV file of S schools × Y school years × the ten groups of all-grades enrollment
(5,000 × 10 × 10 = 500,000 lines by default, long layout), makes the schools in a fresh
database, then imports the file through the same service calls as
`flask integration import FILE` and prints the time of each phase: decode (bytes to text),
read (parse and check every line), plan (look up schools and years, count what each
school-year holds), apply (delete and insert) and commit. Then it imports the same file again
(every school-year replaced) and prints the same phases, and finally runs the real command
on the file once more (end to end, one figure).

    .venv/bin/python scripts/bench_integration_import.py                 # SQLite only
    .venv/bin/python scripts/bench_integration_import.py --schools 500   # smaller
    .venv/bin/python scripts/bench_integration_import.py --layout wide
    .venv/bin/python scripts/bench_integration_import.py \\
        --postgresql postgresql://postgres@127.0.0.1:5432/postgres       # SQLite, then PostgreSQL

The SQLite file lives in a temporary folder and is removed afterwards. With --postgresql the
script connects to that server, creates a scratch database (bench_integration_import_<pid>),
runs there and drops it again; the database in the URL is only used to create and drop it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate
import sqlalchemy as sa

from config import database_url
from fellowship import create_app
from fellowship.cycles.models import School, SchoolLevel
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.integration import import_services as counts
from fellowship.integration.models import Group

GROUPS = [group.value for group in Group]


def write_file(path: Path, schools: int, years: int, layout: str) -> int:
    """The benchmark file; returns the number of counts in it."""
    labels = [f"{2016 + n}-{(2017 + n) % 100:02d}" for n in range(years)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    rows = 0
    if layout == counts.WIDE:
        writer.writerow((*counts.KEY_COLUMNS, *GROUPS))
        for s in range(schools):
            for y, label in enumerate(labels):
                values = [(s * 7 + y * 3 + g * 11) % 400 for g in range(len(GROUPS))]
                writer.writerow((f"BN-{s:05d}", label, "", "enrollment", *values))
                rows += len(GROUPS)
    else:
        writer.writerow(counts.LONG_HEADER)
        for s in range(schools):
            code = f"BN-{s:05d}"
            for y, label in enumerate(labels):
                for g, group in enumerate(GROUPS):
                    writer.writerow(
                        (code, label, "", "enrollment", group, (s * 7 + y * 3 + g * 11) % 400)
                    )
                    rows += 1
    path.write_text(out.getvalue(), encoding="utf-8")
    return rows


def make_schools(schools: int) -> None:
    now = utcnow()
    db.session.execute(
        sa.insert(School),
        [
            {
                "code": f"BN-{i:05d}",
                "name": f"Bench School {i:05d}",
                "level": SchoolLevel.ELEMENTARY,
                "is_magnet": i % 7 == 0,
                "magnet_theme": "STEM" if i % 7 == 0 else "",
                "is_pilot": False,
                "region": "",
                "is_active": i % 100 != 0,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(schools)
        ],
    )
    db.session.commit()


class Phases:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.times[name] = time.perf_counter() - started

    def line(self) -> str:
        parts = [f"{name} {seconds:5.2f} s" for name, seconds in self.times.items()]
        return "   ".join(parts) + f"   total {sum(self.times.values()):5.2f} s"


def import_once(path: Path) -> tuple[Phases, dict[str, int]]:
    """What `flask integration import FILE` does, phase by phase."""
    phases = Phases()
    with phases.phase("decode"):
        data = path.read_bytes()
        text = counts.decode_counts_csv(data)
    with phases.phase("read"):
        reading = counts.read_counts_csv(text)
    with phases.phase("plan"):
        # Under the import lock, as the command plans (applied in the same transaction).
        plan = counts.plan_from_reading(
            reading, source=hashlib.sha256(text.encode("utf-8")).hexdigest(), lock=True
        )
        assert plan.ok, [error.text for error in plan.errors[:5]]
    with phases.phase("apply"):
        done = counts.apply_counts_import(None, plan, file_label=path.name, source="cli")
    with phases.phase("commit"):
        db.session.commit()
    return phases, done


def fresh_postgresql(server: str) -> tuple[str, str]:
    """(scratch database URL, maintenance URL)."""
    base = sa.engine.make_url(database_url(server))
    name = f"bench_integration_import_{os.getpid()}"
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
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    engine.dispose()


def run(url: str, folder: Path, path: Path, rows: int, schools: int, years: int) -> None:
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(folder / "uploads"),
            "RATELIMIT_ENABLED": False,
            "BASE_URL": "http://localhost",
        },
    )
    kind = sa.engine.make_url(url).get_backend_name()
    with app.app_context():
        flask_migrate.upgrade()
        make_schools(schools)
        print(f"\n{kind}: {schools} schools × {years} years, {rows:,} counts in the file")
        first, done = import_once(path)
        assert done["rows"] == rows, done
        print(f"  first import   {first.line()}")
        assert done["school_years_new"] == schools * years, done
        again, done = import_once(path)
        assert done["school_years_replaced"] == schools * years, done
        assert done["rows_removed"] == rows, done
        print(f"  re-import      {again.line()}")
        stored = db.session.scalar(
            sa.select(sa.func.count()).select_from(sa.table("enrollment_counts"))
        )
        assert stored == rows, stored
        db.session.remove()
        runner = app.test_cli_runner()
        started = time.perf_counter()
        result = runner.invoke(args=["integration", "import", str(path)])
        elapsed = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        print(f"  `flask integration import` (a re-import, end to end): {elapsed:5.2f} s")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=5000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--layout", choices=[counts.LONG, counts.WIDE], default=counts.LONG)
    parser.add_argument(
        "--postgresql",
        help="a PostgreSQL server URL: a scratch database is created there, used and dropped",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / f"counts-{args.layout}.csv"
        started = time.perf_counter()
        rows = write_file(path, args.schools, args.years, args.layout)
        print(
            f"file: {path.stat().st_size / (1024 * 1024):.1f} MiB, {args.layout} layout, "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        if not args.no_sqlite:
            run(f"sqlite:///{folder / 'bench.db'}", folder, path, rows, args.schools, args.years)
        if args.postgresql:
            scratch, maintenance = fresh_postgresql(args.postgresql)
            try:
                run(scratch, folder, path, rows, args.schools, args.years)
            finally:
                drop_postgresql(maintenance, scratch)


if __name__ == "__main__":
    main()
