"""Flask CLI commands (cron runs the scheduled ones). Each domain adds its group here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from fellowship.db import commit, db

outbox_cli = AppGroup("outbox", help="The email outbox.")
demo_cli = AppGroup("demo", help="Demo data for trying Fellowship.")
users_cli = AppGroup("users", help="People and accounts.")
uploads_cli = AppGroup("uploads", help="The upload store (UPLOAD_DIR).")
schools_cli = AppGroup("schools", help="Schools of the equity-improvement cycles.")
integration_cli = AppGroup(
    "integration", help="Integration data: enrollment counts and the indices computed from them."
)


@outbox_cli.command("deliver")
@click.option("--limit", default=200, show_default=True, help="Most messages to try in one run.")
def outbox_deliver(limit: int) -> None:
    """Send queued email; retries failures with backoff (run from cron every minute)."""
    from fellowship.mail import deliver_outbox

    counts = deliver_outbox(limit=limit)
    click.echo(f"sent {counts['sent']}, will retry {counts['retry']}, failed {counts['failed']}")


reminders_cli = AppGroup(
    "reminders", help="Reminders from dates: modules due, check-ins, reviews, goals, items."
)


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime:
    """`--now`: an ISO date and time (UTC unless it names an offset); now when not given."""
    from fellowship.db import utcnow

    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise click.BadParameter(
            f"{value!r} is not a date and time like 2026-12-01T09:00", ctx, param
        ) from error
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@reminders_cli.command("run")
@click.option(
    "--now",
    "moment",
    callback=_moment,
    metavar="DATETIME",
    help="Compute the reminders as at this moment, like 2026-12-01T09:00 (UTC unless an "
    "offset is given, e.g. 2026-12-01T09:00-05:00); default: now. For replays and checks.",
)
@click.option(
    "--deliver",
    is_flag=True,
    help="Then send the queued email now (what `flask outbox deliver` does), until none is left.",
)
def reminders_run(moment: datetime, deliver: bool) -> None:
    """Notify people of what is due: run from cron, e.g. hourly.

    Modules due within 3 days, or overdue (once, in the week after the due date), to the
    fellow by their own due date (extensions, release dates and completion count); check-ins
    due soon or overdue by the cohort's rhythm (to the coach); capstone reviews waiting more
    than 7 days (to the reviewer); goals with no measurement in 60 days (to the lead
    teachers); goals reviews in a week and tomorrow (to the lead teachers and the staff side);
    action items due tomorrow (to their owner). Each day is the recipient's own, in their
    timezone.

    Each reminder is sent once: running again, or twice at the same time on several servers,
    adds nothing. Emails follow each person's notification settings and wait in the outbox
    for `flask outbox deliver` unless --deliver is given. Prints how many new reminders of
    each kind were made.
    """
    from fellowship.mail import deliver_outbox
    from fellowship.notifications.reminders import describe, run_reminders

    counts = run_reminders(moment)
    click.echo(f"reminders as at {moment.isoformat(timespec='minutes')}")
    for line in describe(counts):
        click.echo(line)
    if not deliver:
        return
    totals = {"sent": 0, "retry": 0, "failed": 0}
    while True:
        done = deliver_outbox(limit=500)
        for name, count in done.items():
            totals[name] += count
        if not any(done.values()) or done["retry"] or done["failed"]:
            break  # nothing left, or the mail server is in trouble: cron retries the rest
    click.echo(
        f"email: sent {totals['sent']}, will retry {totals['retry']}, failed {totals['failed']}"
    )


digests_cli = AppGroup("digests", help="Daily and weekly digest emails of notifications.")


@digests_cli.command("run")
@click.option(
    "--now",
    "moment",
    callback=_moment,
    metavar="DATETIME",
    help="Run as at this moment, like 2026-12-01T08:00 (UTC unless an offset is given); "
    "default: now. For replays and checks.",
)
def digests_run(moment: datetime) -> None:
    """Email each person the digest that is due: run from cron, e.g. hourly.

    The daily digest lists the notifications of the categories a person set to "daily
    digest" since their last one; it goes out once a day, from DIGEST_HOUR (default 7) on
    the person's own clock. The weekly digest, for categories set to "weekly digest", goes
    out once per week from Monday at DIGEST_HOUR. Notifications of a category now turned
    off are not mailed. Safe to run twice at the same time or on several servers: each
    digest is sent once. The emails wait in the outbox for `flask outbox deliver`.
    """
    from fellowship.notifications.digests import run_digests

    counts = run_digests(moment)
    click.echo(
        f"digests as at {moment.isoformat(timespec='minutes')}: daily {counts['daily']}, "
        f"weekly {counts['weekly']}, notifications {counts['notifications']}, "
        f"not mailed (category off) {counts['turned_off']}, "
        f"sent already by another run {counts['already_sent']}"
    )


@demo_cli.command("load")
def demo_load() -> None:
    """Create the demo accounts (refused under the production configuration)."""
    from fellowship.demo import DEMO_PASSWORD, load_demo

    if current_app.config["PRODUCTION"]:
        raise click.ClickException("refusing to load demo data under the production configuration")
    created = load_demo()
    commit()
    click.echo(
        f"demo data loaded ({created} new accounts); "
        f"password for every demo account: {DEMO_PASSWORD}"
    )


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create the first administrator (production has no default accounts)."""
    from fellowship.auth import services as accounts

    try:
        user = accounts.create_administrator(email=email, name=name, password=password)
    except accounts.AccountError as error:
        raise click.ClickException(error.message) from error
    commit()
    click.echo(f"administrator {user.email} created")


