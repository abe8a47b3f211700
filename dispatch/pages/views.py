"""Web pages for people: the teacher's phone app (`/guru`) and the school operator's pages (`/sekolah`).

Indonesian first, English on request (Flask-Babel; `i18n.py` picks the language). Phone-first and
light for a weak signal: one stylesheet, small scripts, the vendored Socket.IO client, nothing from
the internet. Every script and style is a static file (CSP `script-src 'self'; style-src 'self'`);
the data a page starts with travels in a JSON block, and the scripts talk to the API with the
cookie session and the CSRF token.
"""

from __future__ import annotations

import io
import time
from functools import wraps

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from dispatch import workflow
from dispatch.accounts import limits
from dispatch.accounts.service import authenticate
from dispatch.district.models import Kecamatan
from dispatch.district.service import district_now, get_district
from dispatch.exceptions import Conflict
from dispatch.extensions import db
from dispatch.orders.models import LessonSession, Order
from dispatch.orders.schemas import OrderOut
from dispatch.pages import strings
from dispatch.pages.i18n import supported
from dispatch.pages.student import rating_url
from dispatch.pages.timetable import timetable
from dispatch.schools.models import School
from dispatch.sqlite import writing
from dispatch.teachers.models import Teacher

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static/pages")


@bp.app_context_processor
def status_labels():
    """Order and session statuses as the pages show them."""
    return {"page_locale": str(get_locale()), "labels": strings.status_labels()}


HOME = {"school_operator": "pages.school", "teacher": "pages.teacher", "district_admin": "pages.district"}


def page_data(**extra) -> dict:
    """What every page's script starts with: its strings and the district's clock."""
    return {
        "t": strings.common(),
        "server_now": district_now().isoformat(timespec="seconds"),
        "server_epoch_ms": int(time.time() * 1000),
        **extra,
    }


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(HOME[current_user.role]))
    return redirect(url_for("pages.login"))


@bp.route("/masuk", methods=["GET", "POST"])
@limits.per_username
@limits.per_address
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        user = authenticate(username, request.form.get("password", ""))
        if user is not None:
            login_user(user)
            if chosen := supported(request.args.get("lang")):  # chosen on the login page: keep it
                user.language = chosen
                db.session.commit()
            return redirect(url_for(HOME[user.role]))
        limits.log_refused_login(username)
        error = _("Nama pengguna atau kata sandi salah.")
    return render_template("pages/login.html", error=error), (401 if error else 200)


@bp.errorhandler(429)
def _too_many_logins(_exc):
    """The login page says it plainly (the API answers JSON); Flask-Limiter adds Retry-After."""
    error = _("Terlalu banyak percobaan masuk yang gagal. Tunggu beberapa menit, lalu coba lagi.")
    return render_template("pages/login.html", error=error), 429


@bp.post("/keluar")
def logout():
    logout_user()
    return redirect(url_for("pages.login"))


@bp.get("/csrf")
def csrf_token():
    """A fresh CSRF token for a page that was opened long ago or from the offline copy."""
    return {"csrf_token": generate_csrf()}


def login_required(view):
    """Pages send a visitor who is not logged in to the login page (the API answers 401 instead)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("pages.login"))
        return view(*args, **kwargs)

    return wrapper


@bp.post("/bahasa")
@login_required
def language():
    """The language switch: saved on the user, so every page and device follows it."""
    chosen = supported(request.form.get("language"))
    if chosen is None:
        abort(400)
    current_user.language = chosen
    db.session.commit()
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("pages.index")
    return redirect(target)


def role_page(role: str):
    """Decorate a page for one role: others go to their own home page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role != role:
                return redirect(url_for(HOME[current_user.role]))
            return view(*args, **kwargs)

        return wrapper

    return decorator


@bp.get("/guru")
@role_page("teacher")
def teacher():
    """The teacher's app: offers, open orders near them, the week with check-in and records, ratings.

    The page is a shell (the service worker keeps a copy); its script draws the last known data at
    once and fetches fresh data when the signal allows."""
    teacher = db.session.get(Teacher, current_user.teacher_id)
    district = get_district()
    data = page_data(
        t={**strings.common(), **strings.teacher()},
        teacher_id=teacher.id,
        subjects=sorted(teacher.subjects),
        checkin_distance_m=district.checkin_distance_m,
        decline_reasons=strings.decline_reasons(),
        tags=strings.tag_labels(),
    )
    return render_template("pages/teacher.html", teacher=teacher, data=data, weekday_names=strings.weekdays())


