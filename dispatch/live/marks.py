"""A reconnect that fetches nothing when nothing was missed.

On every (re)connect a phone used to fetch its lists. When a web process dies, its 750 phones come
back to the others at once, and those fetches (each costing more than the connect itself) kept two cores
busy for 20-30 s (bench/peak, 2026-11-28). Most of those phones had missed nothing.

Each phone room (`teacher:<id>`, `school:<npsn>`) has a counter in the database (`live_mark`). The
transaction that changes what the room's phones show takes the room's next number as its last write
before it commits. After the commit its events go out, then `mark {"seq": n}` to the room's sockets that
keep marks, so a phone that hears the mark has heard the events before it (one emitter's messages to a
room keep their order). A phone keeps the highest number up to which it heard every mark (marks from
different processes may arrive out of order) and hands it back when it reconnects
(`auth={"mark": {"epoch", "seq"}}`). The process it reaches joins it to its rooms, then reads the
counter in a new transaction, and answers `resume {"epoch", "seq", "missed"}`:

- the phone's number is the room's: every committed change to the room is one the phone heard, and one
  committed after the read goes out after the join, so it reaches this socket live: nothing to fetch;
- anything else (no mark, a number the phone did not reach, another database): `missed`, and the phone
  fetches as before. It trusts the number it was given only once a fetch begun after the answer has
  succeeded; the number read was committed, so that fetch shows its change.

Because the number is committed with the change, a process killed between its commit and its emit, an
emit that failed, or a Redis outage that kept an event from other processes' phones all leave those
phones short of the room's number: they fetch on their next reconnect. A change that the room is not
told of live (a decline, which only the teacher's other devices would need; a lesson the teacher
withdrew from, announced to the order's remaining teachers; a new rating) takes a number too but sends
no mark: the phones fetch on their next reconnect, as they always did.

Not covered (the teacher's page fetches them when it is brought back to the screen after a minute, and
at every load): open orders nearby (a posted order would touch hundreds of rooms); the scores of the
ratings, which move with every rating in the district; and
changes to what an offer or lesson shows of its school or teacher (a school's name or place, a
teacher's home point, the district's settings), which are rare and made by the district office.

Numbers are only as good as the writers: code that numbers a change the code before did not needs every
process on it (web and job workers), then `flask new-marks-epoch`; so does a restore or a failover to a
replica that was behind, which hands numbers out again.

Clients that do not send `mark` hear neither `mark` nor `resume`: exactly the contract's events.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from dispatch.live_marks import EPOCH_ROOM, LiveMark

MARK_EVENT = "mark"
RESUME_EVENT = "resume"
PHONE_ROOM_PREFIXES = ("teacher:", "school:")
_marks = LiveMark.__table__


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


def take_marks(session, rooms) -> dict[str, int]:
    """The next number of each phone room, inside the transaction that changes them, as its last write.
    Rows in a fixed order, after every other lock the transaction holds: two such transactions cannot
    wait on each other in a cycle."""
    rooms = sorted({room for room in rooms if marked(room)})
    if not rooms:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    upsert = insert(_marks).values([{"room": room, "seq": 1} for room in rooms])
    upsert = upsert.on_conflict_do_update(index_elements=[_marks.c.room], set_={"seq": _marks.c.seq + 1})
    return dict(session.execute(upsert.returning(_marks.c.room, _marks.c.seq)).all())


def resume(session, room: str | None, mark: tuple[str, int] | None) -> dict:
    """What a reconnecting phone of `room` missed. Call it after the phone has joined the room, in a
    transaction begun after the join (SQLite reads from a snapshot taken at the transaction's first read)."""
    if not marked(room):
        return {"missed": True, "epoch": None, "seq": None}
    rows = dict(
        session.execute(sa.select(_marks.c.room, _marks.c.seq).where(_marks.c.room.in_([EPOCH_ROOM, room]))).all()
    )
    epoch, seq = str(rows.get(EPOCH_ROOM, 0)), int(rows.get(room, 0))  # no epoch row: a database made by create_all
    return {"missed": mark != (epoch, seq), "epoch": epoch, "seq": seq}


def new_epoch(session) -> int:
    """A new name for this database's numbers: every mark handed back from now on is `missed`."""
    epoch = secrets.randbelow(2**53)
    session.execute(sa.delete(_marks).where(_marks.c.room == EPOCH_ROOM))
    session.execute(sa.insert(_marks).values(room=EPOCH_ROOM, seq=epoch))
    return epoch


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
        if isinstance(seq, bool) or not isinstance(seq, int) or seq <= self.seq:
            return
        self.above.add(seq)
        while self.seq + 1 in self.above:
            self.seq += 1
            self.above.discard(self.seq)
