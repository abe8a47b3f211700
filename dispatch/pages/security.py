"""CSRF for the pages: every write that rides on the cookie session must carry the token.

Flask-WTF's `CSRFProtect` checks by default every POST; here it checks those that could be
forged: any request carrying the session cookie, and every form post to a page (the login form
included). An API call with a bearer token and no cookie is not something a foreign site can
make a browser send, so it is left alone (phones, district tools, the tests' API clients).
"""

from __future__ import annotations

from flask import Flask, jsonify, redirect, request, url_for
from flask_wtf.csrf import CSRFError

from dispatch.extensions import csrf

CHECKED_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def _needs_check() -> bool:
    if request.method not in CHECKED_METHODS:
        return False
    from flask import current_app

    has_cookie_session = current_app.config["SESSION_COOKIE_NAME"] in request.cookies
    return has_cookie_session or not request.path.startswith("/api/")


def install(app: Flask) -> None:
    csrf.init_app(app)

    @app.before_request
    def _check_csrf():
        if _needs_check():
            csrf.protect()

    @app.errorhandler(CSRFError)
    def _csrf_failed(exc: CSRFError):
        if not request.path.startswith("/api/"):
            # A page's form from a session that has since ended: show the page again, with a fresh token.
            return redirect(
                url_for("pages.login") if request.path == url_for("pages.login") else url_for("pages.index")
            )
        # The header the pages' scripts send, named as any other bad field is.
        message = f"X-CSRFToken: {exc.description}"
        return jsonify(code=400, status="Bad Request", message=message,
                       errors={"headers": {"X-CSRFToken": [exc.description]}}), 400  # fmt: skip
