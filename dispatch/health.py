"""`/healthz`: each dependency's state, and 503 when one the service needs is down.

{"status": "ok", "checks": {"database": "ok", "redis": "ok"}}; Redis only when REDIS_URL is
set (it carries live events between processes and the limits' counts). A load balancer takes a
process out of service on 503 instead of sending phones to a server that cannot push to them.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app

from dispatch.extensions import db

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 1.0
LOG_EVERY_SECONDS = 60.0
_last_logged: dict[str, float] = {}
_redis_clients: dict[str, object] = {}


def _log_down(name: str, exc: Exception) -> None:
    """Once a minute per dependency, however often the load balancer asks."""
    now = time.monotonic()
    if now - _last_logged.get(name, -LOG_EVERY_SECONDS) >= LOG_EVERY_SECONDS:
        _last_logged[name] = now
        log.error("health: %s is down: %s", name, exc)


def _check_database() -> str:
    try:
        db.session.execute(db.text("select 1"))
        db.session.rollback()
        return "ok"
    except Exception as exc:
        db.session.rollback()
        _log_down("database", exc)
        return "down"


def _check_redis(url: str) -> str:
    import redis

    client = _redis_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
        _redis_clients[url] = client
    try:
        client.ping()
        return "ok"
    except Exception as exc:
        _log_down("redis", exc)
        return "down"


def health() -> tuple[dict, int]:
    checks = {"database": _check_database()}
    if url := current_app.config.get("REDIS_URL"):
        checks["redis"] = _check_redis(url)
    healthy = all(state == "ok" for state in checks.values())
    return {"status": "ok" if healthy else "down", "checks": checks}, 200 if healthy else 503


def install(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", health)
