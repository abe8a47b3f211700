"""The pages without a browser: cookie login with CSRF, roles, languages, the data the scripts start with."""

import json
import re

import pytest

from dispatch.accounts.models import User
from dispatch.extensions import db, socketio
from tests.dispatch.test_offers import urgent_order
from tests.pages.conftest import csrf_of, log_in, page_token


def page_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S).group(1))


def test_login_page_speaks_indonesian_and_fits_a_phone(client, world):
    page = client.get("/masuk").get_data(as_text=True)
    assert '<html lang="id">' in page and "Kata sandi" in page and "Masuk" in page
    assert 'name="viewport" content="width=device-width' in page
    wrong = log_in(client, "op-a", "salah")
    assert wrong.status_code == 401 and "salah" in wrong.get_data(as_text=True)


def test_the_login_form_needs_its_csrf_token(client, world):
    refused = client.post("/masuk", data={"username": "op-a", "password": "secret-password"})
    assert refused.status_code == 302 and refused.location == "/masuk"  # the form again, with a fresh token
    assert client.get("/sekolah").location == "/masuk"  # not logged in
    assert log_in(client, "op-a").location == "/sekolah"


@pytest.mark.parametrize(("username", "home"), [("op-a", "/sekolah"), ("guru-1", "/guru"), ("admin", "/dinas")])
def test_each_role_lands_on_its_page_and_no_other(client, world, username, home):
    assert client.get(home).location == "/masuk"  # not logged in yet
    assert log_in(client, username).location == home
    assert client.get(home).status_code == 200
    other = "/guru" if home != "/guru" else "/sekolah"
    assert client.get(other).location == home
    client.post("/keluar", data={"csrf_token": page_token(client)})
    assert client.get(home).location == "/masuk"


def test_a_cookie_session_write_needs_the_csrf_header_a_bearer_call_does_not(client, world):
    body = {"reason": "Ada jadwal lain"}
    log_in(client, "op-a")
    # A forged request rides on the cookie: refused, and the answer names the missing header.
    forged = client.post(f"/api/v1/orders/{world.order_a.id}/cancel")
    assert forged.status_code == 400 and forged.get_json()["errors"]["headers"]["X-CSRFToken"]
    assert db.session.get(type(world.order_a), world.order_a.id).status == "open"  # nothing written
    ok = client.post(f"/api/v1/orders/{world.order_a.id}/cancel", headers={"X-CSRFToken": page_token(client)})
    assert ok.status_code == 200 and ok.get_json()["status"] == "cancelled"
    # A phone app with its bearer token and no cookie is not asked for one.
    other = client.application.test_client()
    answer = other.post(f"/api/v1/orders/{world.order_b.id}/cancel", headers=world.headers("op_b"), json=body)
    assert answer.status_code == 200


def signed_in_pages(client):
    """Each role's pages as its user gets them: (path, HTML), signed in for the page and out after it."""
    for username, path in (("op-a", "/sekolah"), ("op-a", "/sekolah/guru"), ("guru-1", "/guru"), ("admin", "/dinas")):
        log_in(client, username)
        page = client.get(path).get_data(as_text=True)
        yield path, page
        client.post("/keluar", data={"csrf_token": csrf_of(page)})


def test_no_page_has_inline_script_style_or_handlers(client, world):
    """CSP script-src 'self'; style-src 'self': every script and style is a static file."""
    for path, page in signed_in_pages(client):
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
        assert all('src="' in attrs or 'type="application/json"' in attrs for attrs, _body in scripts), path
        assert not re.search(r"\son[a-z]+=", page) and " style=" not in page and "<style" not in page, path
    assert " style=" not in client.get("/masuk").get_data(as_text=True)


def test_every_page_names_its_icon_so_no_browser_asks_for_a_missing_favicon(client, world):
    icon = re.compile(r'<link rel="icon" href="(/static/[^"]+)"')
    pages = {
        "/masuk": client.get("/masuk").get_data(as_text=True),
        "/nilai": client.get("/nilai").get_data(as_text=True),
        **dict(signed_in_pages(client)),
    }
    for path, page in pages.items():
        found = icon.search(page)
        assert found, path
        response = client.get(found.group(1))
        assert response.status_code == 200, path
        response.close()


def test_no_page_loads_anything_from_the_internet(client, world):
    for _path, page in signed_in_pages(client):
        sources = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert sources and all(not s.startswith(("http:", "https:", "//")) for s in sources), sources
        for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
            response = client.get(src)
            assert response.status_code == 200, src  # served by the app itself
            response.close()


