"""The demo district: Bungo's real schools, kecamatan and villages, generated teachers and a week of orders.

Seeded once: a marker row (`seed_marker`) records it, and a later run writes nothing, however
the data changed since (schools added by the API or an import, another week). A database that
already holds schools, teachers, orders or users without the marker is real data: the demo is
never laid on top of it. Outside development the demo accounts get random passwords, printed
once (the well-known demo passwords work in development only).
"""

from __future__ import annotations

import csv
import random
import re
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from flask import current_app

from dispatch.accounts.models import User
from dispatch.accounts.service import DEMO_PASSWORDS, create_user
from dispatch.district.models import Kecamatan, SeedMarker, Village
from dispatch.district.service import district_today, ensure_district
from dispatch.extensions import db
from dispatch.live.outbox import quiet
from dispatch.orders.models import LessonSession, Order
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher
from scheduling import PERIOD_MINUTES, format_hhmm

DATA = Path(__file__).parent / "data" / "bungo"
DEMO_LEVELS = ("SD", "SMP", "SMA", "SMK")
NUPTK_PREFIX = "99"  # no real NUPTK starts with 99: demo teachers are easy to tell apart

# Share of lesson demand per subject, by level (shaped like the public benchmark instance).
SUBJECT_MIX = {
    "SD": {"GK": 47, "PAI": 18, "PJOK": 18, "BING": 17},
    "SMP": {"PPKN": 14, "PAI": 13, "SBD": 12, "IPA": 12, "PJOK": 10, "BIND": 9, "BING": 9, "INF": 8, "IPS": 7, "MTK": 6},
    "SMA": {"PJOK": 12, "PAI": 11, "SEJ": 10, "BING": 9, "MTK": 8, "KIM": 7, "GEO": 7, "BIO": 7, "BIND": 7, "EKO": 6,
            "FIS": 6, "INF": 6, "SOS": 5},
    "SMK": {"BIND": 19, "TKJ": 17, "INF": 14, "AKL": 14, "MTK": 12, "BING": 11, "PJOK": 7, "PAI": 7},
}  # fmt: skip
# Where a lesson block may start, per level (the school day's timetable rows).
BLOCK_STARTS = {
    "SD": ["07:00", "07:35", "08:10", "08:45", "09:20", "09:55", "10:30", "11:05"],
    "SMP": ["07:00", "07:40", "08:20", "09:40", "10:20", "11:00", "11:40"],
    "SMA": ["07:00", "07:45", "08:30", "09:45", "10:30", "11:15"],
    "SMK": ["07:00", "07:45", "08:30", "09:45", "10:30", "11:15"],
}
GRADES = {"SD": ["I", "II", "III", "IV", "V", "VI"], "SMP": ["VII", "VIII", "IX"], "SMA": ["X", "XI", "XII"],
          "SMK": ["X", "XI", "XII"]}  # fmt: skip
FIRST_NAMES = ["Siti", "Nur", "Dewi", "Rina", "Sri", "Wahyu", "Ahmad", "Muhammad", "Budi", "Agus", "Rahmat", "Indah",
               "Fitri", "Yuni", "Eka", "Dian", "Rizki", "Putri", "Hendra", "Syafrizal", "Zulkifli", "Nurhayati",
               "Ratna", "Erlina", "Fauzan", "Hasanah", "Yusuf", "Lestari", "Maya", "Andi"]  # fmt: skip
LAST_NAMES = ["Lubis", "Nasution", "Saputra", "Pratama", "Wijaya", "Hidayat", "Rahmawati", "Susanti", "Kurniawan",
              "Harahap", "Siregar", "Marpaung", "Syahputra", "Anggraini", "Handayani", "Yulianti", "Fitriani",
              "Ramadhan", "Setiawan", "Permata"]  # fmt: skip

DEMO_MARKER = "demo-district"


def holds_real_data() -> bool:
    return any(db.session.scalar(db.select(model).limit(1)) is not None for model in (School, Teacher, Order, User))


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# Bungo's state schools are numbered "101/II": the 2019 extraction (data/bungo/SOURCES.md) dropped the slash
# from 218 of the 224 numbers ("SD NEGERI 101II MUARA BUNGO"). OpenStreetMap names 21 of the 22 it has
# with the slash. Shown as the schools write it.
_NUMBER_WITHOUT_SLASH = re.compile(r"\b(\d+)II\b")


