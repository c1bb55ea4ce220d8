"""Flask CLI commands (cron runs the scheduled ones). Each domain adds its group here."""

from __future__ import annotations

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


@outbox_cli.command("deliver")
@click.option("--limit", default=200, show_default=True, help="Most messages to try in one run.")
def outbox_deliver(limit: int) -> None:
    """Send queued email; retries failures with backoff (run from cron every minute)."""
    from fellowship.mail import deliver_outbox

    counts = deliver_outbox(limit=limit)
    click.echo(f"sent {counts['sent']}, will retry {counts['retry']}, failed {counts['failed']}")


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


def register_commands(app: Flask) -> None:
    app.cli.add_command(outbox_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(uploads_cli)
    app.cli.add_command(schools_cli)
