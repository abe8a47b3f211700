"""SQLite as a file shared by many threads (and processes): WAL, and writers that queue instead of failing.

With the driver's default, a transaction starts on its first write, after the reads that
decided it; two such writers collide and one gets "database is locked" at once. Here
SQLAlchemy begins every transaction itself: a request that may write (POST, PUT, PATCH,
DELETE) and work marked with `writing()` begin IMMEDIATE, so they take the write lock
first and wait their turn (up to the busy timeout); reads begin deferred and, with WAL,
never block a writer or get blocked by one. In-memory databases (the tests' default) are
one connection and keep the driver's behaviour.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BUSY_TIMEOUT_MS = 20_000

_writing: ContextVar[bool] = ContextVar("sqlite_writing", default=False)


@contextmanager
def writing():
    """Transactions begun inside take the write lock at once (work outside a request that writes)."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def _wants_write_lock() -> bool:
    return _writing.get() or (has_request_context() and request.method in WRITE_METHODS)


def configure(engine: Engine) -> None:
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write_lock() else "BEGIN")
