from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from dispatch.orders.models import ORDER_STATUSES, REASONS
from dispatch.schools.places import teacher_name
from dispatch.validation import HHMM, Instant, Level, StrictBoolean, Weekday, horizon_error, unique_items
from scheduling import format_hhmm, parse_hhmm

MAX_SESSIONS = 400


def _check_times(data):
    if "start" in data and "end" in data and parse_hhmm(data["end"]) <= parse_hhmm(data["start"]):
        raise ValidationError("must be after start", "end")


class SessionIn(Schema):
    date = fields.Date(required=True)
    start = HHMM(required=True)
    end = HHMM(required=True)

    @validates_schema
    def _ordered(self, data, **kwargs):
        _check_times(data)
        if "date" in data and (error := horizon_error(data["date"])):
            raise ValidationError(error, "date")


class WeeklyIn(Schema):
    weekdays = fields.List(Weekday(), required=True, validate=[validate.Length(min=1, max=7), unique_items])
    start = HHMM(required=True)
    end = HHMM(required=True)
    from_ = fields.Date(required=True, data_key="from")
    until = fields.Date(required=True)

    @validates_schema
    def _ordered(self, data, **kwargs):
        _check_times(data)
        if "from_" in data and "until" in data:
            if data["until"] < data["from_"]:
                raise ValidationError("must not be before from", "until")
            if (data["until"] - data["from_"]).days > 366:
                raise ValidationError("a weekly pattern spans at most a year", "until")
            if error := horizon_error(data["until"]):
                raise ValidationError(error, "until")


class OrderIn(Schema):
    subject = fields.String(required=True, validate=validate.Length(1, 10))
    level = Level(required=True)
    class_name = fields.String(required=True, validate=validate.Length(1, 40))
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    urgent = StrictBoolean(load_default=False)
    sessions = fields.List(fields.Nested(SessionIn), validate=validate.Length(1, MAX_SESSIONS))
    weekly = fields.Nested(WeeklyIn)
    school_id = fields.String(validate=validate.Length(8, 8))

    @validates_schema
    def _one_way(self, data, **kwargs):
        if ("sessions" in data) == ("weekly" in data):
            raise ValidationError("give either sessions or weekly, not both or neither", "sessions")


class SessionOut(Schema):
    id = fields.Integer()
    date = fields.Date()
    start = fields.Function(lambda s: format_hhmm(s.start_min))
    end = fields.Function(lambda s: format_hhmm(s.end_min))
    periods = fields.Integer()
    status = fields.String()
    teacher_id = fields.Integer(allow_none=True)
    # For the school's page: who teaches it, and what the school and the clock said of it.
    teacher_name = fields.Function(lambda s: teacher_name(s.teacher_id), allow_none=True)
    checked_in_at = fields.DateTime(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    flag = fields.String(allow_none=True)
    recorded = fields.Function(lambda s: s.recorded_at is not None)


class OrderOut(Schema):
    id = fields.Integer()
    status = fields.String()
    school_id = fields.String()
    subject = fields.String()
    level = fields.String()
    class_name = fields.String()
    reason = fields.String()
    urgent = fields.Boolean()
    weekly = fields.Dict(allow_none=True)
    created_at = Instant(utc=True)
    sessions = fields.List(fields.Nested(SessionOut))


class OrderQuery(Schema):
    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    school_id = fields.String()
