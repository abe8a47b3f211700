"""The web application: `create_app(config)` builds it; `wsgi.py` serves it."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, send_from_directory

from config import Config

SOCKETIO_PATH = "socket.io"  # Socket.IO's own middleware and the live-connection cap both answer under it


def create_app(config: type[Config] | Config) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config)
    from dispatch.secret_key import ensure_secret_key

    ensure_secret_key(app)  # production stops here, in one line, without a real SECRET_KEY
    app.json.sort_keys = False  # fields in the order the schemas declare them
    _make_sqlite_folder(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    from dispatch.extensions import api, babel, db, limiter, login_manager, migrate, socketio

    db.init_app(app)
    from types import SimpleNamespace

    from dispatch import postgres, sqlite
    from dispatch.db_time import utc_sessions
    from dispatch.district.service import district_today, get_district
    from dispatch.validation import DISTRICT_SETTINGS

    app.extensions[DISTRICT_SETTINGS] = SimpleNamespace(settings=get_district, today=district_today)
    with app.app_context():
        sqlite.configure(db.engine)
        postgres.configure(db.engine, app)  # statement and idle-transaction timeouts: fail fast, 503
        utc_sessions(db.engine)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    from dispatch.pages.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)  # Indonesian first: BABEL_DEFAULT_LOCALE is "id"
    limiter.init_app(app)
    from dispatch.validation import IdConverter, id_param_schema

    app.url_map.converters["id"] = IdConverter
    api.init_app(app)
    api.register_converter(IdConverter, id_param_schema)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]

    from dispatch import models  # noqa: F401  (every table known before the first query)
    from dispatch.accounts import auth  # noqa: F401  (registers the login loaders)
    from dispatch.accounts.views import blp as accounts_blp
    from dispatch.bookings.views import blp as bookings_blp
    from dispatch.coverage.views import blp as coverage_blp
    from dispatch.district.views import blp as district_blp
    from dispatch.imports.views import blp as imports_blp
    from dispatch.lessons import export  # noqa: F401  (adds the CSV route to the schools blueprint)
    from dispatch.lessons.views import blp as lessons_blp
    from dispatch.live import sessions as live_sessions
    from dispatch.offers.views import blp as offers_blp
    from dispatch.orders.views import blp as orders_blp
    from dispatch.ratings.views import blp as ratings_blp
    from dispatch.reports.views import blp as reports_blp
    from dispatch.runs.views import blp as runs_blp
    from dispatch.schools.views import blp as schools_blp
    from dispatch.teachers.views import blp as teachers_blp

    for blueprint in (
        accounts_blp,
        district_blp,
        schools_blp,
        teachers_blp,
        orders_blp,
        bookings_blp,
        offers_blp,
        lessons_blp,
        ratings_blp,
        coverage_blp,
        runs_blp,
        imports_blp,
        reports_blp,
    ):
        api.register_blueprint(blueprint)

    from dispatch.pages import district as _district_pages  # noqa: F401  (the /dinas routes, on the blueprint)
    from dispatch.pages.student import bp as student_bp
    from dispatch.pages.views import bp as pages_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(student_bp)

    from dispatch.live import events  # noqa: F401  (the connect handler, before init_app binds it)
    from dispatch.live.outbox import install as install_outbox

    install_outbox()
    live_sessions.install()
    socketio.init_app(
        app,
        async_mode="threading",
        client_manager=_client_manager(app),
        ping_interval=app.config["SOCKETIO_PING_INTERVAL"],
        path=SOCKETIO_PATH,
    )
    from dispatch.live import pings
    from dispatch.live.capacity import LiveConnectionLimit

    pings.install()  # one thread for every socket's pings (threading mode)

    # Outside Socket.IO's own middleware: a refused phone costs no socket, thread or query.
    app.wsgi_app = app.extensions["live_connection_limit"] = LiveConnectionLimit(
        app.wsgi_app, app.config["LIVE_CONNECTIONS_MAX"], path=SOCKETIO_PATH
    )

    from dispatch import jobs

    jobs.init_app(app)  # the job queue: solver runs go to the worker process

    from dispatch.errors import register_error_handlers

    register_error_handlers(app)

    from dispatch.cli import register_cli

    register_cli(app)
    _serve_swagger_assets(app)

    from dispatch import headers, health, input_guard

    health.install(app)
    input_guard.install(app)
    headers.install(app)
    return app


def _client_manager(app: Flask):
    """Socket.IO's client manager: through Redis when configured (several processes), else local.
    Either can close every connection of one user (dispatch/live/manager.py)."""
    from dispatch.live.resync import client_manager

    # Through Redis: resubscribes every LIVE_RESUBSCRIBE_SECONDS after an outage, then tells its phones to resync.
    return client_manager(
        app.config["REDIS_URL"], app.config["SOCKETIO_CHANNEL"], app.config["LIVE_RESUBSCRIBE_SECONDS"]
    )


def _make_sqlite_folder(url: str) -> None:
    """A new user's first start: the folder of the SQLite file may not exist yet."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and len(url) > len(prefix):
        Path(url[len(prefix) :]).parent.mkdir(parents=True, exist_ok=True)


def _serve_swagger_assets(app: Flask) -> None:
    """Swagger UI's scripts from the installed swagger-ui-bundle package: no CDN at run time."""
    import swagger_ui_bundle

    @app.get("/api/v1/docs/static/<path:filename>")
    def swagger_static(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
