"""Accounts: creating users with a role bound to a school or a teacher."""

from __future__ import annotations

import logging
from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.accounts.models import User
from dispatch.accounts.sessions import end_all_sessions
from dispatch.exceptions import Invalid, NotFound, Taken
from dispatch.extensions import db
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher


def create_user(
    username: str, password: str, role: str, school_id: str | None = None, teacher_id: int | None = None
) -> User:
    """Create a user; operators are bound to a school, teachers to a teacher. The caller commits."""
    if db.session.scalar(db.select(User.id).where(User.username == username)) is not None:
        raise Taken("username", "already taken")
    if role == "school_operator":
        if not school_id:
            raise Invalid("school_id", "a school operator needs a school")
        if db.session.get(School, school_id) is None:
            raise Invalid("school_id", f"unknown school {school_id}")
    elif school_id:
        raise Invalid("school_id", "only a school operator has a school")
    if role == "teacher":
        if teacher_id is None:
            raise Invalid("teacher_id", "a teacher account needs a teacher")
        if db.session.get(Teacher, teacher_id) is None:
            raise Invalid("teacher_id", f"unknown teacher {teacher_id}")
        if db.session.scalar(db.select(User.id).where(User.teacher_id == teacher_id)) is not None:
            raise Taken("teacher_id", f"teacher {teacher_id} already has an account")
    elif teacher_id is not None:
        raise Invalid("teacher_id", "only a teacher account has a teacher")
    user = User(
        username=username, role=role, school_id=school_id if role == "school_operator" else None, teacher_id=teacher_id
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


log = logging.getLogger(__name__)

# The demo district's printed passwords (dispatch/demo.py): refused outside development.
DEMO_PASSWORDS = {"district_admin": "bungo-admin", "school_operator": "bungo-sekolah", "teacher": "bungo-guru"}


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("no user has this password", method=method)


def authenticate(username: str, password: str) -> User | None:
    """The user with these credentials, or None. Every refusal costs one hash check, so that an
    unknown username answers as slowly as a wrong password (no listing usernames by timing)."""
    user = db.session.scalar(db.select(User).where(User.username == username)) if len(username) <= 80 else None
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    if password in DEMO_PASSWORDS.values() and not current_app.config["ALLOW_DEMO_PASSWORDS"]:
        log.warning("refused login of %r: a demo password outside development", username)
        return None
    return user


def change_own_password(user: User, current_password: str, new_password: str) -> None:
    """The caller's new password; every session, token and socket of theirs ends. The caller commits."""
    if not user.check_password(current_password):
        raise Invalid("current_password", "is not your current password")
    if new_password == current_password:
        raise Invalid("new_password", "must differ from the current password")
    user.set_password(new_password)
    end_all_sessions(user)
    db.session.flush()


def update_user(user_id: int, password: str | None, active: bool | None) -> User:
    """A district admin resets a password or (de)activates a user; either ends the user's sessions."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    if password is not None:
        user.set_password(password)
    if active is not None:
        user.active = active
    if password is not None or active is False:
        end_all_sessions(user)
    db.session.flush()
    return user
