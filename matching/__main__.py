"""python -m matching: solve, bound, greedy, whatif and check on instance files (FORMAT.md).

    python -m matching solve INSTANCE --time-limit 60 [--workers 2] [--seed 0] [--equity-floor 0.8] [--budget U]
                             [--check] [--out FILE]
    python -m matching bound INSTANCE
    python -m matching greedy INSTANCE [--out FILE]
    python -m matching whatif INSTANCE --add '{"count": 20, "subjects": ["GK"], "levels": ["SD"], "lat": -1.5, "lon": 102.1}'
    python -m matching check INSTANCE SOLUTION

Solutions go to stdout (or --out) as JSON; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

from matching.bound import lp_relaxation
from matching.candidates import build_candidates
from matching.greedy import nearest_first
from matching.instance import InstanceError, load_instance, solution_json
from matching.planner import DEFAULT_EQUITY_FLOOR, Planner, Progress
from matching.validate import check


def _emit(data: dict, out: str | None) -> None:
    text = json.dumps(data)
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(text)


def _progress(p: Progress) -> None:
    bound = f" bound {p.bound:.1f}" if p.bound is not None else ""
    print(
        f"[{p.seconds:7.1f}s] {p.phase or 'iteration'} {p.iteration}: coverage {p.coverage:.1f}{bound}", file=sys.stderr
    )


def peak_mb() -> int:
    """Peak resident memory of this process and of its finished children (the LP's), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((own + children) / 1024)


def cmd_solve(args) -> int:
    began = time.monotonic()
    inst = load_instance(args.instance)
    planner = Planner.build(inst, args.time_limit, started=began, seed=args.seed, workers=args.workers)
    cand = planner.cand
    built = time.monotonic() - began
    print(f"built {cand.n_pairs} feasible pairs in {built:.1f}s", file=sys.stderr)
    result = planner.solve(
        args.time_limit, progress=_progress, started=began, equity_floor=args.equity_floor, budget=args.budget
    )
    seconds = time.monotonic() - began  # the check below is not part of the plan's time
    # The validator recomputes every rule in Python (seconds at 40,000 sessions): asked for only.
    problems, scores = check(inst, result.assignment) if args.check else ([], {"coverage": result.coverage})
    print(f"bound {result.bound:.1f} ({result.bound_method}); coverage {result.coverage:.1f} in {seconds:.1f}s, "
          f"peak {peak_mb()} MB", file=sys.stderr)  # fmt: skip
    stats = {
        **scores,
        "bound": result.bound,
        "bound_method": result.bound_method,
        "coverage_over_bound": round(result.coverage / result.bound, 4) if result.bound else None,
        "feasible_pairs": cand.n_pairs,
        "pairs_complete": bool(getattr(cand, "complete", True)),
        "build_seconds": round(built, 2),
        "seconds": round(seconds, 2),
        "phases": result.phases,
        "iterations": result.iterations,
        "peak_mb": peak_mb(),
        "equity": result.equity,
        "lp": result.lp,
        "problems": problems[:20],
    }
    _emit(solution_json(inst, result.assignment, statistics=stats), args.out)
    return 0 if not problems else 1


def cmd_bound(args) -> int:
    inst = load_instance(args.instance)
    cand = build_candidates(inst)
    value, _x, stats = lp_relaxation(inst, cand)
    print(json.dumps({"coverage_upper_bound": round(value, 6), "feasible_pairs": cand.n_pairs, **stats}))
    return 0


def cmd_greedy(args) -> int:
    inst = load_instance(args.instance)
    cand = build_candidates(inst)
    plan = nearest_first(inst, cand)
    problems, scores = check(inst, plan.assignment())
    _emit(solution_json(inst, plan.assignment(), statistics=scores), args.out)
    return 0 if not problems else 1


def cmd_whatif(args) -> int:
    from matching.whatif import what_if

    with open(args.instance, encoding="utf-8") as f:
        data = json.load(f)
    try:
        specs = [json.loads(spec) for spec in args.add]
    except json.JSONDecodeError as exc:
        raise InstanceError(f"--add: not JSON ({exc})") from None
    print(json.dumps(what_if(data, specs, time_limit=args.time_limit, seed=args.seed, workers=args.workers)))
    return 0


def cmd_check(args) -> int:
    inst = load_instance(args.instance)
    with open(args.solution, encoding="utf-8") as f:
        solution = json.load(f)
    index_s = {sid: i for i, sid in enumerate(inst.session_ids)}
    index_t = {tid: i for i, tid in enumerate(inst.teacher_ids)}
    assignment, problems = {}, []
    for pair in solution.get("assignments", []):
        s, t = index_s.get(pair.get("session")), index_t.get(pair.get("teacher"))
        if s is None or t is None:
            problems.append(f"unknown session or teacher in {pair}")
        elif s in assignment:
            problems.append(f"session {pair['session']} assigned twice")
        else:
            assignment[s] = t
    more, scores = check(inst, assignment)
    for problem in (problems + more)[:50]:
        print("BROKEN:", problem)
    print(json.dumps({**scores, "feasible": not (problems or more)}))
    return 1 if problems or more else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m matching", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    solve = sub.add_parser("solve", help="plan the week: greedy seed, LP rounding, CP-SAT neighbourhood search")
    solve.add_argument("instance")
    solve.add_argument("--time-limit", type=float, default=60.0, help="seconds, model building included")
    solve.add_argument("--workers", type=int, default=2)
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument(
        "--equity-floor",
        type=float,
        default=DEFAULT_EQUITY_FLOOR,
        help="with areas: keep the worst area's coverage at this share of the whole (0: coverage alone)",
    )
    solve.add_argument(
        "--budget",
        type=float,
        help="CP-SAT deterministic units for the search (the same plan on every run; e.g. 1.3 x the limit)",
    )
    solve.add_argument("--check", action="store_true", help="check the plan with the validator and add its scores")
    solve.add_argument("--out")
    solve.set_defaults(run=cmd_solve)
    bound = sub.add_parser("bound", help="an upper bound on coverage (LP relaxation, valid by duality)")
    bound.add_argument("instance")
    bound.set_defaults(run=cmd_bound)
    greedy = sub.add_parser("greedy", help="nearest-first dispatch, the ride-hailing baseline")
    greedy.add_argument("instance")
    greedy.add_argument("--out")
    greedy.set_defaults(run=cmd_greedy)
    whatif = sub.add_parser("whatif", help="coverage with hypothetical extra teachers")
    whatif.add_argument("instance")
    whatif.add_argument(
        "--add",
        action="append",
        required=True,
        help="JSON: count, subjects, levels, lat/lon or school or kecamatan_code, radius_km, max_periods",
    )
    whatif.add_argument("--time-limit", type=float, default=30.0)
    whatif.add_argument("--workers", type=int, default=2)
    whatif.add_argument("--seed", type=int, default=0)
    whatif.set_defaults(run=cmd_whatif)
    checker = sub.add_parser("check", help="check a solution against every rule and print its scores")
    checker.add_argument("instance")
    checker.add_argument("solution")
    checker.set_defaults(run=cmd_check)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InstanceError as exc:
        print(f"error: malformed instance: {exc}", file=sys.stderr)
        return 2
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
