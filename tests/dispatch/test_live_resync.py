"""After a Redis outage, `resync` goes to the rooms that missed an event, not to every phone
(dispatch/live/resync.py). The manager publishes to a real Redis; a subscriber on its channel reads
what the other processes would hear. Redis "down" is a URL nothing listens on, then the real one."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from dispatch.live.manager import END_SESSIONS_EVENT
from dispatch.live.resync import RESYNC_EVENT, ResyncingRedisManager, redis_options, resync_spread

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def emit(room, event="offer"):
    return {"method": "emit", "event": event, "data": [{}], "namespace": "/", "room": room, "host_id": "x"}


@pytest.fixture
def listener(redis_url):
    """What another process would hear on the manager's channel."""
    import redis

    channel = f"guru-test-resync-{uuid.uuid4().hex[:8]}"
    pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)

    def heard(seconds: float) -> list[dict]:
        got, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "message":
                got.append(json.loads(message["data"]))
        return got

    heard.channel = channel
    yield heard
    pubsub.close()


def manager_on(url: str, channel: str) -> ResyncingRedisManager:
    manager = ResyncingRedisManager(url, channel=channel, redis_options=redis_options())
    manager.resubscribe_seconds = 0.05  # grace: 3.1 s
    return manager


def test_resync_goes_to_the_rooms_that_missed_events_and_a_lost_close_is_sent_again(redis_url, listener):
    manager = manager_on(DEAD_REDIS, listener.channel)
    assert manager._publish(emit("teacher:1")) is None  # Redis is away
    manager._publish(emit(["teacher:2", "school:9"]))
    manager._publish(emit("user:5", END_SESSIONS_EVENT))  # a password change: close their sockets
    manager.redis_url, manager._retry_at = redis_url, 0.0  # Redis is back
    assert manager._publish(emit("teacher:3")) is not None  # others may not have resubscribed yet: recorded

    heard = listener(8.0)
    resyncs = [m for m in heard if m["event"] == RESYNC_EVENT]
    assert len(resyncs) == 1, heard
    assert resyncs[0]["room"] == ["school:9", "teacher:1", "teacher:2", "teacher:3"]
    assert resyncs[0]["host_id"] == manager.host_id  # its own phones heard the events when they were made
    assert resyncs[0]["data"] == [{"reason": "live_push_restored", "spread_seconds": resync_spread(4)}]
    assert [m["room"] for m in heard if m["event"] == END_SESSIONS_EVENT] == ["user:5"]

    # Once the resync is out, events go as usual and nobody is told to resync again.
    manager._publish(emit("teacher:4"))
    later = listener(3.0)
    assert [m["room"] for m in later] == ["teacher:4"]


def test_no_outage_no_resync(redis_url, listener):
    manager = manager_on(redis_url, listener.channel)
    for room in ("teacher:1", "teacher:2"):
        assert manager._publish(emit(room)) is not None
    heard = listener(3.0)
    assert [m["event"] for m in heard] == ["offer", "offer"]


def test_a_lost_subscription_alone_records_what_is_published_until_the_others_are_back(redis_url, listener):
    """This process published nothing while Redis was down, but its listener saw the outage: what it
    publishes just after Redis returns may reach a process not yet resubscribed, so it is resynced."""
    manager = manager_on(redis_url, listener.channel)
    manager._redis_lost()  # what the listener calls when its subscription breaks
    manager._publish(emit("teacher:7"))  # Redis already back for this publisher
    resyncs = [m for m in listener(8.0) if m["event"] == RESYNC_EVENT]
    assert [m["room"] for m in resyncs] == [["teacher:7"]]


def test_a_process_that_publishes_nothing_after_the_outage_still_sends_its_resync(redis_url, listener):
    """The job worker has no listener, and may publish nothing for hours: a probe finds Redis back."""
    manager = manager_on(DEAD_REDIS, listener.channel)
    assert manager._publish(emit("school:3", "run_updated")) is None
    manager.redis_url = redis_url  # Redis is back; this process publishes nothing more
    resyncs = [m for m in listener(10.0) if m["event"] == RESYNC_EVENT]
    assert [m["room"] for m in resyncs] == [["school:3"]]
    assert manager._publish(emit("school:4")) is not None  # and its backoff is over


def test_redis_down_again_during_the_grace_keeps_recording_until_the_subscription_is_back(redis_url, listener):
    manager = manager_on(redis_url, listener.channel)
    manager._redis_lost(listener=True)
    manager._redis_back(listener=True)  # back: the resync is due after the grace
    manager._publish(emit("teacher:1"))
    manager._redis_lost(listener=True)  # down again before the resync went out
    first = [m["room"] for m in listener(5.0) if m["event"] == RESYNC_EVENT]
    assert first == [["teacher:1"]]
    manager._publish(emit("teacher:2"))  # still recorded: the subscription is not back yet
    manager._redis_back(listener=True)
    second = [m["room"] for m in listener(5.0) if m["event"] == RESYNC_EVENT]
    assert second == [["teacher:2"]]


def test_the_spread_grows_with_the_phones_to_tell_up_to_its_cap():
    assert resync_spread(3) == 1.0
    assert resync_spread(500) == 10.0
    assert resync_spread(5000) == 15.0
