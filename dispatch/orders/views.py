from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from dispatch.accounts.auth import roles_required
from dispatch.extensions import db
from dispatch.idempotency import write_operation
from dispatch.orders.schemas import OrderIn, OrderOut, OrderQuery
from dispatch.orders.service import order_for, visible_orders
from dispatch.workflow import cancel_order, post_order

blp = Blueprint("orders", __name__, url_prefix="/api/v1/orders", description="Teaching orders posted by schools")


@blp.route("")
class Orders(MethodView):
    @roles_required("district_admin", "school_operator")
    @blp.arguments(OrderQuery, location="query")
    @blp.response(200, OrderOut(many=True))
    @blp.paginate(page_size=200, max_page_size=1000)
    def get(self, args, pagination_parameters):
        """Orders, newest first (an operator sees their own school's). Paged: ?page=&page_size=."""
        query = visible_orders(current_user, args.get("status"), args.get("school_id"))
        pagination_parameters.item_count = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
        page = pagination_parameters
        return db.session.scalars(query.limit(page.page_size).offset(page.first_item)).all()

    @roles_required("district_admin", "school_operator")
    @write_operation
    @blp.arguments(OrderIn)
    @blp.response(201, OrderOut)
    def post(self, data):
        """Post an order: single sessions or a weekly pattern. Send Idempotency-Key to make a retry safe.

        An urgent order (starting within 24 hours, or marked so) is offered at once to the best few teachers."""
        return post_order(current_user, data)


@blp.route("/<id:order_id>")
class OrderById(MethodView):
    @roles_required()
    @blp.response(200, OrderOut)
    def get(self, order_id):
        return order_for(current_user, order_id)


@blp.route("/<id:order_id>/cancel")
class OrderCancel(MethodView):
    @roles_required("district_admin", "school_operator")
    @write_operation
    @blp.response(200, OrderOut)
    def post(self, order_id):
        """Cancel the order: every session not yet started is cancelled."""
        return cancel_order(current_user, order_id)
