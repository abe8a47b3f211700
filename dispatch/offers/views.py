from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.accounts.auth import roles_required
from dispatch.idempotency import write_operation
from dispatch.offers.service import accept, decline, open_offers
from dispatch.validation import Instant

blp = Blueprint("offers", __name__, url_prefix="/api/v1/offers", description="Offers to teachers: accept or decline")


class OfferOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    school_id = fields.String()
    session_ids = fields.List(fields.Integer())
    expires_at = Instant()
    status = fields.String()
    wave = fields.Integer()


class DeclineIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 200))


@blp.route("")
class Offers(MethodView):
    @roles_required("teacher")
    @blp.response(200, OfferOut(many=True))
    def get(self):
        """Your open offers, soonest to expire first. A phone fetches this on every (re)connect."""
        return open_offers(current_user.teacher_id)


@blp.route("/<id:offer_id>/accept")
class Accept(MethodView):
    @roles_required("teacher")
    @write_operation
    @blp.response(200, OfferOut)
    @blp.alt_response(409, description="Taken, expired, or now clashing; the message says which.")
    def post(self, offer_id):
        """Accept: books the offer's sessions through the one booking path, all or none."""
        return accept(current_user.teacher_id, offer_id)


@blp.route("/<id:offer_id>/decline")
class Decline(MethodView):
    @roles_required("teacher")
    @write_operation
    @blp.arguments(DeclineIn)
    @blp.response(200, OfferOut)
    def post(self, data, offer_id):
        """Decline with a reason; the order's next wave goes out when this one is done."""
        return decline(current_user.teacher_id, offer_id, data["reason"])
