"""Marshmallow fields and validators shared by the API schemas.

JSON bodies are typed strictly: a number is a JSON number (`"lat": "-1.5"` is refused), a boolean
is true or false (`"urgent": "yes"` is refused). Query strings are text by nature and keep
marshmallow's parsing. Instants go out as ISO 8601 with the district's offset (`Instant`).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, g, has_app_context
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.routing import IntegerConverter

from scheduling import LEVELS, parse_hhmm

DISTRICT_SETTINGS = "guru_district"  # app.extensions key: `settings()` (the district row) and `today()`
MAX_ID = 2**31 - 1  # ids are 32-bit integers on every database
MAX_PAGE = 1_000_000  # ?page= beyond this is a client's mistake, not an overflow

# For flask-smorest's `@blp.doc(security=PUBLIC)`: the route needs no token.
PUBLIC: list = []


class StrictFloat(fields.Float):
    """A JSON number only: no numeric strings, no booleans, no NaN or infinity."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_nan", False)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """true or false only: not "yes", 1 or "on"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _district():
    """The district's settings (time zone, date horizon) and today, through the app: the factory
    registers `dispatch.district.service`'s `get_district` and `district_today` there. This module sits
    below the district package, whose schemas use its fields, so it does not import it."""
    return current_app.extensions[DISTRICT_SETTINGS]


def _district_zone() -> ZoneInfo:
    """The district's time zone, read once per request (or app context)."""
    if has_app_context() and "district_zone" in g:
        return g.district_zone
    zone = ZoneInfo(_district().settings().timezone)
    if has_app_context():
        g.district_zone = zone
    return zone


class Instant(fields.DateTime):
    """A point in time, always ISO 8601 with its offset, in the district's time zone
    ("2026-01-05T07:30:00+07:00"). Stored times are naive: district-local (`district_now()`), or UTC
    for database defaults such as created_at (`utc=True`)."""

    def __init__(self, *, utc: bool = False, **kwargs):
        super().__init__(format="iso", **kwargs)
        self.utc = utc

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        zone = _district_zone()
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC) if self.utc else value.replace(tzinfo=zone)
        return value.astimezone(zone).isoformat()


def horizon_error(day: date) -> str | None:
    """Why a date is too far ahead (the district's `date_horizon_days`), or None."""
    district = _district()
    days = district.settings().date_horizon_days or 400
    if day > district.today() + timedelta(days=days):
        return f"must be within {days} days from today"
    return None


Latitude = lambda **kw: StrictFloat(validate=validate.Range(-90, 90), **kw)  # noqa: E731
Longitude = lambda **kw: StrictFloat(validate=validate.Range(-180, 180), **kw)  # noqa: E731
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
    CHECK_HORIZON = False  # plans and what-ifs: dates within the district's horizon

    from_ = fields.Date(data_key="from")
    to = fields.Date()

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "from_" in data and "to" in data:
            if data["to"] < data["from_"]:
                raise ValidationError("must not be before from", "to")
            if self.MAX_DAYS is not None and (data["to"] - data["from_"]).days > self.MAX_DAYS:
                raise ValidationError(self.TOO_LONG, "to")
        if self.CHECK_HORIZON and "to" in data and (error := horizon_error(data["to"])):
            raise ValidationError(error, "to")


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: 1 to MAX_ID. A bigger number matches no route (404) instead of overflowing."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def id_param_schema(converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _bound_pagination() -> None:
    """flask-smorest's `?page=` has no maximum, so `page=9223372036854775808` reached the database as
    an OFFSET it could not hold (an unnamed 422 on PostgreSQL, an OverflowError on SQLite). The
    library takes its schema from this module-level factory when `@blp.paginate` runs, with no
    setting for it: give `page` a maximum there, so the 422 names `page` and the OpenAPI document
    says so. The X-Pagination header is JSON text: declare it as a string, not as an object."""
    import marshmallow as ma
    from flask_smorest import pagination

    if getattr(pagination, "_guru_bounded", False):
        return
    original = pagination._pagination_parameters_schema_factory

    def factory(def_page, def_page_size, def_max_page_size):
        base = original(def_page, def_page_size, def_max_page_size)

        class BoundedPaginationParametersSchema(base):
            page = ma.fields.Integer(load_default=def_page, validate=ma.validate.Range(min=1, max=MAX_PAGE))

        return BoundedPaginationParametersSchema

    pagination._pagination_parameters_schema_factory = factory
    pagination.PAGINATION_HEADER = {
        "description": "Pagination metadata, JSON text: total, total_pages, first_page, last_page, page, "
        "previous_page, next_page",
        "schema": {"type": "string"},
    }
    pagination._guru_bounded = True


_bound_pagination()
