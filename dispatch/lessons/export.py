"""Lesson records as CSV for a school's report cards: attendance and topics per class."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from marshmallow import fields

from dispatch.accounts.auth import roles_required
from dispatch.district.service import district_today
from dispatch.exports import CSV_RESPONSE_DOC, csv_response
from dispatch.extensions import db
from dispatch.lessons.service import lesson_records
from dispatch.schools.views import blp as schools_blp
from dispatch.schools.views import visible_school
from dispatch.teachers.models import Teacher
from dispatch.validation import DateRange
from scheduling import format_hhmm

COLUMNS = ["tanggal", "mulai", "selesai", "kelas", "mapel", "guru", "status", "hadir", "materi", "catatan"]


class ExportQuery(DateRange):
    class_name = fields.String()


@schools_blp.route("/<school_id>/lesson-records.csv")
class LessonRecordsCsv(MethodView):
    @roles_required("district_admin", "school_operator")
    @schools_blp.arguments(ExportQuery, location="query")
    @schools_blp.doc(responses=CSV_RESPONSE_DOC)
    def get(self, args, school_id):
        """Held lessons of the school (or one class) as CSV, for the report-card system. Default: the last 30 days."""
        school = visible_school(school_id)
        last = args.get("to") or district_today()
        first = args.get("from_") or last - timedelta(days=30)
        sessions = lesson_records(school.npsn, first, last, args.get("class_name"))
        names = dict(
            db.session.execute(
                db.select(Teacher.id, Teacher.name).where(Teacher.id.in_({s.teacher_id for s in sessions}))
            ).all()
        )
        rows = (
            [s.date.isoformat(), format_hhmm(s.start_min), format_hhmm(s.end_min), s.order.class_name, s.order.subject,
             names.get(s.teacher_id, ""), "hadir" if s.status == "held" else "tidak hadir", s.present,
             s.topic, s.notes]
            for s in sessions
        )  # fmt: skip
        filename = f"catatan-pelajaran-{school.npsn}-{first.isoformat()}-{last.isoformat()}.csv"
        return csv_response(filename, COLUMNS, rows)
