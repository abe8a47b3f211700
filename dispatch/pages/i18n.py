"""Which language a page speaks: `?lang=`, then the user's setting, then Accept-Language; Indonesian first."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user


def supported(code: str | None) -> str | None:
    code = (code or "").strip().lower()[:2]
    return code if code in current_app.config["LANGUAGES"] else None


def select_locale() -> str:
    if chosen := supported(request.args.get("lang")):
        return chosen
    if current_user and current_user.is_authenticated and (saved := supported(getattr(current_user, "language", None))):
        return saved
    return request.accept_languages.best_match(current_app.config["LANGUAGES"]) or current_app.config["LANGUAGES"][0]
