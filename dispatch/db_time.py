"""Database defaults such as created_at (`server_default=func.now()`) are UTC on both databases:
SQLite's CURRENT_TIMESTAMP is UTC, and PostgreSQL sessions are set to UTC here (its now() into a
timestamp without time zone would otherwise follow the server's own zone). The API turns them
into the district's time with offset (`dispatch.validation.Instant`)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def utc_sessions(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _utc(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.close()
        dbapi_connection.commit()
