"""Live push through Redis that comes back by itself, and tells phones to catch up when it does.

While Redis is down, events still reach the phones connected to the process that made them
(python-socketio delivers locally before publishing), but the other processes hear nothing:
their listeners lost the subscription. python-socketio retries the subscription after 1, 2, 4 …
60 s, so after a long outage live push could stay off for a minute after Redis returned. Here the
listener retries every RESUBSCRIBE_SECONDS (a refused connection costs nothing), and once it is
subscribed again it sends `resync` to every phone connected to this process: whatever was missed
meanwhile, the phone fetches as it does on reconnect (`GET /api/v1/offers`, its orders), at a random
moment within the event's `spread_seconds`.
Nothing is lost from the database; only the push paused.
"""

from __future__ import annotations

import logging
import time

from dispatch.live.manager import LocalManager, RedisManager

log = logging.getLogger(__name__)

RESYNC_EVENT = "resync"
RESYNC_FETCHES_PER_SECOND = 50  # per process: what one process serves beside its usual load
RESYNC_SPREAD_MAX_SECONDS = 15.0


class ResyncMixin:
    """For a python-socketio Redis manager: a quick, steady resubscription, then `resync` locally."""

    resubscribe_seconds: float = 1.0

    def _redis_listen_with_retries(self):  # the library's loop, with a steady retry and the resync
        subscribed = False
        lost_at: float | None = None
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    if hasattr(self, "_retry_at"):
                        # Redis answers again: a publisher waiting out a backoff may publish at once.
                        self._retry_at = 0.0
                    if lost_at is not None:
                        self._resync_local_clients(time.monotonic() - lost_at)
                        lost_at = None
                yield from self.pubsub.listen()
            except Exception as exc:
                if lost_at is None:
                    lost_at = time.monotonic()
                    log.error("live push: lost the Redis subscription (%s); retrying every %.1f s",
                              exc, self.resubscribe_seconds)  # fmt: skip
                subscribed = False
                time.sleep(self.resubscribe_seconds)

    def _resync_local_clients(self, seconds_away: float) -> None:
        phones = self._local_clients()
        # Phones fetch at a random moment within `spread_seconds`, not all at once: 1,500 fetches in the
        # same second held every pooled connection for a minute (bench/peak, redis fault).
        spread = min(RESYNC_SPREAD_MAX_SECONDS, max(1.0, phones / RESYNC_FETCHES_PER_SECOND))
        log.warning("live push: Redis subscription back after %.1f s; %d phones told to resync within %.0f s",
                    seconds_away, phones, spread)  # fmt: skip
        try:
            # To this process's phones only: every process resubscribes and tells its own.
            self.server.emit(RESYNC_EVENT, {"reason": "live_push_restored", "spread_seconds": spread}, namespace="/",
                             ignore_queue=True)  # fmt: skip
        except Exception:
            log.exception("could not send resync")

    def _local_clients(self) -> int:
        try:
            return len(self.rooms.get("/", {}).get(None, {}))
        except Exception:
            return 0


class ResyncingRedisManager(ResyncMixin, RedisManager):
    """dispatch/live/manager.py's Redis manager (closing a user's sockets everywhere, a quiet publish
    backoff), with the steady resubscription and the resync."""


def client_manager(redis_url: str | None, channel: str, resubscribe_seconds: float):
    """Socket.IO's client manager: through Redis when configured (several processes), else local."""
    if not redis_url:
        return LocalManager()
    manager = ResyncingRedisManager(redis_url, channel=channel, redis_options={"socket_connect_timeout": 2})
    manager.resubscribe_seconds = resubscribe_seconds
    return manager
