"""Accounts: creating users with a role bound to a school or a teacher."""

from __future__ import annotations

from dispatch.accounts.models import User
from dispatch.exceptions import Invalid, Taken
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


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user
