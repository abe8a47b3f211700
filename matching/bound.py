"""Upper bounds on coverage, and the LP solution that guides the planner's seed.

The LP relaxation keeps rules 1-4 and 6 exactly and rule 5 through cliques: per
teacher and day, the sessions running at one moment (overlap), plus, when asked,
sessions that cannot both be taught because of the drive between schools
(travel conflicts), added as cliques found greedily among the teacher's sessions.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from contextlib import contextmanager

import numpy as np
from scipy.sparse import coo_matrix, csc_matrix, csr_matrix

from matching.candidates import Candidates
from matching.instance import Instance


def overlap_cliques(inst: Instance, cand: Candidates, pairs: np.ndarray) -> list[list[int]]:
    """Per day, the pairs of one teacher running at each session start: they pairwise overlap."""
    sessions = cand.pair_session[pairs]
    days = inst.session_day[sessions].tolist()
    starts = inst.session_start[sessions].tolist()
    ends = inst.session_end[sessions].tolist()
    pair_list = pairs.tolist()
    per_day: dict[int, list[int]] = defaultdict(list)
    for i, day in enumerate(days):
        per_day[day].append(i)
    cliques: list[list[int]] = []
    for members in per_day.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: (starts[i], ends[i]))
        last: set[int] = set()
        for i in members:
            point = starts[i]
            active = {j for j in members if starts[j] <= point < ends[j]}
            if len(active) > 1 and not active <= last:
                cliques.append([pair_list[j] for j in active])
            last = active
    return cliques


@contextmanager
def _quiet_stdout():
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def lp_matrix(inst: Instance, cand: Candidates) -> tuple[csc_matrix, np.ndarray]:
    """Rows: one teacher per session, the weekly cap, and the overlap cliques. Returns (A, rhs) for A x <= rhs."""
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs: list[float] = []

    def add_row(entries, coefficients, limit):
        r = len(rhs)
        rows.extend([r] * len(entries))
        cols.extend(entries)
        vals.extend(coefficients)
        rhs.append(limit)

    for pairs in cand.by_session:
        if len(pairs) > 1:
            add_row(pairs.tolist(), [1.0] * len(pairs), 1.0)
    for t, pairs in enumerate(cand.by_teacher):
        if len(pairs) == 0:
            continue
        periods = inst.session_periods[cand.pair_session[pairs]].astype(float)
        if periods.sum() > inst.teacher_cap[t]:
            add_row(pairs.tolist(), periods.tolist(), float(inst.teacher_cap[t]))
        for clique in overlap_cliques(inst, cand, pairs):
            add_row(clique, [1.0] * len(clique), 1.0)
    matrix = coo_matrix((vals, (rows, cols)), shape=(len(rhs), cand.n_pairs)).tocsc()
    return matrix, np.asarray(rhs, dtype=float)


def dual_bound(cost: np.ndarray, matrix: csc_matrix, rhs: np.ndarray, duals: np.ndarray, upper: np.ndarray) -> float:
    """A valid upper bound from any non-negative row prices y (weak duality, 0 <= x <= upper):
    max c.x <= y.rhs + sum_j upper_j * max(0, c_j - (A^T y)_j). Exact however rough y is."""
    y = np.maximum(duals, 0.0)
    reduced = cost - matrix.T @ y
    return float(y @ rhs + (upper * np.maximum(reduced, 0.0)).sum())


def lp_relaxation(
    inst: Instance, cand: Candidates, tolerance: float = 1e-3, threads: int = 2
) -> tuple[float, np.ndarray, dict]:
    """Solve the LP relaxation (HiGHS interior point, no crossover). Returns (bound, x per pair, statistics).

    The bound is computed from the LP's row prices by weak duality, so it is a true upper
    bound on coverage even though the interior-point run stops at a tolerance.
    """
    import highspy

    began = time.monotonic()
    n = cand.n_pairs
    if n == 0:
        return 0.0, np.zeros(0), {"rows": 0, "seconds": 0.0}
    matrix, rhs = lp_matrix(inst, cand)
    built = time.monotonic() - began
    fixed = {(s, t) for s, t in inst.fixed}
    lower = np.zeros(n)
    if fixed:
        lower = np.array(
            [float((int(s), int(t)) in fixed) for s, t in zip(cand.pair_session, cand.pair_teacher, strict=True)]
        )
    cost = inst.session_weight[cand.pair_session].astype(float)
    with _quiet_stdout():  # HiGHS prints a banner on creation; stdout may carry JSON
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("solver", "ipm")
    highs.setOptionValue("run_crossover", "off")
    highs.setOptionValue("ipm_optimality_tolerance", tolerance)
    highs.setOptionValue("threads", threads)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(rhs)
    lp.col_cost_ = -cost
    lp.col_lower_, lp.col_upper_ = lower, np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.full(len(rhs), -highspy.kHighsInf), rhs
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    highs.passModel(lp)
    highs.run()
    solution = highs.getSolution()
    x = np.clip(np.asarray(solution.col_value, dtype=float), 0.0, 1.0)
    # HiGHS prices rows of a minimisation as <= 0; the maximisation's prices are their negation.
    duals = -np.asarray(solution.row_dual, dtype=float)
    bound = dual_bound(cost, matrix, rhs, duals, np.ones(n)) if len(duals) == len(rhs) else float(cost.sum())
    stats = {
        "rows": len(rhs),
        "pairs": n,
        "build_seconds": round(built, 2),
        "seconds": round(time.monotonic() - began, 2),
        "lp_value": round(float(cost @ x), 3),
        "status": str(highs.getModelStatus()),
    }
    return bound, x, stats


# -- bounds that keep a deadline ----------------------------------------------------------------


def clique_matrix(inst: Instance, cand: Candidates) -> tuple[csr_matrix, np.ndarray]:
    """The LP's rows built with numpy alone (fast at millions of pairs): one teacher per session,
    the weekly cap where it binds, and per teacher the sessions running at each start time of a day
    (the overlap cliques of lp_matrix, plus dominated ones, which are redundant but valid).
    Returns (A, rhs) for A x <= rhs, A in CSR."""
    n = cand.n_pairs
    pair_session, pair_teacher = cand.pair_session, cand.pair_teacher
    periods = inst.session_periods[pair_session].astype(float)
    # Session rows (a row of a session with one pair is just x <= 1, harmless).
    session_rows = pair_session
    n_rows = inst.n_sessions
    # Cap rows, only for teachers whose candidates exceed the cap.
    asked = np.bincount(pair_teacher, weights=periods, minlength=inst.n_teachers)
    binding = asked > inst.teacher_cap
    cap_row = np.full(inst.n_teachers, -1, dtype=np.int64)
    cap_row[binding] = n_rows + np.arange(int(binding.sum()))
    n_rows += int(binding.sum())
    has_cap = binding[pair_teacher]
    # Overlap points: every distinct (day, start); a session covers the points of its day within it.
    day, start, end = inst.session_day, inst.session_start, inst.session_end
    points = np.unique(np.stack([day, start], axis=1), axis=0)
    point_day, point_time = points[:, 0], points[:, 1]
    first = np.searchsorted(point_day * 10_000 + point_time, day * 10_000 + start, side="left")
    last = np.searchsorted(point_day * 10_000 + point_time, day * 10_000 + end, side="left")  # exclusive
    covers = last - first  # >= 1: the session's own start
    reps = covers[pair_session]
    pair_rep = np.repeat(np.arange(n), reps)
    offset = np.arange(len(pair_rep)) - np.repeat(np.cumsum(reps) - reps, reps)
    point = first[pair_session[pair_rep]] + offset
    key = pair_teacher[pair_rep].astype(np.int64) * len(points) + point
    unique_keys, clique_of, size = np.unique(key, return_inverse=True, return_counts=True)
    keep = size[clique_of] > 1  # a one-pair clique says nothing
    kept_ids = np.cumsum(size > 1) - 1
    clique_rows = n_rows + kept_ids[clique_of[keep]]
    n_rows += int((size > 1).sum())
    rows = np.concatenate([session_rows, cap_row[pair_teacher[has_cap]], clique_rows])
    cols = np.concatenate([np.arange(n), np.flatnonzero(has_cap), pair_rep[keep]])
    vals = np.concatenate([np.ones(n), periods[has_cap], np.ones(int(keep.sum()))])
    rhs = np.concatenate([np.ones(inst.n_sessions), inst.teacher_cap[binding].astype(float),
                          np.ones(n_rows - inst.n_sessions - int(binding.sum()))])  # fmt: skip
    matrix = csr_matrix((vals, (rows, cols)), shape=(n_rows, n))
    return matrix, rhs


def capacity_bound(inst: Instance, cand: Candidates) -> float:
    """Per-teacher capacity bound: no more than what has a candidate, and no more than every teacher's
    cap filled with the heaviest weight per period they could teach. Valid, weak, instant."""
    reachable = float(inst.session_weight[np.bincount(cand.pair_session, minlength=inst.n_sessions) > 0].sum())
    if cand.n_pairs == 0:
        return 0.0
    per_period = inst.session_weight[cand.pair_session] / inst.session_periods[cand.pair_session]
    best = np.zeros(inst.n_teachers)
    np.maximum.at(best, cand.pair_teacher, per_period)
    return min(reachable, float((best * inst.teacher_cap).sum()))


def lagrangian_bound(
    inst: Instance,
    cand: Candidates,
    lower: float = 0.0,
    iterations: int = 400,
    deadline: float | None = None,
    matrix: tuple[csr_matrix, np.ndarray] | None = None,
) -> tuple[float, np.ndarray, dict]:
    """The LP relaxation's Lagrangian dual by projected subgradient (Polyak steps toward `lower`,
    a known plan's coverage), each iterate a valid bound by weak duality (dual_bound): the best is
    returned, with the average of the Lagrangian's maximisers as a rough LP solution for rounding.

    A fixed number of iterations, so the answer does not depend on the machine; `deadline`
    (time.monotonic()) stops it earlier, still with a valid bound.
    """
    began = time.monotonic()
    n = cand.n_pairs
    if n == 0:
        return 0.0, np.zeros(0), {"iterations": 0, "seconds": 0.0}
    a, rhs = matrix if matrix is not None else clique_matrix(inst, cand)
    a_t = a.T.tocsr()
    cost = inst.session_weight[cand.pair_session].astype(float)
    # Start: each session row priced at half its weight (measured on bungo-district-a, 400
    # iterations: 10,810 from half, 11,218 from 0.3, 12,031 from the whole weight; the LP is 10,437).
    y = np.zeros(len(rhs))
    y[: inst.n_sessions] = 0.5 * inst.session_weight
    best, best_y = np.inf, y
    average = np.zeros(n)
    theta, stalled = 2.0, 0
    done = 0
    for it in range(iterations):
        if deadline is not None and time.monotonic() >= deadline:
            break
        reduced = cost - a_t @ y
        x = (reduced > 0).astype(float)
        value = float(y @ rhs + reduced[reduced > 0].sum())
        done = it + 1
        if value < best - 1e-9:
            best, best_y, stalled = value, y, 0
        else:
            stalled += 1
            if stalled >= 20:  # halve the step when the bound stops improving
                theta, stalled = theta / 2, 0
        average += x
        g = rhs - a @ x
        g[(y <= 0) & (g > 0)] = 0.0  # the projection on y >= 0
        norm = float(g @ g)
        if norm <= 1e-12:
            break
        step = theta * max(value - lower, 1e-6 * value) / norm
        y = np.maximum(0.0, y - step * g)
    x_avg = average / max(done, 1)
    stats = {
        "iterations": done,
        "rows": len(rhs),
        "pairs": n,
        "seconds": round(time.monotonic() - began, 2),
        "last_step_scale": theta,
    }
    return min(best, float(cost.sum())), x_avg, stats | {"y_rows": int((best_y > 0).sum())}
