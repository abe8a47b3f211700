"""Coverage of the shortage: requested vs booked vs held, by area, school, subject, level or week."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from dispatch.extensions import db
from dispatch.orders.models import LessonSession, Order
from dispatch.schools.models import School

FULL_LOAD = 24  # periods a week: one teacher-equivalent
BOOKED = ("booked", "held", "no_show")


def _key(by: str, session: LessonSession, order: Order, school: School) -> str:
    if by == "kecamatan":
        return school.kecamatan_code or "?"
    if by == "school":
        return school.npsn
    if by == "subject":
        return order.subject
    if by == "level":
        return order.level
    iso = session.date.isocalendar()
    return f"{iso[0]}-W{iso[1]:02d}"


def _row(key: str, c: dict) -> dict:
    return {
        "key": key,
        "sessions": c["sessions"],
        "booked": c["booked"],
        "held": c["held"],
        "coverage": round(c["booked"] / c["sessions"], 4) if c["sessions"] else 0.0,
        "periods": c["periods"],
        "booked_periods": c["booked_periods"],
        "held_periods": c["held_periods"],
    }


def coverage(first: date, last: date, by: str) -> dict:
    rows = db.session.execute(
        db.select(LessonSession, Order, School)
        .join(Order, LessonSession.order_id == Order.id)
        .join(School, Order.school_id == School.npsn)
        .where(LessonSession.date.between(first, last), LessonSession.status != "cancelled")
    ).all()
    counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    total: dict = defaultdict(int)
    for session, order, school in rows:
        for c in (counts[_key(by, session, order, school)], total):
            c["sessions"] += 1
            c["periods"] += session.periods
            if session.status in BOOKED:
                c["booked"] += 1
                c["booked_periods"] += session.periods
            if session.status == "held":
                c["held"] += 1
                c["held_periods"] += session.periods
    weeks = max(1, math.ceil(((last - first).days + 1) / 7))
    table = [_row(key, c) for key, c in sorted(counts.items())]
    shares = [r["coverage"] for r in table]
    return {
        "by": by,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "rows": table,
        "total": _row("total", total),
        # Periods still without a teacher, per week, in full loads of 24 periods.
        "unfilled_teacher_equivalents": round((total["periods"] - total["booked_periods"]) / FULL_LOAD / weeks, 1),
        "spread": round(max(shares) - min(shares), 4) if shares else 0.0,
    }
