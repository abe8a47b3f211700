"""Login limits (Flask-Limiter): failed attempts per username and per client address.

Both the API's `POST /api/v1/auth/token` and the pages' `POST /masuk` share the same counts.
Only refused attempts count (`deduct_when`), so people who type their password right are never
slowed; a username or address over its limit gets `429` with `Retry-After` until the window
moves on. Counts live in Redis when REDIS_URL is set (every process sees them), else in memory.
"""

from __future__ import annotations

import logging

from flask import current_app, request
from flask_limiter.util import get_remote_address

from dispatch.extensions import limiter

log = logging.getLogger(__name__)


def attempted_username() -> str:
    """The username of this login attempt, as the limit counts it (case and spaces ignored)."""
    if request.is_json:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    else:
        name = request.form.get("username")
    return name.strip().lower()[:80] if isinstance(name, str) else ""


def _refused(response) -> bool:
    return response.status_code == 401


def log_refused_login(username: str) -> None:
    log.warning("refused login for %r from %s", username[:80], get_remote_address())


per_username = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_USERNAME"],
    scope="login-username",
    key_func=lambda: "user:" + attempted_username(),
    deduct_when=_refused,
    methods=["POST"],
    error_message="Too many failed logins for this username; wait and try again.",
)
per_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    scope="login-address",
    key_func=get_remote_address,
    deduct_when=_refused,
    methods=["POST"],
    error_message="Too many failed logins from this address; wait and try again.",
)
