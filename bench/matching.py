"""Benchmark of the matching engine: greedy nearest-first vs the planner vs the LP bound.

    .venv/bin/python bench/matching.py                 # public instances, planner at 10 s and 60 s
    .venv/bin/python bench/matching.py --long          # also the 10-minute run and the 3x regency at 120 s
    .venv/bin/python bench/matching.py --instant       # instant ranking latency only

"worst area" is the lowest coverage of a kecamatan divided by the whole district's (1.0 is
even); the public instances give no areas, so the planner's fairness term is idle on them except
on the "-areas" row, where each school carries its kecamatan as the service's instances do.

Each run happens in its own process so that its peak memory (including the LP's
process) is measured alone. Prints a table; paste it into bench/RESULTS.md with the
machine and date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

INSTANCES = HERE / "instances"
# The best plan known of bungo-district-a: 9,895 (the planner at 600 s, issue 14); its areas copy the same.
BEST_KNOWN = {"bungo-district-a": 9895.0, "bungo-district-a-areas": 9895.0}


def tiled(path: Path, copies: int) -> Path:
    """A regency `copies` times the size: the instance repeated side by side, 1.2 degrees of longitude apart."""
    out = Path("/tmp") / f"{path.stem}-x{copies}.json"
    if out.exists():
        return out
    data = json.loads(path.read_text())
    big = {
        **data,
        "name": f"{data.get('name', path.stem)}-x{copies}",
        "schools": [],
        "teachers": [],
        "sessions": [],
        "fixed": [],
    }
    for k in range(copies):
        tag = f"-{k}"
        for school in data["schools"]:
            big["schools"].append({**school, "id": school["id"] + tag, "lon": school["lon"] + 1.2 * k})
        for teacher in data["teachers"]:
            big["teachers"].append({**teacher, "id": teacher["id"] + tag, "lon": teacher["lon"] + 1.2 * k})
        for session in data["sessions"]:
            big["sessions"].append(
                {
                    **session,
                    "id": session["id"] + tag,
                    "order": session["order"] + tag,
                    "school": session["school"] + tag,
                }
            )
    out.write_text(json.dumps(big))
    return out


def run_one(instance: str, mode: str, seconds: float, floor: float | None = None) -> dict:
    """In this (child) process: build, solve, check; print one JSON line."""
    from matching.bound import lp_relaxation
    from matching.candidates import build_candidates
    from matching.greedy import nearest_first
    from matching.instance import load_instance
    from matching.planner import Planner
    from matching.validate import check

    began = time.monotonic()
    inst = load_instance(instance)
    if mode == "planner":
        planner = Planner.build(inst, seconds, started=began, seed=0, workers=2)
        cand = planner.cand
    else:
        cand = build_candidates(inst)
    build = time.monotonic() - began
    row = {"sessions": inst.n_sessions, "pairs": cand.n_pairs, "build_s": round(build, 1)}
    if mode == "greedy":
        assignment = nearest_first(inst, cand).assignment()
    elif mode == "bound":
        value, _x, stats = lp_relaxation(inst, cand)
        row.update(
            bound=round(value, 1), seconds=round(time.monotonic() - began, 1), lp_s=stats["seconds"], peak_mb=_peak_mb()
        )
        return row
    else:
        options = {} if floor is None else {"equity_floor": floor}
        result = planner.solve(seconds, started=began, **options)
        assignment = result.assignment
        row["bound"] = round(result.bound, 1) if result.bound else None
        row["bound_method"] = result.bound_method
        row["equity_cost"] = result.equity_cost
    elapsed = time.monotonic() - began  # building and solving; the check below is not part of it
    problems, scores = check(inst, assignment)
    row.update(
        coverage=scores["coverage"],
        worst_area=_worst_area(inst, assignment),
        breaks=scores["continuity_breaks"],
        travel_km=round(scores["travel_km"]),
        feasible=not problems,
        seconds=round(elapsed, 1),
        peak_mb=_peak_mb(),
    )
    return row


def kecamatan_of_school() -> dict[str, str]:
    """NPSN -> kecamatan code, from the project's copy of the district's school list."""
    import csv

    with open(HERE.parent / "dispatch" / "data" / "bungo" / "bungo_schools.csv", newline="") as f:
        return {row["npsn"]: row["kecamatan_code"] for row in csv.DictReader(f)}


def with_areas(path: Path) -> Path:
    """The instance with each school's kecamatan as its area, as the service builds its instances."""
    out = Path("/tmp") / f"{path.stem}-areas.json"
    if not out.exists():
        data = json.loads(path.read_text())
        areas = kecamatan_of_school()
        for school in data["schools"]:
            school["area"] = areas.get(school["id"], "")
        out.write_text(json.dumps(data))
    return out


def _worst_area(inst, assignment: dict[int, int]) -> float:
    """The fairness measure: the lowest coverage of a kecamatan over the whole instance's (by the
    schools' kecamatan even where the instance gives the planner no areas)."""
    import numpy as np

    kecamatan = kecamatan_of_school()
    areas = np.array([kecamatan.get(i.rsplit("-", 1)[0], "") for i in inst.school_ids])[inst.session_school]
    covered = np.zeros(inst.n_sessions, dtype=bool)
    covered[list(assignment)] = True
    weight = inst.session_weight
    overall = weight[covered].sum() / weight.sum()
    return round(min(weight[covered & (areas == a)].sum() / weight[areas == a].sum() for a in set(areas)) / overall, 3)


