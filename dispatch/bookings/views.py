from datetime import timedelta

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.accounts.auth import roles_required
from dispatch.bookings.service import open_orders_for, schedule
from dispatch.district.service import district_today
from dispatch.extensions import db
from dispatch.idempotency import write_operation
from dispatch.orders.schemas import OrderOut, SessionOut
from dispatch.teachers.models import Teacher
from dispatch.validation import DateRange, Id
from dispatch.workflow import claim_order

blp = Blueprint("bookings", __name__, url_prefix="/api/v1", description="Self-service: open orders, claims, schedule")


class OpenOrderOut(OrderOut):
    claimable_session_ids = fields.List(fields.Integer())


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


def _me() -> Teacher:
    return db.session.get(Teacher, current_user.teacher_id)


@blp.route("/orders/open")
class OpenOrders(MethodView):
    @roles_required("teacher")
    @blp.response(200, OpenOrderOut(many=True))
    def get(self):
        """Orders with open sessions the caller could take now: subject, level, reach, availability, no clash, cap."""
        results = []
        for order, sessions in open_orders_for(_me()):
            order.claimable_session_ids = [s.id for s in sessions]  # carried to the response only
            results.append(order)
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
