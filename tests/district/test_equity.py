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
    """The planner with the option the planner engineer adds, reporting a cost the test can trace to the
    floor it was given (the real search is unchanged)."""

    def solve(self, time_limit, start=None, progress=None, use_lp=True, started=None, equity_floor=None):
        result = super().solve(time_limit, start, progress, use_lp, started)
        result.equity = {"floor": equity_floor, "cost_estimate": equity_floor * 2} if equity_floor else {}
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
    takes_floor = "equity_floor" in solve_options(Planner.solve, 0.8)
    assert equity["applied"] is takes_floor


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


def test_without_a_floor_the_planner_is_not_asked_for_one(client, district, monkeypatch):
    monkeypatch.setattr(solving, "Planner", FloorPlanner)
    assert (
        client.patch("/api/v1/district", json={"equity_floor": None}, headers=district.headers("admin")).status_code
        == 200
    )
    run = plan(client, district)
    assert run["status"] == "done", run["error"]
    equity = run["detail"]["equity"]
    assert (run["status"], equity["floor"], equity["applied"], equity["cost"]) == ("done", None, False, None)


def test_solve_options_and_the_planners_names_for_the_cost():
    def old_solve(time_limit, progress=None): ...

    def new_solve(time_limit, progress=None, equity_floor=None): ...

    assert solve_options(old_solve, 0.8) == {}
    assert solve_options(new_solve, 0.8) == {"equity_floor": 0.8}
    assert solve_options(new_solve, None) == {} and solve_options(new_solve, 0) == {}
    assert planner_cost(SimpleNamespace(equity={"cost_estimate": 2.5})) == 2.5
    assert planner_cost(SimpleNamespace(equity_cost=1.0)) == 1.0
    assert planner_cost(SimpleNamespace(coverage=9.0, coverage_without_equity=10.0)) == 1.0
    assert planner_cost(SimpleNamespace(equity={"cost_estimate": -0.1})) == 0.0  # never a gain
    assert planner_cost(SimpleNamespace(equity={})) is None
