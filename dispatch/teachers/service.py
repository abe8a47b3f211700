"""Teachers: create and update profiles, with the district's subject list."""

from __future__ import annotations

from dispatch.district.service import get_district, nearest_village
from dispatch.exceptions import Invalid, Taken
from dispatch.extensions import db
from dispatch.teachers.models import Teacher

PROFILE_FIELDS = (
    "name",
    "lat",
    "lon",
    "radius_km",
    "subjects",
    "levels",
    "max_periods",
    "availability",
    "nuptk",
    "status",
)


def check_subjects(subjects: list[str], field: str = "subjects") -> None:
    known = set(get_district().subjects)
    unknown = [s for s in subjects if s not in known]
    if unknown:
        raise Invalid(field, f"unknown subject codes {unknown}; the district's list: {sorted(known)}")


def _check_nuptk(nuptk: str | None, teacher_id: int | None) -> None:
    if not nuptk:
        return
    other = db.session.scalar(db.select(Teacher).where(Teacher.nuptk == nuptk))
    if other is not None and other.id != teacher_id:
        raise Taken("nuptk", f"already belongs to teacher {other.id}")


def apply_profile(teacher: Teacher, data: dict) -> Teacher:
    """Write the given profile fields onto a teacher (new or existing). The caller commits."""
    if "subjects" in data:
        check_subjects(data["subjects"])
    if "nuptk" in data:
        _check_nuptk(data["nuptk"], teacher.id)
    for key in PROFILE_FIELDS:
        if key in data:
            setattr(teacher, key, data[key])
    if teacher.status is None:
        teacher.status = "live"
    if "lat" in data or "lon" in data or teacher.id is None:
        village = nearest_village(teacher.lat, teacher.lon)
        teacher.village_code = village.code if village else None
        teacher.kecamatan_code = village.kecamatan_code if village else None
    if teacher.id is None:
        db.session.add(teacher)
    db.session.flush()
    return teacher


def create_teacher(data: dict) -> Teacher:
    return apply_profile(Teacher(), data)
