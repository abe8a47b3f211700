"""Socket.IO client managers that can close a user's connections in every server process,
and that back off quietly while Redis is away.

Closing: python-socketio can disconnect one socket by id across processes, but a process only
knows its own sockets' ids. So the app emits an internal event to the user's room; the event
travels like any other (through Redis to every process) and, where each process would deliver it
to its local members of the room, this manager says "session_ended" to them and disconnects them.

Backing off: python-socketio's Redis manager tries and logs on every emit while Redis is down
(2 lines per event, 11 lines a second with the clock running). Here a failed publish waits
1, 2, 4 … 60 s before the next try, and says so once per wait, with how many events were dropped
(phones fetch what they missed on reconnect; nothing is lost from the database).
"""

from __future__ import annotations

import logging
import time

import socketio

log = logging.getLogger(__name__)

END_SESSIONS_EVENT = "_guru_end_sessions"  # internal: never reaches a client
SOCKET_STAMP = "guru.session_stamp"  # in a socket's environ: the user's session stamp it was opened with
MAX_BACKOFF_SECONDS = 60.0


class IndexedRooms(socketio.Manager):
    """The library's room bookkeeping, with each socket's rooms kept beside it.

    python-socketio finds a leaving socket's rooms by looking in every room of the process (a copy of
    the table, then a membership test per room): with 1,500 phones that is some 4,500 rooms per
    disconnect, so a crowd leaving at once (a carrier outage, a web process killed, the load test
    stopping) cost seconds of CPU that grew with the square of the crowd (bench/RESULTS.md,
    2026-11-28 14:56). Here every entry and exit also updates `_rooms_of`, so a disconnect touches
    only the socket's own rooms. `self.rooms` stays exactly the library's.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[str, dict[str, set]] = {}  # namespace -> sid -> its rooms (None included)

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault(namespace, {}).setdefault(sid, set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get(namespace, {}).get(sid)
        if rooms is not None:
            rooms.discard(room)

    def basic_disconnect(self, sid, namespace, **kwargs):
        for room in list(self._rooms_of.get(namespace, {}).pop(sid, ())):  # a copy: threads may still touch it
            super().basic_leave_room(sid, namespace, room)
        # The rest as the library's basic_disconnect does it.
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]

    def get_rooms(self, sid, namespace):
        return [room for room in self._rooms_of.get(namespace, {}).get(sid, ()) if room is not None]


class EndSessionsMixin(IndexedRooms):
    def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        if event != END_SESSIONS_EVENT:
            return super().emit(
                event, data, namespace=namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
        namespace = namespace or "/"
        ended = data.get("stamp") if isinstance(data, dict) else None
        members = [
            sid
            for sid, eio_sid in (self.get_participants(namespace, room) if room else ())
            if ended is None or self._opened_with(eio_sid) in (None, ended)  # not a later login's socket
        ]
        for sid in members:
            try:
                super().emit("session_ended", {}, namespace=namespace, room=sid)
                self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
            except Exception:  # already gone
                log.debug("socket %s already closed", sid)
        if members:
            log.info("closed %d socket(s) of %s", len(members), room)

    def _opened_with(self, eio_sid) -> str | None:
        environ = getattr(self.server, "environ", {}).get(eio_sid) or {}
        return environ.get(SOCKET_STAMP)


class LocalManager(EndSessionsMixin):
    """One process, no message queue."""


class RedisManager(socketio.RedisManager, EndSessionsMixin):
    """Several processes through Redis: the internal event reaches every process's local members."""

    def __init__(self, *args, clock=time.monotonic, **kwargs):
        super().__init__(*args, **kwargs)
        self._clock = clock
        self._retry_at = 0.0
        self._backoff = 0.0
        self._dropped = 0

    def _publish(self, data):
        now = self._clock()
        if now < self._retry_at:
            self._dropped += 1
            return None
        try:
            if not self.connected:
                self._redis_connect()
            result = self.redis.publish(self.channel, self.json.dumps(data))
        except Exception as exc:
            self.connected = False
            self._backoff = min(MAX_BACKOFF_SECONDS, self._backoff * 2 or 1.0)
            self._retry_at = now + self._backoff
            log.error(
                "Redis unreachable (%s): live events not sent; next try in %.0f s (%d dropped meanwhile)",
                exc,
                self._backoff,
                self._dropped,
            )
            self._dropped = 0
            return None
        if self._backoff:
            log.warning("Redis reachable again (%d live events dropped while away)", self._dropped)
        self._backoff, self._dropped = 0.0, 0
        return result
