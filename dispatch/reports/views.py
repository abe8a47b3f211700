"""Reports as downloads (CSV or XLSX): coverage tables, lesson records for report cards, teaching hours."""

from __future__ import annotations

from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from dispatch.accounts.auth import roles_required
from dispatch.coverage.schemas import CoverageQuery
from dispatch.coverage.service import DIMENSIONS, FILTERS, coverage
from dispatch.coverage.views import query_range
from dispatch.district.service import district_today
from dispatch.exceptions import Invalid, NotFound
from dispatch.extensions import db
from dispatch.reports.files import DOWNLOAD_DOC, FORMATS, Sheet, download
from dispatch.reports.service import lesson_record_rows, month_range, school_name, teaching_hours
from dispatch.schools.models import School

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports and exports (CSV, XLSX)")

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="a month as YYYY-MM")


class CoverageExportQuery(CoverageQuery):
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))
    by = fields.String(
        load_default="kecamatan",
        validate=validate.OneOf((*DIMENSIONS, "all")),
        metadata={"description": "one table; `all` (XLSX) puts kecamatan, school, subject, level and week "
                  "each on its own sheet (CSV: kecamatan)"},
    )  # fmt: skip


class MonthQuery(Schema):
    month = fields.String(validate=MONTH, metadata={"description": "YYYY-MM; default this month"})
    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))


class LessonRecordsQuery(MonthQuery):
    school_id = fields.String(
        validate=validate.Length(8, 8), metadata={"description": "NPSN; a school operator's own school by default"}
    )


def _month(args) -> tuple:
    return month_range(args.get("month") or district_today().strftime("%Y-%m"))


def coverage_sheet(data: dict) -> Sheet:
    """A coverage table with the same numbers as GET /api/v1/coverage for the same query."""
    by = data["by"]
    extra = {"school": [_("Kecamatan"), _("Jenjang")], "week": [_("Dari"), _("Sampai")]}.get(by, [])
    header = [_("Kode"), _("Nama"), *extra, _("Sesi diminta"), _("Sesi terisi"), _("Sesi terlaksana"), _("Cakupan"),
              _("JP diminta"), _("JP terisi"), _("JP terlaksana"), _("JP belum terisi"), _("Setara guru belum terisi")]  # fmt: skip

    def cells(r: dict) -> list:
        more = {"school": [r.get("kecamatan_name") or "", r.get("level", "")], "week": [r.get("from"), r.get("to")]}
        return [r["key"], r["name"], *more.get(by, []), r["sessions"], r["booked"], r["held"], r["coverage"],
                r["periods"], r["booked_periods"], r["held_periods"], r["unfilled_periods"],
                r["unfilled_teacher_equivalents"]]  # fmt: skip

    titles = {"kecamatan": _("Kecamatan"), "school": _("Sekolah"), "subject": _("Mata pelajaran"),
              "level": _("Jenjang"), "week": _("Minggu")}  # fmt: skip
    total = data["total"]
    rows = [cells(r) for r in data["rows"]]
    rows.append(["total", _("Jumlah"), *[""] * len(extra), *cells({**total, "name": ""})[2 + len(extra) :]])
    return Sheet(titles[by], header, rows)


@blp.route("/coverage")
class CoverageExport(MethodView):
    @roles_required("district_admin")
    @blp.arguments(CoverageExportQuery, location="query")
    @blp.doc(responses=DOWNLOAD_DOC)
    def get(self, args):
        """Coverage by kecamatan, school, subject, level or week (or all of them, XLSX) as CSV or XLSX: the same
        rows, numbers and filters as GET /api/v1/coverage, with names, and a total row."""
        first, last = query_range(args)
        filters = {k: args.get(k) for k in FILTERS}
        dims = DIMENSIONS if args["by"] == "all" else (args["by"],)
        if args["format"] == "csv":
            dims = dims[:1]
        sheets = [coverage_sheet(coverage(first, last, by, filters, args["sort"])) for by in dims]
        name = f"cakupan-{args['by']}-{first.isoformat()}-{last.isoformat()}"
        return download(args["format"], name, sheets)


@blp.route("/lesson-records")
class LessonRecords(MethodView):
    @roles_required("district_admin", "school_operator")
    @blp.arguments(LessonRecordsQuery, location="query")
    @blp.doc(responses=DOWNLOAD_DOC)
    def get(self, args):
        """One school's lessons of one month for the report cards (e-Rapor): class, subject, date, time,
        periods, teacher, NUPTK, whether taught, topic, students present, notes; by class, subject and date."""
        school_id = args.get("school_id")
        if current_user.role == "school_operator":
            if school_id and school_id != current_user.school_id:
                raise NotFound(f"No school {school_id}.")
            school_id = current_user.school_id
        if not school_id:
            raise Invalid("school_id", "name the school (NPSN)", location="query")
        if db.session.get(School, school_id) is None:
            raise NotFound(f"No school {school_id}.")
        first, last = _month(args)
        header = [_("Kelas"), _("Kode mapel"), _("Mata pelajaran"), _("Tanggal"), _("Mulai"), _("Selesai"), _("JP"),
                  _("Guru"), _("NUPTK"), _("Kehadiran guru"), _("Materi"), _("Siswa hadir"), _("Catatan")]  # fmt: skip
        rows = [
            [r["class_name"], r["subject"], r["subject_name"], r["date"].isoformat(), r["start"], r["end"], r["periods"],
             r["teacher"], r["nuptk"], _("hadir") if r["held"] else _("tidak hadir"), r["topic"],
             r["present"] if r["present"] is not None else "", r["notes"]]
            for r in lesson_record_rows(school_id, first, last)
        ]  # fmt: skip
        title = f"{school_name(school_id)[:20]} {first:%Y-%m}"
        return download(args["format"], f"catatan-pelajaran-{school_id}-{first:%Y-%m}", [Sheet(title, header, rows)])


@blp.route("/teaching-hours")
class TeachingHours(MethodView):
    @roles_required("district_admin")
    @blp.arguments(MonthQuery, location="query")
    @blp.doc(responses=DOWNLOAD_DOC)
    def get(self, args):
        """Teaching hours (JP) per teacher in one month, for the honorarium: lessons and periods taught, schools
        taught at; beside them the periods missed (no-show) and still booked ahead, which are not paid."""
        first, last = _month(args)
        header = [_("ID guru"), _("Nama"), _("NUPTK"), _("Kecamatan tempat tinggal"), _("Sesi terlaksana"),
                  _("JP terlaksana"), _("Jumlah sekolah"), _("JP tidak hadir"), _("JP terjadwal belum terlaksana")]  # fmt: skip
        rows = [
            [r["teacher_id"], r["name"], r["nuptk"], r["kecamatan"], r["held_sessions"], r["held_periods"],
             r["schools"], r["no_show_periods"], r["booked_periods"]]
            for r in teaching_hours(first, last)
        ]  # fmt: skip
        return download(args["format"], f"jam-mengajar-{first:%Y-%m}", [Sheet(f"JP {first:%Y-%m}", header, rows)])
