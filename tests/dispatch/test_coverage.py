"""Coverage by area, school, subject, level and week."""

from dispatch.extensions import db
from tests.factories import next_weekday

MONDAY = next_weekday(0)
FIELDS = ("key", "sessions", "booked", "held", "coverage", "periods", "booked_periods", "held_periods")


def contract(row: dict) -> dict:
    """The fields the contract names (rows carry more: names, unfilled periods)."""
    return {k: row[k] for k in FIELDS}


QUERY = f"from={MONDAY.isoformat()}&to={MONDAY.isoformat()}"


def test_coverage_counts_requested_booked_held(client, world):
    world.school_a.kecamatan_code = "15.08.03"
    session = world.order_a.sessions[0]
    session.status, session.teacher_id = "held", world.teacher_1.id
    db.session.commit()
    response = client.get(f"/api/v1/coverage?{QUERY}&by=school", headers=world.headers("admin"))
    assert response.status_code == 200
    data = response.get_json()
    rows = {r["key"]: r for r in data["rows"]}
    assert contract(rows[world.school_a.npsn]) == {
        "key": world.school_a.npsn, "sessions": 1, "booked": 1, "held": 1, "coverage": 1.0,
        "periods": 2, "booked_periods": 2, "held_periods": 2,
    }  # fmt: skip
    assert rows[world.school_b.npsn]["coverage"] == 0.0
    assert data["total"]["sessions"] == 2 and data["total"]["booked"] == 1
    assert data["unfilled_teacher_equivalents"] == round(2 / 24, 1)
    assert data["spread"] == 1.0
    by_area = client.get(f"/api/v1/coverage?{QUERY}&by=kecamatan", headers=world.headers("admin")).get_json()
    assert {r["key"] for r in by_area["rows"]} == {"15.08.03", "?"}
    by_week = client.get(f"/api/v1/coverage?{QUERY}&by=week", headers=world.headers("admin")).get_json()
    assert len(by_week["rows"]) == 1 and by_week["rows"][0]["key"].endswith(f"W{MONDAY.isocalendar()[1]:02d}")


def test_cancelled_sessions_are_not_requested(client, world):
    client.post(f"/api/v1/orders/{world.order_b.id}/cancel", headers=world.headers("admin"))
    data = client.get(f"/api/v1/coverage?{QUERY}&by=subject", headers=world.headers("admin")).get_json()
    assert [contract(r) for r in data["rows"]] == [{"key": "MTK", "sessions": 1, "booked": 0, "held": 0, "coverage": 0.0, "periods": 2,
                             "booked_periods": 0, "held_periods": 0}]  # fmt: skip


def test_coverage_bad_query_and_roles(client, world):
    bad = client.get("/api/v1/coverage?by=village", headers=world.headers("admin"))
    assert bad.status_code == 422 and "by" in bad.get_json()["errors"]["query"]
    backwards = client.get("/api/v1/coverage?from=2026-02-01&to=2026-01-01", headers=world.headers("admin"))
    assert backwards.status_code == 422 and "to" in backwards.get_json()["errors"]["query"]
    assert client.get("/api/v1/coverage", headers=world.headers("op_a")).status_code == 403
    assert client.get("/api/v1/coverage").status_code == 401