@uploads_cli.command("sweep")
@click.option(
    "--older-than-minutes",
    default=60,
    show_default=True,
    type=click.IntRange(min=10),
    help="Leave younger files alone (at least 10 minutes: uploads in progress are younger).",
)
def uploads_sweep(older_than_minutes: int) -> None:
    """Remove partial uploads and files no row points to (run from cron, e.g. hourly)."""
    from datetime import timedelta

    from fellowship.uploads import sweep_upload_store

    removed = sweep_upload_store(timedelta(minutes=older_than_minutes))
    click.echo(f"removed {removed} files")


@schools_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and count what would change; change nothing."
)
@click.pass_context
def schools_import(ctx: click.Context, file: Path, dry_run: bool) -> None:
    """Add and update schools from a CSV file (UTF-8, with or without a byte-order mark).

    The first line is the header: code,name,level,magnet,magnet_theme,pilot,region. level is
    elementary, middle, high, k8, k12 or other (or its English label, like "High school");
    magnet and pilot are yes or no; magnet_theme is needed when magnet is yes. A school whose
    code is already known is updated; schools not in the file are left alone.

    Nothing is changed when any line has an error (listed by line number, exit code 1) or
    with --dry-run. Run it from cron to sync schools from a student information system.
    """
    from fellowship.cycles import school_services

    try:
        text = school_services.decode_csv(file.read_bytes())
    except school_services.ImportFileError as error:
        click.echo(f"{file.name}: {error.message}", err=True)
        ctx.exit(1)
    plan = school_services.plan_school_import(text)
    counts = plan.counts()
    click.echo(
        f"{file.name}: to add {counts['added']}, to update {counts['updated']}, "
        f"unchanged {counts['unchanged']}, errors {counts['errors']}"
    )
    for problem in plan.errors:
        click.echo(problem.text, err=True)
    if not plan.ok:
        click.echo("nothing was changed: fix the errors and run the import again", err=True)
        ctx.exit(1)
    if dry_run:
        click.echo("dry run: nothing was changed")
        return
    try:
        done = school_services.apply_school_import(None, plan, file_label=file.name, source="cli")
    except school_services.SchoolError as error:
        db.session.rollback()
        click.echo(error.message, err=True)
        ctx.exit(1)
    commit()
    click.echo(
        f"imported: added {done['added']}, updated {done['updated']}, unchanged {done['unchanged']}"
    )


