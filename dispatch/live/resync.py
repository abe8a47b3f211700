"""Live push through Redis that comes back by itself, and tells only the phones that missed something.

While Redis is down, events still reach the phones connected to the process that made them
(python-socketio delivers locally before publishing), but the other processes hear nothing:
their listeners lost the subscription. python-socketio retries the subscription after 1, 2, 4 …
60 s, so after a long outage live push could stay off for a minute after Redis returned. Here the
listener retries every RESUBSCRIBE_SECONDS (a refused connection costs nothing).

What the other processes' phones missed, the publishing process knows: the rooms of the events it
could not publish. From the moment it sees Redis fail (a failed publish, or its own subscription
lost) until every process has surely resubscribed (`grace_seconds` after it sees Redis back), it records
the rooms of everything it emits. Then it publishes one `resync` to those rooms; the phones in them
fetch `GET /api/v1/offers` at a random moment within `spread_seconds`, once however
many processes tell them. The phones in no such room are left alone: telling all 1,500 to fetch at once
overloaded two cores for 20 s (bench/peak, Redis fault, 2026-11-28). A socket close (a password change)
that could not be published is published again; it names the session stamp it ends, so a later login's
sockets stay open. A process that could not publish asks Redis every RESUBSCRIBE_SECONDS whether it is
back: the job worker has no listener, and might publish nothing more for hours.

A process that published nothing while Redis was down and has no listener (the job worker) cannot
tell that Redis restarted: an event it publishes in the second before the others resubscribe can be
missed; their phones catch up on their next reconnect or resync. Nothing is lost from the database;
only the push paused.
"""

from __future__ import annotations

import logging
import threading
import time

from dispatch.live.manager import END_SESSIONS_EVENT, LocalManager, RedisManager
from dispatch.live.marks import MARK_EVENT

log = logging.getLogger(__name__)

RESYNC_EVENT = "resync"
CONNECT_TIMEOUT_SECONDS = 2.0
RESYNC_FETCHES_PER_SECOND = 50  # per process: what one process serves beside its usual load
RESYNC_SPREAD_MAX_SECONDS = 15.0


def resync_spread(phones: int) -> float:
    """Seconds over which `phones` fetches are spread, so a process's phones do not all ask at once."""
    return min(RESYNC_SPREAD_MAX_SECONDS, max(1.0, phones / RESYNC_FETCHES_PER_SECOND))


