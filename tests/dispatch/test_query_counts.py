"""The morning peak's hot requests read the database a fixed number of times, however many orders or
teachers are around: each used to read rows one by one (GET /api/v1/orders/open made 292 queries for
30 open orders and 76 for 6 in the first test below; on the bench district it read the district row
about 100 times a request)."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from sqlalchemy import event

from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher
from tests import factories as f
from tests.factories import next_weekday

MONDAY = next_weekday(0)


@contextlib.contextmanager
def counting():
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def open_orders(client, world, count: int, schools: list) -> None:
    for i in range(count):
        day = MONDAY + timedelta(days=7 * (i % 3) + i % 5)
        f.order(db.session.get(School, schools[i % len(schools)]), sessions=[
            LessonSession(date=day, start_min=420 + 10 * (i % 6), end_min=460 + 10 * (i % 6), periods=1, status="open")
        ])  # fmt: skip
    db.session.commit()


def test_open_orders_take_as_many_queries_for_30_orders_as_for_6(client, world):
    headers = world.headers("user_t1")
    schools = [f.school(lat=-1.49 + 0.01 * i, lon=102.11).npsn for i in range(6)]
    open_orders(client, world, 6, schools)
    db.session.expunge_all()  # nothing left in the identity map from writing them
    with counting() as few:
        seen_few = client.get("/api/v1/orders/open", headers=headers).get_json()
    open_orders(client, world, 24, schools)
    db.session.expunge_all()
    with counting() as many:
        seen_many = client.get("/api/v1/orders/open", headers=headers).get_json()
    assert len(seen_many) >= len(seen_few) + 20  # the teacher can take most of them
    assert len(many) == len(few), many


def test_an_urgent_order_reads_only_the_teachers_it_checks_with_40_in_reach_as_with_4(client, world):
    """The candidate search reads the teachers in reach as columns, and loads (and checks against their
    bookings) only those the ranking puts in front: the same work with 40 teachers in reach as with 4."""
    headers = world.headers("op_a")

    def post() -> tuple[list[str], list[int]]:
        body = {"subject": "MTK", "level": "SMP", "class_name": "IX A", "reason": "substitute", "urgent": True,
                "sessions": [{"date": MONDAY.isoformat(), "start": "09:00", "end": "09:40"}]}  # fmt: skip
        loaded: list[int] = []

        def count_teacher(teacher, _context):
            loaded.append(teacher.id)

        db.session.expunge_all()
        event.listen(Teacher, "load", count_teacher)
        try:
            with counting() as statements:
                response = client.post("/api/v1/orders", json=body, headers=headers)
        finally:
            event.remove(Teacher, "load", count_teacher)
        assert response.status_code == 201, response.get_json()
        offered = db.session.scalar(
            db.select(db.func.count(Offer.id)).where(Offer.order_id == response.get_json()["id"])
        )
        assert offered == 3  # a whole wave
        return statements, loaded

    for i in range(4):
        f.teacher(name=f"Guru {i}", lon=102.10 + 0.002 * i)
    db.session.commit()
    few, loaded_few = post()
    for i in range(36):
        f.teacher(name=f"Guru {i + 4}", lon=102.09 - 0.002 * i)
    db.session.commit()
    many, loaded_many = post()
    assert len(many) == len(few), many
    assert len(loaded_many) == len(loaded_few) <= 6, loaded_many
