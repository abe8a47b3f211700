"""Equity in the weekly plan: the district's floor reaches the planner, and the run reports each
kecamatan's planned coverage, the spread and what the floor cost, all from the same solve."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from dispatch.district.equity import planner_cost, solve_options
from dispatch.runs import solving
from matching.planner import Planner


def plan(client, district) -> dict:
    body = {"from": district.monday.isoformat(), "to": (district.monday + timedelta(days=6)).isoformat()}
    headers = {**district.headers("admin"), "Idempotency-Key": f"equity-{id(body)}"}
    response = client.post("/api/v1/matching/runs", json=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    run = client.get(f"/api/v1/matching/runs/{response.get_json()['id']}", headers=district.headers("admin"))
    return run.get_json()


class FloorPlanner(Planner):
    """The planner reporting a cost the test can trace to the floor it was given (the search is unchanged)."""

    def solve(self, *args, equity_floor=None, **options):
        result = super().solve(*args, equity_floor=equity_floor, **options)
        result.equity = {"floor": equity_floor, "cost": equity_floor * 2} if equity_floor else {}
        return result


def test_the_plan_reports_equity_by_kecamatan_from_the_same_run(client, district):
    run = plan(client, district)
    assert run["status"] == "done", run["error"]
    equity = run["detail"]["equity"]
    # The same solve: the equity's district coverage is the run's.
    assert equity["coverage"] == run["coverage"]
    names = {row["name"] for row in equity["by_kecamatan"]}
    assert names == {"Pasar Muaro Bungo", "Tanah Tumbuh", "Jujuhan"}
    shares = [row["coverage"] for row in equity["by_kecamatan"]]
    assert shares == sorted(shares)  # worst first
    assert equity["worst"]["name"] == equity["by_kecamatan"][0]["name"]
    assert equity["spread"] == round(equity["best"]["coverage"] - equity["worst"]["coverage"], 4)
    assert sum(row["periods"] for row in equity["by_kecamatan"]) > 0
    assert equity["floor"] == 0.8  # the district's default
    assert equity["applied"] is True  # three kecamatan: the planner kept the floor
    assert equity["cost"] is not None and equity["cost"] >= 0


def test_the_floor_reaches_the_planner_and_its_cost_is_reported(client, district, monkeypatch):
    monkeypatch.setattr(solving, "Planner", FloorPlanner)  # the forked solver inherits it
    assert (
        client.patch("/api/v1/district", json={"equity_floor": 0.9}, headers=district.headers("admin")).status_code
        == 200
    )
    run = plan(client, district)
    assert run["status"] == "done", run["error"]
    equity, [week] = run["detail"]["equity"], run["detail"]["weeks"]
    assert equity["floor"] == 0.9 and equity["applied"] is True
    # The planner got 0.9 and reported 1.8 of covered weight: in shares of the range's weight.
    assert equity["cost"] == round(1.8 / week["weight"], 4)


def test_solve_options_pass_the_floor_or_say_off():
    assert solve_options(0.8) == {"equity_floor": 0.8}
    # Off is said explicitly: the planner's own default (a floor when schools carry areas) must not apply.
    assert solve_options(None) == {"equity_floor": None} and solve_options(0) == {"equity_floor": None}
    assert planner_cost(SimpleNamespace(equity_cost=2.5)) == 2.5
    assert planner_cost(SimpleNamespace(equity_cost=-0.1)) == 0.0  # never a gain
    assert planner_cost(SimpleNamespace(equity_cost=None)) is None


def test_a_floor_turned_off_reaches_the_real_planner_as_off(client, district):
    assert (
        client.patch("/api/v1/district", json={"equity_floor": None}, headers=district.headers("admin")).status_code
        == 200
    )
    run = plan(client, district)
    assert run["status"] == "done", run["error"]
    equity = run["detail"]["equity"]
    assert (equity["floor"], equity["applied"], equity["cost"]) == (None, False, None)
