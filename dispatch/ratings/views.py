from flask import current_app
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.accounts.auth import roles_required
from dispatch.extensions import limiter
from dispatch.idempotency import write_operation
from dispatch.ratings.device import rating_device
from dispatch.ratings.models import TAGS
from dispatch.ratings.service import my_ratings, ranked_teachers, rate
from dispatch.validation import PUBLIC, Level

blp = Blueprint("ratings", __name__, url_prefix="/api/v1", description="Students' stars and the teacher ranking")


class RatingIn(Schema):
    code = fields.String(required=True, validate=validate.Length(4, 12))
    stars = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    tags = fields.List(
        fields.String(validate=validate.OneOf(TAGS)), load_default=list, validate=validate.Length(max=len(TAGS))
    )
    device = fields.String(
        required=True,
        validate=validate.Length(8, 200),
        metadata={
            "description": "the phone's own id; the device token cookie that the rating page /nilai/<code> "
            "issues wins over it when present (compared without case or surrounding spaces)"
        },
    )


class RatingOut(Schema):
    id = fields.Integer()
    stars = fields.Integer()
    tags = fields.List(fields.String())


class RankingQuery(Schema):
    subject = fields.String(validate=validate.Length(1, 10))
    level = Level()
    kecamatan_code = fields.String(validate=validate.Length(8, 8))


class RankedOut(Schema):
    teacher_id = fields.Integer()
    name = fields.String()
    score = fields.Float()
    ratings = fields.Integer()
    low = fields.Float()
    high = fields.Float()
    no_shows = fields.Integer()
    late_withdrawals = fields.Integer()


def _rating_limit() -> str:
    return current_app.config["RATINGS_RATE_LIMIT"]


@blp.route("/ratings")
class Ratings(MethodView):
    decorators = [limiter.shared_limit(_rating_limit, scope="ratings", key_func=get_remote_address)]

    @write_operation
    @blp.arguments(RatingIn)
    @blp.response(201, RatingOut)
    @blp.alt_response(404, description="No lesson has this code.")
    @blp.alt_response(409, description="This device has already rated this lesson.")
    @blp.alt_response(429, description="Too many ratings from this address; see Retry-After.")
    @blp.doc(security=PUBLIC)
    def post(self, data):
        """A student rates a lesson with its code: 1-5 stars, optional tags, once per device. No account.

        Once per device: the device token of the rating page's cookie when sent, else `device`."""
        return rate(data["code"], data["stars"], data["tags"], rating_device(data["device"]))


@blp.route("/teachers/ranking")
class Ranking(MethodView):
    @roles_required("district_admin", "school_operator")
    @blp.arguments(RankingQuery, location="query")
    @blp.response(200, RankedOut(many=True))
    def get(self, args):
        """Teachers by corrected score (lower end of the interval first); reliability flags beside it."""
        return ranked_teachers(args.get("subject"), args.get("level"), args.get("kecamatan_code"))


@blp.route("/me/ratings")
class MyRatings(MethodView):
    @roles_required("teacher")
    @blp.response(200)
    def get(self):
        """Your ratings: score, interval, stars and tags. Who rated is never shown."""
        return my_ratings(current_user.teacher_id)
