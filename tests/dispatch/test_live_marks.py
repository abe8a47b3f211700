"""A reconnect fetches only when something was missed (dispatch/live/marks.py): the counters in a real
Redis, the marks phones hear in one process, and a phone moving between two server processes."""

from __future__ import annotations

import uuid

import pytest
import requests

from dispatch.extensions import socketio
from dispatch.live import teacher_room
from dispatch.live.marks import MARK_EVENT, RESUME_EVENT, PhoneMark
from dispatch.live.resync import ResyncingRedisManager, redis_options
from tests.conftest import build_app, clear_database
from tests.dispatch.test_live_server import bearer, post_urgent_order
from tests.dispatch.test_offers import urgent_order
from tests.live_server import Listener

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def manager_on(url: str, channel: str) -> ResyncingRedisManager:
    manager = ResyncingRedisManager(url, channel=channel, redis_options=redis_options())
    manager.resubscribe_seconds = 0.05
    return manager


@pytest.fixture
def channel(redis_url):
    import redis

    name = f"guru-test-marks-{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(redis_url).delete(f"{name}:marks")


def test_resume_says_missed_unless_the_mark_is_the_rooms_latest(redis_url, channel):
    manager = manager_on(redis_url, channel)
    taken = manager.take_marks(["teacher:1", "teacher:1", "school:9", "district", "user:3", "marks:teacher:1"])
    assert taken == {"school:9": 1, "teacher:1": 1}  # phone rooms only, one number each
    first = manager.resume("teacher:1", None)
    assert first["missed"] and first["seq"] == 1
    epoch = first["epoch"]
    assert manager.resume("teacher:1", (epoch, 1)) == {"missed": False, "epoch": epoch, "seq": 1}
    assert manager.resume("teacher:1", (epoch, 0))["missed"]  # a change it did not hear
    assert manager.resume("teacher:1", ("another", 1))["missed"]
    assert manager.resume("district", (epoch, 1))["missed"]  # no marks there: always fetch
    assert manager.resume("teacher:2", (epoch, 0)) == {"missed": False, "epoch": epoch, "seq": 0}

    assert manager.take_marks(["teacher:1"]) == {"teacher:1": 2}
    assert manager.resume("teacher:1", (epoch, 1))["missed"]

    manager.redis.delete(f"{channel}:marks")  # Redis restarted without its data: counters start again
    manager.take_marks(["teacher:1"])
    again = manager.resume("teacher:1", (epoch, 1))
    assert again["missed"] and again["seq"] == 1 and again["epoch"] != epoch


def test_an_outage_moves_the_counters_of_its_rooms_as_soon_as_redis_is_back(redis_url, channel):
    other = manager_on(redis_url, channel)  # a process that never lost Redis
    other.take_marks(["teacher:1", "teacher:2", "teacher:3"])
    epoch = other.resume("teacher:1", None)["epoch"]

    manager = manager_on(DEAD_REDIS, channel)
    assert manager._publish({"method": "emit", "event": "offer", "data": [{}], "namespace": "/",
                             "room": "teacher:1", "host_id": manager.host_id}) is None  # fmt: skip
    assert manager.take_marks(["teacher:2"]) == {}  # away: unnumbered, and recorded
    assert not other.resume("teacher:1", (epoch, 1))["missed"]  # nobody can know yet

    manager.redis_url, manager.connected, manager._retry_at = redis_url, False, 0.0  # Redis is back
    manager._redis_back()  # as its probe would
    assert other.resume("teacher:1", (epoch, 1))["missed"]
    assert other.resume("teacher:2", (epoch, 1))["missed"]
    assert not other.resume("teacher:3", (epoch, 1))["missed"]
    # The process that had the outage says "missed" to everyone until it has settled.
    assert manager.resume("teacher:3", (epoch, 1))["missed"]


