"""A reconnect that fetches nothing when nothing was missed.

On every (re)connect a phone used to fetch its lists. When a web process dies, its 750 phones come
back to the others at once, and those fetches (each 2-4 times the connect's own cost) kept two cores
busy for 20-30 s (bench/peak, 2026-11-28). Most of those phones had missed nothing.

Each phone room (`teacher:<id>`, `school:<npsn>`) has a counter in Redis. A transaction that will tell a
room something takes the room's next number *before it commits*; after the commit its events go out,
then `mark {"seq": n}` to the same room, so a phone that hears the mark has heard the events before it
(one emitter's messages to a room keep their order). A phone keeps the highest number up to which it
heard every mark (marks of different processes may arrive out of order) and hands it back when it
reconnects (`auth={"mark": {"epoch", "seq"}}`). The process it reaches joins it to its rooms first,
then reads the counter, and answers `resume {"epoch", "seq", "missed"}`:

- same epoch and number: every change to the room is one the phone heard, or one that will reach it
  live (taken after the read, it is emitted after the join): nothing to fetch;
- anything else (no mark, a number the phone did not reach, a new epoch, Redis unreadable, or this
  process still inside a Redis outage): `missed`, and the phone fetches as before.

Taking the number before the commit means a process killed between its commit and its emit has still
moved the counter: the phones that missed its events fetch. A transaction that rolls back leaves a gap,
which costs its room's phones one fetch, never a miss. The epoch is stored beside the counters: if
Redis loses them (a restart without persistence), a new epoch makes every old mark fail.

Events that could not be marked or published while Redis was away: the process records their rooms
(dispatch/live/resync.py) and, as soon as it sees Redis back, moves their counters, so a phone
reconnecting after that fetches; until every process has surely resubscribed, any process answers
`missed`. One process on its own (no Redis) keeps no marks: every reconnect fetches, as before, since a
job worker's events could not reach its phones anyway.
"""

from __future__ import annotations

import logging
import uuid

log = logging.getLogger(__name__)

MARK_EVENT = "mark"
RESUME_EVENT = "resume"
EPOCH_FIELD = "~epoch"  # no room name starts with "~"
PHONE_ROOM_PREFIXES = ("teacher:", "school:")


def marked(room: object) -> bool:
    """Rooms whose phones keep marks: a teacher's and a school's."""
    return isinstance(room, str) and room.startswith(PHONE_ROOM_PREFIXES)


def marks_room(room: str) -> str:
    """The sockets of `room` that keep marks: clients that did not ask for marks never hear one."""
    return f"marks:{room}"


def read_mark(auth: object) -> tuple[str, int] | None:
    """The phone's mark from its connection's auth, if it sent a well-formed one."""
    mark = auth.get("mark") if isinstance(auth, dict) else None
    if not isinstance(mark, dict):
        return None
    epoch, seq = mark.get("epoch"), mark.get("seq")
    if not isinstance(epoch, str) or isinstance(seq, bool) or not isinstance(seq, int):
        return None
    return epoch, seq


def missed() -> dict:
    return {"missed": True, "epoch": None, "seq": None}


class NoMarks:
    """One process without Redis: no marks; every reconnect fetches."""

    def take_marks(self, rooms) -> dict[str, int]:
        return {}

    def resume(self, room: str | None, mark: tuple[str, int] | None) -> dict:
        return missed()


