"""dispatch/live/pings.py: one thread sends every socket's pings, each between 80% and 100% of the
interval after the last answer, and a closed socket gets none."""

from __future__ import annotations

import random
import threading
import time

import pytest
from engineio import packet

from dispatch.live import pings


class FakeServer:
    ping_interval = 0.05


class FakeSocket:
    def __init__(self, closed=False):
        self.server = FakeServer()
        self.closing = self.closed = closed
        self.last_ping = time.time()
        self.sent: list[float] = []
        self.pinged = threading.Event()

    def send(self, pkt):
        assert pkt.packet_type == packet.PING
        self.sent.append(time.monotonic())
        self.pinged.set()


def test_a_crowd_of_sockets_is_pinged_by_one_thread():
    scheduler = pings.PingScheduler()
    sockets = [FakeSocket() for _ in range(200)]
    threads_before = threading.active_count()
    for sock in sockets:
        scheduler.schedule(sock)
    for sock in sockets:
        assert sock.pinged.wait(10)
    assert threading.active_count() <= threads_before + 1  # one thread, however many sockets
    assert all(len(sock.sent) == 1 for sock in sockets)  # once each, until the next answer


def test_a_crowd_that_arrived_together_is_pinged_at_moments_spread_over_the_last_fifth_of_the_interval():
    frozen = 1000.0  # the clock never reaches the first ping: the schedule can be read as it is
    scheduler = pings.PingScheduler(clock=lambda: frozen, rng=random.Random(3))
    for _ in range(200):
        scheduler.schedule(FakeSocket())
    delays = sorted(due - frozen for due, _, _ in scheduler._due)
    interval = FakeServer.ping_interval
    assert interval * (1 - pings.JITTER) <= delays[0] and delays[-1] <= interval
    assert delays[-1] - delays[0] > 0.9 * pings.JITTER * interval  # over the whole window
    assert max(b - a for a, b in zip(delays, delays[1:], strict=False)) < 0.1 * pings.JITTER * interval  # no gaps


def test_a_socket_closed_before_its_ping_gets_none_and_is_dropped():
    scheduler = pings.PingScheduler()
    closed, open_ = FakeSocket(closed=True), FakeSocket()
    scheduler.schedule(closed)
    scheduler.schedule(open_)
    assert open_.pinged.wait(10)
    for _ in range(1000):
        if scheduler.pending() == 0:
            break
        time.sleep(0.01)
    assert closed.sent == [] and scheduler.pending() == 0


@pytest.mark.parametrize("answered", [True, False])
def test_a_pong_schedules_the_next_ping_once(monkeypatch, answered):
    """The library's rule, kept: a pong schedules the next ping only if a ping was out (`last_ping` set
    when it was sent); a second pong for the same ping schedules nothing more."""
    scheduled = []
    monkeypatch.setattr(pings.scheduler, "schedule", scheduled.append)
    sock = FakeSocket()
    sock.last_ping = time.time() if answered else None
    pings._schedule_ping(sock)
    assert scheduled == ([sock] if answered else [])
    assert sock.last_ping is None


def test_the_ping_thread_is_started_again_if_it_ever_stopped():
    scheduler = pings.PingScheduler()
    first = FakeSocket()
    scheduler.schedule(first)
    assert first.pinged.wait(10)
    scheduler._thread.join(0)  # (alive: waiting for the next ping)
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    scheduler._thread = dead  # as if it had died
    second = FakeSocket()
    scheduler.schedule(second)
    assert second.pinged.wait(10)
    assert scheduler._thread is not dead and scheduler._thread.is_alive()
