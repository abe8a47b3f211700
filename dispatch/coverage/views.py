from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from dispatch.accounts.auth import roles_required
from dispatch.coverage.service import coverage
from dispatch.district.service import district_today
from dispatch.validation import DateRange

blp = Blueprint("coverage", __name__, url_prefix="/api/v1", description="Coverage of the teacher shortage")


class CoverageQuery(DateRange):
    MAX_DAYS, TOO_LONG = 400, "at most 400 days"

    by = fields.String(
        load_default="kecamatan", validate=validate.OneOf(("kecamatan", "school", "subject", "level", "week"))
    )


@blp.route("/coverage")
class Coverage(MethodView):
    @roles_required("district_admin")
    @blp.arguments(CoverageQuery, location="query")
    @blp.response(200)
    def get(self, args):
        """Requested vs booked vs held sessions and periods, by kecamatan, school, subject, level or week;
        the unfilled periods as teacher-equivalents (24 periods a week) and the spread between the best
        and worst covered rows. Default: the coming four weeks."""
        first = args.get("from_") or district_today()
        last = args.get("to") or first + timedelta(days=27)
        return coverage(first, last, args["by"])
