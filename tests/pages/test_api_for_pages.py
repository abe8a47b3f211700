"""What the API gained for the pages: offers, open orders and the schedule say where and when, in full."""

from datetime import timedelta

from dispatch.district.service import get_district
from dispatch.extensions import db, socketio
from dispatch.schools.models import School
from tests import factories as f
from tests.dispatch.test_offers import DAY, urgent_order


def name_the_school(world) -> School:
    school = db.session.get(School, world.school_a.npsn)
    school.name, school.kecamatan_code, school.address = "SMP Negeri 1 Muara Bungo", "15.08.03", "Jl. Sudirman No. 1"
    db.session.commit()
    return school


def test_an_offer_says_which_school_where_how_far_and_when(app, client, world):
    name_the_school(world)
    phone = socketio.test_client(app, auth={"token": world.headers("user_t1")["Authorization"].split()[1]})
    order = urgent_order(client, world)
    [offer] = client.get("/api/v1/offers", headers=world.headers("user_t1")).get_json()
    assert offer["school_name"] == "SMP Negeri 1 Muara Bungo" and offer["kecamatan"] == "Pasar Muaro Bungo"
    # Teacher at (-1.49, 102.10), school at (-1.4861, 102.1177): about 2.0 km on the ellipsoid.
    assert offer["distance_km"] == 2.0
    assert (offer["subject"], offer["level"], offer["class_name"], offer["urgent"]) == ("MTK", "SMP", "IX A", True)
    assert offer["sessions"] == [
        {"id": order["sessions"][0]["id"], "date": DAY.isoformat(), "day": DAY.weekday(), "start": "07:30",
         "end": "08:50", "periods": 2}
    ]  # fmt: skip
    # The live event carries the same.
    [pushed] = [e["args"][0] for e in phone.get_received() if e["name"] == "offer"]
    assert pushed == offer


def test_an_orders_sessions_name_their_teacher(client, world):
    urgent_order(client, world)
    [offer] = client.get("/api/v1/offers", headers=world.headers("user_t1")).get_json()
    client.post(f"/api/v1/offers/{offer['id']}/accept", headers=world.headers("user_t1"))
    order = client.get(f"/api/v1/orders/{offer['order_id']}", headers=world.headers("op_a")).get_json()
    assert [(s["teacher_id"], s["teacher_name"]) for s in order["sessions"]] == [(world.teacher_1.id, "Siti Lubis")]


def test_open_orders_come_nearest_first_and_filter_by_subject_and_day(client, world):
    far = f.school(npsn="10500003", level="SMP", lat=-1.55, lon=102.10, name="SMP Jauh")  # about 6.6 km away
    monday, thursday = DAY - timedelta(days=DAY.weekday()), DAY - timedelta(days=DAY.weekday()) + timedelta(days=3)
    from dispatch.orders.models import LessonSession

    f.order(
        far, sessions=[LessonSession(date=monday, start_min=600, end_min=680, periods=2, status="open")], subject="IPA"
    )
    f.order(
        world.school_a, sessions=[LessonSession(date=thursday, start_min=600, end_min=680, periods=2, status="open")]
    )
    db.session.commit()
    headers = world.headers("user_t1")
    listed = client.get("/api/v1/orders/open", headers=headers).get_json()
    distances = [o["distance_km"] for o in listed]
    assert distances == sorted(distances) and distances[-1] > 6 and listed[-1]["school_name"] == "SMP Jauh"
    assert {o["subject"] for o in client.get("/api/v1/orders/open?subject=IPA", headers=headers).get_json()} == {"IPA"}
    on_thursday = client.get("/api/v1/orders/open?day=3", headers=headers).get_json()
    assert on_thursday and all(
        all(s["date"] == thursday.isoformat() for s in o["sessions"] if s["id"] in o["claimable_session_ids"])
        for o in on_thursday
    )
    bad = client.get("/api/v1/orders/open?day=9", headers=headers)
    assert bad.status_code == 422 and "day" in bad.get_json()["errors"]["query"]


def test_the_schedule_says_where_to_go_and_when_withdrawing_turns_late(client, world):
    name_the_school(world)
    urgent_order(client, world)
    [offer] = client.get("/api/v1/offers", headers=world.headers("user_t1")).get_json()
    client.post(f"/api/v1/offers/{offer['id']}/accept", headers=world.headers("user_t1"))
    [lesson] = client.get(f"/api/v1/me/schedule?from={DAY.isoformat()}", headers=world.headers("user_t1")).get_json()
    assert lesson["school_name"] == "SMP Negeri 1 Muara Bungo" and lesson["school_address"] == "Jl. Sudirman No. 1"
    assert (lesson["school_lat"], lesson["school_lon"]) == (-1.4861, 102.1177)
    hours = get_district().late_withdrawal_hours
    assert lesson["late_from"] == f"{(DAY - timedelta(days=1) if hours == 24 else DAY).isoformat()}T07:30:00"


def test_the_openapi_document_describes_the_new_fields(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert {"school_name", "kecamatan", "distance_km", "sessions"} <= set(schemas["OfferOut"]["properties"])
    assert "teacher_name" in schemas["SessionOut"]["properties"]
    assert {"school_lat", "school_lon", "late_from"} <= set(schemas["ScheduleItem"]["properties"])
    parameters = spec["paths"]["/api/v1/orders/open"]["get"]["parameters"]
    assert {"subject", "day"} <= {p["name"] for p in parameters}
