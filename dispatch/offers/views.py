from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.accounts.auth import roles_required
from dispatch.idempotency import write_operation
from dispatch.offers.service import accept, decline, open_offers
from dispatch.schools.places import kecamatan_name, km_from_home, school_of
from scheduling import format_hhmm

blp = Blueprint("offers", __name__, url_prefix="/api/v1/offers", description="Offers to teachers: accept or decline")


class OfferOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    school_id = fields.String()
    session_ids = fields.List(fields.Integer())
    expires_at = fields.DateTime()
    status = fields.String()
    wave = fields.Integer()
    # What a teacher needs to decide on a small screen (also in the Socket.IO `offer` event).
    school_name = fields.Function(lambda o: school_of(o.order.school_id).name)
    kecamatan = fields.Function(lambda o: kecamatan_name(school_of(o.order.school_id)), allow_none=True)
    distance_km = fields.Function(
        lambda o: km_from_home(o.teacher_id, school_of(o.order.school_id)),
        allow_none=True,
        metadata={"description": "from the teacher's home point to the school"},
    )
    subject = fields.Function(lambda o: o.order.subject)
    level = fields.Function(lambda o: o.order.level)
    class_name = fields.Function(lambda o: o.order.class_name)
    urgent = fields.Function(lambda o: o.order.urgent)
    sessions = fields.Method(
        "_sessions", metadata={"description": "the offered sessions: date, weekday, times, periods"}
    )

    def _sessions(self, offer):
        wanted = set(offer.session_ids)
        return [
            {"id": s.id, "date": s.date.isoformat(), "day": s.date.weekday(), "start": format_hhmm(s.start_min),
             "end": format_hhmm(s.end_min), "periods": s.periods}
            for s in sorted(offer.order.sessions, key=lambda s: (s.date, s.start_min))
            if s.id in wanted
        ]  # fmt: skip


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
