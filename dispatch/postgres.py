"""PostgreSQL sessions that give up instead of hanging: every new connection sets a statement
timeout and an idle-in-transaction timeout (config: DB_STATEMENT_TIMEOUT_MS,
DB_IDLE_IN_TRANSACTION_TIMEOUT_MS). A statement stuck behind a lock or a database under
maintenance then fails, is answered 503 (dispatch/errors.py) and rolls back whole, and a thread
that died inside a transaction cannot keep a teacher's row locked for long.

Set on connect rather than in the URL's `options`, which the tests use for their search_path.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure(engine: Engine, app: Flask) -> None:
    if engine.dialect.name != "postgresql":
        return
    statement_ms = int(app.config.get("DB_STATEMENT_TIMEOUT_MS") or 0)
    idle_ms = int(app.config.get("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS") or 0)

    @event.listens_for(engine, "connect")
    def _timeouts(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET statement_timeout = {statement_ms}")
        cursor.execute(f"SET idle_in_transaction_session_timeout = {idle_ms}")
        cursor.close()
        dbapi_connection.commit()
