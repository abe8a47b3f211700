import io

from flask import Response
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.accounts.auth import roles_required
from dispatch.idempotency import write_operation
from dispatch.lessons.service import FLAGS
from dispatch.orders.schemas import SessionOut
from dispatch.pages.student import rating_url
from dispatch.validation import Instant, Latitude, Longitude
from dispatch.workflow import check_in, confirm_lesson, flag_lesson, rating_code, record_lesson, withdraw

blp = Blueprint(
    "lessons", __name__, url_prefix="/api/v1/sessions", description="Check-in, lesson records, rating codes"
)


class CheckInIn(Schema):
    lat = Latitude(required=True)
    lon = Longitude(required=True)


class RecordIn(Schema):
    topic = fields.String(required=True, validate=validate.Length(1, 300))
    present = fields.Integer(required=True, strict=True, validate=validate.Range(0, 200))
    notes = fields.String(validate=validate.Length(max=2000), allow_none=True)


class LessonOut(SessionOut):
    checked_in_at = Instant(allow_none=True)
    checkin_distance_m = fields.Integer(allow_none=True)
    topic = fields.String(allow_none=True)
    present = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    confirmed_at = Instant(allow_none=True)
    flag = fields.String(allow_none=True)


class WithdrawIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 200))


class FlagIn(Schema):
    flag = fields.String(required=True, validate=validate.OneOf(FLAGS))


class CodeOut(Schema):
    code = fields.String()
    valid_until = Instant()
    url = fields.String(metadata={"description": "the students' rating page for this code; the QR encodes it"})
    qr = fields.String(metadata={"description": "path of the QR image (SVG) that opens the rating page"})


@blp.route("/<id:session_id>/withdraw")
class Withdraw(MethodView):
    @roles_required("teacher")
    @write_operation
    @blp.arguments(WithdrawIn)
    @blp.response(200, SessionOut)
    @blp.alt_response(409, description="Not booked, or already started.")
    def post(self, data, session_id):
        """Give a booked session back: it goes straight back to dispatch; a late withdrawal is recorded."""
        return withdraw(current_user.teacher_id, session_id, data["reason"])


@blp.route("/<id:session_id>/check-in")
class CheckIn(MethodView):
    @roles_required("teacher")
    @write_operation
    @blp.arguments(CheckInIn)
    @blp.response(200, LessonOut)
    def post(self, data, session_id):
        """Check in at the school: the phone's position must be within the district's check-in distance."""
        return check_in(current_user, session_id, data["lat"], data["lon"])


@blp.route("/<id:session_id>/record")
class Record(MethodView):
    @roles_required("teacher")
    @write_operation
    @blp.arguments(RecordIn)
    @blp.response(200, LessonOut)
    def post(self, data, session_id):
        """Write the lesson record: topic, students present, notes."""
        return record_lesson(current_user, session_id, data["topic"], data["present"], data.get("notes"))


@blp.route("/<id:session_id>/rating-code")
class RatingCode(MethodView):
    @roles_required("teacher", "school_operator")
    @write_operation
    @blp.response(200, CodeOut)
    def get(self, session_id):
        """The short code students use to rate this lesson, valid until 24 hours after it ends."""
        code, valid_until = rating_code(current_user, session_id)
        return {
            "code": code,
            "valid_until": valid_until,
            "url": rating_url(code),
            "qr": f"/api/v1/sessions/{session_id}/rating-qr.svg",
        }


@blp.route("/<id:session_id>/rating-qr.svg")
class RatingQr(MethodView):
    @roles_required("teacher", "school_operator")
    @write_operation
    @blp.doc(responses={"200": {"description": "SVG", "content": {"image/svg+xml": {"schema": {"type": "string"}}}}})
    def get(self, session_id):
        """The rating code as a QR image (SVG) to show on a phone or print: it opens the rating page."""
        import segno

        code, _valid_until = rating_code(current_user, session_id)
        out = io.BytesIO()
        segno.make(rating_url(code), error="m").save(out, kind="svg", scale=8, border=2)
        return Response(out.getvalue(), mimetype="image/svg+xml")


@blp.route("/<id:session_id>/confirm")
class Confirm(MethodView):
    @roles_required("school_operator")
    @write_operation
    @blp.response(200, LessonOut)
    def post(self, session_id):
        """The school confirms the lesson was held."""
        return confirm_lesson(current_user, session_id)


@blp.route("/<id:session_id>/flag")
class Flag(MethodView):
    @roles_required("school_operator")
    @write_operation
    @blp.arguments(FlagIn)
    @blp.response(200, LessonOut)
    def post(self, data, session_id):
        """The school flags the teacher late or absent (kept apart from students' stars)."""
        return flag_lesson(current_user, session_id, data["flag"])
