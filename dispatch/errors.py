"""Errors as JSON: a client's mistake gets a 4xx naming the field, never a 500."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
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


def register_error_handlers(app: Flask) -> None:
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
        db.session.rollback()
        text = str(exc.orig).lower()
        if any(word in text for word in ("deadlock", "could not serialize", "database is locked")):
            # Two requests collided in the database; nothing was written and a retry will do.
            return jsonify(code=409, status="Conflict", message="Conflicts with a concurrent change; retry."), 409
        log.exception("database error")
        return jsonify(code=503, status="Service Unavailable", message="The database is unavailable; retry."), 503

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