@integration_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Check the file and count what would change; change nothing."
)
@click.pass_context
def integration_import(ctx: click.Context, file: Path, dry_run: bool) -> None:
    """Import enrollment counts from a CSV file (UTF-8, with or without a byte-order mark).

    Long layout, one count a line, with the header
    school_code,school_year,grade,measure,group,count; or wide, one column per group:
    school_code,school_year,grade,measure, then any of the ten group columns (a blank cell is
    no count). The layout is told from the header. school_year is like 2025-26; grade is PK,
    K, 1 to 12 (KG and 01 are read too), blank for all grades; measure is enrollment,
    applicants, applied_enrolled, new_not_applied or continuing; group is one of
    american_indian_alaska_native, asian, black, hispanic_latino,
    native_hawaiian_pacific_islander, white, two_or_more, unknown, low_income,
    not_low_income; count is a whole number, 0 or more.

    Every school-year in the file is replaced as a whole: its counts (every measure and
    grade) are deleted and the file's inserted. Other school-years are left alone. Schools
    must exist (their state code); inactive schools are fine.

    Nothing is changed when any line has an error (listed by line number, exit code 1) or
    with --dry-run. An import being applied meanwhile (by someone else, in the browser or
    another command) is waited for, and this file is checked against its counts.
    """
    from sqlalchemy.exc import IntegrityError, OperationalError

    from fellowship.cycles.school_services import ImportFileError
    from fellowship.integration import import_services as counts

    busy = (
        "nothing was imported: the database refused a change (someone may have imported "
        "the same school-years meanwhile); run the import again"
    )
    try:
        text = counts.decode_counts_csv(file.read_bytes())
    except ImportFileError as error:
        click.echo(f"{file.name}: {error.message}", err=True)
        ctx.exit(1)
    try:
        # Planned under the import lock unless it is a dry run: applied right after, in the
        # same transaction.
        plan = counts.plan_counts_import(text, lock=not dry_run)
    except OperationalError:
        db.session.rollback()
        click.echo(busy, err=True)
        ctx.exit(1)
    summary = plan.counts_summary()
    click.echo(
        f"{file.name}: {plan.layout} layout, {summary['rows']} counts, "
        f"{summary['schools']} schools, {summary['years']} school years; school-years new "
        f"{summary['school_years_new']}, replaced {summary['school_years_replaced']} "
        f"({summary['rows_removed']} counts there now); errors {summary['errors']}"
    )
    if plan.ok and plan.new_years:
        click.echo(f"school years to add: {', '.join(plan.new_years)}")
    if plan.ok and plan.inactive_codes:
        click.echo(
            f"inactive schools (their counts are kept as history): "
            f"{', '.join(plan.inactive_codes[:20])}"
            + (
                f" and {len(plan.inactive_codes) - 20} more"
                if len(plan.inactive_codes) > 20
                else ""
            )
        )
    if plan.ok and plan.losing_measures:
        losing = [
            f"{item.code} {item.year_label} ({', '.join(item.measures_lost)})"
            for item in plan.losing_measures
        ]
        click.echo(
            f"warning: {len(losing)} school-years hold measures the file has none of for them; "
            f"the import removes them: {', '.join(losing[:20])}"
            + (f" and {len(losing) - 20} more" if len(losing) > 20 else "")
        )
    if plan.ok and plan.without_all_grades:
        graded = [
            f"{item.code} {item.year_label} ({', '.join(item.measures_without_all_grades)})"
            for item in plan.without_all_grades
        ]
        click.echo(
            f"warning: {len(graded)} school-years have grade counts but no all-grades counts "
            f"of some measures; the figures read all-grades counts only, so these show no "
            f"data: {', '.join(graded[:20])}"
            + (f" and {len(graded) - 20} more" if len(graded) > 20 else "")
        )
    for problem in plan.errors:
        click.echo(problem.text, err=True)
    if plan.error_count > len(plan.errors):
        click.echo(f"... and {plan.error_count - len(plan.errors)} more errors", err=True)
    if not plan.ok:
        click.echo("nothing was changed: fix the errors and run the import again", err=True)
        ctx.exit(1)
    if dry_run:
        click.echo("dry run: nothing was changed")
        return
    try:
        done = counts.apply_counts_import(None, plan, file_label=file.name, source="cli")
        commit()
    except (counts.CountsImportError, IntegrityError, OperationalError) as error:
        db.session.rollback()
        click.echo(getattr(error, "message", None) or busy, err=True)
        ctx.exit(1)
    click.echo(
        f"imported: {done['rows']} counts; school-years new {done['school_years_new']}, "
        f"replaced {done['school_years_replaced']} ({done['rows_removed']} counts removed)"
    )