class MissedRooms:
    """The rooms whose members on other processes may have missed this process's events."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.recording = False  # from an outage seen until the resync is sent
        self.settling = False  # Redis is back: the resync is due after the grace
        self.listener_lost = False  # this process's subscription is down: keep recording
        self.probing = False  # a thread is asking Redis whether it is back
        self.rooms: set[str] = set()
        self.everyone = False
        self.closes: list[dict] = []

    def record(self, message: dict) -> None:
        """(With `lock` held.)"""
        if message.get("method") != "emit":
            return
        if message.get("event") == END_SESSIONS_EVENT:
            self.closes.append(message)
            return
        if message.get("event") == MARK_EVENT:  # a phone short of its number fetches on reconnect anyway
            return
        room = message.get("room")
        if room is None:
            self.everyone = True
        elif isinstance(room, str):
            self.rooms.add(room)
        else:
            self.rooms.update(room)

    def take(self) -> tuple[set[str], bool, list[dict]]:
        with self.lock:
            taken = self.rooms, self.everyone, self.closes
            self.rooms, self.everyone, self.closes = set(), False, []
            self.settling = False
            self.recording = self.listener_lost  # Redis went down again meanwhile: still away for this process
            return taken


class ResyncMixin:
    """For dispatch/live/manager.py's Redis manager: a steady resubscription, and `resync` to the rooms
    that missed events."""

    resubscribe_seconds: float = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.missed = MissedRooms()
        self.held_back = 0  # events not published, ever: the outbox sends no mark after one (live/marks.py)

    @property
    def grace_seconds(self) -> float:
        """Until every process has surely resubscribed once Redis answers: a connection attempt that began
        before it did may time out first, then each listener waits `resubscribe_seconds` (two, and a margin)."""
        return 2 * self.resubscribe_seconds + CONNECT_TIMEOUT_SECONDS + 1.0

    def _redis_listen_with_retries(self):  # the library's loop, with a steady retry
        subscribed = False
        lost_at: float | None = None
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    if lost_at is not None:
                        log.warning("live push: Redis subscription back after %.1f s", time.monotonic() - lost_at)
                        lost_at = None
                        self._redis_back(listener=True)
                yield from self.pubsub.listen()
            except Exception as exc:
                if lost_at is None:
                    lost_at = time.monotonic()
                    log.error("live push: lost the Redis subscription (%s); retrying every %.1f s",
                              exc, self.resubscribe_seconds)  # fmt: skip
                    self._redis_lost(listener=True)
                subscribed = False
                time.sleep(self.resubscribe_seconds)

    def _publish(self, data):
        result = super()._publish(data)
        if result is None:  # Redis is away (or this process is backing off)
            self._held_back(data)
            return None
        with self.missed.lock:
            recording = self.missed.recording
            if recording:  # published, but a process not yet resubscribed may miss it
                self.missed.record(data)
        if recording:
            self._redis_back()
        return result

    def _held_back(self, message: dict) -> None:
        """Not published: recorded for the resync, and a probe learns when Redis is back."""
        with self.missed.lock:
            self.held_back += 1
            self.missed.recording = True
            self.missed.record(message)
            probe = not self.missed.probing
            self.missed.probing = True
        if probe:
            self._start_probe()

    def _redis_lost(self, listener: bool = False) -> None:
        with self.missed.lock:
            self.missed.recording = True
            self.missed.listener_lost = self.missed.listener_lost or listener

    def _redis_back(self, listener: bool = False) -> None:
        missed = self.missed
        with missed.lock:
            if listener:
                missed.listener_lost = False
            if not missed.recording or missed.settling:
                return
            missed.settling = True
        if hasattr(self, "_retry_at"):
            self._retry_at = 0.0  # a publisher waiting out its backoff may publish at once
        timer = threading.Timer(self.grace_seconds, self._send_resync)
        timer.daemon = True
        timer.start()

    def _start_probe(self) -> None:
        """A process with no listener (the job worker), or one that publishes nothing more, still learns
        that Redis is back: a thread asks every `resubscribe_seconds`."""

        def probe():
            import redis

            try:
                while True:
                    time.sleep(self.resubscribe_seconds)
                    try:
                        client = redis.Redis.from_url(self.redis_url, **redis_options())
                        try:
                            client.ping()
                        finally:
                            client.close()
                    except Exception:
                        continue
                    self._redis_back()
                    return
            finally:
                with self.missed.lock:
                    self.missed.probing = False

        threading.Thread(target=probe, name="redis-probe", daemon=True).start()

    def _send_resync(self) -> None:
        rooms, everyone, closes = self.missed.take()
        for close in closes:
            self._publish_once(close)
        if not rooms and not everyone:
            log.warning("live push: Redis back; no phone elsewhere missed an event of this process")
            return
        spread = RESYNC_SPREAD_MAX_SECONDS if everyone else resync_spread(len(rooms))
        # Published only: this process's own phones heard its events when they were made.
        message = {"method": "emit", "event": RESYNC_EVENT,
                   "data": [{"reason": "live_push_restored", "spread_seconds": spread}],
                   "binary": False, "namespace": "/", "room": None if everyone else sorted(rooms),
                   "skip_sid": None, "callback": None, "host_id": self.host_id}  # fmt: skip
        sent = self._publish_once(message)
        log.warning("live push: Redis back; %s to %s, within %.0f s", "resync sent" if sent else "resync not sent",
                    "every phone" if everyone else f"{len(rooms)} rooms", spread)  # fmt: skip

    def _publish_once(self, message: dict) -> bool:
        """Publish what the outage held back; recorded again only if it could not go (recorded on success,
        while Redis is still away for this process's listener, it would go out again and again)."""
        if super()._publish(message) is not None:
            return True
        self._held_back(message)
        return False


class ResyncingRedisManager(ResyncMixin, RedisManager):
    """dispatch/live/manager.py's Redis manager (closing a user's sockets everywhere, a quiet publish
    backoff), with the steady resubscription and the targeted resync."""


def client_manager(redis_url: str | None, channel: str, resubscribe_seconds: float):
    """Socket.IO's client manager: through Redis when configured (several processes), else local."""
    if not redis_url:
        return LocalManager()
    manager = ResyncingRedisManager(redis_url, channel=channel, redis_options=redis_options())
    manager.resubscribe_seconds = resubscribe_seconds
    return manager


def redis_options() -> dict:
    """A refused connection fails at once: redis-py's default retries three times with sleeps of up to
    seconds, in the thread that emits (a request, after its commit). One immediate retry still gets past a
    connection that Redis closed when it restarted."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS, "retry": Retry(NoBackoff(), 1)}
