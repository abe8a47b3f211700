from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate

from dispatch.validation import StrictBoolean, StrictFloat, unique_items


def _timezone(name: str) -> None:
    if name not in available_timezones():
        raise ValidationError("unknown time zone (use an IANA name like Asia/Jakarta)")


class DistrictOut(Schema):
    code = fields.String()
    name = fields.String()
    timezone = fields.String()
    road_speed_kmh = fields.Float()
    travel_buffer_min = fields.Integer()
    max_radius_km = fields.Float()
    offer_timeout_min = fields.Integer()
    urgent_offer_timeout_min = fields.Integer()
    favourite_head_start_min = fields.Integer()
    late_withdrawal_hours = fields.Integer()
    checkin_distance_m = fields.Integer()
    checkin_grace_min = fields.Integer()
    date_horizon_days = fields.Integer()
    ratings_per_code = fields.Integer()
    subjects = fields.List(fields.String())
    holidays = fields.List(fields.String())
    equity_floor = fields.Float(
        allow_none=True,
        metadata={
            "description": "the weekly plan keeps each kecamatan's coverage at least this share of the "
            "district's (default 0.80); null plans for coverage alone"
        },
    )


class DistrictPatch(Schema):
    name = fields.String(validate=validate.Length(1, 120))
    timezone = fields.String(validate=_timezone)
    road_speed_kmh = StrictFloat(validate=validate.Range(5, 120))
    travel_buffer_min = fields.Integer(strict=True, validate=validate.Range(0, 120))
    max_radius_km = StrictFloat(validate=validate.Range(1, 200))
    offer_timeout_min = fields.Integer(strict=True, validate=validate.Range(1, 7 * 24 * 60))
    urgent_offer_timeout_min = fields.Integer(strict=True, validate=validate.Range(1, 24 * 60))
    favourite_head_start_min = fields.Integer(strict=True, validate=validate.Range(0, 24 * 60))
    late_withdrawal_hours = fields.Integer(strict=True, validate=validate.Range(0, 14 * 24))
    checkin_distance_m = fields.Integer(strict=True, validate=validate.Range(20, 5000))
    checkin_grace_min = fields.Integer(strict=True, validate=validate.Range(1, 240))
    date_horizon_days = fields.Integer(strict=True, validate=validate.Range(7, 3 * 366))
    ratings_per_code = fields.Integer(strict=True, validate=validate.Range(1, 1000))
    subjects = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Z0-9]{2,10}$", error="2-10 capital letters or digits")),
        validate=[validate.Length(min=1), unique_items],
    )
    holidays = fields.List(fields.Date(), validate=validate.Length(max=400))
    equity_floor = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(0, 1))


class KecamatanOut(Schema):
    code = fields.String()
    name = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    live = fields.Boolean()


class KecamatanPatch(Schema):
    live = StrictBoolean(required=True)
