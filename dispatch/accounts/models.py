"""Users and their roles."""

import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, object_session
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.extensions import db

ROLES = ("district_admin", "school_operator", "teacher")
ENDED_STAMPS = "accounts_ended_stamps"  # session.info: user id -> the stamp this transaction replaced


class User(UserMixin, db.Model):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    school_id: Mapped[str | None] = mapped_column(ForeignKey("school.npsn"), index=True)
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teacher.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The pages' language ("id" or "en"); None follows the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(String(5))
    # Signed into every token and cookie session; a new value (password change, reset,
    # deactivation) ends them all at once.
    session_stamp: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(8), server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    def get_id(self) -> str:  # Flask-Login: what the cookie session keeps
        return f"{self.id}:{self.session_stamp}"

    def new_session_stamp(self) -> None:
        # The stamp in force when the transaction began is the one whose sockets must close
        # (dispatch/accounts/sessions.py): kept for the transaction, however many times it rotates.
        session = object_session(self)
        if session is not None and self.id is not None and self.session_stamp:
            session.info.setdefault(ENDED_STAMPS, {}).setdefault(self.id, self.session_stamp)
        self.session_stamp = secrets.token_hex(8)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def set_password(self, password: str) -> None:
        """A new password ends every token and cookie session (sockets: `accounts.sessions.end_all_sessions`)."""
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
        self.new_session_stamp()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
