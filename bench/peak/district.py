"""The peak benchmark's district, written straight into the deployment's database: the demo district's
real places, generated teachers with their logins, operators of the schools that post, a district admin,
and lessons held earlier with rating codes for the students' burst. Tokens go to a JSON file that
the locustfile reads (signed with the deployment's SECRET_KEY)."""

from __future__ import annotations

import json
import random
import secrets
from datetime import timedelta
from pathlib import Path

from werkzeug.security import generate_password_hash

from config import TestingConfig, database_url
from dispatch import create_app
from dispatch.accounts.auth import issue_token
from dispatch.accounts.models import User
from dispatch.demo import seed_places, seed_teachers
from dispatch.district.service import district_now, ensure_district
from dispatch.extensions import db
from dispatch.orders.models import LessonSession, Order
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher


def build(url: str, secret: str, out: Path, teachers: int, schools: int, lessons: int) -> dict:
    config = type(
        "PeakConfig",
        (TestingConfig,),
        {"SQLALCHEMY_DATABASE_URI": database_url(url), "SECRET_KEY": secret,
         "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}},
    )  # fmt: skip
    app = create_app(config)
    rng = random.Random(15)
    with app.app_context():
        ensure_district()
        seed_places()
        seed_teachers(teachers, rng)
        password = generate_password_hash(secrets.token_urlsafe(12), method="pbkdf2:sha256:1000")
        teacher_rows = db.session.scalars(db.select(Teacher).order_by(Teacher.id)).all()
        db.session.add_all(
            User(username=f"peak-guru-{t.id}", password_hash=password, role="teacher", teacher_id=t.id)
            for t in teacher_rows
        )
        posting = list(
            db.session.scalars(db.select(School).where(School.level.in_(("SD", "SMP"))).order_by(School.npsn))
        )
        rng.shuffle(posting)
        posting = posting[:schools]
        operators = [User(username=f"peak-op-{s.npsn}", password_hash=password, role="school_operator",
                          school_id=s.npsn) for s in posting]  # fmt: skip
        admin = User(username="peak-admin", password_hash=password, role="district_admin")
        db.session.add_all([*operators, admin])
        codes = _held_lessons_earlier(posting, teacher_rows, lessons, rng)
        db.session.commit()
        data = {
            "teachers": {str(u.teacher_id): issue_token(u) for u in
                         db.session.scalars(db.select(User).where(User.teacher_id.is_not(None)))},
            "schools": [{"npsn": s.npsn, "level": s.level, "token": issue_token(u)} for s, u in zip(posting, operators, strict=True)],
            "admin": issue_token(admin),
            "codes": codes,
        }  # fmt: skip
    out.write_text(json.dumps(data))
    return data


def _held_lessons_earlier(schools, teachers, count: int, _rng: random.Random) -> list[str]:
    """Lessons held earlier (the first ended three hours ago): their codes take ratings until 24 hours after
    the end, whatever the time of day the benchmark runs. (Lessons fixed at yesterday 18:00 closed for
    rating at 19:20 district time, and every rating of a run after that was refused.)"""
    ended = district_now().replace(second=0, microsecond=0) - timedelta(hours=3)
    first = ended - timedelta(minutes=80)
    if first.date() != ended.date():  # just after midnight: the day's first minutes, still in the past
        first = first.replace(hour=0, minute=0) + timedelta(days=1)
    codes = []
    for i in range(count):
        school = schools[i % len(schools)]
        teacher = teachers[i % len(teachers)]  # lessons go round the teachers
        code = f"P{i:07d}"
        order = Order(school_id=school.npsn, subject="MTK", level=school.level, class_name=f"Peak {i}",
                      reason="substitute", urgent=False, status="completed")  # fmt: skip
        # A teacher's second lesson, if any, 90 minutes before the first (within the rating window still).
        begins = first - timedelta(minutes=90 * (i // len(teachers)))
        day, start = begins.date(), min(begins.hour * 60 + begins.minute, 24 * 60 - 80)
        order.sessions = [LessonSession(date=day, start_min=start, end_min=start + 80, periods=2, status="held",
                                        teacher_id=teacher.id, rating_code=code)]  # fmt: skip
        db.session.add(order)
        codes.append(code)
    db.session.flush()
    return codes
