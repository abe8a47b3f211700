"""The pages: Indonesian first, cookie login, a school's orders and a teacher's offers followed live."""

import re

import pytest

from dispatch.extensions import socketio
from tests.dispatch.test_offers import urgent_order

PASSWORD = "secret-password"  # tests/factories.user


def log_in(client, username):
    return client.post("/masuk", data={"username": username, "password": PASSWORD})


def test_login_page_speaks_indonesian_and_fits_a_phone(client, world):
    page = client.get("/masuk").get_data(as_text=True)
    assert '<html lang="id">' in page and "Kata sandi" in page and "Masuk" in page
    assert 'name="viewport" content="width=device-width' in page
    wrong = client.post("/masuk", data={"username": "op-a", "password": "salah"})
    assert wrong.status_code == 401 and "salah" in wrong.get_data(as_text=True)


@pytest.mark.parametrize(("username", "home"), [("op-a", "/sekolah"), ("guru-1", "/guru"), ("admin", "/dinas")])
def test_each_role_lands_on_its_page_and_no_other(client, world, username, home):
    assert client.get(home).location == "/masuk"  # not logged in yet
    assert log_in(client, username).location == home
    assert client.get(home).status_code == 200
    other = "/guru" if home != "/guru" else "/sekolah"
    assert client.get(other).location == home
    client.post("/keluar")
    assert client.get(home).location == "/masuk"


def test_no_page_loads_anything_from_the_internet(client, world):
    for username, path in (("op-a", "/sekolah"), ("guru-1", "/guru"), ("admin", "/dinas")):
        log_in(client, username)
        page = client.get(path).get_data(as_text=True)
        sources = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert sources and all(not s.startswith(("http:", "https:", "//")) for s in sources), sources
        for src in re.findall(r'src="([^"]+)"', page):
            response = client.get(src)
            assert response.status_code == 200  # the Socket.IO client is served by the app itself
            response.close()
        client.post("/keluar")


def test_school_page_shows_its_own_orders_only(client, world):
    world.order_a.class_name, world.order_b.class_name = "VII Mawar", "VIII Melati"
    log_in(client, "op-a")
    page = client.get("/sekolah").get_data(as_text=True)
    assert "VII Mawar" in page and "VIII Melati" not in page and "terbuka" in page


def test_the_school_page_hears_its_order_change_over_the_cookie_session(app, client, world):
    log_in(client, "op-a")
    page = socketio.test_client(app, flask_test_client=client)  # the page's connection: its cookie, no token
    assert page.is_connected()
    order = urgent_order(client, world)  # posted from the page's session (cookie), as the page's form would
    updates = [e["args"][0] for e in page.get_received() if e["name"] == "order_updated"]
    assert [u["id"] for u in updates] == [order["id"]] and updates[0]["status"] == "open"
    client.post("/keluar")
    assert not socketio.test_client(app, flask_test_client=client).is_connected()


def test_the_teacher_page_answers_offers_through_the_api_with_its_cookie(app, client, world):
    urgent_order(client, world)
    log_in(client, "guru-1")
    assert "Tawaran mengajar" in client.get("/guru").get_data(as_text=True)
    [offer] = client.get("/api/v1/offers").get_json()
    assert client.post(f"/api/v1/offers/{offer['id']}/accept").status_code == 200
