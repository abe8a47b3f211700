"""Instance families from the real Bungo schools, and the planner run over a family.

    .venv/bin/python bench/families.py generate --out /tmp/families          # the default family
    .venv/bin/python bench/families.py run --dir /tmp/families [--only NAME] # planner on each, a table

Why: the planner was tuned on one public instance (`bungo-district-a`); the targets are
checked on instances held outside the project, generated the same way. This generator makes
such instances from the public one's real schools (coordinates, levels, which subjects they
ask for) with other seeds, and varies what decides how hard a week is:

- `supply`: teachers as a share of the public instance's 1,500 (scarce 0.6 ... ample 1.3);
- `radius`: the teachers' radius multiplied (a spread of reach: 0.7 short ... 1.4 long);
- `fixed`: a share of sessions already booked (kept in every plan), taken from a greedy plan;
- `scale`: sessions and teachers multiplied over the same schools (a regency as dense as
  three districts: x3 gives about 40k sessions and 4.5M feasible pairs, as issue 14's regency).

Sessions are drawn order by order from the public instance (an order keeps its school,
subject, level, periods and weight; its days and start times are moved on the timetable's
35-minute grid); teachers are drawn from its teachers (qualifications, caps, availability,
rating) with their homes moved up to 3 km. Everything follows from the seed.

`run` solves each instance in its own process (peak memory measured alone) and prints per
instance and in summary (median, worst): coverage / bound (and the bound's method), x greedy,
coverage / best known (the best plan of any run recorded in BEST_KNOWN_FILE, this run
included: say so when quoting it), seconds against the limit, peak MB, worst area.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SOURCE = HERE / "instances" / "bungo-district-a.json"
GRID = 35  # minutes between the timetable's start times in the source instance
DAY_START, DAY_END = 7 * 60, 13 * 60 + 30
BEST_KNOWN_FILE = Path("/tmp/families-best-known.json")

# name: (seed, supply, radius, fixed share, scale, time limit)
FAMILY = {
    "week-s1": (1, 1.0, 1.0, 0.0, 1, 60),
    "week-s2-scarce": (2, 0.6, 1.0, 0.0, 1, 60),
    "week-s3-ample": (3, 1.3, 1.0, 0.0, 1, 60),
    "week-s4-short": (4, 1.0, 0.7, 0.0, 1, 60),
    "week-s5-long": (5, 1.0, 1.4, 0.0, 1, 60),
    "week-s6-booked": (6, 1.0, 1.0, 0.3, 1, 60),
    "week-s7-scarce-long": (7, 0.75, 1.3, 0.1, 1, 60),
    "town-s8-x2": (8, 1.0, 1.0, 0.0, 2, 90),
    "regency-s9-x3": (9, 1.0, 1.2, 0.0, 3, 120),
    "regency-s10-x3-wide": (10, 1.0, 1.27, 0.0, 3, 120),  # about 4.5M pairs, the size of issue 14's regency
}


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def generate(name: str, seed: int, supply: float, radius: float, fixed: float, scale: int) -> dict:
    """One instance of the family (see the module's docstring); deterministic in its arguments."""
    rng = np.random.default_rng(seed)
    src = json.loads(SOURCE.read_text())
    kecamatan = _kecamatan_of_school()
    schools = [{**s, "area": kecamatan.get(s["id"], "")} for s in src["schools"]]
    orders: dict[str, list[dict]] = {}
    for session in src["sessions"]:
        orders.setdefault(session["order"], []).append(session)
    order_list = list(orders.values())
    sessions = []
    n_orders = int(round(len(order_list) * scale))
    for k, i in enumerate(rng.integers(len(order_list), size=n_orders)):
        # The order's lessons keep their spacing; the whole order moves by a few days and slots.
        day_shift = int(rng.integers(6))
        slot_shift = int(rng.integers(-2, 3)) * GRID
        for j, lesson in enumerate(order_list[i]):
            start, end = _minutes(lesson["start"]) + slot_shift, _minutes(lesson["end"]) + slot_shift
            if start < DAY_START or end > DAY_END:
                start, end = _minutes(lesson["start"]), _minutes(lesson["end"])
            sessions.append({**lesson, "id": f"L{k:06d}-{j}", "order": f"O{k:06d}", "day": (lesson["day"] + day_shift) % 6,
                             "start": _hhmm(start), "end": _hhmm(end)})  # fmt: skip
    teachers = []
    n_teachers = int(round(len(src["teachers"]) * supply * scale))
    for k, i in enumerate(rng.integers(len(src["teachers"]), size=n_teachers)):
        t = src["teachers"][i]
        r_km, angle = 3.0 * np.sqrt(rng.random()), rng.random() * 2 * np.pi
        teachers.append({**t, "id": f"T{k:05d}", "lat": round(t["lat"] + r_km / 111.0 * np.sin(angle), 5),
                         "lon": round(t["lon"] + r_km / 111.0 * np.cos(angle), 5),
                         "radius_km": round(t["radius_km"] * radius, 1)})  # fmt: skip
    data = {"format": src["format"], "name": name, "travel": src["travel"], "schools": schools,
            "teachers": teachers, "sessions": sessions, "fixed": []}  # fmt: skip
    if fixed > 0:
        data["fixed"] = _bookings(data, fixed, rng)
    return data


def _bookings(data: dict, share: float, rng: np.random.Generator) -> list[dict]:
    """A share of the sessions booked already: a random part of a nearest-first plan (feasible together)."""
    from matching.candidates import build_candidates
    from matching.greedy import nearest_first
    from matching.instance import parse_instance

    inst = parse_instance(data)
    assignment = nearest_first(inst, build_candidates(inst)).assignment()
    sessions = sorted(assignment)
    keep = rng.choice(len(sessions), size=min(len(sessions), int(share * inst.n_sessions)), replace=False)
    return [{"session": inst.session_ids[sessions[i]], "teacher": inst.teacher_ids[assignment[sessions[i]]]}
            for i in sorted(keep)]  # fmt: skip


def _kecamatan_of_school() -> dict[str, str]:
    import csv

    with open(HERE.parent / "dispatch" / "data" / "bungo" / "bungo_schools.csv", newline="") as f:
        return {row["npsn"]: row["kecamatan_code"] for row in csv.DictReader(f)}


def cmd_generate(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, (seed, supply, radius, fixed, scale, _limit) in FAMILY.items():
        if args.only and name not in args.only:
            continue
        path = out / f"{name}.json"
        if path.exists() and not args.force:
            continue
        data = generate(name, seed, supply, radius, fixed, scale)
        path.write_text(json.dumps(data))
        print(f"{path}: {len(data['sessions'])} sessions, {len(data['teachers'])} teachers, {len(data['fixed'])} fixed")


def run_one(path: str, mode: str, seconds: float) -> dict:
    """In a child process: the planner (or nearest-first) on one instance, checked; one JSON line."""
    import resource

    from matching.candidates import build_candidates
    from matching.greedy import nearest_first
    from matching.instance import load_instance
    from matching.planner import Planner
    from matching.validate import check

    began = time.monotonic()
    inst = load_instance(path)
    row: dict = {"sessions": inst.n_sessions, "teachers": inst.n_teachers}
    if mode == "greedy":
        cand = build_candidates(inst)
        assignment = nearest_first(inst, cand).assignment()
    else:
        planner = Planner.build(inst, time_limit=seconds, started=began, seed=0, workers=2)
        cand = planner.cand
        result = planner.solve(seconds, started=began)
        assignment = result.assignment
        row.update(bound=result.bound, bound_method=result.bound_method, phases=result.phases,
                   equity_cost=result.equity_cost)  # fmt: skip
    row["seconds"] = round(time.monotonic() - began, 1)
    problems, scores = check(inst, assignment)
    row.update(
        pairs=cand.n_pairs, coverage=scores["coverage"], feasible=not problems, worst_area=_worst_area(inst, assignment)
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    row["peak_mb"] = round((own + children) / 1024)
    return row


def _worst_area(inst, assignment: dict[int, int]) -> float:
    """The lowest coverage of an area over the whole instance's (1.0 is even)."""
    areas = np.array(inst.school_area)[inst.session_school]
    covered = np.zeros(inst.n_sessions, dtype=bool)
    covered[list(assignment)] = True
    w = inst.session_weight
    overall = w[covered].sum() / w.sum()
    return round(min(w[covered & (areas == a)].sum() / w[areas == a].sum() for a in set(areas.tolist())) / overall, 3)


def _measure(path: Path, mode: str, seconds: float) -> dict:
    done = subprocess.run([sys.executable, __file__, "one", str(path), mode, str(seconds)], capture_output=True,
                          text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


HEADER = (f"{'instance':<20} {'sessions':>8} {'pairs':>9} {'limit':>5} {'seconds':>7} {'coverage':>8} {'bound':>8} "
          f"{'method':<10} {'÷bound':>6} {'÷best':>6} {'×greedy':>7} {'peak MB':>7} {'worst':>5} {'floor cost':>10}")  # fmt: skip


def _line(row: dict, best: float) -> str:
    cost = row.get("equity_cost")
    return (f"{row['name']:<20} {row['sessions']:>8} {row['pairs']:>9} {row['limit']:>5} {row['seconds']:>7} "
            f"{row['coverage']:>8.0f} {row['bound']:>8.0f} {row['bound_method']:<10} {row['coverage'] / row['bound']:>6.3f} "
            f"{row['coverage'] / best:>6.3f} {row['coverage'] / row['greedy']:>7.3f} {row['peak_mb']:>7} "
            f"{row['worst_area']:>5} {'' if cost is None else round(cost, 1):>10}"
            + ("" if row["feasible"] else "  INFEASIBLE"))  # fmt: skip


def _summary(rows: list[dict], best: dict) -> None:
    summary = {
        "÷bound": [r["coverage"] / r["bound"] for r in rows],
        "÷best": [r["coverage"] / best.get(r["name"], r["coverage"]) for r in rows],
        "×greedy": [r["coverage"] / r["greedy"] for r in rows],
        "seconds÷limit": [r["seconds"] / r["limit"] for r in rows],
        "peak MB": [r["peak_mb"] for r in rows],
        "worst area": [r["worst_area"] for r in rows],
    }
    worst_is_max = {"seconds÷limit", "peak MB"}
    for key, values in summary.items():
        worst = max(values) if key in worst_is_max else min(values)
        print(f"summary {key:<14} median {statistics.median(values):.3f}  worst {worst:.3f}")


def cmd_run(args) -> None:
    folder = Path(args.dir)
    best = json.loads(BEST_KNOWN_FILE.read_text()) if BEST_KNOWN_FILE.exists() else {}
    load = os.getloadavg()
    print(f"# {platform.node()} · {os.cpu_count()} cores · {time.strftime('%Y-%m-%d %H:%M')} · load {load[0]:.1f}")
    print(HEADER)
    print("-" * len(HEADER))
    rows = []
    for name, (*_, limit) in FAMILY.items():
        if args.only and name not in args.only:
            continue
        path = folder / f"{name}.json"
        limit = args.limit or limit
        greedy = _measure(path, "greedy", 0)
        row = _measure(path, "planner", limit)
        if "error" in row or "error" in greedy:
            print(f"{name:<20} failed: {row.get('error') or greedy.get('error')}", flush=True)
            continue
        best[name] = max(best.get(name, 0.0), row["coverage"])
        BEST_KNOWN_FILE.write_text(json.dumps(best))
        row.update(name=name, limit=limit, greedy=greedy["coverage"])
        rows.append(row)
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=1))
        print(_line(row, best[name]), flush=True)
    if rows:
        _summary(rows, best)


def cmd_report(args) -> None:
    """A run's rows again, against the best known now (after longer runs)."""
    best = json.loads(BEST_KNOWN_FILE.read_text()) if BEST_KNOWN_FILE.exists() else {}
    rows = json.loads(Path(args.json).read_text())
    print(HEADER)
    print("-" * len(HEADER))
    for row in rows:
        print(_line(row, best.get(row["name"], row["coverage"])))
    _summary(rows, best)
    print("best known:", json.dumps(best))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate")
    gen.add_argument("--out", default="/tmp/families")
    gen.add_argument("--only", nargs="*")
    gen.add_argument("--force", action="store_true")
    run = sub.add_parser("run")
    run.add_argument("--dir", default="/tmp/families")
    run.add_argument("--only", nargs="*")
    run.add_argument("--limit", type=float, help="the same limit for every instance instead of the family's")
    run.add_argument("--json", help="write the rows here too")
    report = sub.add_parser("report")
    report.add_argument("json")
    one = sub.add_parser("one")
    one.add_argument("path")
    one.add_argument("mode")
    one.add_argument("seconds", type=float)
    args = parser.parse_args()
    if args.command == "one":
        print(json.dumps(run_one(args.path, args.mode, args.seconds)))
    elif args.command == "generate":
        cmd_generate(args)
    elif args.command == "report":
        cmd_report(args)
    else:
        cmd_run(args)


if __name__ == "__main__":
    main()
