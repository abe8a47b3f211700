"""Who is calling: bearer tokens for the API, the cookie session for pages, and role checks."""

from __future__ import annotations

import hmac
from functools import wraps

from flask import current_app
from flask_login import current_user
from flask_smorest import abort
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from dispatch.accounts.models import User
from dispatch.extensions import db, login_manager

_SALT = "guru-online-api-token"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_token(user: User) -> str:
    # The user's session stamp is signed in (never anything of the password): a new stamp ends old tokens.
    return _serializer().dumps({"uid": user.id, "st": user.session_stamp})


def user_from_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["TOKEN_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int) or not isinstance(data.get("st"), str):
        return None
    return _current_user(data["uid"], data["st"])


def _current_user(user_id: int, stamp: str) -> User | None:
    """The user, if still active and the stamp is still theirs (no password change or reset since)."""
    if not 0 < user_id <= 2**31 - 1:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not hmac.compare_digest(user.session_stamp, stamp):
        return None
    return user


@login_manager.user_loader
def _load_session_user(session_id: str) -> User | None:
    # The cookie keeps "<id>:<stamp>" (User.get_id): a bare id, as older cookies held, is no session.
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit() or not stamp:
        return None
    return _current_user(int(user_id), stamp)


def bearer_request() -> bool:
    """The request carries an API token (no cookie session is involved)."""
    from flask import request

    return request.headers.get("Authorization", "").lower().startswith("bearer ")


@login_manager.request_loader
def _load_bearer_user(req) -> User | None:
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return user_from_token(token.strip())


@login_manager.unauthorized_handler
def _unauthorized():
    abort(401, message="Log in first: send Authorization: Bearer <token>.")


def roles_required(*roles: str):
    """Allow only logged-in users whose role is one of `roles` (any role when none given)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                abort(401, message="Log in first: send Authorization: Bearer <token>.")
            if roles and current_user.role not in roles:
                abort(403, message="Your role may not do this.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