@bp.get("/guru/manifest.webmanifest")
def manifest():
    body = {
        "name": "guru online",
        "short_name": "guru online",
        "start_url": "/guru",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f5f7",
        "theme_color": "#0b5d3b",
        "lang": str(get_locale()),
        "icons": [{"src": url_for("pages.static", filename="icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = current_app.response_class(current_app.json.dumps(body), mimetype="application/manifest+json")
    return response


@bp.get("/sw.js")
def service_worker():
    """The teacher app's service worker, from the root so that its scope covers /guru and the assets."""
    response = send_from_directory(bp.static_folder, "js/sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sekolah")
@role_page("school_operator")
def school():
    """The school's orders, followed live, and the form to post one."""
    school = db.session.get(School, current_user.school_id)
    orders = db.session.scalars(
        db.select(Order).where(Order.school_id == school.npsn).order_by(Order.id.desc()).limit(50)
    ).all()
    classes = sorted({o.class_name for o in orders})
    level = school.level if school.level != "SLB" else "SD"
    data = page_data(
        t={**strings.common(), **strings.school()},
        school_id=school.npsn,
        timetable=timetable(level),
        today=district_now().date().isoformat(),
        orders=OrderOut(many=True).dump(orders),
    )
    return render_template(
        "pages/school.html",
        school=school,
        orders=orders,
        classes=classes,
        subjects=get_district().subjects,
        levels=[school.level] if school.level != "SLB" else ["SD", "SMP", "SMA", "SMK"],
        periods=timetable(level),
        reasons=strings.order_reasons(),
        weekdays=strings.weekdays(),
        data=data,
        not_live=_kecamatan_not_live(school),
    )


def _kecamatan_not_live(school: School) -> str | None:
    """The name of the school's kecamatan when the district has not switched it live yet (rollout)."""
    kecamatan = db.session.get(Kecamatan, school.kecamatan_code) if school.kecamatan_code else None
    return kecamatan.name if kecamatan is not None and not kecamatan.live else None


@bp.get("/sekolah/guru")
@role_page("school_operator")
def school_teachers():
    """Favourite and blocked teachers, chosen by name."""
    school = db.session.get(School, current_user.school_id)
    teachers = db.session.scalars(db.select(Teacher).order_by(Teacher.name)).all()
    data = page_data(t={**strings.common(), **strings.school()}, school_id=school.npsn)
    return render_template(
        "pages/school_teachers.html",
        school=school,
        teachers=teachers,
        favourites={t.id for t in school.favourites},
        blocked={t.id for t in school.blocked},
        data=data,
    )


@bp.get("/sekolah/kode/<int:session_id>")
@role_page("school_operator")
def rating_card(session_id: int):
    """A held lesson's rating code as a big QR card to show the class (the QR drawn here, as SVG)."""
    session = db.session.get(LessonSession, session_id)
    if session is None or session.order.school_id != current_user.school_id:
        abort(404)
    # A GET that writes (the lesson is held, the code made): on SQLite its reads so far began a deferred
    # transaction, and the service's clock committing before this write made it fail at once with
    # "database is locked" (a CI run's browser test). Begun again, taking the write lock first.
    db.session.rollback()
    with writing():
        try:
            code, valid_until = workflow.rating_code(current_user, session_id)  # a started, checked-in lesson is held
        except Conflict:
            db.session.rollback()
            return render_template("pages/rating_card.html", session=session, code=None, svg=None, url=None), 409
        db.session.commit()
    url = rating_url(code)
    return render_template(
        "pages/rating_card.html", session=session, code=code, valid_until=valid_until, url=url, svg=qr_svg(url)
    )


def qr_svg(text: str) -> str:
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=10, border=2, xmldecl=False, svgns=True,
                                     title=_("Kode QR untuk menilai pelajaran"))  # fmt: skip
    return out.getvalue().decode()