def register_commands(app: Flask) -> None:
    app.cli.add_command(outbox_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(digests_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(uploads_cli)
    app.cli.add_command(schools_cli)
    app.cli.add_command(integration_cli)


@integration_cli.command("indices")
@click.option("--year", "year_label", required=True, help="The school year, like 2025-26.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["json", "text"]),
    default="text",
    show_default=True,
    help="json for programs; text for people.",
)
@click.pass_context
def integration_indices(ctx: click.Context, year_label: str, output: str) -> None:
    """Print the district's integration indices for a school year.

    Race and ethnicity (minority and white students) and income (low-income and not): the
    district's share P, dissimilarity, exposure, isolation, separation and Theil's H, each
    from 0 to 1 (empty/null when it cannot be computed), the number of schools counted, the
    groups counted as minority and the small-cell threshold - the same figures as the
    integration dashboard. Exit code 1 when the year has no counts.
    """
    import json

    from fellowship.integration import figures, queries, report

    years = queries.years_with_counts()
    year = next((y for y in years if y.label == year_label.strip()), None)
    if year is None:
        known = ", ".join(y.label for y in years) or "none"
        message = f"no enrollment counts for the school year {year_label!r}"
        click.echo(f"{message} (years with counts: {known})", err=True)
        ctx.exit(1)
    document = dict(figures.year_figures(year).document)
    if figures.stored():
        commit()  # the year's figures were out of date (see fellowship.integration.figures)
    if output == "json":
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(report.indices_text(document))


@integration_cli.command("refresh")
@click.option("--year", "year_label", help="Only this school year, like 2025-26.")
@click.option("--force", is_flag=True, help="Compute again even the figures that are up to date.")
@click.pass_context
def integration_refresh(ctx: click.Context, year_label: str | None, force: bool) -> None:
    """Compute and store the integration figures that are out of date.

    The integration pages, exports and `flask integration indices` read their figures from a
    store in the database (fellowship.integration.figures), computed once per school year.
    A change to the counts, the settings, the objectives or the schools makes the figures it
    touches out of date; the next page that needs them computes them again, which takes a few
    seconds for a large district. Run this after a big import so that the first reader does
    not wait. No cron job is needed: reads rebuild whatever is out of date.
    """
    from fellowship.integration import figures, queries

    years = queries.years_with_counts()
    if year_label is not None:
        years = [y for y in years if y.label == year_label.strip()]
        if not years:
            click.echo(f"no enrollment counts for the school year {year_label!r}", err=True)
            ctx.exit(1)
    computed, stored = figures.refresh(years, force=force)
    commit()
    done = {year.id for year in computed}
    for year in years:
        click.echo(f"{year.label}: {'computed' if year.id in done else 'up to date'}")
    if not stored:
        click.echo(
            "the figures could not be stored (another process was storing them): run again",
            err=True,
        )
        ctx.exit(1)
