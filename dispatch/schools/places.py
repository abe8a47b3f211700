"""Where a lesson is, as the pages show it: the school's name, kecamatan, address, point and distance."""

from __future__ import annotations

from dispatch.district.models import Kecamatan
from dispatch.extensions import db
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher
from scheduling.geo import distance_km


def school_of(school_id: str) -> School | None:
    return db.session.get(School, school_id)  # the identity map makes repeats free within a request


def kecamatan_name(school: School | None) -> str | None:
    if school is None or school.kecamatan_code is None:
        return None
    kecamatan = db.session.get(Kecamatan, school.kecamatan_code)
    return kecamatan.name if kecamatan else None


def km_from_home(teacher_id: int | None, school: School | None) -> float | None:
    """Geodesic km from the teacher's home point to the school, one decimal."""
    teacher = db.session.get(Teacher, teacher_id) if teacher_id else None
    if teacher is None or school is None:
        return None
    return round(distance_km((teacher.lat, teacher.lon), (school.lat, school.lon)), 1)


def teacher_name(teacher_id: int | None) -> str | None:
    teacher = db.session.get(Teacher, teacher_id) if teacher_id else None
    return teacher.name if teacher else None
