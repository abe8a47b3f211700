"""Writes to one order queue on the order's row before they hold anything else of it (PostgreSQL).

At the morning peak an accept and a decline on one order deadlocked, a second each: each held its own
offer, then locked the others (bench/peak, 5-22 deadlocks a run). And a wave sent beside a booking in
progress offered a session that was being booked. Each test holds the order's lock from a second
connection, as a request in progress would, and watches what the service waits for.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dispatch.district.service import district_now
from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession
from dispatch.workflow import accept_offer, claim_order, decline_offer
from tests import factories as f
from tests.conftest import build_app, clear_database


@pytest.fixture
def pg_app(postgres_schema_url):
    """PostgreSQL only: SQLite serialises writers at BEGIN, so no two writes there ever interleave."""
    app = build_app(postgres_schema_url)
    yield app
    clear_database(app, postgres_schema_url)


def _offered_order(app, teachers: int):
    """An urgent order with one offered session, and an open offer of it to each of `teachers` teachers;
    one more qualified teacher in reach is left for a next wave. (order id, session id, [(teacher, offer)])."""
    with app.app_context():
        school = f.school(npsn="10500001", level="SMP")
        order = f.order(school, urgent=True)
        order.sessions[0].status = "offered"
        offered = [f.teacher(name=f"Guru {i}", lon=102.10 + 0.001 * i) for i in range(teachers)]
        f.teacher(name="Guru Berikutnya", lon=102.09)
        expires = district_now() + timedelta(minutes=10)
        offers = [Offer(order_id=order.id, teacher_id=t.id, session_ids=[order.sessions[0].id], status="open", wave=1,
                        expires_at=expires) for t in offered]  # fmt: skip
        db.session.add_all(offers)
        db.session.commit()
        return order.id, order.sessions[0].id, [(t.id, o.id) for t, o in zip(offered, offers, strict=True)]


def _claimer(app) -> int:
    """A teacher who can take the order too (to claim it)."""
    with app.app_context():
        teacher_id = f.teacher(name="Guru Cepat", lon=102.105).id
        db.session.commit()
        return teacher_id


def _in_thread(app, work, outcome: dict, name: str) -> threading.Thread:
    def run():
        with app.app_context():
            try:
                work()
                db.session.commit()
                outcome[name] = "ok"
            except Exception as exc:  # recorded for the assertions
                db.session.rollback()
                outcome[name] = exc

    thread = threading.Thread(target=run, daemon=True)  # a failed test must not hang the run
    thread.start()
    return thread


def _wait_for_lock_waiters(engine, count: int, threads, outcome) -> None:
    with engine.connect() as watcher:
        deadline = time.monotonic() + 60
        while watcher.execute(sa.text("select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                                      "and datname = current_database()")).scalar() < count:  # fmt: skip
            assert time.monotonic() < deadline and all(t.is_alive() for t in threads), f"nobody waited: {outcome}"
            time.sleep(0.05)


@contextmanager
def _holding_order(engine, order_id: int):
    """A second connection holding the order's lock, as a request in progress would; released on exit
    (committed), whatever the test found."""
    with engine.connect() as holder, holder.begin():
        holder.execute(sa.text("select id from teaching_order where id = :id for no key update"), {"id": order_id})
        yield holder


def test_an_accept_and_a_decline_on_one_order_wait_for_the_order_holding_nothing(pg_app):
    order_id, session_id, ((accepting, accept_id), (declining, decline_id)) = _offered_order(pg_app, 2)
    engine = sa.create_engine(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    outcome: dict = {}
    with _holding_order(engine, order_id):
        threads = [
            _in_thread(pg_app, lambda: accept_offer(accepting, accept_id), outcome, "accept"),
            _in_thread(pg_app, lambda: decline_offer(declining, decline_id, "sakit"), outcome, "decline"),
        ]
        _wait_for_lock_waiters(engine, 2, threads, outcome)
        # Both wait on the order, and hold none of its offers or sessions meanwhile (the deadlock's cause).
        with engine.connect() as probe, probe.begin():
            free_offers = probe.execute(sa.text("select id from offer where order_id = :o for update skip locked"),
                                        {"o": order_id}).scalars().all()  # fmt: skip
            free_session = probe.execute(sa.text("select id from lesson_session where id = :s for update skip locked"),
                                         {"s": session_id}).scalars().all()  # fmt: skip
        assert sorted(free_offers) == sorted([accept_id, decline_id])
        assert free_session == [session_id]
    for thread in threads:
        thread.join(60)
    engine.dispose()
    assert outcome["accept"] == "ok", outcome
    with pg_app.app_context():
        statuses = dict(db.session.execute(db.select(Offer.id, Offer.status)).all())
        session = db.session.get(LessonSession, session_id)
        assert (session.status, session.teacher_id) == ("booked", accepting)
    # Whichever had the order first: a decline before the booking stands (and the booking sends no wave);
    # one after it finds the offer closed as taken.
    if outcome["decline"] == "ok":
        assert statuses == {accept_id: "accepted", decline_id: "declined"}
    else:
        assert "taken" in str(outcome["decline"]), outcome
        assert statuses == {accept_id: "accepted", decline_id: "taken"}


def test_a_wave_after_a_decline_does_not_offer_a_session_being_booked(pg_app):
    order_id, session_id, ((declining, decline_id),) = _offered_order(pg_app, 1)
    claimer = _claimer(pg_app)
    engine = sa.create_engine(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    outcome: dict = {}
    # A claim in progress: the order held, its session booked, not yet committed.
    with _holding_order(engine, order_id) as claim:
        claim.execute(sa.text("update lesson_session set status = 'booked', teacher_id = :t where id = :s"),
                      {"t": claimer, "s": session_id})  # fmt: skip
        threads = [_in_thread(pg_app, lambda: decline_offer(declining, decline_id, "sakit"), outcome, "decline")]
        _wait_for_lock_waiters(engine, 1, threads, outcome)
    threads[0].join(60)
    engine.dispose()
    assert outcome == {"decline": "ok"}
    with pg_app.app_context():
        still_open = db.session.scalars(db.select(Offer).where(Offer.status == "open")).all()
    assert still_open == []  # the next wave saw the booking: nothing left to offer


def test_a_claim_waits_for_the_order_before_it_books(pg_app):
    order_id, session_id, ((offered_to, offer_id),) = _offered_order(pg_app, 1)
    claimer = _claimer(pg_app)
    engine = sa.create_engine(pg_app.config["SQLALCHEMY_DATABASE_URI"])
    outcome: dict = {}
    with _holding_order(engine, order_id):
        threads = [_in_thread(pg_app, lambda: claim_order(claimer, order_id, None), outcome, "claim")]
        _wait_for_lock_waiters(engine, 1, threads, outcome)
        with engine.connect() as probe, probe.begin():
            free = probe.execute(sa.text("select id from lesson_session where id = :s for update skip locked"),
                                 {"s": session_id}).scalars().all()  # fmt: skip
        assert free == [session_id]  # the claim holds nothing of the order while it waits
    threads[0].join(60)
    engine.dispose()
    assert outcome == {"claim": "ok"}
    with pg_app.app_context():
        statuses = dict(db.session.execute(db.select(Offer.id, Offer.status)).all())
        assert db.session.get(LessonSession, session_id).teacher_id == claimer
    assert statuses == {offer_id: "taken"}
    assert offered_to != claimer
