"""Test data, written straight to the database; `auth()` gives the headers of a logged-in user."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from dispatch.accounts.auth import issue_token
from dispatch.accounts.models import User
from dispatch.district.models import Kecamatan, Village
from dispatch.extensions import db
from dispatch.orders.models import LessonSession, Order
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher

_numbers = count(1)


def kecamatan(code="15.08.03", name="Pasar Muaro Bungo", lat=-1.4914, lon=102.1301) -> Kecamatan:
    existing = db.session.get(Kecamatan, code)
    if existing:
        return existing
    k = Kecamatan(code=code, name=name, lat=lat, lon=lon, live=True)
    db.session.add(k)
    db.session.flush()
    return k


def village(code="15.08.03.1008", name="Bungo Barat", kecamatan_code="15.08.03", lat=-1.4928, lon=102.1167) -> Village:
    kecamatan(kecamatan_code)
    v = Village(code=code, name=name, kecamatan_code=kecamatan_code, kind="kelurahan", lat=lat, lon=lon)
    db.session.add(v)
    db.session.flush()
    return v


def school(npsn=None, level="SMP", lat=-1.4861, lon=102.1177, **kw) -> School:
    npsn = npsn or f"{10600000 + next(_numbers)}"
    s = School(npsn=npsn, name=kw.pop("name", f"SMP Uji {npsn}"), level=level, lat=lat, lon=lon, **kw)
    db.session.add(s)
    db.session.flush()
    return s


def teacher(**kw) -> Teacher:
    values = {
        "name": "Guru Uji",
        "lat": -1.49,
        "lon": 102.10,
        "radius_km": 15.0,
        "subjects": ["MTK", "IPA"],
        "levels": ["SMP"],
        "max_periods": 24,
        "availability": [{"day": d, "start": "07:00", "end": "13:00"} for d in range(6)],
        "status": "live",
    }
    values.update(kw)
    t = Teacher(**values)
    db.session.add(t)
    db.session.flush()
    return t


def user(role="district_admin", username=None, password="secret-password", **kw) -> User:
    u = User(username=username or f"user{next(_numbers)}", role=role, **kw)
    u.set_password(password)
    db.session.add(u)
    db.session.flush()
    return u


def auth(u: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(u)}"}


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
    """A date safely in the future on the given weekday (0 = Monday)."""
    today = date.today()
    start = today + timedelta(days=7 * weeks_ahead)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def order(school_obj: School, sessions=None, subject="MTK", **kw) -> Order:
    day = next_weekday(0)
    o = Order(
        school_id=school_obj.npsn,
        subject=subject,
        level=kw.pop("level", school_obj.level),
        class_name=kw.pop("class_name", "VII A"),
        reason=kw.pop("reason", "vacancy"),
        urgent=kw.pop("urgent", False),
        status="open",
        **kw,
    )
    o.sessions = sessions or [LessonSession(date=day, start_min=450, end_min=530, periods=2, status="open")]
    db.session.add(o)
    db.session.flush()
    return o


def stale_offers() -> list:
    """Open offers holding a session that no longer needs a teacher: the workflow must never leave one."""
    from dispatch.offers.models import Offer

    stale = []
    for offer in db.session.scalars(db.select(Offer).where(Offer.status == "open")):
        statuses = db.session.scalars(db.select(LessonSession.status).where(LessonSession.id.in_(offer.session_ids)))
        if any(status not in ("open", "offered") for status in statuses):
            stale.append(offer)
    return stale
