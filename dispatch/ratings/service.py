"""Storing students' stars and turning them into scores (the maths is in ratings/score.py)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import numpy as np
from flask import current_app
from sqlalchemy.exc import IntegrityError

from dispatch.district.service import district_now, get_district
from dispatch.exceptions import Conflict, Invalid, NotFound
from dispatch.extensions import db
from dispatch.lessons.service import CODE_VALID_AFTER_END
from dispatch.orders.models import LessonSession
from dispatch.ratings.models import Rating
from dispatch.teachers.models import Teacher
from ratings.score import Score, fit, ranking


def device_hash(device: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, device.encode(), hashlib.sha256).hexdigest()


def session_for_code(code: str, lock: bool = False) -> LessonSession | None:
    query = db.select(LessonSession).where(LessonSession.rating_code == code.strip().upper())
    if lock:  # one lesson's ratings queue up, so the per-code cap holds under a burst
        query = query.with_for_update()
    return db.session.scalar(query)


def code_open(session: LessonSession) -> bool:
    now = district_now()
    return session.status == "held" and session.starts_at <= now <= session.ends_at + CODE_VALID_AFTER_END


def already_rated(session: LessonSession, device: str) -> bool:
    hashed = device_hash(device)
    return (
        db.session.scalar(db.select(Rating.id).where(Rating.session_id == session.id, Rating.device_hash == hashed))
        is not None
    )


def rate(code: str, stars: int, tags: list[str], device: str) -> Rating:
    """Store one student's rating of a held lesson, once per device (`dispatch.ratings.device.rating_device`),
    at most the district's `ratings_per_code` per lesson. The caller commits."""
    session = session_for_code(code, lock=True)
    if session is None:
        raise NotFound("No lesson has this code.")
    if not code_open(session):
        raise Invalid(
            "code", "this code is not open for rating now (from the lesson's start until 24 hours after its end)"
        )
    hashed = device_hash(device)
    if already_rated(session, device):
        raise Conflict("This device has already rated this lesson.") from None
    cap = get_district().ratings_per_code
    if db.session.scalar(db.select(db.func.count(Rating.id)).where(Rating.session_id == session.id)) >= cap:
        raise Invalid("code", f"this lesson has had the most ratings one code takes ({cap})")
    rating = Rating(
        session_id=session.id,
        teacher_id=session.teacher_id,
        school_id=session.order.school_id,
        stars=stars,
        tags=sorted(set(tags)),
        device_hash=hashed,
    )
    db.session.add(rating)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("This device has already rated this lesson.") from None
    return rating


def scores(now: datetime | None = None) -> tuple[dict[int, Score], float]:
    """Every rated teacher's corrected score, from all ratings, and the district mean."""
    rows = db.session.execute(db.select(Rating.teacher_id, Rating.school_id, Rating.stars, Rating.created_at)).all()
    if not rows:
        return {}, 0.0
    now = now or datetime.now()
    teachers = np.array([r[0] for r in rows])
    school_ids = sorted({r[1] for r in rows})
    school_index = {s: i for i, s in enumerate(school_ids)}
    schools = np.array([school_index[r[1]] for r in rows])
    stars = np.array([r[2] for r in rows], dtype=float)
    age = np.array([max((now - (r[3] or now)) / timedelta(days=1), 0.0) for r in rows])
    fitted, _offsets, mean = fit(
        teachers, schools, stars, age, n_teachers=int(teachers.max()) + 1, n_schools=len(school_ids)
    )
    return fitted, mean


def ranked_teachers(subject: str | None, level: str | None, kecamatan_code: str | None) -> list[dict]:
    fitted, _mean = scores()
    query = db.select(Teacher).where(Teacher.id.in_(list(fitted)))
    if kecamatan_code:
        query = query.where(Teacher.kecamatan_code == kecamatan_code)
    teachers = {t.id: t for t in db.session.scalars(query)}
    no_shows = dict(
        db.session.execute(
            db.select(LessonSession.teacher_id, db.func.count())
            .where(LessonSession.status == "no_show")
            .group_by(LessonSession.teacher_id)
        ).all()
    )
    from dispatch.bookings.models import Withdrawal

    late_withdrawals = dict(
        db.session.execute(
            db.select(Withdrawal.teacher_id, db.func.count()).where(Withdrawal.late).group_by(Withdrawal.teacher_id)
        ).all()
    )
    out = []
    for score in ranking(fitted):
        teacher = teachers.get(score.teacher)
        if teacher is None or (subject and subject not in teacher.subjects) or (level and level not in teacher.levels):
            continue
        out.append(
            {
                "teacher_id": score.teacher,
                "name": teacher.name,
                "score": round(score.score, 3),
                "ratings": score.ratings,
                "low": round(score.low, 3),
                "high": round(score.high, 3),
                # School operators' reliability flags stay apart from the students' stars.
                "no_shows": no_shows.get(score.teacher, 0),
                "late_withdrawals": late_withdrawals.get(score.teacher, 0),
            }
        )
    return out


def my_ratings(teacher_id: int) -> dict:
    """A teacher's own summary: score, count, stars distribution and tags; never who rated."""
    fitted, mean = scores()
    rows = db.session.execute(db.select(Rating.stars, Rating.tags).where(Rating.teacher_id == teacher_id)).all()
    distribution = {str(k): 0 for k in range(1, 6)}
    tags: dict[str, int] = {}
    for stars, row_tags in rows:
        distribution[str(stars)] += 1
        for tag in row_tags or []:
            tags[tag] = tags.get(tag, 0) + 1
    score = fitted.get(teacher_id)
    return {
        "teacher_id": teacher_id,
        "ratings": len(rows),
        "score": round(score.score, 3) if score else None,
        "low": round(score.low, 3) if score else None,
        "high": round(score.high, 3) if score else None,
        "district_mean": round(mean, 3) if rows else None,
        "stars": distribution,
        "tags": dict(sorted(tags.items(), key=lambda kv: -kv[1])),
    }
