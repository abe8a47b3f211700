from flask import current_app
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from dispatch.accounts.auth import roles_required
from dispatch.extensions import db
from dispatch.idempotency import write_operation
from dispatch.runs.models import MatchingRun
from dispatch.runs.service import launch, start_run
from dispatch.validation import DateRange, Level, StrictFloat

blp = Blueprint(
    "runs", __name__, url_prefix="/api/v1/matching", description="The weekly plan: solver runs that send offers"
)


class RunIn(DateRange):
    MAX_DAYS, TOO_LONG = 27, "a run plans at most four weeks"
    CHECK_HORIZON = True

    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)


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


class AddTeachers(Schema):
    count = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2000))
    subjects = fields.List(
        fields.String(validate=validate.Length(1, 10)), required=True, validate=validate.Length(min=1)
    )
    levels = fields.List(Level(), required=True, validate=validate.Length(min=1))
    kecamatan_code = fields.String(required=True, validate=validate.Length(8, 8))
    radius_km = StrictFloat(load_default=15.0, validate=validate.Range(1, 100))
    max_periods = fields.Integer(load_default=24, strict=True, validate=validate.Range(1, 60))


class WhatIfIn(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    add_teachers = fields.List(fields.Nested(AddTeachers), required=True, validate=validate.Length(1, 20))


@blp.route("/what-if")
class WhatIf(MethodView):
    @roles_required("district_admin")
    @blp.arguments(WhatIfIn)
    @blp.response(200)
    def post(self, data):
        """Coverage of the week of `from` as it is and with hypothetical teachers living in a kecamatan,
        from the same planner (MATCHING_WHATIF_TIME_LIMIT seconds in all), by kecamatan and subject."""
        from dispatch.district.models import Kecamatan
        from dispatch.planning import build_week_instance
        from matching.whatif import what_if

        for i, spec in enumerate(data["add_teachers"]):
            if db.session.get(Kecamatan, spec["kecamatan_code"]) is None:
                abort(
                    422,
                    message="unknown kecamatan",
                    errors={"json": {"add_teachers": {str(i): {"kecamatan_code": ["unknown kecamatan"]}}}},
                )
        instance = build_week_instance(data["from_"])
        result = what_if(
            instance,
            data["add_teachers"],
            time_limit=current_app.config["MATCHING_WHATIF_TIME_LIMIT"],
            workers=current_app.config["MATCHING_WORKERS"],
        )
        result["week_of"] = data["from_"].isoformat()
        return result
