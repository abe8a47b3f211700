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
from scipy.sparse import coo_matrix, csc_matrix

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