def school_name(source_name: str) -> str:
    return _NUMBER_WITHOUT_SLASH.sub(r"\1/II", source_name)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def seed_places() -> dict[str, int]:
    added = {"kecamatan": 0, "villages": 0, "schools": 0}
    for row in _rows("bungo_kecamatan.csv"):
        if db.session.get(Kecamatan, row["code"]) is None:
            db.session.add(
                Kecamatan(code=row["code"], name=row["name"], lat=float(row["lat"]), lon=float(row["lon"]), live=True)
            )
            added["kecamatan"] += 1
    db.session.flush()
    for row in _rows("bungo_desa.csv"):
        if db.session.get(Village, row["code"]) is None:
            db.session.add(
                Village(
                    code=row["code"],
                    name=row["name"],
                    kecamatan_code=row["kecamatan_code"],
                    kind=row["type"],
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                )
            )
            added["villages"] += 1
    db.session.flush()
    for row in _rows("bungo_schools.csv"):
        # Suspect or missing coordinates would put schools in the wrong place (SOURCES.md).
        if row["coord_quality"] not in ("good", "border") or row["level"] not in DEMO_LEVELS:
            continue
        if db.session.get(School, row["npsn"]) is None:
            db.session.add(
                School(
                    npsn=row["npsn"],
                    name=school_name(row["name"]),
                    level=row["level"],
                    status=row["status"] or None,
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                    kecamatan_code=row["kecamatan_code"],
                    village_code=row["village_code"] or None,
                    address=row["address"] or None,
                )
            )
            added["schools"] += 1
    db.session.flush()
    return added


def _teacher_profile(rng: random.Random, villages: list[Village]) -> dict:
    village = rng.choice(villages)
    first = rng.choice(DEMO_LEVELS[:1] * 5 + DEMO_LEVELS[1:2] * 3 + DEMO_LEVELS[2:3] * 2 + DEMO_LEVELS[3:])
    levels = [first]
    if rng.random() < 0.2:
        levels.append(rng.choice([lv for lv in DEMO_LEVELS if lv != first]))
    subjects: list[str] = []
    for _ in range(rng.choice([1, 1, 2, 2, 3])):
        subject = _pick(rng, SUBJECT_MIX[rng.choice(levels)])
        if subject not in subjects:
            subjects.append(subject)
    day_end = rng.choice(["11:30", "12:30", "13:00"])
    days = sorted(rng.sample(range(6), rng.choice([3, 4, 5, 6])))
    return {
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "lat": round(village.lat + rng.uniform(-0.01, 0.01), 5),
        "lon": round(village.lon + rng.uniform(-0.01, 0.01), 5),
        "radius_km": float(rng.choice([5, 8, 10, 12, 15, 20])),
        "subjects": subjects,
        "levels": levels,
        "max_periods": rng.choice([12, 18, 24, 24, 24]),
        "availability": [{"day": d, "start": "07:00", "end": day_end} for d in days],
        "village_code": village.code,
        "kecamatan_code": village.kecamatan_code,
    }


def seed_teachers(count: int, rng: random.Random) -> int:
    villages = db.session.scalars(db.select(Village).order_by(Village.code)).all()
    known = set(db.session.scalars(db.select(Teacher.nuptk).where(Teacher.nuptk.like(f"{NUPTK_PREFIX}%"))))
    added = 0
    for number in range(1, count + 1):
        profile = _teacher_profile(rng, villages)  # drawn even when skipped, so the sequence stays the same
        nuptk = f"{NUPTK_PREFIX}{number:014d}"
        if nuptk in known:
            continue
        db.session.add(Teacher(nuptk=nuptk, status="live", **profile))
        added += 1
    db.session.flush()
    return added


