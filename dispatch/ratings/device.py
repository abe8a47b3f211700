"""The device token: what makes "one rating per lesson per phone" hold without accounts.

The rating page (`/nilai/<code>`) gives each browser a random id in a signed, HttpOnly cookie that
lasts a school year. A rating is bound to the lesson's code and to that id; the body's `device`
(kept in the API for phones and tools) counts only when no token came with the request, and then
normalised (Unicode NFKC, case and spaces ignored), so " device-1" and "DEVICE-1" are one device.
A client that invents a new `device` for each request without the page is held by the per-code
cap and the per-address limit (`ratings/service.py`, `config.py`).
"""

from __future__ import annotations

import secrets
import unicodedata

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "guru_device"
MAX_AGE = 366 * 24 * 3600
_SALT = "guru-online-device"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def token_device() -> str | None:
    """The device id from this request's signed cookie, if it carries a valid one."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 200:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) and len(value) == 32 else None


def normalise(device: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", device).casefold().split())


def rating_device(body_device: str | None) -> str:
    """Who rates: the issued token when present (it wins over the body), else the body's string."""
    token = token_device()
    if token is not None:
        return "token:" + token
    return "body:" + normalise(body_device or "")


def ensure_device_cookie(response: Response) -> str:
    """Give this browser a device token if it has none; returns the device id."""
    device = token_device()
    if device is None:
        device = secrets.token_hex(16)
        response.set_cookie(
            COOKIE,
            _serializer().dumps(device),
            max_age=MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return device


def anonymous_scope() -> str:
    """Whose Idempotency-Key space an anonymous request uses: its device, else its address."""
    token = token_device()
    if token is not None:
        return "token:" + token
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and isinstance(body.get("device"), str):
        return "body:" + normalise(body["device"])
    return "address:" + (request.remote_addr or "")
