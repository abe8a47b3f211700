"""Errors as JSON: a client's mistake gets a 4xx naming the field, never a 500."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from dispatch.extensions import db

log = logging.getLogger(__name__)


def field_error(field: str, message: str, status: int = 422, location: str = "json"):
    """Abort with the smorest error shape: {"code", "status", "message", "errors": {location: {field: [message]}}}."""
    abort(status, message=f"{field}: {message}", errors={location: {field: [message]}})


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):
        # A uniqueness race the service's own check could not see (two requests at once).
        db.session.rollback()
        log.info("integrity conflict: %s", exc.orig)
        return jsonify(code=409, status="Conflict", message="Conflicts with a concurrent change; retry."), 409

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return exc
        db.session.rollback()
        log.exception("unhandled error")
        return jsonify(code=500, status="Internal Server Error", message="Unexpected server error."), 500
