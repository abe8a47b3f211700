"""Who is calling: bearer tokens for the API, the cookie session for pages, and role checks."""

from __future__ import annotations

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
    # The tail of the password hash is signed in: a new password ends old tokens.
    return _serializer().dumps({"uid": user.id, "pw": user.password_hash[-10:]})


def user_from_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["TOKEN_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active or user.password_hash[-10:] != data.get("pw"):
        return None
    return user


@login_manager.user_loader
def _load_session_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


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
