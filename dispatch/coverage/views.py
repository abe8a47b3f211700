from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.accounts.auth import roles_required
from dispatch.coverage.schemas import CoverageOut, CoverageQuery
from dispatch.coverage.service import FILTERS, coverage
from dispatch.district.service import district_today

blp = Blueprint("coverage", __name__, url_prefix="/api/v1", description="Coverage of the teacher shortage")


def query_range(args) -> tuple:
    """The range asked for; default the coming four weeks."""
    first = args.get("from_") or district_today()
    last = args.get("to") or first + timedelta(days=27)
    return first, last


@blp.route("/coverage")
class Coverage(MethodView):
    @roles_required("district_admin")
    @blp.arguments(CoverageQuery, location="query")
    @blp.response(200, CoverageOut)
    def get(self, args):
        """Requested vs booked vs held sessions and periods, by kecamatan, school, subject, level or week, each
        row with its name; optionally for one kecamatan, school, subject or level; the unfilled periods as
        teacher-equivalents (24 periods a week) and the spread between the best and worst covered rows.
        Default: the coming four weeks, rows by key (`sort=worst`: worst first)."""
        first, last = query_range(args)
        return coverage(first, last, args["by"], {k: args.get(k) for k in FILTERS}, args["sort"])
