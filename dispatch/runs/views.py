from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validates_schema

from dispatch.accounts.auth import roles_required
from dispatch.extensions import db
from dispatch.idempotency import write_operation
from dispatch.runs.models import MatchingRun
from dispatch.runs.service import launch, start_run

blp = Blueprint(
    "runs", __name__, url_prefix="/api/v1/matching", description="The weekly plan: solver runs that send offers"
)


class RunIn(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "from_" in data and "to" in data:
            if data["to"] < data["from_"]:
                raise ValidationError("must not be before from", "to")
            if (data["to"] - data["from_"]).days > 27:
                raise ValidationError("a run plans at most four weeks", "to")


class RunOut(Schema):
    id = fields.Integer()
    status = fields.String()
    sessions = fields.Integer()
    assigned = fields.Integer()
    coverage = fields.Float(
        metadata={"description": "share of the range's session weight with a teacher, bookings included"}
    )
    bound = fields.Float(allow_none=True, metadata={"description": "upper bound on that share (LP relaxation)"})
    seconds = fields.Float()
    offers = fields.Integer()
    detail = fields.Dict()


@blp.route("/runs")
class Runs(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.arguments(RunIn)
    @blp.response(202, RunOut)
    def post(self, data):
        """Plan every open session between from and to with the solver, in the background, then send offers."""
        run = start_run(data["from_"], data["to"], current_user.id)
        db.session.commit()  # the thread must see the row
        launch(run.id)
        db.session.refresh(run)
        return run


@blp.route("/runs/<id:run_id>")
class RunById(MethodView):
    @roles_required("district_admin")
    @blp.response(200, RunOut)
    def get(self, run_id):
        """A run's status and progress: sessions, planned, coverage, bound, seconds, offers sent."""
        run = db.session.get(MatchingRun, run_id)
        if run is None:
            abort(404, message=f"No run {run_id}.")
        db.session.refresh(run)
        return run
