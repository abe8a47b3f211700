"""The district office's pages (`/dinas`): the dashboard of the shortage with its map, a school's detail,
the weekly plan and what-if hiring, rollout, reports, and the monthly report to print.

Desktop first, usable on a phone. Drawn on the server (the map and charts are SVG), one stylesheet
and one script from this app's static folder (CSP `script-src 'self'; style-src 'self'`), the page's
data in a JSON block; the script refreshes the numbers when bookings happen (Socket.IO) and talks to
the API with the cookie session.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from dispatch.coverage.names import LEVEL_NAMES, subject_name
from dispatch.coverage.service import coverage
from dispatch.district.models import Kecamatan
from dispatch.district.service import district_today, get_district
from dispatch.extensions import db
from dispatch.orders.models import LessonSession, Order
from dispatch.pages.views import HOME, bp, login_required
from dispatch.reports.dashboard import dashboard, default_week, latest_plan, term_of
from dispatch.reports.geo import shade
from dispatch.reports.service import month_range, teaching_hours
from dispatch.runs.models import MatchingRun
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher
from scheduling import format_hhmm, week_of


@bp.app_context_processor
def _district_helpers():
    return {"shade": shade, "timedelta": timedelta, "subject_name": subject_name}


# The dashboard's query: Indonesian names in the address bar, the coverage filters behind them.
FILTER_ARGS = {"kecamatan": "kecamatan_code", "mapel": "subject", "jenjang": "level"}


def _admin_only():
    if current_user.role != "district_admin":
        abort(403)


def _week() -> date:
    text = request.args.get("minggu", "")
    try:
        return week_of(date.fromisoformat(text))[0]
    except ValueError:
        return default_week(district_today())


def _filters() -> dict:
    return {target: request.args[arg] for arg, target in FILTER_ARGS.items() if request.args.get(arg)}


def _term_mondays(monday: date) -> list[date]:
    first, last = term_of(monday)
    day, out = week_of(first)[0], []
    while day <= last:
        out.append(day)
        day += timedelta(days=7)
    return out


def _filter_labels(filters: dict) -> list[dict]:
    """The active filters as the page names them, each with the address that drops it."""
    names = {"kecamatan_code": lambda v: (db.session.get(Kecamatan, v).name if db.session.get(Kecamatan, v) else v),
             "subject": subject_name, "level": lambda v: LEVEL_NAMES.get(v, v)}  # fmt: skip
    out = []
    for arg, target in FILTER_ARGS.items():
        if target in filters:
            rest = {a: request.args[a] for a in (*FILTER_ARGS, "minggu") if request.args.get(a) and a != arg}
            out.append({"label": names[target](filters[target]), "clear": url_for("pages.district", **rest)})
    return out


def _runs(kind: str | None = None) -> list[MatchingRun]:
    query = db.select(MatchingRun).order_by(MatchingRun.id.desc()).limit(10)
    if kind and hasattr(MatchingRun, "kind"):
        query = query.where(MatchingRun.kind == kind)
    return db.session.scalars(query).all()


def _map_info(m: dict, monday: date) -> dict:
    """What a click on the map shows, keyed as the map's elements name them ("k:<code>", "s:<npsn>")."""

    def numbers(r):
        keys = ("sessions", "periods", "booked_periods", "held_periods", "unfilled_periods")
        out = dict(
            zip(("sessions", "periods", "booked", "held", "unfilled"), (r[k] if r else 0 for k in keys), strict=True)
        )
        return {**out, "te": r["unfilled_teacher_equivalents"] if r else 0, "coverage": r["coverage"] if r else None}

    week = monday.isoformat()
    info = {}
    for k in m["areas"]:
        info[f"k:{k['area'].code}"] = {"kind": "kecamatan", "code": k["area"].code, "name": k["name"], "live": k["live"],
                                       "url": url_for("pages.district", kecamatan=k["area"].code, minggu=week),
                                       **numbers(k["row"])}  # fmt: skip
    for sc in m["schools"]:
        info[f"s:{sc['npsn']}"] = {"kind": "school", "code": sc["npsn"], "name": sc["name"],
                                   "url": url_for("pages.district_school", npsn=sc["npsn"], minggu=week),
                                   **numbers(sc["row"])}  # fmt: skip
    return info


def _context(monday: date) -> dict:
    filters = _filters()
    district = get_district()
    data = dashboard(monday, monday + timedelta(days=6), filters)
    query = {a: request.args[a] for a in FILTER_ARGS if request.args.get(a)}
    return {
        "district": district,
        "monday": monday,
        "mondays": _term_mondays(monday),
        "d": data,
        "query": query,
        "query_api": filters,
        "map_info": lambda m: _map_info(m, monday),
        "run_labels": {
            "queued": _("antre"),
            "running": _("berjalan"),
            "done": _("selesai"),
            "failed": _("gagal"),
            "cancelled": _("dibatalkan"),
        },  # fmt: skip
        "filter_labels": _filter_labels(filters),
        "plan": latest_plan(),
        "kecamatan": db.session.scalars(db.select(Kecamatan).order_by(Kecamatan.name)).all(),
        "schools": db.session.execute(db.select(School.npsn, School.name).order_by(School.name)).all(),
        "this_month": district_today().strftime("%Y-%m"),
        "plan_runs": _runs("plan"),
        "what_ifs": _runs("what_if") if hasattr(MatchingRun, "kind") else [],
    }


