"""The dispatch loop through real server processes: races, live events, Redis, reconnects, restarts.

Each test starts gunicorn exactly as `make run` does (gunicorn.conf.py, wsgi:app) on a database
the test prepared, and talks to it over HTTP and Socket.IO like the phones do.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from dispatch.accounts.auth import issue_token
from dispatch.district.service import district_now
from dispatch.extensions import db
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession
from tests import factories as f
from tests.factories import next_weekday
from tests.live_server import Listener, Server

DAY = next_weekday(2)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_urgent_order(server: Server, token: str, start: str = "07:30", end: str = "08:50") -> dict:
    body = {"subject": "MTK", "level": "SMP", "class_name": "IX A", "reason": "substitute", "urgent": True,
            "sessions": [{"date": DAY.isoformat(), "start": start, "end": end}]}  # fmt: skip
    response = requests.post(f"{server.url}/api/v1/orders", json=body, headers=bearer(token), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def fire_at_once(calls) -> list[requests.Response]:
    """Run the calls in threads released together, each on its own connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        with requests.Session() as http:
            barrier.wait()
            results[i] = call(http)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_fifty_teachers_accept_the_same_session_at_once_exactly_one_wins(shared_app, servers):
    with shared_app.app_context():
        school = f.school(npsn="10500001", level="SMP")
        order = f.order(school, urgent=True)
        session_id = order.sessions[0].id
        now = district_now()
        tokens = {}
        for i in range(50):
            teacher = f.teacher(name=f"Guru {i}", lon=102.10 + 0.001 * i)
            user = f.user("teacher", username=f"guru-{i}", teacher_id=teacher.id)
            offer = Offer(order_id=order.id, teacher_id=teacher.id, session_ids=[session_id], status="open",
                          wave=1, expires_at=now + timedelta(minutes=10))  # fmt: skip
            db.session.add(offer)
            db.session.flush()
            tokens[offer.id] = issue_token(user)
        db.session.commit()
    server = servers()
    responses = fire_at_once(
        [
            lambda http, o=o, t=t: http.post(f"{server.url}/api/v1/offers/{o}/accept", headers=bearer(t), timeout=60)
            for o, t in tokens.items()
        ]  # fmt: skip
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 49, server.log()
    assert all(r.json().get("message") for r in responses if r.status_code == 409)  # each says why
    with shared_app.app_context():
        booked = db.session.get(LessonSession, session_id)
        winner = next(r.json() for r in responses if r.status_code == 200)
        assert booked.status == "booked" and booked.teacher_id == db.session.get(Offer, winner["id"]).teacher_id
        statuses = sorted(db.session.scalars(db.select(Offer.status)).all())
        assert statuses == ["accepted"] + ["taken"] * 49
        assert f.stale_offers() == []


def test_one_teacher_accepting_two_clashing_offers_at_once_gets_at_most_one(shared_app, servers):
    with shared_app.app_context():
        school_a = f.school(npsn="10500001", level="SMP")
        school_b = f.school(npsn="10500002", level="SMP", lat=-1.50, lon=102.12)
        teacher = f.teacher(name="Siti Lubis")
        user = f.user("teacher", username="guru", teacher_id=teacher.id)
        now = district_now()
        offer_ids = []
        for school in (school_a, school_b):  # the same hour at two schools
            order = f.order(school, urgent=True)
            offer = Offer(order_id=order.id, teacher_id=teacher.id, session_ids=[order.sessions[0].id],
                          status="open", wave=1, expires_at=now + timedelta(minutes=10))  # fmt: skip
            db.session.add(offer)
            db.session.flush()
            offer_ids.append(offer.id)
        db.session.commit()
        token = issue_token(user)
    server = servers()
    responses = fire_at_once(
        [
            lambda http, o=o: http.post(f"{server.url}/api/v1/offers/{o}/accept", headers=bearer(token), timeout=60)
            for o in offer_ids
        ]  # fmt: skip
    )
    assert sorted(r.status_code for r in responses) == [200, 409], server.log()
    with shared_app.app_context():
        assert db.session.scalar(db.select(sa.func.count()).where(LessonSession.status == "booked")) == 1


def test_end_to_end_offer_taken_and_order_updated_over_socketio(shared_app, served_world, servers):
    with shared_app.app_context():
        far = f.teacher(name="Guru Jauh", lat=-1.2, lon=102.6)  # beyond reach: must hear nothing
        far_user = f.user("teacher", username="guru-jauh", teacher_id=far.id)
        db.session.commit()
        far_token = issue_token(far_user)
    server = servers()
    tokens = served_world["tokens"]
    t1, t2 = Listener(server, tokens["user_t1"]).connect(), Listener(server, tokens["user_t2"]).connect()
    school, other_school = Listener(server, tokens["op_a"]).connect(), Listener(server, tokens["op_b"]).connect()
    nobody = Listener(server, far_token).connect()

    order = post_urgent_order(server, tokens["op_a"])
    offer_1 = t1.wait_for("offer", where=lambda o: o["order_id"] == order["id"])
    offer_2 = t2.wait_for("offer", where=lambda o: o["order_id"] == order["id"])
    assert offer_1["session_ids"] == offer_2["session_ids"] == [order["sessions"][0]["id"]]
    assert school.wait_for("order_updated")["id"] == order["id"]

    accepted = requests.post(f"{server.url}/api/v1/offers/{offer_1['id']}/accept", headers=bearer(tokens["user_t1"]))
    assert accepted.status_code == 200
    assert t2.wait_for("offer_closed") == {"offer_id": offer_2["id"], "reason": "taken"}
    assert t1.wait_for("offer_closed") == {"offer_id": offer_1["id"], "reason": "accepted"}
    booked = school.wait_for("order_updated", where=lambda o: o["status"] == "booked")
    assert booked["sessions"][0]["teacher_id"] == served_world["teacher_1"]
    assert nobody.all_heard() == [] and other_school.all_heard() == []
    for listener in (t1, t2, school, other_school, nobody):
        listener.disconnect()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # about the server, not the database
def test_a_connection_without_a_valid_token_is_refused(servers, served_world):
    import socketio

    server = servers()
    for auth in (None, {"token": "forged"}):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # about the server, not the database
def test_an_offer_made_through_one_process_reaches_a_teacher_on_another(shared_app, served_world, servers, redis_url):
    channel = f"guru-test-{uuid.uuid4().hex[:8]}"
    server_a = servers(redis_url=redis_url, channel=channel)
    server_b = servers(redis_url=redis_url, channel=channel)
    tokens = served_world["tokens"]
    teacher_on_b = Listener(server_b, tokens["user_t1"]).connect()
    school_on_a = Listener(server_a, tokens["op_a"]).connect()
    order = post_urgent_order(server_a, tokens["op_a"])
    offer = teacher_on_b.wait_for("offer", where=lambda o: o["order_id"] == order["id"])
    # And back: accepted through B, the school on A sees its order booked.
    assert requests.post(f"{server_b.url}/api/v1/offers/{offer['id']}/accept", headers=bearer(tokens["user_t1"])).ok
    school_on_a.wait_for("order_updated", where=lambda o: o["status"] == "booked")
    teacher_on_b.disconnect()
    school_on_a.disconnect()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # about the server, not the database
def test_a_command_line_job_emits_through_redis(shared_app, served_world, servers, redis_url, tmp_path):
    import os
    import subprocess
    import sys

    channel = f"guru-test-{uuid.uuid4().hex[:8]}"
    server = servers(redis_url=redis_url, channel=channel, CLOCK_SECONDS="0")  # only the command expires
    tokens = served_world["tokens"]
    teacher = Listener(server, tokens["user_t1"]).connect()
    order = post_urgent_order(server, tokens["op_a"])
    offer = teacher.wait_for("offer", where=lambda o: o["order_id"] == order["id"])
    with shared_app.app_context():
        db.session.execute(sa.update(Offer).values(expires_at=district_now() - timedelta(seconds=1)))
        db.session.commit()
    env = {**server.env, "FLASK_APP": "wsgi"}
    done = subprocess.run([sys.executable, "-m", "flask", "expire-offers"], cwd=os.getcwd(), env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert teacher.wait_for("offer_closed") == {"offer_id": offer["id"], "reason": "expired"}
    teacher.disconnect()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # about the server, not the database
def test_a_teacher_who_reconnects_finds_every_open_offer_and_hears_on(shared_app, served_world, servers):
    server = servers()
    tokens = served_world["tokens"]
    teacher = Listener(server, tokens["user_t1"]).connect()
    teacher.disconnect()  # the phone loses its signal
    order = post_urgent_order(server, tokens["op_a"])
    teacher = Listener(server, tokens["user_t1"]).connect()
    # On (re)connect the phone fetches its open offers: the one made while it was away is there.
    [missed] = requests.get(f"{server.url}/api/v1/offers", headers=bearer(tokens["user_t1"])).json()
    assert missed["order_id"] == order["id"]
    # And the new connection hears what happens next.
    other = requests.get(f"{server.url}/api/v1/offers", headers=bearer(tokens["user_t2"])).json()[0]
    assert requests.post(f"{server.url}/api/v1/offers/{other['id']}/accept", headers=bearer(tokens["user_t2"])).ok
    assert teacher.wait_for("offer_closed") == {"offer_id": missed["id"], "reason": "taken"}
    teacher.disconnect()


def test_a_server_killed_mid_dispatch_loses_nothing_and_expiry_goes_on(shared_app, served_world, servers):
    server = servers()
    tokens = served_world["tokens"]
    booked_order = post_urgent_order(server, tokens["op_a"], "10:00", "11:20")
    mine = requests.get(f"{server.url}/api/v1/offers", headers=bearer(tokens["user_t1"])).json()[0]
    assert requests.post(f"{server.url}/api/v1/offers/{mine['id']}/accept", headers=bearer(tokens["user_t1"])).ok
    open_order = post_urgent_order(server, tokens["op_a"])
    server.kill()  # mid-dispatch: the second order's offers are out, unanswered

    with shared_app.app_context():  # while it was down, time ran on: the offers are due in a few seconds
        db.session.execute(
            sa.update(Offer).where(Offer.status == "open").values(expires_at=district_now() + timedelta(seconds=8))
        )
        extra = f.teacher(name="Guru Cadangan", lon=102.11)  # someone for the next wave
        extra_token = issue_token(f.user("teacher", username="cadangan", teacher_id=extra.id))
        db.session.commit()
    server.start()
    teacher_2 = Listener(server, tokens["user_t2"]).connect()
    backup = Listener(server, extra_token).connect()
    [still_open] = requests.get(f"{server.url}/api/v1/offers", headers=bearer(tokens["user_t2"])).json()
    assert still_open["order_id"] == open_order["id"]
    order = requests.get(f"{server.url}/api/v1/orders/{booked_order['id']}", headers=bearer(tokens["op_a"])).json()
    assert order["status"] == "booked" and order["sessions"][0]["teacher_id"] == served_world["teacher_1"]
    # Expiry picks up where it stopped: on time, and the next wave goes out.
    assert teacher_2.wait_for("offer_closed", timeout=20) == {"offer_id": still_open["id"], "reason": "expired"}
    next_offer = backup.wait_for("offer", timeout=10)
    assert next_offer["order_id"] == open_order["id"]
    teacher_2.disconnect()
    backup.disconnect()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # about the server, not the database
def test_phones_beyond_a_process_s_live_connections_are_refused_and_requests_still_get_threads(servers, served_world):
    """With every thread an open socket, requests used to wait in gunicorn's queue until sockets closed
    (bench/peak: 80-110 s with no answer). Now the sockets stop at LIVE_CONNECTIONS_MAX and the rest of
    the threads serve requests; a refused phone gets 503 at once and retries later."""
    import socketio

    # 20 threads: 16 are kept for requests, so 4 phones at most.
    server = servers(SERVER_THREADS="20")
    token = served_world["tokens"]["user_t1"]
    phones = [socketio.Client(reconnection=False) for _ in range(6)]
    connected = []
    try:
        for phone in phones:
            try:
                phone.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
                connected.append(phone)
            except socketio.exceptions.ConnectionError:
                pass
        assert len(connected) == 4
        refused = requests.get(f"{server.url}/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=10)
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert "live connections" in refused.json()["message"]
        # The threads left over serve requests, many at once.
        answers = fire_at_once([lambda http: http.get(f"{server.url}/healthz", timeout=30)] * 12)
        assert [r.status_code for r in answers] == [200] * 12
        offers = requests.get(f"{server.url}/api/v1/offers", headers=bearer(token), timeout=30)
        assert offers.status_code == 200
        # A place freed is a place taken.
        connected.pop().disconnect()
        late = socketio.Client(reconnection=False)
        for _ in range(50):  # the server notices the closed socket a moment later
            try:
                late.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
                break
            except socketio.exceptions.ConnectionError:
                threading.Event().wait(0.1)
        assert late.connected
        connected.append(late)
    finally:
        for phone in connected:
            phone.disconnect()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # about the server, not the database
def test_a_phone_is_pinged_every_interval_by_the_process_s_one_ping_thread(servers, served_world):
    """dispatch/live/pings.py in a real server: the pings keep coming, round after round, each after a pong."""
    import socketio
    from engineio import packet

    server = servers(SOCKETIO_PING_INTERVAL="1")
    phone = socketio.Client(reconnection=False)
    pinged = threading.Semaphore(0)
    receive = phone.eio._receive_packet

    def spy(pkt):
        if pkt.packet_type == packet.PING:
            pinged.release()
        return receive(pkt)

    phone.eio._receive_packet = spy
    phone.connect(server.url, auth={"token": served_world["tokens"]["user_t1"]}, transports=["websocket"],
                  wait_timeout=10)  # fmt: skip
    try:
        for _ in range(4):
            assert pinged.acquire(timeout=30)
        assert phone.connected
    finally:
        phone.disconnect()
