"""A decline committed while a colleague's acceptance closes the order's other offers stays a decline.

Found by the peak benchmark's audit (bench/peak): the acceptance read the colleague's offer as open,
waited for its row lock, then wrote "taken" over the decline that had been acknowledged meanwhile.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import sqlalchemy as sa

from dispatch.district.service import district_now
from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.workflow import accept_offer
from tests import factories as f
from tests.conftest import postgres_url_or_skip


def test_a_decline_committed_during_a_colleagues_acceptance_is_kept(shared_app):
    if not shared_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        postgres_url_or_skip()
        return  # SQLite serialises writers at BEGIN: the two can never interleave
    with shared_app.app_context():
        school = f.school(npsn="10500001", level="SMP")
        order = f.order(school, urgent=True)
        order.sessions[0].status = "offered"
        first, second = f.teacher(name="Guru A"), f.teacher(name="Guru B", lon=102.101)
        expires = district_now() + timedelta(minutes=10)
        offers = [Offer(order_id=order.id, teacher_id=t.id, session_ids=[order.sessions[0].id], status="open", wave=1,
                        expires_at=expires) for t in (first, second)]  # fmt: skip
        db.session.add_all(offers)
        db.session.commit()
        accepting_id, declining_id, teacher_id = offers[0].id, offers[1].id, first.id

    engine = sa.create_engine(shared_app.config["SQLALCHEMY_DATABASE_URI"])
    declining = engine.connect()
    transaction = declining.begin()
    # The colleague's decline, in progress: its row locked and changed, not yet committed.
    declining.execute(sa.text("select id from offer where id = :id for update"), {"id": declining_id})
    declining.execute(sa.text("update offer set status = 'declined', decline_reason = 'sakit' where id = :id"),
                      {"id": declining_id})  # fmt: skip
    outcome: dict = {}

    def accept():
        with shared_app.app_context():
            try:
                accept_offer(teacher_id, accepting_id)
                db.session.commit()
                outcome["ok"] = True
            except Exception as exc:  # recorded for the assertion below
                db.session.rollback()
                outcome["error"] = exc

    worker = threading.Thread(target=accept)
    worker.start()
    # The acceptance must reach the declining row and wait for its lock; then the decline commits.
    with engine.connect() as watcher:
        deadline = time.monotonic() + 60
        while not watcher.execute(sa.text("select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                                          "and datname = current_database()")).scalar():  # fmt: skip
            assert time.monotonic() < deadline and worker.is_alive(), f"the acceptance never waited: {outcome}"
            time.sleep(0.05)
    transaction.commit()
    declining.close()
    worker.join(60)
    engine.dispose()
    assert outcome.get("ok"), outcome
    with shared_app.app_context():
        statuses = dict(db.session.execute(db.select(Offer.id, Offer.status)).all())
    assert statuses == {accepting_id: "accepted", declining_id: "declined"}