def _strings() -> dict:
    """Words the page's script shows, in the page's language."""
    return {
        "connected": _("tersambung"), "reconnecting": _("terputus, menyambung ulang…"),
        "not_connected": _("belum tersambung"), "updated": _("diperbarui %(time)s"),
        "failed": _("Gagal, coba lagi."), "saved": _("Tersimpan."),
        "kecamatan": _("Kecamatan"), "school": _("Sekolah"), "requested": _("JP diminta"),
        "booked": _("JP terisi"), "held": _("JP terlaksana"), "unfilled": _("JP belum terisi"),
        "te": _("setara guru belum terisi"), "coverage": _("cakupan"), "live": _("aktif"),
        "not_live": _("belum aktif"), "switch_on": _("Aktifkan"), "switch_off": _("Nonaktifkan"),
        "detail": _("Lihat rincian"), "no_lessons": _("Tidak ada pelajaran diminta minggu ini."),
        "queued": _("antre"), "running": _("berjalan"), "done": _("selesai"), "failed_run": _("gagal"),
        "cancelled": _("dibatalkan"), "phase": _("Tahap"), "best": _("Cakupan terbaik"), "bound": _("Batas atas"),
        "seconds": _("detik"), "offers": _("tawaran dikirim"), "ratio": _("÷ batas atas"),
        "before": _("Sekarang"), "after": _("Dengan guru baru"), "gain": _("Tambahan"),
        "periods": _("JP"), "teachers_added": _("guru ditambah"), "subject": _("Mata pelajaran"),
        "cancel": _("Batalkan"), "scenario": _("Skenario"),
    }  # fmt: skip


@bp.get("/dinas")
@login_required
def district():
    """The dashboard: a week's shortage by kecamatan, school, subject and level, the map, the term's
    fill rate; the weekly plan, what-if hiring, rollout, equity and reports."""
    if current_user.role != "district_admin":
        return redirect(url_for(HOME[current_user.role]))
    monday = _week()
    context = _context(monday)
    page = {
        "t": _strings(),
        "refresh": url_for("pages.district_part", part="panels", minggu=monday.isoformat(), **context["query"]),
        "runs_part": url_for("pages.district_part", part="runs"),
        "week": monday.isoformat(),
        "kecamatan": {k.code: k.name for k in context["kecamatan"]},
        # What the progress bar counts toward: the solver's seconds for a week (twice for a what-if).
        "plan_seconds": current_app.config["MATCHING_TIME_LIMIT"] + 10,
        "whatif_seconds": 2 * current_app.config["MATCHING_WHATIF_TIME_LIMIT"] + 10,
    }
    return render_template("pages/district/dashboard.html", page=page, **context)


@bp.get("/dinas/bagian/<part>")
@login_required
def district_part(part: str):
    """One part of the dashboard, drawn again for the live refresh: the numbers, or the runs' history."""
    _admin_only()
    if part not in ("panels", "runs"):
        abort(404)
    context = _context(_week())
    return render_template(f"pages/district/_{part}.html", **context)


@bp.get("/dinas/sekolah/<npsn>")
@login_required
def district_school(npsn: str):
    """One school's week: its numbers by subject and its orders with every session, status and teacher."""
    _admin_only()
    school = db.session.get(School, npsn) or abort(404)
    monday = _week()
    sunday = monday + timedelta(days=6)
    rows = db.session.execute(
        db.select(LessonSession, Order, Teacher.name)
        .join(Order, LessonSession.order_id == Order.id)
        .outerjoin(Teacher, LessonSession.teacher_id == Teacher.id)
        .where(Order.school_id == npsn, LessonSession.date.between(monday, sunday))
        .order_by(Order.class_name, Order.subject, LessonSession.date, LessonSession.start_min)
    ).all()
    lessons = [{"class_name": o.class_name, "subject": o.subject, "subject_name": subject_name(o.subject),
                "date": s.date, "time": f"{format_hhmm(s.start_min)}–{format_hhmm(s.end_min)}", "periods": s.periods,
                "status": s.status, "teacher": name or "", "order_id": o.id} for s, o, name in rows]  # fmt: skip
    by_subject = coverage(monday, sunday, "subject", {"school_id": npsn}, "worst")
    kecamatan = db.session.get(Kecamatan, school.kecamatan_code) if school.kecamatan_code else None
    return render_template(
        "pages/district/school.html", school=school, kecamatan=kecamatan, monday=monday, lessons=lessons,
        by_subject=by_subject, page={"t": _strings()},
    )  # fmt: skip


@bp.get("/dinas/laporan")
@login_required
def district_report():
    """The monthly district report, to print (or save as PDF from the browser's print dialog): the map,
    the weekly fill rate, the tables by kecamatan, subject and level, the worst-covered schools, and the
    teaching hours paid."""
    _admin_only()
    month = request.args.get("bulan") or district_today().strftime("%Y-%m")
    try:
        first, last = month_range(month)
    except Exception:  # noqa: BLE001 - a bad month in the address: this month instead
        first, last = month_range(district_today().strftime("%Y-%m"))
    data = dashboard(first, last, {})
    hours = teaching_hours(first, last)
    return render_template(
        "pages/district/report.html", district=get_district(), d=data, first=first, last=last,
        hours={"teachers": len(hours), "periods": sum(h["held_periods"] for h in hours),
               "sessions": sum(h["held_sessions"] for h in hours)},
        plan=latest_plan(), printed=district_today(), page={"t": _strings()},
    )  # fmt: skip
