"""Equity in the weekly plan: pass the district's floor to the planner, and report what the plan gave
each kecamatan and what the floor cost in total coverage.

The planner keeps the worst kecamatan's coverage at or above `equity_floor` x the district's (its
default when the schools carry areas); the district can turn that off (floor None), which is passed
on as such. What the floor cost is the planner's own figure from the same solve (`equity_cost`: its
coverage-only plan of the run, projected over the time the floor's search took, minus the plan's
coverage): nothing is solved twice.
"""

from __future__ import annotations

from collections.abc import Iterable


def solve_options(floor: float | None) -> dict:
    """Keyword arguments for `Planner.solve`: the district's floor, or None (off) when it has none."""
    return {"equity_floor": float(floor) if floor is not None and floor > 0 else None}


def planner_cost(result) -> float | None:
    """What the floor cost in covered weight, as the planner reports it (None when no floor was kept)."""
    cost = result.equity_cost
    return None if cost is None else max(0.0, float(cost))


def area_sums(inst, assignment: dict[int, int], sessions: Iterable[int]) -> dict[str, dict]:
    """Covered and requested weight and periods of `sessions` by the schools' area (kecamatan)."""
    out: dict[str, dict] = {}
    for s in sessions:
        area = inst.school_area[inst.session_school[s]] or "?"
        row = out.setdefault(area, {"weight": 0.0, "covered": 0.0, "periods": 0, "covered_periods": 0})
        w, p = float(inst.session_weight[s]), int(inst.session_periods[s])
        row["weight"] += w
        row["periods"] += p
        if s in assignment:
            row["covered"] += w
            row["covered_periods"] += p
    return out


def merge(into: dict[str, dict], part: dict[str, dict]) -> dict[str, dict]:
    for area, row in part.items():
        target = into.setdefault(area, dict.fromkeys(row, 0))
        for key, value in row.items():
            target[key] += value
    return into


def summary(areas: dict[str, dict], floor: float | None, applied: bool, cost: float | None, names: dict) -> dict:
    """The run's equity as the district office reads it: each kecamatan's planned coverage, the spread
    between the best and the worst, the worst as a share of the district's, and the floor's cost."""
    weight = sum(r["weight"] for r in areas.values())
    covered = sum(r["covered"] for r in areas.values())
    district = covered / weight if weight else 0.0
    rows = sorted(
        (
            {"key": k, "name": names.get(k, k), "coverage": round(r["covered"] / r["weight"], 4) if r["weight"] else 0.0,
             "periods": r["periods"], "covered_periods": r["covered_periods"]}
            for k, r in areas.items()
        ),
        key=lambda r: (r["coverage"], r["key"]),
    )  # fmt: skip
    worst, best = (rows[0], rows[-1]) if rows else (None, None)
    return {
        "floor": floor,
        "applied": applied,
        "coverage": round(district, 4),
        "by_kecamatan": rows,
        "best": best,
        "worst": worst,
        "spread": round(best["coverage"] - worst["coverage"], 4) if rows else 0.0,
        "worst_share": round(worst["coverage"] / district, 4) if rows and district else None,
        # In shares of the range's session weight, like the run's coverage.
        "cost": None if cost is None or not weight else round(cost / weight, 4),
    }