def seed_orders(target_periods: int, monday: date, rng: random.Random, progress: Callable[[str], None]) -> int:
    """Weekly orders for the week starting `monday` until their periods reach `target_periods`."""
    schools = db.session.scalars(db.select(School).where(School.level.in_(DEMO_LEVELS)).order_by(School.npsn)).all()
    known = set(db.session.scalars(db.select(Order.ref).where(Order.ref.like("demo-%"))))
    busy: dict[tuple[str, str, int], list[tuple[int, int]]] = {}  # (school, class, day) -> blocks
    periods_total = number = added = 0
    saturday = monday + timedelta(days=5)
    while periods_total < target_periods:
        number += 1
        school = rng.choice(schools)
        level = school.level
        subject = _pick(rng, SUBJECT_MIX[level])
        class_name = f"{rng.choice(GRADES[level])} {rng.choice('ABC')}"
        block = rng.choice([2, 2, 2, 3])
        length = block * PERIOD_MINUTES[level]
        weekdays = sorted(rng.sample(range(6), rng.choice([1, 2, 2, 3])))
        start_text = rng.choice(BLOCK_STARTS[level])
        start = int(start_text[:2]) * 60 + int(start_text[3:])
        end = start + length
        # One class is not in two lessons at once: skip a block that overlaps one already drawn.
        if any(a < end and start < b for day in weekdays for a, b in busy.get((school.npsn, class_name, day), [])):
            continue
        for day in weekdays:
            busy.setdefault((school.npsn, class_name, day), []).append((start, end))
        periods_total += block * len(weekdays)
        ref = f"demo-{number:05d}"
        if ref in known:
            continue
        order = Order(
            ref=ref,
            school_id=school.npsn,
            subject=subject,
            level=level,
            class_name=class_name,
            reason="vacancy" if rng.random() < 0.9 else "substitute",
            urgent=False,
            status="open",
            weekly={
                "weekdays": weekdays,
                "start": format_hhmm(start),
                "end": format_hhmm(end),
                "from": monday.isoformat(),
                "until": saturday.isoformat(),
            },
        )
        order.sessions = [
            LessonSession(date=monday + timedelta(days=d), start_min=start, end_min=end, periods=block, status="open")
            for d in weekdays
        ]
        db.session.add(order)
        added += 1
        if added % 1000 == 0:
            db.session.flush()
            progress(f"  orders: {added} written, {periods_total} of {target_periods} periods")
    db.session.flush()
    return added


def seed_users(rng: random.Random) -> list[tuple[str, str, str]]:
    """Demo logins: one admin, three school operators (town SD, SMP, SMA), three teachers."""
    wanted: list[tuple[str, str, dict]] = [("admin", "district_admin", {})]
    for level in ("SD", "SMP", "SMA"):
        school = (
            db.session.scalars(
                db.select(School)
                .where(School.level == level, School.kecamatan_code == "15.08.03")
                .order_by(School.npsn)
            ).first()
            or db.session.scalars(db.select(School).where(School.level == level).order_by(School.npsn)).first()
        )
        if school is not None:
            wanted.append((f"sekolah-{school.npsn}", "school_operator", {"school_id": school.npsn}))
    for teacher in db.session.scalars(
        db.select(Teacher).where(Teacher.nuptk.like(f"{NUPTK_PREFIX}%")).order_by(Teacher.id).limit(3)
    ):
        wanted.append((f"guru-{teacher.id}", "teacher", {"teacher_id": teacher.id}))
    logins = []
    for username, role, binding in wanted:
        if current_app.config["ALLOW_DEMO_PASSWORDS"]:
            password = DEMO_PASSWORDS[role]
        else:  # outside development: nobody may know these passwords but who seeded
            password = secrets.token_urlsafe(12)
        if db.session.scalar(db.select(User.id).where(User.username == username)) is None:
            create_user(username, password, role, **binding)
        logins.append((username, password, role))
    return logins


def demo_logins() -> list[tuple[str, str, str]]:
    """The demo accounts of an already seeded district, as they can be told again."""
    users = db.session.scalars(
        db.select(User).where(db.or_(User.username == "admin", User.username.like("sekolah-%"),
                                     User.username.like("guru-%"))).order_by(User.id)
    ).all()  # fmt: skip
    allowed = current_app.config["ALLOW_DEMO_PASSWORDS"]
    return [(u.username, DEMO_PASSWORDS[u.role] if allowed else "(printed when seeded)", u.role) for u in users]


def seed_demo(teachers: int = 1500, periods: int = 28800, progress: Callable[[str], None] = print) -> dict:
    """Load the demo district. About 1,200 vacancies x 24 periods = 28,800 periods of lessons a week."""
    with quiet(db.session()):
        return _seed_demo(teachers, periods, progress)


def _seed_demo(teachers: int, periods: int, progress: Callable[[str], None]) -> dict:
    rng = random.Random(20260105)
    ensure_district()
    if db.session.get(SeedMarker, DEMO_MARKER) is not None:
        progress("the demo district was seeded before: nothing written")
        return {"skipped": "already seeded", "logins": demo_logins()}
    if holds_real_data():
        progress("this database holds real data (schools, teachers, orders or users): no demo on top of it")
        return {"skipped": "real data", "logins": []}
    progress("places: kecamatan, villages, schools")
    summary = seed_places()
    progress(f"teachers: {teachers}")
    summary["teachers"] = seed_teachers(teachers, rng)
    monday = next_monday(district_today())
    progress(f"orders: a week from {monday.isoformat()}, {periods} periods")
    summary["orders"] = seed_orders(periods, monday, rng, progress)
    summary["logins"] = seed_users(rng)
    db.session.add(SeedMarker(name=DEMO_MARKER))
    db.session.flush()
    return summary
