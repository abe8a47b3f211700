"""Marshmallow fields and validators shared by the API schemas."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.routing import IntegerConverter

from scheduling import LEVELS, parse_hhmm

MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database

Latitude = lambda **kw: fields.Float(validate=validate.Range(-90, 90), allow_nan=False, **kw)  # noqa: E731
Longitude = lambda **kw: fields.Float(validate=validate.Range(-180, 180), allow_nan=False, **kw)  # noqa: E731
Level = lambda **kw: fields.String(validate=validate.OneOf(LEVELS), **kw)  # noqa: E731
Id = lambda **kw: fields.Integer(strict=True, validate=validate.Range(1, MAX_ID), **kw)  # noqa: E731
Weekday = lambda **kw: fields.Integer(validate=validate.Range(0, 6), strict=True, **kw)  # noqa: E731


class HHMM(fields.String):
    """A local time "HH:MM"; loaded as the string, checked for shape and range."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parse_hhmm(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        return text


def unique_items(items):
    if len(set(items)) != len(items):
        raise ValidationError("must not repeat an item")


class DateRange(Schema):
    """Query or body with `from` and `to` dates: `to` not before `from`, and at most MAX_DAYS after it."""

    MAX_DAYS: int | None = None
    TOO_LONG = ""

    from_ = fields.Date(data_key="from")
    to = fields.Date()

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "from_" in data and "to" in data:
            if data["to"] < data["from_"]:
                raise ValidationError("must not be before from", "to")
            if self.MAX_DAYS is not None and (data["to"] - data["from_"]).days > self.MAX_DAYS:
                raise ValidationError(self.TOO_LONG, "to")


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: 1 to MAX_ID. A bigger number matches no route (404) instead of overflowing."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def id_param_schema(converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
