"""Phones for the deployment tests: Socket.IO clients that reconnect by themselves and keep marks as the
pages do (dispatch/live/marks.py): on a (re)connect that `resume` says missed something, and on `resync`
within its `spread_seconds`, they fetch GET /api/v1/offers."""

from __future__ import annotations

import contextlib
import random
import threading

import requests
import socketio

from dispatch.live.marks import PhoneMark


class Phone:
    def __init__(self, url: str, token: str, node: str | None = None):
        """`node`: the sticky-session cookie nginx hashes (deploy/nginx.conf.template), as a browser keeps
        it; a WebSocket-only client has none of its own, and nginx picks a process at random."""
        self.url, self.token = url, token
        self.connects = 0
        self.resyncs = 0
        self.pushed: set[int] = set()  # offer ids heard live
        self.fetched: set[int] = set()  # offer ids seen in GET /api/v1/offers
        self.offers_by_order: dict[int, int] = {}
        self.lock = threading.Lock()
        self.mark = PhoneMark()
        self.resumes: list[bool] = []  # on each (re)connect: whether the server said something was missed
        self.fetches = 0
        http = requests.Session()
        if node:
            http.cookies.set("guru_node", node)
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2,
                                      http_session=http)  # fmt: skip
        self.client.on("connect", self._on_connect)
        self.client.on("resume", self._on_resume)
        self.client.on("mark", self.mark.heard)
        self.client.on("resync", self._on_resync)
        self.client.on("offer", self._on_offer)
        self.client.on("disconnect", self._on_disconnect)

    def _remember(self, offer: dict, into: set[int]) -> None:
        with self.lock:
            into.add(offer["id"])
            self.offers_by_order[offer["order_id"]] = offer["id"]

    def fetch(self, generation: int | None = None) -> None:
        with self.lock:
            self.fetches += 1
        try:
            response = requests.get(f"{self.url}/api/v1/offers", headers={"Authorization": f"Bearer {self.token}"},
                                    timeout=30)  # fmt: skip
        except requests.RequestException:
            return  # the next reconnect or resync fetches again
        if response.status_code == 200:
            for offer in response.json():
                self._remember(offer, self.fetched)
            if generation is not None:
                self.mark.fetched(generation)

    def _on_connect(self):
        self.connects += 1

    def _on_resume(self, verdict):
        generation = self.mark.resumed(verdict)
        self.resumes.append(generation is not None)
        if generation is not None:
            threading.Thread(target=self.fetch, args=(generation,), daemon=True).start()

    def _on_disconnect(self, *reason):
        """A connection broken by a killed process: python-engineio drops its WebSocket without closing
        it, and the socket left for the garbage collector fails a later test (ResourceWarning)."""
        ws = getattr(self.client.eio, "ws", None)
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.shutdown()

    def _on_resync(self, data=None):
        self.resyncs += 1
        self.spread = float((data or {}).get("spread_seconds") or 0)
        threading.Timer(random.uniform(0, self.spread), self.fetch).start()

    def _on_offer(self, offer):
        self._remember(offer, self.pushed)

    def knows_order(self, order_id: int) -> bool:
        with self.lock:
            return order_id in self.offers_by_order

    def connect(self, url: str | None = None) -> Phone:
        auth = lambda: {"token": self.token, **self.mark.auth()}  # noqa: E731  (asked again on each reconnect)
        self.client.connect(url or self.url, auth=auth, transports=["websocket"], wait_timeout=20)
        return self

    def disconnect(self) -> None:
        """Disconnect, or stop reconnecting: a client left retrying would run on into later tests."""
        self.client.shutdown()