def test_the_phone_keeps_the_highest_number_up_to_which_it_heard_every_mark():
    mark = PhoneMark()
    assert mark.auth() == {"mark": None}
    generation = mark.resumed({"missed": True, "epoch": "e", "seq": 4})
    assert generation is not None and mark.auth() == {"mark": None}  # not before its lists are fetched
    mark.heard({"seq": 6})  # another process's 5 is still on its way
    mark.fetched(generation)
    assert mark.auth() == {"mark": {"epoch": "e", "seq": 4}}
    mark.heard({"seq": 5})
    mark.heard({"seq": 3})
    assert mark.auth() == {"mark": {"epoch": "e", "seq": 6}}
    later = mark.resumed({"missed": True, "epoch": "e", "seq": 9})
    mark.fetched(generation)  # an older fetch answering late trusts nothing
    assert mark.auth() == {"mark": None}
    mark.fetched(later)
    assert mark.resumed({"missed": False, "epoch": "e", "seq": 9}) is None


@pytest.fixture
def app(database, redis_url, channel):
    """The app of a process that emits through Redis (and so keeps marks)."""
    app = build_app(database, REDIS_URL=redis_url, SOCKETIO_CHANNEL=channel)
    with app.app_context():
        yield app
    clear_database(app, database)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_process_that_dies_between_its_commit_and_its_emit_has_moved_the_counter(app, client, world, monkeypatch):
    manager = socketio.server.manager
    room = teacher_room(world.teacher_1.id)
    before = manager.resume(room, None)
    mark = (before["epoch"], before["seq"])
    assert not manager.resume(room, mark)["missed"]
    emitted = []
    monkeypatch.setattr(socketio, "emit", lambda *args, **kwargs: emitted.append(args))  # died after the commit
    urgent_order(client, world)
    monkeypatch.undo()
    assert emitted  # (what would have gone out; it did not)
    assert manager.resume(room, mark)["missed"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # about the servers, not the database
def test_a_phone_that_moves_to_another_process_fetches_only_when_it_missed_something(
    shared_app, served_world, servers, redis_url, channel
):
    server_a = servers(redis_url=redis_url, channel=channel)
    server_b = servers(redis_url=redis_url, channel=channel)
    tokens = served_world["tokens"]
    keeper = PhoneMark()
    teacher = Listener(server_a, tokens["user_t1"], mark=keeper).connect()
    first = teacher.wait_for(RESUME_EVENT)
    assert first["missed"] is True  # a first connection: the page fetches its lists
    keeper.fetched(keeper.resumed(first))
    bystander = Listener(server_b, tokens["user_t2"]).connect()  # a client of API.md only
    order = post_urgent_order(server_a, tokens["op_a"])
    teacher.wait_for("offer", where=lambda o: o["order_id"] == order["id"])
    assert teacher.all_heard()[-1][0] == MARK_EVENT  # the transaction's events, then its mark
    assert keeper.auth()["mark"]["seq"] >= 1
    bystander.wait_for("offer", where=lambda o: o["order_id"] == order["id"])
    assert {name for name, _ in bystander.all_heard()} <= {"offer", "offer_closed", "order_updated"}
    bystander.disconnect()
    teacher.disconnect()  # server A goes away; the phone comes back on B

    teacher = Listener(server_b, tokens["user_t1"], mark=keeper).connect()
    assert teacher.wait_for(RESUME_EVENT)["missed"] is False
    teacher.disconnect()

    later = post_urgent_order(server_a, tokens["op_a"], "10:00", "11:20")  # while it is away
    teacher = Listener(server_b, tokens["user_t1"], mark=keeper).connect()
    verdict = teacher.wait_for(RESUME_EVENT)
    assert verdict["missed"] is True
    generation = keeper.resumed(verdict)
    offers = requests.get(f"{server_b.url}/api/v1/offers", headers=bearer(tokens["user_t1"])).json()
    assert later["id"] in {o["order_id"] for o in offers}
    keeper.fetched(generation)
    teacher.disconnect()
    teacher = Listener(server_a, tokens["user_t1"], mark=keeper).connect()
    assert teacher.wait_for(RESUME_EVENT)["missed"] is False
    teacher.disconnect()
