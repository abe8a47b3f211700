"""Idempotency-Key: a retried POST does its work once and gets the first answer again.

The record of a key is written in the same transaction as the work, so either
both land or neither does; two retries racing each other meet the unique
constraint and the loser replays the winner's answer.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import wraps

from flask import Response, request
from flask_login import current_user
from flask_smorest import abort
from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db
from dispatch.sqlite import WRITE_METHODS, writing

HEADER = "Idempotency-Key"


class IdempotencyRecord(db.Model):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_record_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)  # 0 for callers without an account
    key: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


def _caller_id() -> int:
    return current_user.id if current_user.is_authenticated else 0


def _scoped(key: str) -> str:
    """Keys of callers without an account are scoped to their device (token, else body `device`,
    else address): two students' keys never meet. Stored hashed, so the column's 200 characters hold."""
    if current_user.is_authenticated:
        return key
    from dispatch.ratings.device import anonymous_scope

    return "anon:" + hashlib.sha256(f"{anonymous_scope()}\n{key}".encode()).hexdigest()


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(request.get_data())
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    if record.request_hash != _request_hash():
        abort(
            422,
            message="Idempotency-Key was already used for a different request.",
            errors={"headers": {HEADER: ["already used for a different request"]}},
        )
    response = Response(record.body, status=record.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _find(key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        db.select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == _caller_id(), IdempotencyRecord.key == _scoped(key)
        )
    )


def write_operation(view):
    """One transaction per write: commit if the view answered 2xx/3xx, roll back otherwise.

    With an Idempotency-Key header the answer is stored with the work and replayed on retry.
    Put it directly under the route, above the smorest argument/response decorators.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        # A write even when the method is GET (the rating code is made on first ask): on SQLite its
        # transaction takes the write lock at BEGIN and queues, instead of failing "database is
        # locked" when it upgrades from reading while the clock writes.
        with writing():
            if request.method not in WRITE_METHODS:
                db.session.rollback()  # end the read begun by the login check; the next BEGIN is IMMEDIATE
            return _write(view, *args, **kwargs)

    return wrapper


def _write(view, *args, **kwargs):
    key = request.headers.get(HEADER)
    if key is not None:
        key = key.strip()
        if not key or len(key) > 200:
            abort(422, message="Bad Idempotency-Key.", errors={"headers": {HEADER: ["must be 1-200 characters"]}})
        if (record := _find(key)) is not None:
            return _replay(record)
    try:
        response = view(*args, **kwargs)
    except BaseException:
        db.session.rollback()
        raise
    if not isinstance(response, Response):
        raise TypeError("write_operation expects the view to return a Response (use blp.response)")
    if response.status_code >= 400:
        db.session.rollback()
        return response
    if key is not None:
        db.session.add(
            IdempotencyRecord(
                user_id=_caller_id(),
                key=_scoped(key),
                path=request.path[:300],
                request_hash=_request_hash(),
                status_code=response.status_code,
                body=response.get_data(as_text=True),
            )
        )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if key is not None and (record := _find(key)) is not None:
            return _replay(record)
        raise
    return response
