"""The coverage API's shapes, as the OpenAPI document shows them."""

from marshmallow import Schema, fields, validate

from dispatch.coverage.service import DIMENSIONS
from dispatch.validation import DateRange, Level


class CoverageQuery(DateRange):
    MAX_DAYS, TOO_LONG = 400, "at most 400 days"

    by = fields.String(load_default="kecamatan", validate=validate.OneOf(DIMENSIONS))
    kecamatan_code = fields.String(validate=validate.Length(1, 8), metadata={"description": "only this kecamatan"})
    school_id = fields.String(validate=validate.Length(8, 8), metadata={"description": "only this school (NPSN)"})
    subject = fields.String(validate=validate.Length(1, 10), metadata={"description": "only this subject"})
    level = Level(metadata={"description": "only this level"})
    sort = fields.String(
        load_default="key",
        validate=validate.OneOf(("key", "worst")),
        metadata={"description": "key (default) or worst: lowest coverage first, then most periods unfilled"},
    )


class CoverageRow(Schema):
    key = fields.String(metadata={"description": "kecamatan code, NPSN, subject code, level or ISO week"})
    name = fields.String(metadata={"description": "what the key is called (kecamatan, school, subject, level)"})
    sessions = fields.Integer(metadata={"description": "sessions requested (cancelled ones are not)"})
    booked = fields.Integer(metadata={"description": "of them with a teacher sent: booked, held or no-show"})
    held = fields.Integer()
    coverage = fields.Float(metadata={"description": "booked / sessions"})
    periods = fields.Integer(metadata={"description": "periods (JP) requested"})
    booked_periods = fields.Integer()
    held_periods = fields.Integer()
    unfilled_periods = fields.Integer()
    unfilled_teacher_equivalents = fields.Float(metadata={"description": "unfilled periods a week / 24"})
    live = fields.Boolean(metadata={"description": "kecamatan and school rows: dispatch runs there (rollout)"})
    level = fields.String(metadata={"description": "school rows"})
    kecamatan_code = fields.String(allow_none=True, metadata={"description": "school rows"})
    kecamatan_name = fields.String(allow_none=True, metadata={"description": "school rows"})
    from_ = fields.String(data_key="from", attribute="from", metadata={"description": "week rows: Monday"})
    to = fields.String(metadata={"description": "week rows: Sunday"})


class CoverageOut(Schema):
    by = fields.String()
    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    filters = fields.Dict()
    rows = fields.List(fields.Nested(CoverageRow))
    total = fields.Nested(CoverageRow)
    unfilled_teacher_equivalents = fields.Float(
        metadata={"description": "periods without a teacher per week, in full loads of 24 periods"}
    )
    spread = fields.Float(metadata={"description": "best row's coverage minus the worst's"})