class RedisMarksMixin:
    """For the Redis manager (dispatch/live/resync.py): counters in a hash beside the Socket.IO channel."""

    @property
    def marks_key(self) -> str:
        return f"{self.channel}:marks"

    def take_marks(self, rooms) -> dict[str, int]:
        """The next number of each phone room, taken inside the transaction that will tell them something.
        {} when Redis is away: the rooms are then recorded, and their counters moved once it is back."""
        rooms = sorted({room for room in rooms if marked(room)})
        if not rooms:
            return {}
        if self._redis_away():
            self._unmarked(rooms)
            return {}
        try:
            pipe = self._marks_client().pipeline(transaction=True)
            pipe.hsetnx(self.marks_key, EPOCH_FIELD, uuid.uuid4().hex)
            for room in rooms:
                pipe.hincrby(self.marks_key, room, 1)
            numbers = pipe.execute()[1:]
        except Exception as exc:
            log.warning("live marks: Redis unreachable (%s); %d room(s) left unmarked", exc, len(rooms))
            self._unmarked(rooms)
            return {}
        return dict(zip(rooms, numbers, strict=True))

    def resume(self, room: str | None, mark: tuple[str, int] | None) -> dict:
        """What a reconnecting phone of `room` missed, told after it has joined the room."""
        if not marked(room) or self._redis_away():
            return missed()
        try:
            pipe = self._marks_client().pipeline(transaction=True)
            pipe.hsetnx(self.marks_key, EPOCH_FIELD, uuid.uuid4().hex)
            pipe.hmget(self.marks_key, [EPOCH_FIELD, room])
            epoch, seq = pipe.execute()[1]
        except Exception as exc:
            log.debug("live marks: Redis unreachable (%s)", exc)
            return missed()
        epoch, seq = epoch.decode() if isinstance(epoch, bytes) else str(epoch), int(seq or 0)
        with self.missed.lock:
            outage = self.missed.recording  # an event of this outage may not have moved its counter yet
        return {"missed": outage or mark != (epoch, seq), "epoch": epoch, "seq": seq}

    def move_marks(self, rooms, everyone: bool) -> None:
        """After an outage: the rooms' phones may have missed events that took no number."""
        rooms = sorted({room for room in rooms if marked(room)})
        try:
            pipe = self._marks_client().pipeline(transaction=True)
            if everyone:
                pipe.hset(self.marks_key, EPOCH_FIELD, uuid.uuid4().hex)
            for room in rooms:
                pipe.hincrby(self.marks_key, room, 1)
            pipe.execute()
        except Exception as exc:  # away again: still recorded, moved when it is back
            log.warning("live marks: could not move %d room(s) (%s)", len(rooms), exc)
            self._unmarked(rooms, everyone)

    def _marks_client(self):
        if not self.connected:  # as the manager's publish does after an outage
            self._redis_connect()
        return self.redis

    def _redis_away(self) -> bool:
        """A publish failed lately and the manager is waiting out its backoff: do not wait on Redis again."""
        return self._clock() < self._retry_at

    def _unmarked(self, rooms, everyone: bool = False) -> None:
        """Recorded as an event held back: the counters move, and the rooms get `resync`, once Redis is back."""
        self._held_back({"method": "emit", "event": MARK_EVENT, "room": None if everyone else list(rooms)})


class PhoneMark:
    """What a client keeps (the pages do the same in common.js; the tests and bench/peak use this): the
    highest number up to which it heard every mark of its room, trusted only once its lists reflect it."""

    def __init__(self) -> None:
        self.epoch: str | None = None
        self.seq = 0
        self.above: set[int] = set()  # marks heard beyond a gap: another process's may come later
        self.trusted = False
        self.generation = 0

    def auth(self) -> dict:
        """For the connection's auth: `mark` (None until trusted) asks for marks at all."""
        return {"mark": {"epoch": self.epoch, "seq": self.seq} if self.trusted else None}

    def resumed(self, verdict: dict) -> int | None:
        """The server's answer on (re)connect. Returns None if nothing was missed, else a generation to hand
        to `fetched` once a fetch begun after this answer has succeeded."""
        self.generation += 1
        self.epoch, self.seq, self.above = verdict.get("epoch"), verdict.get("seq") or 0, set()
        self.trusted = self.epoch is not None and not verdict.get("missed", True)
        return None if self.trusted else self.generation

    def fetched(self, generation: int) -> None:
        if generation == self.generation and self.epoch is not None:
            self.trusted = True

    def heard(self, data: object) -> None:
        seq = data.get("seq") if isinstance(data, dict) else None
        if not isinstance(seq, int) or seq <= self.seq:
            return
        self.above.add(seq)
        while self.seq + 1 in self.above:
            self.seq += 1
            self.above.discard(self.seq)
