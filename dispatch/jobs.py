"""The job queue: weekly plans and what-ifs run in a worker process, never in a web process.

Huey (a small, maintained task queue with no dependencies of its own) serves both
deployments with one API: on the embedded default its SQLite storage, a file beside the
database, needs no server; in production its Redis storage. JOBS_URL chooses. RQ and
Dramatiq need Redis (or RabbitMQ) even for a demo, Celery is a far larger system for the
same two tasks. The consumer is `flask --app wsgi jobs-worker` (what `make run` starts beside
gunicorn); tests run jobs in-process with Huey's immediate mode.

A job is enqueued only after the transaction that wrote its run row has committed
(`enqueue_run_after_commit`), so the worker always finds the row, and a rolled-back
request queues nothing. The run row, not the queue, is the record: the worker claims a
run by moving it from `queued` to `running`, so a message delivered twice runs it once.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlparse

import click
from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, signals
from sqlalchemy import event
from sqlalchemy.orm import Session

from dispatch.extensions import db

log = logging.getLogger(__name__)

EXTENSION = "jobs"
MATCHING_TASK = "matching_run"
_AFTER_COMMIT = "jobs_after_commit"


class Jobs:
    """The app's Huey instance and its tasks, built on first use: building it opens the storage
    (creates the SQLite file or a Redis pool), which importing or creating the app must not do."""

    def __init__(self, app: Flask):
        self.app = app
        self._huey: Huey | None = None
        self._tasks: dict = {}
        self._lock = threading.Lock()

    @property
    def huey(self) -> Huey:
        with self._lock:
            if self._huey is None:
                self._huey = _build_huey(self.app.config)
                self._register(self._huey)
        return self._huey

    def enqueue_run(self, run_id: int) -> None:
        self.huey  # noqa: B018 - builds the tasks on first use
        self._tasks[MATCHING_TASK](run_id)

    def _register(self, huey: Huey) -> None:
        app = self.app

        @huey.task(name=MATCHING_TASK)
        def matching_run(run_id: int) -> None:
            from dispatch.runs.worker import execute_run

            with app.app_context():
                execute_run(run_id)

        @huey.signal(signals.SIGNAL_INTERRUPTED)
        def interrupted(signal, task, *args, **kwargs) -> None:
            # The consumer was told to stop (Ctrl-C, SIGTERM) while a run was going: say so on its row.
            if task.name == MATCHING_TASK and task.args:
                from dispatch.runs.worker import fail_interrupted

                with app.app_context():
                    fail_interrupted(task.args[0], "the job worker was stopped while the run was going; post it again")

        self._tasks[MATCHING_TASK] = matching_run


def _build_huey(config) -> Huey:
    url, name = config["JOBS_URL"], config["JOBS_NAME"]
    if config["JOBS_IMMEDIATE"]:
        return MemoryHuey(name, immediate=True, results=False)
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return RedisHuey(name, url=url, results=False)
    if scheme == "sqlite" and url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return SqliteHuey(name, filename=url[len("sqlite:///") :], results=False, timeout=20)
    if url == "memory://":
        return MemoryHuey(name, results=False)  # one process only: useful for nothing but tests
    raise RuntimeError(f"JOBS_URL must be redis://... or sqlite:///path, not {url!r}")


def jobs(app: Flask | None = None) -> Jobs:
    return (app or current_app).extensions[EXTENSION]


def enqueue_run_after_commit(run_id: int) -> None:
    """Queue the run's job once the current transaction commits; forget it if it rolls back."""
    session = db.session()
    session.info.setdefault(_AFTER_COMMIT, []).append((current_app._get_current_object(), run_id))


def _after_commit(session: Session) -> None:
    for app, run_id in session.info.pop(_AFTER_COMMIT, []):
        try:
            jobs(app).enqueue_run(run_id)
        except Exception as exc:  # the queue is down: the run must not wait for ever
            log.exception("could not queue run %s", run_id)
            from dispatch.runs.worker import fail_unqueued

            fail_unqueued(run_id, f"could not queue the run: {type(exc).__name__}: {exc}"[:500])


def _after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Jobs(app)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)

    @app.cli.command("jobs-worker")
    @click.option(
        "--workers", default=1, show_default=True, help="runs at a time (each solve uses MATCHING_WORKERS cores)"
    )
    def jobs_worker_command(workers):
        """Run the job worker: weekly plans and what-ifs, one after another.

        On start, a run left `running` by a worker that was killed is marked failed, and runs still
        `queued` are queued again (a run is claimed once, so a duplicate message does nothing)."""
        from dispatch.runs.worker import recover_runs

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        huey = jobs(app).huey
        if huey.immediate:
            raise click.ClickException("JOBS_IMMEDIATE is set: jobs run in-process, there is nothing to consume")
        failed, requeued = recover_runs(jobs(app).enqueue_run)
        click.echo(f"job worker: {failed} stale run(s) marked failed, {requeued} queued run(s) queued again", err=True)
        # Poll an idle SQLite queue every second at most (Redis blocks instead); a stop signal waits
        # two seconds for the run to notice before the worker exits and the run is marked failed.
        consumer = huey.create_consumer(workers=workers, periodic=False, max_delay=1.0, shutdown_timeout=2.0)
        try:
            consumer.run()
        finally:
            from dispatch.runs.solving import stop_all

            stop_all()
