"""The student's rating page: `/nilai/<code>` (the lesson's QR opens it), and `/nilai` to type a code.

No login and no script: a plain form with big stars and the tag list, sent with one tap, so it works
on a slow, old phone (about 5 KB with its stylesheet). The page gives the browser its device token
(`dispatch/ratings/device.py`); a second rating of the same lesson from the same browser is refused plainly.
"""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dispatch.exceptions import DomainError
from dispatch.extensions import db, limiter
from dispatch.ratings.device import ensure_device_cookie, rating_device
from dispatch.ratings.models import TAGS

bp = Blueprint("student", __name__, template_folder="templates")

TAG_LABELS = {
    "jelas": _l("Jelas"),
    "menarik": _l("Menarik"),
    "sabar": _l("Sabar"),
    "tepat_waktu": _l("Tepat waktu"),
    "membantu": _l("Membantu"),
    "kurang_jelas": _l("Kurang jelas"),
    "terlambat": _l("Terlambat"),
    "membosankan": _l("Membosankan"),
}
CODE_CHARS = 12


def rating_url(code: str) -> str:
    """What the lesson's QR encodes: this service's public address (PUBLIC_URL), else the request's host."""
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    return f"{base}/nilai/{code}"


def _clean(code: str) -> str:
    return "".join(ch for ch in code.strip().upper() if ch.isalnum())[:CODE_CHARS]


def _page(code: str, state: str, status: int = 200, session=None, error: str | None = None, stars: int | None = None):
    response = make_response(
        render_template(
            "pages/rate.html",
            code=code,
            state=state,
            lesson=session,
            tags=[(tag, TAG_LABELS[tag]) for tag in TAGS],
            error=error,
            stars=stars,
        ),
        status,
    )
    ensure_device_cookie(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/nilai")
def enter_code():
    """A form to type the code the teacher shows (for a phone without a camera)."""
    if code := _clean(request.args.get("code", "")):
        return redirect(url_for("student.rate_page", code=code))
    return _page("", "enter")


def _lesson_state(code: str):
    from dispatch.ratings.service import code_open, session_for_code

    session = session_for_code(code)
    if session is None:
        return None, "unknown"
    if not code_open(session):
        return session, "closed"
    return session, "open"


@bp.get("/nilai/<code>")
def rate_page(code: str):
    code = _clean(code)
    session, state = _lesson_state(code)
    if state == "open":
        from dispatch.ratings.device import token_device
        from dispatch.ratings.service import already_rated

        if token_device() is not None and already_rated(session, rating_device(None)):
            state = "done"
    status = {"unknown": 404, "closed": 410}.get(state, 200)
    return _page(code, state, status, session)


def _rating_limit() -> str:
    return current_app.config["RATINGS_RATE_LIMIT"]


@bp.post("/nilai/<code>")
@limiter.shared_limit(_rating_limit, scope="ratings")
def rate_submit(code: str):
    """The form's one tap: the same rules as POST /api/v1/ratings, the device being this browser's token."""
    from dispatch.ratings.service import rate

    code = _clean(code)
    session, state = _lesson_state(code)
    if state != "open":
        return _page(code, state, {"unknown": 404, "closed": 410}[state], session)
    stars_text = request.form.get("stars", "")
    tags = [t for t in request.form.getlist("tags") if t in TAGS]
    if stars_text not in ("1", "2", "3", "4", "5"):
        return _page(code, "open", 422, session, error=_("Pilih jumlah bintang dulu."))
    from dispatch.ratings.device import token_device

    if token_device() is None:  # a browser that refused the cookie: it cannot be told apart from others
        return _page(code, "open", 422, session, error=_("Izinkan cookie untuk halaman ini, lalu coba lagi."))
    try:
        rate(code, int(stars_text), tags, rating_device(None))
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        if refused.status == 409:
            return _page(code, "done", 409, session)
        return _page(code, "closed", refused.status, session)
    return _page(code, "thanks", 201, session, stars=int(stars_text))
