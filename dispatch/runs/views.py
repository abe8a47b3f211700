from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from dispatch.accounts.auth import roles_required
from dispatch.extensions import db
from dispatch.idempotency import write_operation
from dispatch.jobs import enqueue_run_after_commit
from dispatch.runs.models import MatchingRun
from dispatch.runs.schemas import RunIn, RunOut, WhatIfIn
from dispatch.runs.service import cancel_run, get_run, start_run, start_what_if

blp = Blueprint(
    "runs",
    __name__,
    url_prefix="/api/v1/matching",
    description="Solver runs in the job worker: the weekly plan (sends offers) and what-ifs, with progress",
)


@blp.route("/runs")
class Runs(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.arguments(RunIn)
    @blp.response(202, RunOut)
    def post(self, data):
        """Queue a plan of every open session between from and to; the job worker plans it and sends offers.

        Follow it with GET /matching/runs/<id> (or the `run_updated` event in the district's room)."""
        run = start_run(data["from_"], data["to"], current_user.id)
        enqueue_run_after_commit(run.id)  # the job is queued once the row and the idempotency record commit
        return run

    @roles_required("district_admin")
    @blp.response(200, RunOut(many=True))
    def get(self):
        """The latest 50 runs, newest first."""
        return db.session.scalars(db.select(MatchingRun).order_by(MatchingRun.id.desc()).limit(50)).all()


@blp.route("/runs/<id:run_id>")
class RunById(MethodView):
    @roles_required("district_admin")
    @blp.response(200, RunOut)
    def get(self, run_id):
        """A run's status and progress: phase, sessions, planned, coverage, bound, seconds, offers sent;
        a what-if's coverage before and after once done; `error` when it failed."""
        run = get_run(run_id)
        db.session.refresh(run)
        return run


@blp.route("/runs/<id:run_id>/cancel")
class RunCancel(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.response(200, RunOut)
    def post(self, run_id):
        """Cancel a run: a queued one at once, a running one at the worker's next check (about a second;
        a plan keeps the offers of weeks it already sent). 409 if it has already ended."""
        return cancel_run(run_id)


@blp.route("/what-if")
class WhatIf(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.arguments(WhatIfIn)
    @blp.response(202, RunOut)
    def post(self, data):
        """Queue a what-if: the range planned as it is and with hypothetical teachers living in a kecamatan,
        by the weekly plan's own planner and instance. GET /matching/runs/<id> gives the coverage before
        and after, by kecamatan and subject, once done. Sends no offers."""
        run = start_what_if(data["from_"], data["to"], data["add_teachers"], current_user.id)
        enqueue_run_after_commit(run.id)
        return run
