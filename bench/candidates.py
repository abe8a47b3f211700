"""Benchmark of building the feasible pairs (`matching.candidates.build_candidates`).

    .venv/bin/python bench/candidates.py            # x1, the 3x regency, and the 3x regency with wider radii
    .venv/bin/python bench/candidates.py --old REV  # also time the build of git revision REV, for comparison

The 3x regency is `bench/matching.py`'s `tiled()` of bungo-district-a (40,290 sessions, 4,500 teachers,
about 1.1M pairs); "wide" multiplies every radius so that it holds about 4.5M pairs, the size that
issue 14's held-out regency has. Each build runs in its own process so that its peak memory
(ru_maxrss, which includes reading the instance) is measured alone. Prints a table; paste it into
bench/RESULTS.md with the machine, the load and the date.
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
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.matching import tiled  # noqa: E402

BASE = HERE / "instances" / "bungo-district-a.json"


def widened(path: Path, factor: float) -> Path:
    """The instance with every teacher's radius multiplied by `factor`."""
    out = Path("/tmp") / f"{path.stem}-r{factor:g}.json"
    if not out.exists():
        data = json.loads(path.read_text())
        for teacher in data["teachers"]:
            teacher["radius_km"] = round(teacher["radius_km"] * factor, 3)
        out.write_text(json.dumps(data))
    return out


def run_one(instance: str, root: str) -> None:
    """In this (child) process: read the instance, build the pairs, print one JSON line."""
    sys.path.insert(0, root)
    from matching.candidates import build_candidates
    from matching.instance import load_instance

    inst = load_instance(instance)
    read_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    cand = build_candidates(inst)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "sessions": inst.n_sessions,
                "teachers": inst.n_teachers,
                "schools": len(inst.school_ids),
                "pairs": cand.n_pairs,
                "seconds": round(seconds, 2),
                "read_mb": round(read_mb),
                "peak_mb": round(peak_mb),
            }
        )
    )


def measure(instance: Path, root: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--one", str(instance), str(root)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", nargs=2, metavar=("INSTANCE", "ROOT"), help=argparse.SUPPRESS)
    parser.add_argument("--old", metavar="REV", help="also build with this git revision's matching/ and scheduling/")
    parser.add_argument("--wide", type=float, default=4.4, help="radius factor of the wide regency (default 4.4)")
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    instances = {
        "district-a": BASE,
        "regency x3": tiled(BASE, 3),
        f"regency x3, radii x{args.wide:g}": tiled(widened(BASE, args.wide), 3),
    }
    roots = {"this tree": ROOT}
    if args.old:
        old = Path("/tmp") / f"bench-candidates-{args.old}"
        if not old.exists():  # the revision's pure packages alone, unpacked beside this tree
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", args.old, "matching", "scheduling"], capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        roots[args.old] = old
    print(f"# build_candidates, {platform.node()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print()
    print("| instance | code | sessions | teachers | schools | pairs | build s | peak MB (read MB) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, path in instances.items():
        for code, root in roots.items():
            r = measure(path, root)
            print(
                f"| {name} | {code} | {r['sessions']:,} | {r['teachers']:,} | {r['schools']:,} | {r['pairs']:,} "
                f"| {r['seconds']:.2f} | {r['peak_mb']:,} ({r['read_mb']:,}) |",
                flush=True,
            )


if __name__ == "__main__":
    main()
