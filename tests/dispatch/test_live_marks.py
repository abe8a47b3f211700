"""A reconnect fetches only when something was missed (dispatch/live/marks.py): the numbers in the
database, the marks a phone hears in one process, and a phone moving between two server processes."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests

from dispatch.accounts.auth import issue_token
from dispatch.extensions import db, socketio
from dispatch.live import teacher_room
from dispatch.live.marks import MARK_EVENT, RESUME_EVENT, PhoneMark, resume, take_marks
from tests.dispatch.test_live_server import bearer, post_urgent_order
from tests.dispatch.test_offers import offers_of, urgent_order
from tests.live_server import Listener


def test_resume_says_missed_unless_the_mark_is_the_rooms_latest(app):
    taken = take_marks(db.session, ["teacher:1", "teacher:1", "school:9", "district", "user:3", "marks:teacher:1"])
    db.session.commit()
    assert taken == {"school:9": 1, "teacher:1": 1}  # phone rooms only, one number each
    first = resume(db.session, "teacher:1", None)
    assert first["missed"] and first["seq"] == 1
    epoch = first["epoch"]
    assert resume(db.session, "teacher:1", (epoch, 1)) == {"missed": False, "epoch": epoch, "seq": 1}
    assert resume(db.session, "teacher:1", (epoch, 0))["missed"]  # a change it did not hear
    assert resume(db.session, "teacher:1", (epoch + "x", 1))["missed"]  # another database
    assert resume(db.session, "district", (epoch, 1))["missed"]  # no marks there: always fetch
    assert resume(db.session, "teacher:2", (epoch, 0)) == {"missed": False, "epoch": epoch, "seq": 0}
    assert take_marks(db.session, ["teacher:1"]) == {"teacher:1": 2}
    db.session.commit()
    assert resume(db.session, "teacher:1", (epoch, 1))["missed"]


def test_a_number_is_given_out_only_once_committed(shared_app):
    """A phone told a number fetches its lists next; a number of a change still uncommitted would be
    trusted by a fetch that cannot see the change."""
    with shared_app.app_context():
        take_marks(db.session, ["teacher:1"])
        db.session.commit()
    writing, written, read = threading.Event(), threading.Event(), {}

    def writer():
        with shared_app.app_context():
            take_marks(db.session, ["teacher:1"])
            writing.set()
            written.wait(30)
            db.session.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(30)
        with shared_app.app_context():
            read["during"] = resume(db.session, "teacher:1", None)["seq"]
    finally:
        written.set()
        thread.join(30)
    with shared_app.app_context():
        assert (read["during"], resume(db.session, "teacher:1", None)["seq"]) == (1, 2)


def listen(app, client, user, mark: PhoneMark | None):
    auth = {"token": issue_token(user), **(mark.auth() if mark else {})}
    return socketio.test_client(app, auth=auth, flask_test_client=client)


def heard(listener, mark: PhoneMark | None = None) -> list[str]:
    names = []
    for event in listener.get_received():
        names.append(event["name"])
        if event["name"] == MARK_EVENT and mark is not None:
            mark.heard(event["args"][0])
        if event["name"] == RESUME_EVENT and mark is not None:
            names[-1] = f"resume:{'missed' if event['args'][0]['missed'] else 'none'}"
            generation = mark.resumed(event["args"][0])
            if generation is not None:
                mark.fetched(generation)  # (the page would fetch its lists here)
    return names


def assert_told_to_fetch_on_reconnect(app, client, world, phone, mark: PhoneMark) -> None:
    """A change the phone was not told of live: no mark now, and `missed` on its next reconnect."""
    assert MARK_EVENT not in heard(phone, mark)
    phone.disconnect()
    assert heard(listen(app, client, world.user_t1, mark), mark) == ["resume:missed"]


def test_a_phone_hears_a_mark_after_its_events_and_resumes_without_a_fetch(app, client, world):
    mark = PhoneMark()
    teacher = listen(app, client, world.user_t1, mark)
    assert heard(teacher, mark) == ["resume:missed"]  # a first connection: the page fetches its lists
    bystander = listen(app, client, world.user_t2, None)  # a client of API.md only

    urgent_order(client, world)
    names = heard(teacher, mark)
    assert names[-1] == MARK_EVENT and "offer" in names  # the transaction's events, then its mark
    assert set(heard(bystander)) <= {"offer", "offer_closed", "order_updated"}  # no mark, no resume

    teacher.disconnect()
    teacher = listen(app, client, world.user_t1, mark)  # signal back: nothing happened meanwhile
    assert heard(teacher, mark) == ["resume:none"]
    teacher.disconnect()
    urgent_order(client, world)  # while the phone is away
    teacher = listen(app, client, world.user_t1, mark)
    assert heard(teacher, mark) == ["resume:missed"]


def test_a_process_that_dies_between_its_commit_and_its_emit_leaves_the_phones_short(app, client, world, monkeypatch):
    room = teacher_room(world.teacher_1.id)
    before = resume(db.session, room, None)
    mark = (before["epoch"], before["seq"])
    emitted = []
    monkeypatch.setattr(socketio, "emit", lambda *args, **kwargs: emitted.append(args))  # died after the commit
    urgent_order(client, world)
    monkeypatch.undo()
    assert any(args[0] == "offer" for args in emitted)  # (what would have gone out; nothing did)
    assert resume(db.session, room, mark)["missed"]


def test_a_room_whose_event_could_not_be_emitted_gets_no_mark(app, client, world, monkeypatch):
    mark = PhoneMark()
    teacher = listen(app, client, world.user_t1, mark)
    heard(teacher, mark)
    emit = socketio.emit

    def offer_fails(name, data, to=None, **kwargs):
        if name == "offer":
            raise RuntimeError("the message queue is away")
        return emit(name, data, to=to, **kwargs)

    monkeypatch.setattr(socketio, "emit", offer_fails)
    urgent_order(client, world)
    assert MARK_EVENT not in heard(teacher, mark)  # it would say the phone had heard the offer
    monkeypatch.undo()
    teacher.disconnect()
    assert heard(listen(app, client, world.user_t1, mark), mark) == ["resume:missed"]


def test_a_decline_numbers_the_room_without_a_mark(app, client, world):
    """The teacher's other phone still shows the declined offer: it must fetch on its next reconnect."""
    mark = PhoneMark()
    other_phone = listen(app, client, world.user_t1, mark)
    heard(other_phone, mark)
    urgent_order(client, world)
    heard(other_phone, mark)
    [offer] = offers_of(client, world, "user_t1")
    declined = client.post(f"/api/v1/offers/{offer['id']}/decline", json={"reason": "sakit"},
                           headers=world.headers("user_t1"))  # fmt: skip
    assert declined.status_code == 200
    assert_told_to_fetch_on_reconnect(app, client, world, other_phone, mark)


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
def channel(redis_url):
    return f"guru-test-marks-{uuid.uuid4().hex[:8]}"


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


