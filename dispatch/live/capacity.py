"""A serving process never gives its last threads to phones' sockets.

In threading mode an open Socket.IO connection holds one of gunicorn's threads for as long as it
stays open. When every thread was a socket (bench/peak: a web process killed, all 1,500 phones
came to the other one, sized for 1,500), every request after them, the health check included,
waited in gunicorn's queue until sockets closed: the process stopped answering for 80-110 s and
nothing was wrong with it. Here live connections beyond `LIVE_CONNECTIONS_MAX` are refused at
once with 503 and Retry-After; the phone's client tries again with its backoff (and reaches
another process, or this one when a place frees), and the threads left over always serve requests.
"""

from __future__ import annotations

import json
import logging
import threading
import time

log = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 10.0


class LiveConnectionLimit:
    """WSGI middleware in front of Socket.IO: counts its requests in flight and refuses new sessions
    above `limit`."""

    def __init__(self, app, limit: int, path: str = "socket.io", retry_after_seconds: int = 5):
        self.app = app
        self.limit = limit
        self.prefix = "/" + path.strip("/") + "/"
        self.retry_after = str(retry_after_seconds)
        self.open = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._logged_at = -LOG_EVERY_SECONDS

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith(self.prefix):
            return self.app(environ, start_response)
        # Only a new session is refused: a long-polling session's next poll or post (it carries its sid)
        # always passes, or the cap would drop sessions already made in favour of newcomers.
        new_session = "sid=" not in environ.get("QUERY_STRING", "")
        with self._lock:
            full = new_session and self.open >= self.limit
            if full:
                self.refused += 1
            else:
                self.open += 1
        if full:
            return self._refuse(start_response)
        try:
            # threading mode: a WebSocket lives inside this call, a long poll waits in it.
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self.open -= 1

    def _refuse(self, start_response):
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_SECONDS:
            self._logged_at = now
            log.warning("live connections full (%d of %d): refusing new sockets (%d so far)",
                        self.open, self.limit, self.refused)  # fmt: skip
        body = json.dumps({"code": 503, "status": "Service Unavailable",
                           "message": "This server holds as many live connections as it can; retry shortly."}).encode()  # fmt: skip
        start_response("503 SERVICE UNAVAILABLE", [("Content-Type", "application/json"),
                                                  ("Content-Length", str(len(body))),
                                                  ("Retry-After", self.retry_after)])  # fmt: skip
        return [body]

    def state(self) -> dict[str, int]:
        return {"open": self.open, "max": self.limit, "refused": self.refused}
