"""The runs' API shapes: what is posted, and a run as GET /matching/runs/<id> shows it."""

from marshmallow import Schema, fields, validate

from dispatch.validation import DateRange, Instant, Level, StrictFloat


class RunIn(DateRange):
    MAX_DAYS, TOO_LONG = 27, "a run plans at most four weeks"
    CHECK_HORIZON = True

    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)


class AddTeachers(Schema):
    count = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2000))
    subjects = fields.List(
        fields.String(validate=validate.Length(1, 10)), required=True, validate=validate.Length(min=1)
    )
    levels = fields.List(Level(), required=True, validate=validate.Length(min=1))
    kecamatan_code = fields.String(
        required=True, validate=validate.Length(8, 8), metadata={"description": "where they live (its centre)"}
    )
    radius_km = StrictFloat(load_default=15.0, validate=validate.Range(1, 100))
    max_periods = fields.Integer(load_default=24, strict=True, validate=validate.Range(1, 60))


class WhatIfIn(RunIn):
    add_teachers = fields.List(fields.Nested(AddTeachers), required=True, validate=validate.Length(1, 20))


class RunOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "plan (sends offers) or what_if (writes nothing else)"})
    status = fields.String(metadata={"description": "queued, running, done, failed or cancelled"})
    phase = fields.String(allow_none=True, metadata={"description": "what the worker is doing now"})
    error = fields.String(allow_none=True, metadata={"description": "why the run failed"})
    cancel_requested = fields.Boolean()
    first = fields.Date(data_key="from")
    last = fields.Date(data_key="to")
    sessions = fields.Integer(metadata={"description": "open sessions in the range"})
    assigned = fields.Integer()
    coverage = fields.Float(
        metadata={"description": "share of the range's session weight with a teacher, bookings included"}
    )
    bound = fields.Float(allow_none=True, metadata={"description": "upper bound on that share (LP relaxation)"})
    seconds = fields.Float()
    offers = fields.Integer()
    detail = fields.Dict()
    result = fields.Dict(
        allow_none=True,
        metadata={
            "description": "a what-if's coverage before and after the added teachers, in all and by kecamatan "
            "and subject: sessions, periods, shares, teacher-equivalents (periods a week / 24), and the gain"
        },
    )
    created_at = Instant()
    started_at = Instant(allow_none=True)
    finished_at = Instant(allow_none=True)
