"""The client manager's room bookkeeping: the library's, with each socket's rooms indexed."""

from __future__ import annotations

import bidict
import socketio
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.live.manager import LocalManager

NS = "/"
SIDS = [f"s{i}" for i in range(5)]
ROOMS = ["teacher:1", "teacher:2", "school:10500651", "district", "user:7"]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("connect"), st.sampled_from(SIDS)),
        st.tuples(st.just("enter"), st.sampled_from(SIDS), st.sampled_from(ROOMS)),
        st.tuples(st.just("leave"), st.sampled_from(SIDS), st.sampled_from(ROOMS)),
        st.tuples(st.just("close"), st.sampled_from(ROOMS)),
        st.tuples(st.just("disconnect"), st.sampled_from(SIDS)),
    ),
    max_size=40,
)


def _apply(manager, operation, connected: set) -> None:
    kind, *args = operation
    if kind == "connect" and args[0] not in connected:
        sid = args[0]
        manager.basic_enter_room(sid, NS, None, eio_sid="e" + sid)  # what pre_connect does
        manager.basic_enter_room(sid, NS, sid, eio_sid="e" + sid)
        manager.pending_connect.setdefault(NS, []).append(sid)
        manager._generate_ack_id(sid, print)  # a callback waiting for the client's ack
    elif kind == "enter" and args[0] in connected:
        manager.basic_enter_room(args[0], NS, args[1])
    elif kind == "leave":
        manager.basic_leave_room(args[0], NS, args[1])
    elif kind == "close":
        manager.basic_close_room(args[0], NS)
    elif kind == "disconnect" and args[0] in connected:
        manager.pre_disconnect(args[0], NS)  # as python-socketio's server does before the handler runs
        manager.basic_disconnect(args[0], NS)


def _state(manager):
    rooms = {ns: {room: dict(members) for room, members in table.items()} for ns, table in manager.rooms.items()}
    pending = [
        {ns: list(sids) for ns, sids in table.items()}
        for table in (manager.pending_connect, manager.pending_disconnect)
    ]
    return rooms, pending, sorted(manager.callbacks)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_the_rooms_are_exactly_the_librarys_after_any_entries_exits_closes_and_disconnects(ops):
    ours, theirs = LocalManager(), socketio.Manager()
    connected: set[str] = set()
    for operation in ops:
        for manager in (ours, theirs):
            _apply(manager, operation, connected)
        if operation[0] == "connect":
            connected.add(operation[1])
        elif operation[0] == "disconnect":
            connected.discard(operation[1])
        assert _state(ours) == _state(theirs)
        for sid in SIDS:
            assert sorted(map(str, ours.get_rooms(sid, NS))) == sorted(map(str, theirs.get_rooms(sid, NS)))


def test_a_disconnect_looks_only_at_the_sockets_own_rooms(monkeypatch):
    manager = LocalManager()
    for i in range(1500):  # 1,500 phones, each in its own room and its teacher's: 3,001 rooms
        sid = f"s{i}"
        manager.basic_enter_room(sid, NS, None, eio_sid=f"e{i}")
        manager.basic_enter_room(sid, NS, sid)
        manager.basic_enter_room(sid, NS, f"teacher:{i}")
    looked = []
    original = bidict.BidictBase.__contains__
    monkeypatch.setattr(bidict.BidictBase, "__contains__", lambda self, key: looked.append(key) or original(self, key))

    manager.basic_disconnect("s700", NS)

    assert len(looked) < 10  # the library's own walk tests membership in every one of the 3,001 rooms
    assert "teacher:700" not in manager.rooms[NS] and "s700" not in manager.rooms[NS][None]
    assert manager.get_rooms("s701", NS) and "s701" in manager.rooms[NS]["teacher:701"]
    assert manager.get_rooms("s700", NS) == []
