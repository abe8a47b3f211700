"""Errors as JSON: a client's mistake gets a 4xx naming the field, never a 500."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask_smorest import abort
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from dispatch.extensions import db

log = logging.getLogger(__name__)


def field_error(field: str, message: str, status: int = 422, location: str = "json"):
    """Abort with the shape marshmallow gives: {"errors": {location: {field: [message]}}}.

    A dotted field ("sessions.0.date") nests as marshmallow nests list items.
    """
    tree: dict | list = [message]
    for part in reversed(field.split(".")):
        tree = {part: tree}
    abort(status, message=f"{field}: {message}", errors={location: tree})


def register_error_handlers(app: Flask) -> None:
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
