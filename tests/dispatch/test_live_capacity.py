"""dispatch/live/capacity.py: live connections beyond the limit are refused at once, and a place is
given back however the connection ends."""

from __future__ import annotations

import json
import threading

import pytest

from dispatch.live.capacity import LiveConnectionLimit


class HeldApp:
    """A WSGI app whose Socket.IO requests stay open until released, like a WebSocket in threading mode."""

    def __init__(self):
        self.release = threading.Event()
        self.inside = threading.Semaphore(0)

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/socket.io/boom":
            raise OSError("the phone went away")
        if environ["PATH_INFO"].startswith("/socket.io/") and "sid=" not in environ["QUERY_STRING"]:
            self.inside.release()
            self.release.wait(30)
        start_response("200 OK", [])
        return [b"ok"]


def call(app, path, query=""):
    status = {}
    environ = {"PATH_INFO": path, "QUERY_STRING": query}
    body = b"".join(app(environ, lambda s, h: status.update(status=s, headers=dict(h))))
    return status["status"], status["headers"], body


def test_sockets_beyond_the_limit_get_503_and_requests_pass_while_it_is_full():
    inner = HeldApp()
    limit = LiveConnectionLimit(inner, 2)
    holders = [threading.Thread(target=call, args=(limit, "/socket.io/")) for _ in range(2)]
    for t in holders:
        t.start()
    for _ in holders:
        assert inner.inside.acquire(timeout=10)
    status, headers, body = call(limit, "/socket.io/")
    assert status.startswith("503") and headers["Retry-After"] == "5"
    assert json.loads(body)["code"] == 503
    assert call(limit, "/api/v1/offers")[0] == "200 OK"  # not a socket: never counted, never refused
    assert limit.state() == {"open": 2, "max": 2, "refused": 1}
    # A long-polling session made before it filled (its requests carry its sid) is never cut off.
    assert call(limit, "/socket.io/", "EIO=4&transport=polling&sid=abc&t=1")[0] == "200 OK"
    inner.release.set()
    for t in holders:
        t.join(10)
    assert limit.state()["open"] == 0


def test_a_connection_that_fails_gives_its_place_back():
    limit = LiveConnectionLimit(HeldApp(), 1)
    with pytest.raises(OSError):
        call(limit, "/socket.io/boom")
    assert limit.state()["open"] == 0
    limit.app.release.set()
    assert call(limit, "/socket.io/")[0] == "200 OK"
