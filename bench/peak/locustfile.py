"""The school day at its peaks, for Locust (headless): run by bench/peak/run.py against deploy/run.

Morning (from the start): every teacher's phone connected over Socket.IO (WebSocket, through nginx),
schools posting urgent orders (and now and then a weekly one), phones accepting (half), declining
(a third) or letting offers lapse, teachers claiming open orders themselves, the district dashboard
refreshing GET /api/v1/coverage. Afternoon (from PEAK_AFTERNOON_AT seconds): students rating in a
burst. Phones keep marks as the pages do (dispatch/live/marks.py): they fetch GET /api/v1/offers on a
(re)connect that `resume` says missed something, and on `resync`.

Settings through the environment (run.py sets them): PEAK_DATA (the district's tokens, from
bench/peak/district.py), PEAK_OUT (folder for the journal and the push timings), PEAK_AFTERNOON_AT.
Every acknowledged write (2xx) goes to the journal that bench/peak/audit.py checks.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import gevent
import requests
import socketio
from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # locust puts only this folder on the path
from dispatch.live.marks import PhoneMark  # noqa: E402

DATA = json.loads(Path(os.environ["PEAK_DATA"]).read_text())
OUT = Path(os.environ.get("PEAK_OUT", "."))
AFTERNOON_AT = float(os.environ.get("PEAK_AFTERNOON_AT", "60"))
COUNTS = {name: int(os.environ.get(f"PEAK_{name.upper()}", default)) for name, default in
          (("phones", 1500), ("schools", 60), ("students", 100), ("dashboards", 2))}  # fmt: skip
STARTED = time.time()
# "marks": the phones keep marks and fetch only when told they missed something (dispatch/live/marks.py);
# "contract": they follow API.md alone and fetch GET /api/v1/offers on every (re)connect.
PHONES_FOLLOW = os.environ.get("PEAK_PHONES_FOLLOW", "marks")


def _wait(name: str, default: str):
    """A user's pause between tasks, "low,high" seconds, from PEAK_<NAME>_WAIT (run.py's --profile)."""
    low, high = (float(x) for x in os.environ.get(f"PEAK_{name}_WAIT", default).split(","))
    return between(low, high)


TEACHER_TOKENS = list(DATA["teachers"].items())
_next_teacher = iter(range(10**9))
_next_school = iter(range(10**9))
_next_slot = iter(range(10**9))

journal: list[dict] = []
posted_at: dict[int, float] = {}  # order id -> when its POST was sent (wall clock)
offers_heard: list[tuple[int, int, float]] = []  # (order id, wave, when heard)
phone_state = {"connected": 0, "connects": 0, "disconnects": 0, "resyncs": 0, "resumed_missed": 0,
               "resumed_none": 0}  # fmt: skip
disconnect_times: list[float] = []
reconnect_times: list[float] = []
resync_times: list[float] = []  # when a phone was told to resync (only those that missed an event are)
_lock = threading.Lock()


def morning_started() -> float | None:
    """When the phones are in (or two minutes have passed): the schools' rush starts then."""
    if phone_state.get("ready_at"):
        return phone_state["ready_at"]
    if phone_state["connected"] >= 0.98 * COUNTS["phones"] or time.time() - STARTED > 120:
        phone_state["ready_at"] = time.time()
        return phone_state["ready_at"]
    return None


def acknowledge(entry: dict) -> None:
    with _lock:
        journal.append(entry)


def lesson_day() -> date:
    """A school day ahead (teachers are available Monday to Saturday)."""
    day = date.today() + timedelta(days=2)
    while day.weekday() == 6:
        day += timedelta(days=1)
    return day


def urgent_body(level: str) -> dict:
    slot = next(_next_slot)
    start = 7 * 60 + (slot % 6) * 60
    hhmm = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
    return {"subject": "MTK" if level == "SMP" else "GK", "level": level, "class_name": f"Peak {slot}",
            "reason": "substitute", "urgent": True,
            "sessions": [{"date": (lesson_day() + timedelta(days=slot % 4)).isoformat(), "start": hhmm(start),
                          "end": hhmm(start + 50)}]}  # fmt: skip


def weekly_body(level: str) -> dict:
    first = lesson_day() + timedelta(days=7)
    slot = next(_next_slot)
    return {"subject": "MTK" if level == "SMP" else "GK", "level": level, "class_name": f"Peak W{slot}",
            "reason": "vacancy",
            "weekly": {"weekdays": [slot % 5], "start": "08:00", "end": "09:20", "from": first.isoformat(),
                       "until": (first + timedelta(days=27)).isoformat()}}  # fmt: skip


