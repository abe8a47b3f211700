"""One week solved in a child process of the job worker, so that a cancel stops it at once.

The planner checks nothing between its progress reports (and none come while its LP runs, up
to 40 s on the district), so a run is cancelled by killing the child, not by asking it. The child
is forked from the worker (no start-up cost; the instance is shared copy-on-write), gets its own
process group so its LP helper dies with it, never touches the database, and kills itself if the
worker dies (SIGKILL included). Progress and the answer come back over a pipe.

`solve_week` itself is pure: the instance in, the planned assignment and the coverage of the
range's sessions out, with the what-if's breakdown by area and subject.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable

from dispatch.district.equity import area_sums, planner_cost, solve_options
from matching.instance import parse_instance
from matching.planner import Planner
from matching.whatif import add_teachers, coverage_breakdown

PARENT_CHECK_SECONDS = 0.5
_children: set = set()  # solver processes alive in this worker, stopped when the worker exits


class SolverFailed(Exception):
    """The child process failed or died; the message is the reason shown on the run."""


def solve_week(
    data: dict,
    in_range: set[str],
    *,
    time_limit: float,
    workers: int,
    add: list[dict] | None = None,
    breakdown: bool = False,
    progress: Callable[[dict], None] | None = None,
    seed: int = 0,
    equity_floor: float | None = None,
) -> dict:
    """Plan one week's instance; coverage, weight and bound count the sessions in `in_range` only
    (the week's bookings outside it are there for clashes and caps, covered whatever happens).
    `equity_floor` goes to the planner when it takes one; `equity` in the answer has the range's
    covered weight by kecamatan and what the floor cost, as the planner reports it from this solve."""
    began = time.monotonic()
    if add:
        data = add_teachers(data, add)
    inst = parse_instance(data)
    in_range_idx = [i for i, sid in enumerate(inst.session_ids) if sid in in_range]
    fixed = dict(inst.fixed)
    weight = float(inst.session_weight[in_range_idx].sum()) if in_range_idx else 0.0
    out = {"sessions": len(in_range_idx), "open": sum(1 for s in in_range_idx if s not in fixed), "weight": weight}
    if not any(s not in fixed for s in in_range_idx):
        # Nothing to plan (an empty range, or everything booked): the planner is not asked at all.
        assignment = fixed
        bound, iterations = sum(float(inst.session_weight[s]) for s in in_range_idx), 0
        equity = {"applied": False, "cost": None}
    else:
        planner = Planner.build(inst, time_limit, started=began, seed=seed, workers=workers)
        cand = planner.cand

        def report(p) -> None:
            if progress is not None:
                progress(_progress_fields(p))

        result = planner.solve(time_limit, progress=report, started=began, **solve_options(equity_floor))
        assignment, iterations = result.assignment, result.iterations
        # Applied when the planner kept a floor (one was set and the week has more than one kecamatan).
        equity = {"applied": bool(result.equity), "cost": planner_cost(result)}
        bound = None if result.bound is None else _bound_in_range(inst, cand, result.bound, set(in_range_idx))
    covered = sum(float(inst.session_weight[s]) for s in in_range_idx if s in assignment)
    out.update(
        covered=covered,
        bound=None if bound is None else min(bound, weight),
        iterations=iterations,
        planned={
            inst.session_ids[s]: inst.teacher_ids[t]
            for s, t in assignment.items()
            if s not in fixed and s in in_range_idx
        },
        teachers=inst.n_teachers,
        equity={**equity, "areas": area_sums(inst, assignment, in_range_idx)},
    )
    if breakdown:
        out["breakdown"] = coverage_breakdown(inst, assignment, in_range_idx)
    return out


def _progress_fields(p) -> dict:
    """What the run's row shows while the planner works; phase and best only once the planner gives them."""
    return {
        "seconds": round(float(p.seconds), 2),
        "covered_all": float(p.coverage),  # the whole instance's covered weight, bookings outside the range too
        "bound_all": None if p.bound is None else float(p.bound),
        "phase": getattr(p, "phase", None),
        "iteration": int(getattr(p, "iteration", 0) or 0),
    }


def _bound_in_range(inst, cand, bound: float, in_range: set[int]) -> float:
    """The planner's bound counts the whole instance; the week's bookings outside the range are
    covered in every plan (fixed pairs are fixed in the LP too), so their weight comes off it."""
    outside = 0.0
    for s, t in inst.fixed:
        if s not in in_range and t in set(cand.pair_teacher[cand.by_session[s]].tolist()):
            outside += float(inst.session_weight[s])
    return bound - outside


def outside_weight(data: dict, in_range: set[str]) -> float:
    """Weight of the instance's sessions outside the range (bookings kept for clashes and caps)."""
    return sum(float(s.get("weight", 1.0)) for s in data["sessions"] if s["id"] not in in_range)


def solve_in_child(
    data: dict,
    in_range: set[str],
    *,
    on_progress: Callable[[dict], None],
    should_stop: Callable[[], None],
    poll_seconds: float = 0.5,
    nice: int = 0,
    hold_file: str | None = None,
    **kwargs,
) -> dict:
    """solve_week in a forked child. `should_stop` is called about every `poll_seconds` and may raise
    (a cancel): the child is killed and the exception goes on. A child that dies raises SolverFailed."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(send, data, in_range, nice, hold_file, kwargs), name="guru-solver", daemon=False
    )
    child.start()
    _children.add(child)
    send.close()
    try:
        while True:
            if receive.poll(poll_seconds):
                try:
                    kind, payload = receive.recv()
                except EOFError:
                    child.join(5)
                    raise SolverFailed(
                        f"the solver process stopped unexpectedly (exit code {child.exitcode})"
                    ) from None
                if kind == "progress":
                    on_progress(payload)
                elif kind == "result":
                    return payload
                else:
                    raise SolverFailed(payload)
            should_stop()
    finally:
        receive.close()
        _stop(child)
        _children.discard(child)


def stop_all() -> None:
    """The worker is exiting: stop its solvers now (multiprocessing would wait for them to finish)."""
    for child in list(_children):
        _stop(child)


def _stop(child) -> None:
    if child.is_alive():
        with contextlib.suppress(OSError):
            if os.getpgid(child.pid) == child.pid:  # the child's own group: it and its LP helper
                os.killpg(child.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            child.kill()
    child.join(10)


def _child(send, data: dict, in_range: set[str], nice: int, hold_file: str | None, kwargs: dict) -> None:
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    if nice:
        os.nice(nice)  # the web server's requests first; the LP helper and CP-SAT threads inherit it
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the worker, which stops this child
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()
    threading.Thread(target=_die_with, args=(parent,), daemon=True).start()
    while hold_file and os.path.exists(hold_file):  # a fault test holds the run in the solver
        time.sleep(0.05)
    try:
        result = solve_week(data, in_range, progress=lambda p: send.send(("progress", p)), **kwargs)
        send.send(("result", result))
    except BaseException as exc:  # noqa: BLE001 - the worker reports it on the run
        send.send(("error", f"the solver failed: {type(exc).__name__}: {exc}"[:500]))
    finally:
        send.close()


def _die_with(parent: int) -> None:
    """A worker killed outright cannot stop its child: the child notices it was orphaned and ends."""
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            if os.getpgid(0) == os.getpid():  # our own group (never the worker's): the LP helper too
                with contextlib.suppress(OSError):
                    os.killpg(0, signal.SIGKILL)
            os._exit(1)
