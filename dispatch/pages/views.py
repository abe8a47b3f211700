from functools import wraps

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from dispatch.accounts import limits
from dispatch.accounts.service import authenticate
from dispatch.extensions import db
from dispatch.offers.service import open_offers
from dispatch.orders.models import Order

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static/pages")


@bp.app_context_processor
def status_labels():
    """Order and session statuses as the pages show them."""
    return {
        "page_locale": str(get_locale()),
        "labels": {
            "open": _("terbuka"),
            "offered": _("ditawarkan"),
            "partly_booked": _("sebagian terisi"),
            "booked": _("terisi"),
            "held": _("terlaksana"),
            "completed": _("selesai"),
            "no_show": _("guru tidak hadir"),
            "cancelled": _("dibatalkan"),
            "expired": _("kedaluwarsa"),
        },
    }


HOME = {"school_operator": "pages.school", "teacher": "pages.teacher", "district_admin": "pages.district"}


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


def login_required(view):
    """Pages send a visitor who is not logged in to the login page (the API answers 401 instead)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("pages.login"))
        return view(*args, **kwargs)

    return wrapper


def _role_page(role: str):
    if current_user.role != role:
        return redirect(url_for(HOME[current_user.role]))
    return None


@bp.get("/sekolah")
@login_required
def school():
    """The school's orders, newest first; the page follows them live over Socket.IO."""
    if (other := _role_page("school_operator")) is not None:
        return other
    orders = db.session.scalars(
        db.select(Order).where(Order.school_id == current_user.school_id).order_by(Order.id.desc()).limit(50)
    ).all()
    return render_template("pages/school.html", orders=orders)


@bp.get("/guru")
@login_required
def teacher():
    """The teacher's open offers; new ones appear live, taken or expired ones go."""
    if (other := _role_page("teacher")) is not None:
        return other
    return render_template("pages/teacher.html", offers=open_offers(current_user.teacher_id))


@bp.get("/dinas")
@login_required
def district():
    if (other := _role_page("district_admin")) is not None:
        return other
    return render_template("pages/district.html")
