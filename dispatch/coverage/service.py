"""Coverage of the shortage: requested vs booked vs held, by area, school, subject, level or week.

Counted in the database (GROUP BY key and status), so a term of a whole district's lessons is a
few thousand grouped rows, not a quarter of a million objects. Every row carries the name the
district office reads (kecamatan, school, subject, level, the week's dates) beside its code.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func

from dispatch.coverage.names import NO_KECAMATAN, level_name, subject_name
from dispatch.district.models import Kecamatan
from dispatch.extensions import db
from dispatch.lifecycle import FILLED, SessionStatus
from dispatch.orders.models import LessonSession, Order
from dispatch.schools.models import School

FULL_LOAD = 24  # periods a week: one teacher-equivalent
BOOKED = tuple(str(s) for s in FILLED)  # booked, held, no_show: a teacher was sent
DIMENSIONS = ("kecamatan", "school", "subject", "level", "week")
FILTERS = ("kecamatan_code", "school_id", "subject", "level")

_KEY_COLUMNS = {
    "kecamatan": School.kecamatan_code,
    "school": School.npsn,
    "subject": Order.subject,
    "level": Order.level,
    "week": LessonSession.date,
}
_FILTER_COLUMNS = {
    "kecamatan_code": School.kecamatan_code,
    "school_id": School.npsn,
    "subject": Order.subject,
    "level": Order.level,
}


def weeks_in(first: date, last: date) -> int:
    return max(1, math.ceil(((last - first).days + 1) / 7))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _counts(first: date, last: date, by: str, filters: dict) -> dict[str, dict]:
    key_column = _KEY_COLUMNS[by]
    query = (
        db.select(key_column, LessonSession.status, func.count(), func.sum(LessonSession.periods))
        .select_from(LessonSession)
        .join(Order, LessonSession.order_id == Order.id)
        .join(School, Order.school_id == School.npsn)
        .where(LessonSession.date.between(first, last), LessonSession.status != SessionStatus.CANCELLED)
        .group_by(key_column, LessonSession.status)
    )
    for name, value in filters.items():
        if value:
            column = _FILTER_COLUMNS[name]
            query = query.where(column.is_(None) if value == NO_KECAMATAN else column == value)
    counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for key, status, sessions, periods in db.session.execute(query):
        if by == "week":
            key = iso_week(key)
        elif key is None:
            key = NO_KECAMATAN
        c = counts[key]
        c["sessions"] += sessions
        c["periods"] += periods or 0
        if status in BOOKED:
            c["booked"] += sessions
            c["booked_periods"] += periods or 0
        if status == SessionStatus.HELD:
            c["held"] += sessions
            c["held_periods"] += periods or 0
    return counts


def _row(key: str, c: dict, weeks: int) -> dict:
    unfilled = c["periods"] - c["booked_periods"]
    return {
        "key": key,
        "sessions": c["sessions"],
        "booked": c["booked"],
        "held": c["held"],
        "coverage": round(c["booked"] / c["sessions"], 4) if c["sessions"] else 0.0,
        "periods": c["periods"],
        "booked_periods": c["booked_periods"],
        "held_periods": c["held_periods"],
        "unfilled_periods": unfilled,
        "unfilled_teacher_equivalents": round(unfilled / FULL_LOAD / weeks, 1),
    }


def _names(by: str, keys: list[str]) -> dict[str, dict]:
    """What each key is called, and what else the pages need to place it."""
    if by == "kecamatan":
        found = {k.code: k for k in db.session.scalars(db.select(Kecamatan))}
        return {
            key: {"name": found[key].name, "live": found[key].live} if key in found else {"name": key, "live": True}
            for key in keys
        }
    if by == "school":
        rows = db.session.execute(
            db.select(School.npsn, School.name, School.level, School.kecamatan_code, Kecamatan.name, Kecamatan.live)
            .outerjoin(Kecamatan, School.kecamatan_code == Kecamatan.code)
            .where(School.npsn.in_(keys))
        ).all()
        return {
            npsn: {"name": name, "level": level, "kecamatan_code": code, "kecamatan_name": kname,
                   "live": True if live is None else live}
            for npsn, name, level, code, kname, live in rows
        }  # fmt: skip
    if by == "subject":
        return {key: {"name": subject_name(key)} for key in keys}
    if by == "level":
        return {key: {"name": level_name(key)} for key in keys}
    out = {}
    for key in keys:
        monday = date.fromisocalendar(int(key[:4]), int(key[6:]), 1)
        out[key] = {"name": key, "from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}
    return out


def worst_first(rows: list[dict]) -> list[dict]:
    """Lowest coverage first; of equal coverage, the most periods still without a teacher first."""
    return sorted(rows, key=lambda r: (r["coverage"], -r["unfilled_periods"], r["key"]))


def coverage(first: date, last: date, by: str, filters: dict | None = None, sort: str = "key") -> dict:
    """Requested vs booked vs held sessions and periods between `first` and `last`, grouped `by`;
    `filters` narrow it to one kecamatan, school, subject or level. Cancelled sessions are not requested."""
    filters = {k: v for k, v in (filters or {}).items() if k in FILTERS and v}
    weeks = weeks_in(first, last)
    counts = _counts(first, last, by, filters)
    total: dict = defaultdict(int)
    for c in counts.values():
        for field, value in c.items():
            total[field] += value
    names = _names(by, list(counts))
    table = [{**_row(key, c, weeks), **names.get(key, {"name": key})} for key, c in sorted(counts.items())]
    if sort == "worst":
        table = worst_first(table)
    shares = [r["coverage"] for r in table]
    return {
        "by": by,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "filters": filters,
        "rows": table,
        "total": _row("total", total, weeks),
        # Periods still without a teacher, per week, in full loads of 24 periods.
        "unfilled_teacher_equivalents": round((total["periods"] - total["booked_periods"]) / FULL_LOAD / weeks, 1),
        "spread": round(max(shares) - min(shares), 4) if shares else 0.0,
    }
