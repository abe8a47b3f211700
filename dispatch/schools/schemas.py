from marshmallow import Schema, fields, validate

from dispatch.validation import Id, Latitude, Longitude

SCHOOL_LEVELS = ("SD", "SMP", "SMA", "SMK", "SLB")
SCHOOL_STATUSES = ("Negeri", "Swasta")
NPSN = validate.Regexp(r"^[0-9A-Z]{8}$", error="NPSN must be 8 characters (digits or capital letters)")
KECAMATAN_CODE = validate.Regexp(r"^\d{2}\.\d{2}\.\d{2}$", error="must be a Kemendagri kecamatan code like 15.08.03")


class SchoolIn(Schema):
    npsn = fields.String(required=True, validate=NPSN)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    level = fields.String(required=True, validate=validate.OneOf(SCHOOL_LEVELS))
    lat = Latitude(required=True)
    lon = Longitude(required=True)
    kecamatan_code = fields.String(validate=KECAMATAN_CODE, allow_none=True)
    status = fields.String(validate=validate.OneOf(SCHOOL_STATUSES), allow_none=True)
    address = fields.String(validate=validate.Length(max=300), allow_none=True)


class SchoolOut(Schema):
    id = fields.String()
    npsn = fields.String()
    name = fields.String()
    level = fields.String()
    status = fields.String(allow_none=True)
    lat = fields.Float()
    lon = fields.Float()
    kecamatan_code = fields.String(allow_none=True)
    village_code = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class TeacherIdsIn(Schema):
    teacher_ids = fields.List(Id(), required=True, validate=validate.Length(max=500))


class TeacherIdsOut(Schema):
    school_id = fields.String()
    teacher_ids = fields.List(fields.Integer())
