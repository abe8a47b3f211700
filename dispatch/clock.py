"""The service's own clock: offers expire, favourites' head starts end and no-shows are marked
on time, with no request needed and across restarts (everything it acts on is in the database).

Every server process runs one; a lock lets one process at a time do the work (an advisory
lock on PostgreSQL, the write lock taken at BEGIN on SQLite), so several processes never
double a wave.
"""

from __future__ import annotations

import logging
import time

from flask import Flask

from dispatch import workflow
from dispatch.extensions import db, socketio
from dispatch.sqlite import writing

log = logging.getLogger(__name__)

_CLOCK_LOCK = 0x6775_7275  # "guru": the advisory lock key of the clock


def _take_lock() -> bool:
    """PostgreSQL: one process's clock at a time. SQLite: the transaction already holds the write lock."""
    if db.engine.dialect.name == "postgresql":
        return bool(db.session.scalar(db.text("select pg_try_advisory_xact_lock(:key)"), {"key": _CLOCK_LOCK}))
    return True


def tick() -> dict[str, int]:
    """One round of everything that is due now, in one transaction."""
    with writing():
        try:
            if not _take_lock():
                db.session.rollback()
                return {}
            done = workflow.tick()
            db.session.commit()
            return done
        except Exception:
            db.session.rollback()
            raise


def run_forever(app: Flask, seconds: float) -> None:
    while True:
        started = time.monotonic()
        try:
            with app.app_context():
                done = tick()
            if any(done.values()):
                log.info("clock: %s", done)
        except Exception:  # a busy database or a lost connection: try again next round
            log.exception("clock round failed")
        socketio.sleep(max(0.05, seconds - (time.monotonic() - started)))


def start(app: Flask) -> None:
    """Start the clock in the background of a serving process (not in tests or commands)."""
    seconds = app.config["CLOCK_SECONDS"]
    if seconds > 0:
        socketio.start_background_task(run_forever, app, seconds)