@pytest.mark.parametrize(
    ("query", "header", "saved", "expected"),
    [
        ("", None, None, "id"),  # Indonesian first
        ("", "en-US,en;q=0.9", None, "en"),  # then the browser's wish
        ("", "en-US,en;q=0.9", "id", "id"),  # the user's own setting beats the browser
        ("?lang=en", None, "id", "en"),  # and ?lang= beats everything
    ],
)
def test_the_language_is_lang_then_the_users_setting_then_accept_language(
    client, world, query, header, saved, expected
):
    world.user_t1.language = saved
    db.session.commit()
    log_in(client, "guru-1")
    headers = {"Accept-Language": header} if header else {}
    page = client.get("/guru" + query, headers=headers).get_data(as_text=True)
    assert f'<html lang="{expected}">' in page
    assert ("Offers" if expected == "en" else "Tawaran") in page


def test_english_is_complete_on_every_page(client, world):
    """Each page in English: its visible words and its scripts' words come from the catalogue."""
    indonesian_words = re.compile(
        r"\b(dan|atau|yang|untuk|dari|belum|sudah|Pesanan|Tawaran|Kelas|Simpan|Guru favorit)\b"
    )
    for username, path in (("op-a", "/sekolah"), ("op-a", "/sekolah/guru"), ("guru-1", "/guru")):
        log_in(client, username)
        page = client.get(path + "?lang=en").get_data(as_text=True)
        data = page_data(page)
        visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", page, flags=re.S)
        visible = visible.replace("Bahasa Indonesia", "")
        assert not indonesian_words.search(visible), (path, indonesian_words.search(visible))
        words = json.dumps(data["t"], ensure_ascii=False)
        assert not indonesian_words.search(words), (path, indonesian_words.search(words))
        client.post("/keluar", data={"csrf_token": csrf_of(page)})


def test_the_language_switch_is_saved_on_the_user(client, world):
    log_in(client, "guru-1")
    token = page_token(client)
    assert client.post("/bahasa", data={"language": "en", "next": "/guru", "csrf_token": token}).location == "/guru"
    assert db.session.get(User, world.user_t1.id).language == "en"
    assert '<html lang="en">' in client.get("/guru").get_data(as_text=True)
    assert client.post("/bahasa", data={"language": "fr", "csrf_token": token}).status_code == 400
    assert (
        client.post("/bahasa", data={"language": "id", "next": "//evil.example", "csrf_token": token}).location == "/"
    )


def test_school_page_shows_its_own_orders_only(client, world):
    world.order_a.class_name, world.order_b.class_name = "VII Mawar", "VIII Melati"
    db.session.commit()
    log_in(client, "op-a")
    data = page_data(client.get("/sekolah").get_data(as_text=True))
    assert [o["class_name"] for o in data["orders"]] == ["VII Mawar"]
    # The form's period pickers follow the school level's timetable (SMP: 40-minute periods).
    assert data["timetable"][0] == {"period": 1, "start": "07:30", "end": "08:10"}
    assert data["timetable"][4] == {"period": 5, "start": "10:25", "end": "11:05"}  # after the break


def test_the_school_page_hears_its_order_change_over_the_cookie_session(app, client, world):
    log_in(client, "op-a")
    page = socketio.test_client(app, flask_test_client=client)  # the page's connection: its cookie, no token
    assert page.is_connected()
    order = urgent_order(client.application.test_client(), world)  # posted elsewhere; the page hears it
    updates = [e["args"][0] for e in page.get_received() if e["name"] == "order_updated"]
    assert [u["id"] for u in updates] == [order["id"]] and updates[0]["status"] == "open"
    client.post("/keluar", data={"csrf_token": page_token(client)})
    assert not socketio.test_client(app, flask_test_client=client).is_connected()


def test_the_teacher_page_answers_offers_through_the_api_with_its_cookie(app, client, world):
    phone = client.application.test_client()
    urgent_order(phone, world)
    log_in(client, "guru-1")
    page = client.get("/guru").get_data(as_text=True)
    assert "Tawaran mengajar" in page and 'rel="manifest"' in page
    [offer] = client.get("/api/v1/offers").get_json()
    assert (
        client.post(f"/api/v1/offers/{offer['id']}/accept", headers={"X-CSRFToken": csrf_of(page)}).status_code == 200
    )


def test_the_teacher_app_is_installable_and_works_offline(client, world):
    manifest = client.get("/guru/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.get_json()["start_url"] == "/guru" and manifest.get_json()["display"] == "standalone"
    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript" and "/guru" in worker.get_data(as_text=True)
    worker.close()


def test_the_rating_card_is_a_qr_of_the_rating_pages_address(client, world):
    session = world.order_a.sessions[0]
    log_in(client, "op-a")
    assert client.get(f"/sekolah/kode/{session.id}").status_code == 409  # not held: no code yet
    session.status, session.teacher_id = "held", world.teacher_1.id
    db.session.commit()
    page = client.get(f"/sekolah/kode/{session.id}").get_data(as_text=True)
    code = re.search(r'<p class="code" id="rating-code">(\w+)</p>', page).group(1)
    assert f"http://localhost/nilai/{code}" in page and "<svg" in page and " style=" not in page
    assert client.get(f"/sekolah/kode/{world.order_b.sessions[0].id}").status_code == 404  # another school's
