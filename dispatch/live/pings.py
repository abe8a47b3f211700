"""One thread sends every socket's pings, a little early and at random, instead of a thread per ping.

python-engineio in threading mode starts a new thread for each ping of each socket: it sleeps the
ping interval, sends one ping and ends. With 1,500 phones on a process that is 60 threads started and
ended a second beside thousands alive (each start and end takes threading's one lock, under the GIL),
and phones that connected together (a web process killed, its phones coming to this one within
seconds) ping together, every 25 s for as long as they stay (bench/peak: order-to-offer up to 1.5 s in
those seconds, 0.3 s outside them). Here a heap holds each socket's next ping, one thread sends them,
and each ping comes at a random moment in the last `JITTER` of the interval, so a crowd that arrived
together spreads out within a few rounds. A ping earlier than the interval is allowed by the protocol:
the client only waits at most the interval plus the ping timeout for the next one.

`install()` replaces `engineio.socket.Socket.schedule_ping` (threading mode only; the library offers no
hook for it); the send itself is the library's `_send_ping` after its sleep.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time

from engineio import packet
from engineio import socket as engineio_socket

log = logging.getLogger(__name__)

JITTER = 0.2  # a ping comes between 80% and 100% of the interval after the last pong


class PingScheduler:
    def __init__(self, clock=time.monotonic, rng: random.Random | None = None):
        self._clock = clock
        self._rng = rng or random.Random()
        self._due: list[tuple[float, int, engineio_socket.Socket]] = []
        self._order = itertools.count()  # ties in time never compare sockets
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def schedule(self, sock) -> None:
        delay = sock.server.ping_interval * (1 - JITTER * self._rng.random())
        with self._wake:
            heapq.heappush(self._due, (self._clock() + delay, next(self._order), sock))
            if self._thread is None or not self._thread.is_alive():
                # Started again if it ever stopped (or could not start: a process out of threads raises
                # here, and the next socket's ping tries again): every ping of the process depends on it.
                thread = threading.Thread(target=self._run, name="engineio-pings", daemon=True)
                thread.start()
                self._thread = thread
            if self._due[0][2] is sock:
                self._wake.notify()

    def pending(self) -> int:
        with self._wake:
            return len(self._due)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > self._clock():
                    self._wake.wait(None if not self._due else self._due[0][0] - self._clock())
                _, _, sock = heapq.heappop(self._due)
            try:
                send_ping(sock)
            except Exception:  # never let one socket stop every other socket's pings
                log.exception("ping not sent")


def send_ping(sock) -> None:
    """What engineio's `Socket._send_ping` does once its sleep is over."""
    if sock.closing or sock.closed:
        return  # gone: nothing more to schedule
    try:
        sock.last_ping = time.time()
        sock.send(packet.Packet(packet.PING))
    except Exception:  # closed meanwhile, or timed out; the library closes it
        log.debug("ping to %s not sent", getattr(sock, "sid", "?"), exc_info=True)


scheduler = PingScheduler()


def _schedule_ping(self) -> None:
    # The library's condition: a new ping only once the previous one was answered.
    if self.last_ping:
        self.last_ping = None
        scheduler.schedule(self)


def install() -> None:
    engineio_socket.Socket.schedule_ping = _schedule_ping
