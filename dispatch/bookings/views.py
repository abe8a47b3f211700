from datetime import timedelta

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.accounts.auth import roles_required
from dispatch.bookings.service import open_orders_for, schedule
from dispatch.district.service import district_today, get_district
from dispatch.extensions import db
from dispatch.idempotency import write_operation
from dispatch.orders.schemas import OrderOut, SessionOut
from dispatch.schools.places import kecamatan_name, km_from_home, school_of
from dispatch.teachers.models import Teacher
from dispatch.validation import DateRange, Id
from dispatch.workflow import claim_order
from scheduling import at

blp = Blueprint("bookings", __name__, url_prefix="/api/v1", description="Self-service: open orders, claims, schedule")


class OpenOrderOut(OrderOut):
    claimable_session_ids = fields.List(fields.Integer())
    school_name = fields.Function(lambda o: school_of(o.school_id).name)
    kecamatan = fields.Function(lambda o: kecamatan_name(school_of(o.school_id)), allow_none=True)
    distance_km = fields.Float(
        metadata={"description": "from your home point to the school; the list is nearest first"}
    )


class OpenOrderQuery(Schema):
    subject = fields.String(validate=validate.Length(1, 10))
    day = fields.Integer(
        validate=validate.Range(0, 6),
        metadata={"description": "only orders with a claimable session on this weekday (0 = Monday)"},
    )


class ClaimIn(Schema):
    session_ids = fields.List(Id(), validate=validate.Length(1, 400))


class ClaimOut(Schema):
    order = fields.Nested(OrderOut)
    booked_session_ids = fields.List(fields.Integer())


class ScheduleQuery(DateRange):
    pass


class ScheduleItem(SessionOut):
    order_id = fields.Integer()
    school_id = fields.Function(lambda s: s.order.school_id)
    subject = fields.Function(lambda s: s.order.subject)
    level = fields.Function(lambda s: s.order.level)
    class_name = fields.Function(lambda s: s.order.class_name)
    # Where to go: the page's map link works offline from the coordinates alone.
    school_name = fields.Function(lambda s: school_of(s.order.school_id).name)
    school_address = fields.Function(lambda s: school_of(s.order.school_id).address, allow_none=True)
    school_lat = fields.Function(lambda s: school_of(s.order.school_id).lat)
    school_lon = fields.Function(lambda s: school_of(s.order.school_id).lon)
    kecamatan = fields.Function(lambda s: kecamatan_name(school_of(s.order.school_id)), allow_none=True)
    topic = fields.String(allow_none=True)
    late_from = fields.Function(
        lambda s: (at(s.date, s.start_min) - timedelta(hours=get_district().late_withdrawal_hours)).isoformat(),
        metadata={"description": "a withdrawal from this moment on counts as late (local time)"},
    )


def _me() -> Teacher:
    return db.session.get(Teacher, current_user.teacher_id)


@blp.route("/orders/open")
class OpenOrders(MethodView):
    @roles_required("teacher")
    @blp.arguments(OpenOrderQuery, location="query")
    @blp.response(200, OpenOrderOut(many=True))
    def get(self, args):
        """Orders with open sessions the caller could take now (subject, level, reach, availability, no clash,
        cap), nearest first; ?subject= and ?day= (weekday) narrow the list."""
        me = _me()
        results = []
        for order, sessions in open_orders_for(me):
            if "day" in args:
                sessions = [s for s in sessions if s.date.weekday() == args["day"]]
            if not sessions or args.get("subject", order.subject) != order.subject:
                continue
            order.claimable_session_ids = [s.id for s in sessions]  # carried to the response only
            order.distance_km = km_from_home(me.id, school_of(order.school_id))
            results.append(order)
        results.sort(key=lambda o: (o.distance_km, o.id))
        return results


@blp.route("/orders/<id:order_id>/claim")
class Claim(MethodView):
    @roles_required("teacher")
    @write_operation
    @blp.arguments(ClaimIn)
    @blp.response(200, ClaimOut)
    @blp.alt_response(409, description="Taken by someone else first, or would break a rule; the message says which.")
    def post(self, data, order_id):
        """Claim an open order: book its sessions that you can take (or the given ones), all or none."""
        order, sessions = claim_order(current_user.teacher_id, order_id, data.get("session_ids"))
        return {"order": order, "booked_session_ids": [s.id for s in sessions]}


@blp.route("/me/schedule")
class MySchedule(MethodView):
    @roles_required("teacher")
    @blp.arguments(ScheduleQuery, location="query")
    @blp.response(200, ScheduleItem(many=True))
    def get(self, args):
        """Your booked (and held) sessions, from today for four weeks unless from/to say otherwise."""
        first = args.get("from_") or district_today()
        last = args.get("to") or first + timedelta(days=28)
        return schedule(current_user.teacher_id, first, last)
