"""The weekly plan's offers, written by the job worker in short batches through the workflow
(`workflow.offer_plan`, the same offers and moves as any wave's). Acceptance goes through the booking
path like any other offer."""

from __future__ import annotations

import time
from collections.abc import Callable

from dispatch import workflow
from dispatch.extensions import db
from dispatch.orders.models import LessonSession
from dispatch.sqlite import writing

# Offers written per transaction: each batch holds the SQLite write lock for a moment only (about
# 0.2 s for 100 on the reference machine, the outbox's events included), so schools' and teachers'
# writes get in between (a district week is about 8,000 offers).
OFFERS_PER_TRANSACTION = 100
# After each batch on SQLite, a pause as long as the batch held the lock (at least PAUSE_MIN s). A
# waiting writer polls the lock (SQLite's busy handler sleeps up to 100 ms between tries), so a
# worker that began its next batch at once would take the lock straight back each time, and a
# school's request could wait behind all 80 batches: measured 15 s (bench/jobs.py).
PAUSE_MIN = 0.1


def write_plan_offers(planned: dict[str, str], check_cancel: Callable[[], None] = lambda: None) -> int:
    """One offer per (order, planned teacher) with the sessions planned for them that are still open
    or offered when written. Batches of whole offers, each its own transaction; `check_cancel` runs
    between them (a cancelled run keeps the offers already sent). Returns the offers written."""
    ids = sorted(int(s) for s in planned)
    groups: dict[tuple[int, int], list[int]] = {}
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            db.select(LessonSession.id, LessonSession.order_id).where(LessonSession.id.in_(ids[start : start + 500]))
        )
        for session_id, order_id in rows:
            groups.setdefault((order_id, int(planned[str(session_id)])), []).append(session_id)
    db.session.commit()  # end the reads
    keys = sorted(groups)
    written = 0
    sqlite = db.engine.dialect.name == "sqlite"
    for start in range(0, len(keys), OFFERS_PER_TRANSACTION):
        check_cancel()
        began = time.monotonic()
        with writing():
            written += _write_batch({key: groups[key] for key in keys[start : start + OFFERS_PER_TRANSACTION]})
            db.session.commit()
        if sqlite and start + OFFERS_PER_TRANSACTION < len(keys):
            time.sleep(max(PAUSE_MIN, time.monotonic() - began))
    return written


def _write_batch(groups: dict[tuple[int, int], list[int]]) -> int:
    return workflow.offer_plan(groups)
