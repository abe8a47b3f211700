"""Command-line jobs: `flask --app wsgi <command>`."""

from __future__ import annotations

import click
from flask import Flask

from dispatch.accounts.models import ROLES
from dispatch.exceptions import DomainError
from dispatch.extensions import db
from dispatch.sqlite import writing


def _fail(exc: DomainError) -> None:
    raise click.ClickException(exc.message)


def register_cli(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--username", required=True)
    @click.option("--password", required=True)
    @click.option("--school", "school_id", help="NPSN of the school (school_operator)")
    @click.option("--teacher", "teacher_id", type=int, help="teacher id (teacher)")
    def create_user_command(role, username, password, school_id, teacher_id):
        """Create a user and print its id."""
        from dispatch.accounts.service import create_user
        from dispatch.district.service import ensure_district

        try:
            ensure_district()
            user = create_user(username, password, role, school_id=school_id, teacher_id=teacher_id)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            _fail(exc)
        click.echo(user.id)

    @app.cli.command("seed-demo")
    @click.option("--teachers", default=1500, show_default=True, help="generated teachers")
    @click.option("--periods", default=28800, show_default=True, help="lesson periods of orders in the demo week")
    def seed_demo_command(teachers, periods):
        """Load the demo district (real Bungo schools, generated teachers and orders) and print the demo logins.

        Running it again writes nothing new."""
        from dispatch.demo import seed_demo

        summary = seed_demo(teachers=teachers, periods=periods, progress=lambda line: click.echo(line, err=True))
        db.session.commit()
        if "skipped" in summary:
            click.echo(f"demo district not seeded now: {summary['skipped']}")
        else:
            added = ", ".join(f"{key} +{value}" for key, value in summary.items() if key != "logins")
            click.echo(f"demo district ready ({added})")
        if not summary["logins"]:
            return
        click.echo("demo logins (username / password / role):")
        for username, password, role in summary["logins"]:
            click.echo(f"  {username} / {password} / {role}")

    def _one_tick() -> dict[str, int]:
        from dispatch.workflow import tick

        with writing():
            done = tick()
            db.session.commit()
        return done

    @app.cli.command("mark-no-shows")
    def mark_no_shows_command():
        """One round of the clock by hand: among the rest, booked lessons with no check-in by the grace time
        become no-shows and what is still ahead reopens.

        The server's clock does this every second by itself."""
        done = _one_tick()
        click.echo(f"no-shows: {done['no_shows']}, held: {done['held']}, expired offers: {done['expired']}")

    @app.cli.command("expire-offers")
    def expire_offers_command():
        """One round of the clock by hand: among the rest, offers past their time close and the next waves go.

        The server's clock does this every second by itself."""
        done = _one_tick()
        click.echo(f"expired offers: {done['expired']}, waves: {done['waves']}, no-shows: {done['no_shows']}")

    @app.cli.command("import-csv")
    @click.argument("kind", type=click.Choice(["schools", "teachers"]))
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_csv_command(kind, path):
        """Import schools or teachers from a Dapodik-style CSV; bad rows are listed, good rows written."""
        from dispatch.imports.service import import_schools, import_teachers

        with open(path, "rb") as f:
            raw = f.read()
        try:
            result = (import_schools if kind == "schools" else import_teachers)(
                raw, progress=lambda done, total: click.echo(f"  {done}/{total} rows", err=True)
            )
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            _fail(exc)
        for error in result["errors"]:
            click.echo(f"row {error['row']}: {error['field']}: {error['message']}")
        click.echo(f"created {result['created']}, updated {result['updated']}, rejected rows {len(result['errors'])}")

    @app.cli.command("new-marks-epoch")
    def new_marks_epoch_command():
        """Make every phone fetch on its next reconnect (dispatch/live/marks.py): after a restore or a
        failover (numbers given out again), or once every process runs code that numbers a change the
        code before did not."""
        from dispatch.live.marks import new_epoch

        click.echo(new_epoch(db.session))
        db.session.commit()
