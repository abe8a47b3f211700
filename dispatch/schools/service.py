"""Schools: create or update, and the favourite and blocked lists."""

from __future__ import annotations

from dispatch.district.service import kecamatan_exists, nearest_village
from dispatch.exceptions import Invalid
from dispatch.extensions import db
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher


def upsert_school(data: dict) -> tuple[School, bool]:
    """Create the school, or update it if the NPSN is known. Returns (school, created). The caller commits."""
    code = data.get("kecamatan_code")
    if code and not kecamatan_exists(code):
        raise Invalid("kecamatan_code", f"unknown kecamatan {code}")
    school = db.session.get(School, data["npsn"])
    created = school is None
    if created:
        school = School(npsn=data["npsn"])
        db.session.add(school)
    for key in ("name", "level", "lat", "lon", "status", "address"):
        if key in data:
            setattr(school, key, data[key])
    village = nearest_village(school.lat, school.lon)
    school.village_code = village.code if village and (not code or village.kecamatan_code == code) else None
    school.kecamatan_code = code or (village.kecamatan_code if village else None)
    db.session.flush()
    return school, created


def set_teacher_list(school: School, teacher_ids: list[int], which: str) -> list[int]:
    """Replace the school's favourites or blocked list. A teacher cannot be on both."""
    ids = list(dict.fromkeys(teacher_ids))
    teachers = db.session.scalars(db.select(Teacher).where(Teacher.id.in_(ids))).all() if ids else []
    missing = sorted(set(ids) - {t.id for t in teachers})
    if missing:
        raise Invalid("teacher_ids", f"unknown teacher ids {missing}")
    other = school.blocked if which == "favourites" else school.favourites
    both = sorted({t.id for t in other} & set(ids))
    if both:
        other_name = "blocked" if which == "favourites" else "favourites"
        raise Invalid("teacher_ids", f"teachers {both} are on the {other_name} list; remove them there first")
    setattr(school, which, teachers)
    db.session.flush()
    return sorted(t.id for t in teachers)