class Teacher(HttpUser):
    """A teacher's phone: a Socket.IO connection all the time; answers offers; sometimes claims."""

    fixed_count = COUNTS["phones"]
    wait_time = between(30, 90)

    def on_start(self):
        teacher_id, self.token = TEACHER_TOKENS[next(_next_teacher) % len(TEACHER_TOKENS)]
        self.teacher_id = int(teacher_id)
        self.auth = {"Authorization": f"Bearer {self.token}"}
        # Reconnects as the pages' client does (socket.io-client's defaults, python-socketio's too): 1 s
        # doubling to 5 s, each ±50%, so the phones of a killed process come back spread, not all at once.
        self.sio = socketio.Client(reconnection=True, reconnection_delay=1, reconnection_delay_max=5,
                                   randomization_factor=0.5, http_session=requests.Session())  # fmt: skip
        self.sio.on("connect", self._connected)
        self.sio.on("disconnect", self._disconnected)
        self.sio.on("offer", self._offer)
        self.sio.on("resync", self._resync)
        self.mark = PhoneMark()
        self.sio.on("mark", self.mark.heard)
        self.sio.on("resume", self._resumed)
        self.seen: set[int] = set()
        self.first_connect = True
        started = time.time()
        if PHONES_FOLLOW == "marks":
            auth = lambda: {"token": self.token, **self.mark.auth()}  # noqa: E731  (asked again on each reconnect)
        else:
            auth = {"token": self.token}
        try:
            self.sio.connect(self.host, auth=auth, transports=["websocket"], wait_timeout=60)
            events.request.fire(request_type="WS", name="connect", response_time=(time.time() - started) * 1000,
                                response_length=0, exception=None, context={})  # fmt: skip
        except Exception as exc:
            events.request.fire(request_type="WS", name="connect", response_time=(time.time() - started) * 1000,
                                response_length=0, exception=exc, context={})  # fmt: skip

    def on_stop(self):
        self.sio.shutdown()  # disconnects, or stops a reconnection in progress

    def _connected(self):
        with _lock:
            phone_state["connected"] += 1
            phone_state["connects"] += 1
            if not self.first_connect:
                reconnect_times.append(time.time())
        self.first_connect = False
        if PHONES_FOLLOW == "contract":
            gevent.spawn(self._fetch_offers)

    def _resumed(self, verdict):
        generation = self.mark.resumed(verdict)
        with _lock:
            phone_state["resumed_missed" if generation is not None else "resumed_none"] += 1
        if generation is not None:
            # The first connection too: the morning's offers may have begun before this phone was in.
            gevent.spawn(self._fetch_offers, generation)

    def _disconnected(self, *_):
        with _lock:
            phone_state["connected"] -= 1
            phone_state["disconnects"] += 1
            disconnect_times.append(time.time())

    def _resync(self, data=None):
        with _lock:
            phone_state["resyncs"] += 1
            resync_times.append(time.time())
        if getattr(self, "resync_due", False):  # told by several processes: one fetch answers them all
            return
        self.resync_due = True
        spread = float((data or {}).get("spread_seconds") or 0)
        gevent.spawn_later(random.uniform(0, spread), self._fetch_after_resync)

    def _fetch_after_resync(self):
        self.resync_due = False
        self._fetch_offers()

    def _fetch_offers(self, generation: int | None = None):
        with self.client.get("/api/v1/offers", headers=self.auth, name="/api/v1/offers", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return
            for offer in r.json():
                self._offer(offer, fetched=True)
        if generation is not None:
            self.mark.fetched(generation)

    def _offer(self, offer, fetched: bool = False):
        if offer["id"] in self.seen:
            return
        self.seen.add(offer["id"])
        if not fetched:
            with _lock:
                offers_heard.append((offer["order_id"], offer.get("wave", 1), time.time()))
        gevent.spawn(self._answer, offer)

    def _answer(self, offer):
        gevent.sleep(random.uniform(0.5, 4.0))  # reading it
        roll = random.random()
        if roll < 0.5:
            with self.client.post(f"/api/v1/offers/{offer['id']}/accept", headers=self.auth,
                                  name="/api/v1/offers/[id]/accept", catch_response=True) as r:  # fmt: skip
                if r.status_code == 200:
                    acknowledge({"kind": "accept", "id": offer["id"]})
                elif r.status_code == 409:
                    r.success()  # taken by a colleague first, expired or clashing: an answer, not an error
        elif roll < 0.8:
            with self.client.post(f"/api/v1/offers/{offer['id']}/decline", json={"reason": "sedang mengajar"},
                                  headers=self.auth, name="/api/v1/offers/[id]/decline", catch_response=True) as r:  # fmt: skip
                if r.status_code == 200:
                    acknowledge({"kind": "decline", "id": offer["id"]})
                elif r.status_code == 409:
                    r.success()

    @task
    def claim_open_order(self):
        if morning_started() is None or random.random() > 0.3:
            return
        r = self.client.get("/api/v1/orders/open", headers=self.auth, name="/api/v1/orders/open")  # nearest first
        if r.status_code != 200 or not r.json():
            return
        order = random.choice(r.json()[:5])  # one of the five nearest
        with self.client.post(f"/api/v1/orders/{order['id']}/claim", json={}, headers=self.auth,
                              name="/api/v1/orders/[id]/claim", catch_response=True) as c:  # fmt: skip
            if c.status_code == 200:
                acknowledge(
                    {"kind": "claim", "teacher_id": self.teacher_id, "session_ids": c.json()["booked_session_ids"]}
                )
            elif c.status_code == 409:
                c.success()


RETRIES = 3  # a school's app sends an order again after a 502 or 503, with the same Idempotency-Key


class School(HttpUser):
    """A school operator in the morning rush: urgent orders, now and then a weekly one."""

    fixed_count = COUNTS["schools"]
    wait_time = _wait("SCHOOL", "3,8")

    def on_start(self):
        school = DATA["schools"][next(_next_school) % len(DATA["schools"])]
        self.level, self.auth = school["level"], {"Authorization": f"Bearer {school['token']}"}

    @task(5)
    def post_urgent(self):
        self._post(urgent_body(self.level), "/api/v1/orders (urgent)")

    @task(1)
    def post_weekly(self):
        self._post(weekly_body(self.level), "/api/v1/orders (weekly)")

    def _post(self, body: dict, name: str):
        if morning_started() is None:
            gevent.sleep(1)
            return
        sent = time.time()
        headers = {**self.auth, "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(1, RETRIES + 2):
            with self.client.post("/api/v1/orders", json=body, headers=headers, name=name, catch_response=True) as r:
                if r.status_code in (502, 503) and attempt <= RETRIES:
                    # Sent as its process died (nginx never resends a POST), or while the database was away:
                    # sent again with the same key, as API.md makes safe and a school's app does. Counted under
                    # a name of its own, so the table shows every such answer; the last attempt's fails.
                    r.request_meta["name"] = f"{name} {r.status_code}, sent again"
                    r.success()
                    gevent.sleep(attempt)
                    continue
                if r.status_code == 201:
                    order_id = r.json()["id"]
                    with _lock:
                        posted_at[order_id] = sent
                    acknowledge({"kind": "order", "id": order_id})
                elif r.status_code == 422:
                    r.success()  # e.g. a weekly pattern on a holiday: the answer names the field
            return


class District(HttpUser):
    """The district office's dashboard, refreshing."""

    fixed_count = COUNTS["dashboards"]
    wait_time = between(4, 6)

    @task
    def coverage(self):
        today = date.today()
        self.client.get(
            f"/api/v1/coverage?from={today.isoformat()}&to={(today + timedelta(days=14)).isoformat()}&by=kecamatan",
            headers={"Authorization": f"Bearer {DATA['admin']}"}, name="/api/v1/coverage",
        )  # fmt: skip


class Student(HttpUser):
    """After school: students rating the lessons held earlier in a burst, each phone once per lesson."""

    fixed_count = COUNTS["students"]
    wait_time = _wait("STUDENT", "0.5,2")

    @task
    def rate(self):
        morning = morning_started()
        if morning is None or time.time() - morning < AFTERNOON_AT:
            gevent.sleep(1)
            return
        body = {"code": random.choice(DATA["codes"]), "stars": random.randint(3, 5), "device": str(uuid.uuid4())}
        with self.client.post("/api/v1/ratings", json=body, name="/api/v1/ratings", catch_response=True) as r:
            if r.status_code == 201:
                acknowledge({"kind": "rating", "id": r.json()["id"]})


connected_series: list[tuple[float, int]] = []  # (when, phones connected), every half second


@events.test_start.add_listener
def _sample_connected(**_kw):
    def sample():
        while True:
            connected_series.append((time.time(), phone_state["connected"]))
            gevent.sleep(0.5)

    gevent.spawn(sample)


stopping_at: list[float] = []


@events.test_stopping.add_listener
def _stopping(**_kw):
    stopping_at.append(time.time())


@events.quitting.add_listener
def _write_results(environment, **_kw):
    # Orders posted in the last 2 s before the run ends are left out: then every user stops at once and
    # 1,500 phones disconnect together while their offers are on the way, which is the load generator
    # leaving, not the morning.
    end = stopping_at[0] - 2 if stopping_at else float("inf")
    series = sorted(
        (posted_at[order], (heard - posted_at[order]) * 1000)
        for order, wave, heard in offers_heard
        if wave == 1 and order in posted_at and posted_at[order] < end
    )  # (when the order was posted, ms to the phone): where in the run the slow ones were
    latencies = sorted(ms for _, ms in series)
    with _lock:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in journal))
        (OUT / "push.json").write_text(json.dumps({
            "order_to_offer_ms": latencies, "phones": phone_state, "disconnects": disconnect_times,
            "reconnects": reconnect_times, "resyncs": resync_times, "offers_heard": len(offers_heard), "orders_posted": len(posted_at),
            "connected_series": connected_series, "order_to_offer_series": series, "stopping_at": stopping_at,
        }))  # fmt: skip