def measure(instance: Path, mode: str, seconds: float, floor: float | None = None) -> dict:
    cmd = [sys.executable, __file__, "--one", str(instance), mode, str(seconds)] + (
        [] if floor is None else [str(floor)]
    )
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _peak_mb() -> int:
    """This process's peak resident memory plus that of its LP process (both alive at once at worst)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((own + children) / 1024)


def instant_latency(instance: Path, samples: int = 1000) -> dict:
    import numpy as np

    from matching.candidates import build_candidates
    from matching.greedy import scarcity_first
    from matching.instance import load_instance
    from matching.instant import Ranker

    inst = load_instance(instance)
    plan = scarcity_first(inst, build_candidates(inst))  # the week's bookings
    ranker = Ranker(plan)
    rng = np.random.default_rng(0)
    times, repairs, empty = [], 0, 0
    for s in rng.choice(inst.n_sessions, min(samples, inst.n_sessions), replace=False).tolist():
        owner = int(plan.teacher_of[s])
        if owner >= 0:
            plan.unassign(s)
        began = time.perf_counter()
        ranked = ranker.rank(s, limit=5)
        times.append(time.perf_counter() - began)
        repairs += bool(ranked and ranked[0].move)
        empty += not ranked
        if owner >= 0:
            plan.assign(s, owner)
    ms = np.array(times) * 1000
    return {"samples": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "max_ms": round(float(ms.max()), 3), "one_swap_repairs": repairs, "no_candidate": empty}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", nargs="+", metavar="INSTANCE MODE SECONDS [FLOOR]", help=argparse.SUPPRESS)
    parser.add_argument("--long", action="store_true", help="add the 10-minute run and the 3x regency")
    parser.add_argument("--instant", action="store_true", help="only the instant ranking latency")
    args = parser.parse_args()
    if args.one:
        instance, mode, seconds, *floor = args.one
        print(json.dumps(run_one(instance, mode, float(seconds), float(floor[0]) if floor else None)))
        return
    print(
        f"# {platform.node()} · {os.cpu_count()} cores · {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M')}"
    )
    district = INSTANCES / "bungo-district-a.json"
    print(f"instant ranking on {district.name}: {json.dumps(instant_latency(district))}")
    if args.instant:
        return
    runs = []
    for path in (INSTANCES / "bungo-small-a.json", district):
        runs += [(path, "bound", 0), (path, "greedy", 0), (path, "planner", 10), (path, "planner", 60)]
    # Areas by kecamatan: the planner's default equity floor (0.8), then coverage alone at the same
    # limit (what the floor really cost, against the planner's own estimate).
    runs += [(with_areas(district), "planner", 60), (with_areas(district), "planner-nofloor", 60)]
    if args.long:
        runs.append((district, "planner", 600))
        runs += [(tiled(district, 3), "greedy", 0), (tiled(district, 3), "planner", 120)]
    header = f"{'instance':<22} {'run':<12} {'sessions':>8} {'pairs':>9} {'build s':>7} {'coverage':>9} {'÷bound':>7} {'÷best':>7} {'breaks':>6} {'travel km':>9} {'worst area':>10} {'seconds':>7} {'peak MB':>7}"
    print(header)
    print("-" * len(header))
    bounds: dict[str, float] = {}
    for path, mode, seconds in runs:
        row = measure(
            path, "planner" if mode == "planner-nofloor" else mode, seconds, 0.0 if mode == "planner-nofloor" else None
        )
        name = path.stem
        if mode == "bound":
            bounds[name] = row["bound"]
            label, coverage = "LP bound", row["bound"]
        else:
            label = {"planner": f"planner {seconds:.0f}s", "planner-nofloor": f"no floor {seconds:.0f}s"}.get(
                mode, "greedy"
            )
            coverage = row["coverage"]
            if row.get("bound") and name not in bounds:
                bounds[name] = row["bound"]  # the planner's own bound where no LP row came first
        over_bound = coverage / bounds[name] if name in bounds and bounds[name] else float("nan")
        over_best = coverage / BEST_KNOWN[name] if name in BEST_KNOWN else float("nan")
        print(f"{name:<22} {label:<12} {row['sessions']:>8} {row['pairs']:>9} {row['build_s']:>7} {coverage:>9.1f} {over_bound:>7.3f} "
              f"{over_best:>7.3f} {row.get('breaks', ''):>6} {row.get('travel_km', ''):>9} {row.get('worst_area', ''):>10} {row['seconds']:>7} {row['peak_mb']:>7}"
              + ("" if row.get("feasible", True) else "  INFEASIBLE")
              + (f"  bound {row['bound']} ({row['bound_method']})" if row.get("bound_method") else "")
              + (f"  floor's cost (planner's estimate) {row['equity_cost']}" if row.get("equity_cost") is not None else ""),
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
