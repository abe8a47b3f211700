"""Browser-facing protection: security headers (flask-talisman) and CSRF (Flask-WTF).

Headers on every response: a Content-Security-Policy that allows only this service's own scripts,
styles, images and connections (no inline script or style: the pages keep theirs in static files),
`frame-ancestors 'none'` and `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`, a
same-origin `Referrer-Policy`. In production (HTTPS_ONLY): HSTS, a redirect to https and the
session cookie marked `Secure`; development keeps plain http working.

CSRF: every write that rides on the cookie session (pages, and the API called from pages) must
carry the session's token, as the `X-CSRFToken` header (scripts read it from
`<meta name="csrf-token">`) or a hidden `csrf_token` form field. Requests that authenticate with
`Authorization: Bearer` carry no cookie a third site could use and are exempt, as are API writes
that arrive with no session cookie at all (phones, scripts, the rating API without the page).
"""

from __future__ import annotations

from flask import Flask, render_template_string, request
from flask_wtf.csrf import CSRFError

from dispatch.extensions import csrf, talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/"
EXEMPT_PATHS = ("/healthz",)


def _csrf_check() -> None:
    from flask import current_app

    if request.method not in WRITE_METHODS or not request.endpoint or not current_app.config["WTF_CSRF_ENABLED"]:
        return
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return
    if request.path.startswith(API_PREFIX) and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return  # no cookie session to ride on
    csrf.protect()


def _docs_page():
    """Swagger UI without its inline script (the CSP allows none): the start-up script is a static file."""
    from flask import url_for

    return render_template_string(
        "<!doctype html><html><head><meta charset='utf-8'><title>guru online API</title>"
        "<link rel='stylesheet' href='/api/v1/docs/static/swagger-ui.css'></head><body>"
        "<div id='swagger-ui-container' data-spec-url='/api/v1/openapi.json'></div>"
        "<script src='/api/v1/docs/static/swagger-ui-bundle.js'></script>"
        "<script src='{{ start }}'></script></body></html>",
        start=url_for("pages.static", filename="swagger-start.js"),
    )


def install(app: Flask) -> None:
    https = app.config["HTTPS_ONLY"]
    talisman.init_app(
        app,
        force_https=https,
        strict_transport_security=https,
        strict_transport_security_max_age=365 * 24 * 3600,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="same-origin",
        x_content_type_options=True,
        x_xss_protection=False,  # obsolete; the CSP does this job
    )
    # Health checks come from the load balancer over plain http.
    app.view_functions["healthz"] = talisman(force_https=False)(app.view_functions["healthz"])
    if "api-docs.openapi_swagger_ui" in app.view_functions:
        app.view_functions["api-docs.openapi_swagger_ui"] = _docs_page

    csrf.init_app(app)
    app.before_request(_csrf_check)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        from flask import jsonify, redirect, url_for

        if not request.path.startswith(API_PREFIX):
            # A page's form from a session that has since ended: show the page again, with a fresh token.
            login = url_for("pages.login")
            return redirect(login if request.path == login else url_for("pages.index"))
        message = f"{exc.description} Reload the page and try again."
        return jsonify(
            code=400, status="Bad Request", message=message, errors={"headers": {"X-CSRFToken": [exc.description]}}
        ), 400
