"""Errors as JSON: a client's mistake gets a 4xx naming the field, never a 500."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from dispatch.exceptions import DomainError, Invalid
from dispatch.extensions import db

log = logging.getLogger(__name__)


def domain_error_response(exc: DomainError):
    """The contract's JSON for a refused request: code, status, message, and the field errors if any."""
    body = {"code": exc.status, "status": HTTPStatus(exc.status).phrase, "message": exc.message}
    if isinstance(exc, Invalid):
        body["errors"] = exc.errors()
    return jsonify(body), exc.status


# How long a client should wait before retrying a request the database could not serve: a restart
# of PostgreSQL takes a few seconds, and the pool reconnects by itself (pool_pre_ping).
RETRY_AFTER_SECONDS = 2


def forget_connection() -> None:
    """Roll back after a database error; when the connection itself is gone (the server shut it down),
    the ROLLBACK fails too, so drop the session's connections instead of answering 500."""
    try:
        db.session.rollback()
    except DBAPIError:
        db.session().invalidate()  # the scoped session's own Session: drops its connections unused


def database_unavailable():
    """503 with Retry-After: the database is down or overloaded; the request wrote nothing."""
    response = jsonify(code=503, status="Service Unavailable", message="The database is unavailable; retry.")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.teardown_appcontext
    def _close_session(_exc):
        # Runs before Flask-SQLAlchemy's own clean-up (registered earlier, so called later): a connection
        # the server cut after the request's last query (PostgreSQL restarting) fails the closing ROLLBACK,
        # and that would turn an answer already made into a 500. Nothing is lost: nothing was committed.
        try:
            db.session.close()
        except DBAPIError:
            db.session().invalidate()  # the scoped session's own Session: drops its connections unused

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        db.session.rollback()
        return domain_error_response(exc)

    @app.errorhandler(MethodNotAllowed)
    def _method_not_allowed(exc: MethodNotAllowed):
        # The JSON error keeps werkzeug's Allow header (HTTP requires it on a 405).
        response = jsonify(code=405, status="Method Not Allowed", message="The method is not allowed for this URL.")
        response.status_code = 405
        for name, value in exc.get_headers():
            if name.lower() == "allow":
                response.headers["Allow"] = value
        return response

    @app.errorhandler(RecursionError)
    def _too_deep(exc: RecursionError):
        # dispatch/input_guard.py refuses deep JSON first; this is the net behind it.
        db.session.rollback()
        return jsonify(code=400, status="Bad Request", message="The request is nested too deeply.",
                       errors={"json": {"_schema": ["nested too deeply"]}}), 400  # fmt: skip

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):
        # A uniqueness race the service's own check could not see (two requests at once).
        db.session.rollback()
        log.info("integrity conflict: %s", exc.orig)
        return jsonify(code=409, status="Conflict", message="Conflicts with a concurrent change; retry."), 409

    @app.errorhandler(OperationalError)
    def _operational(exc: OperationalError):
        forget_connection()
        text = str(exc.orig).lower()
        if any(word in text for word in ("deadlock", "could not serialize", "database is locked")):
            # Two requests collided in the database; nothing was written and a retry will do.
            return jsonify(code=409, status="Conflict", message="Conflicts with a concurrent change; retry."), 409
        log.exception("database error")
        return database_unavailable()

    @app.errorhandler(DBAPIError)
    def _connection_lost(exc: DBAPIError):
        # A connection that died under a request (the database restarted): nothing was committed.
        forget_connection()
        if exc.connection_invalidated or type(exc).__name__ == "InterfaceError":
            log.warning("database connection lost: %s", exc.orig)
            return database_unavailable()
        return _unexpected(exc)

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(exc: PoolTimeout):
        # Every pooled connection busy for DB_POOL_TIMEOUT seconds: overloaded, so shed the request.
        forget_connection()
        log.warning("database pool exhausted: %s", exc)
        return database_unavailable()

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _out_of_range(exc: Exception):
        # A number too big for a database column (e.g. ?page=10**30): the client's input, not our fault.
        db.session.rollback()
        return jsonify(code=422, status="Unprocessable Entity", message="A number in the request is out of range."), 422

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        db.session.rollback()
        log.exception("unhandled error")
        return jsonify(code=500, status="Internal Server Error", message="Unexpected server error."), 500
