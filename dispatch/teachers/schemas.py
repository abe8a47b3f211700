from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from dispatch.validation import HHMM, Latitude, Level, Longitude, StrictFloat, Weekday, unique_items
from scheduling import parse_hhmm

TEACHER_STATUSES = ("live", "paused")
NUPTK = validate.Regexp(r"^\d{16}$", error="NUPTK must be 16 digits")


class WindowSchema(Schema):
    day = Weekday(required=True)
    start = HHMM(required=True)
    end = HHMM(required=True)

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "start" in data and "end" in data and parse_hhmm(data["end"]) <= parse_hhmm(data["start"]):
            raise ValidationError("must be after start", "end")


class TeacherIn(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    lat = Latitude(required=True)
    lon = Longitude(required=True)
    radius_km = StrictFloat(required=True, validate=validate.Range(0, 200, min_inclusive=False))
    subjects = fields.List(
        fields.String(validate=validate.Length(1, 10)),
        required=True,
        validate=[validate.Length(min=1, max=20), unique_items],
    )
    levels = fields.List(Level(), required=True, validate=[validate.Length(min=1), unique_items])
    max_periods = fields.Integer(required=True, strict=True, validate=validate.Range(1, 60))
    availability = fields.List(fields.Nested(WindowSchema), required=True, validate=validate.Length(max=50))
    nuptk = fields.String(validate=NUPTK, allow_none=True)
    status = fields.String(validate=validate.OneOf(TEACHER_STATUSES))


class TeacherPatch(TeacherIn):
    """Any subset of the profile fields (load with partial=True)."""


class TeacherOut(Schema):
    id = fields.Integer()
    name = fields.String()
    nuptk = fields.String(allow_none=True)
    lat = fields.Float()
    lon = fields.Float()
    radius_km = fields.Float()
    subjects = fields.List(fields.String())
    levels = fields.List(fields.String())
    max_periods = fields.Integer()
    availability = fields.List(fields.Nested(WindowSchema))
    status = fields.String()
    kecamatan_code = fields.String(allow_none=True)
    village_code = fields.String(allow_none=True)


class TeacherPublicOut(Schema):
    """What a school operator sees of a teacher: no home point, no NUPTK."""

    id = fields.Integer()
    name = fields.String()
    subjects = fields.List(fields.String())
    levels = fields.List(fields.String())
    status = fields.String()
    kecamatan_code = fields.String(allow_none=True)
