"""Offers as the API and the phones' `offer` event show them."""

from marshmallow import Schema, fields


class OfferOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    school_id = fields.String()
    session_ids = fields.List(fields.Integer())
    expires_at = fields.DateTime()
    status = fields.String()
    wave = fields.Integer()
