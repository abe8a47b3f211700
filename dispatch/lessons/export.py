"""Lesson records as CSV for a school's report cards: attendance and topics per class."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Response
from flask.views import MethodView
from marshmallow import fields

from dispatch.accounts.auth import roles_required
from dispatch.district.service import district_today
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
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for s in sessions:
            writer.writerow([s.date.isoformat(), format_hhmm(s.start_min), format_hhmm(s.end_min), s.order.class_name, s.order.subject,
                             names.get(s.teacher_id, ""), "hadir" if s.status == "held" else "tidak hadir", s.present if s.present is not None else "",
                             s.topic or "", s.notes or ""])  # fmt: skip
        filename = f"catatan-pelajaran-{school.npsn}-{first.isoformat()}-{last.isoformat()}.csv"
        return Response(
            "\ufeff" + out.getvalue(),  # a BOM, so that spreadsheet programs read UTF-8
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