def test_a_withdrawal_numbers_the_withdrawing_teachers_room(app, client, world):
    """The order is announced to the teachers who hold its sessions; the one who withdrew no longer does,
    and their other phone still shows the lesson in its week."""
    order = urgent_order(client, world)
    [mine] = offers_of(client, world, "user_t1")
    assert client.post(f"/api/v1/offers/{mine['id']}/accept", headers=world.headers("user_t1")).status_code == 200
    mark = PhoneMark()
    other_phone = listen(app, client, world.user_t1, mark)
    heard(other_phone, mark)
    withdrawn = client.post(f"/api/v1/sessions/{order['sessions'][0]['id']}/withdraw", json={"reason": "sakit"},
                            headers=world.headers("user_t1"))  # fmt: skip
    assert withdrawn.status_code == 200
    assert_told_to_fetch_on_reconnect(app, client, world, other_phone, mark)


def test_a_new_epoch_makes_every_phone_fetch(app):
    take_marks(db.session, ["teacher:1"])
    db.session.commit()
    before = resume(db.session, "teacher:1", None)
    mark = (before["epoch"], before["seq"])
    assert not resume(db.session, "teacher:1", mark)["missed"]
    done = app.test_cli_runner().invoke(args=["new-marks-epoch"])
    assert done.exit_code == 0, done.output
    after = resume(db.session, "teacher:1", mark)
    assert after["missed"] and after["epoch"] == done.output.strip() != mark[0]


def test_the_database_away_at_connect_refuses_or_says_missed_never_hangs(app, client, world, monkeypatch):
    from sqlalchemy.exc import OperationalError

    import dispatch.live.events as events

    def away(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(events, "resume", away)
    mark = PhoneMark()
    teacher = listen(app, client, world.user_t1, mark)
    assert teacher.is_connected() and heard(teacher, mark) == ["resume:missed"]
    monkeypatch.setattr(events, "user_from_token", away)
    assert not listen(app, client, world.user_t1, mark).is_connected()  # refused: the client retries
