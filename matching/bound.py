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
from contextlib import contextmanager

import numpy as np
from scipy.sparse import coo_matrix, csc_matrix, csr_matrix

from matching.candidates import Candidates
from matching.instance import Instance
from scheduling.rules import overlap_groups


def overlap_cliques(inst: Instance, cand: Candidates, pairs: np.ndarray) -> list[list[int]]:
    """Per day, the pairs of one teacher running at each session start: they pairwise overlap."""
    sessions = cand.pair_session[pairs]
    groups = overlap_groups(inst.session_day[sessions].tolist(), inst.session_start[sessions].tolist(),
                            inst.session_end[sessions].tolist())  # fmt: skip
    pair_list = pairs.tolist()
    return [[pair_list[j] for j in group] for group in groups]


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


def overlap_points(inst: Instance, max_per_session: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """(day, minute) points for overlap cliques: the sessions of one teacher running at one point
    cannot all be taught. The starts after which the next event is an end hold every teacher's
    maximal cliques (between two of a teacher's own events the set running does not change); when
    the timetable is so fine-grained that a session would cover more than `max_per_session` of them
    on average, a regular grid instead (fewer, weaker rows: still valid)."""
    day, start, end = inst.session_day, inst.session_start, inst.session_end
    points = []
    for d in np.unique(day).tolist():
        on = day == d
        starts, ends = np.unique(start[on]), np.unique(end[on])
        next_start = np.append(starts[1:], np.iinfo(np.int64).max)
        first_end_after = ends[np.minimum(np.searchsorted(ends, starts, side="right"), len(ends) - 1)]
        maximal = starts[first_end_after <= next_start]
        points += [(d, int(p)) for p in maximal]
    points_arr = np.array(points, dtype=np.int64).reshape(-1, 2)
    if _mean_covers(inst, points_arr) > max_per_session:
        step = int(5 * np.ceil(float(np.mean(end - start)) / max_per_session / 5))
        grid = np.arange(int(start.min()), int(end.max()), step)
        points_arr = np.array([(d, int(p)) for d in np.unique(day).tolist() for p in grid], dtype=np.int64)
    return points_arr[:, 0], points_arr[:, 1]


def _covers(inst: Instance, point_day: np.ndarray, point_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each session, the first point it covers and how many (points sorted by day, time)."""
    key = point_day * 10_000 + point_time
    first = np.searchsorted(key, inst.session_day * 10_000 + inst.session_start, side="left")
    last = np.searchsorted(key, inst.session_day * 10_000 + inst.session_end, side="left")  # exclusive
    return first, last - first


def _mean_covers(inst: Instance, points: np.ndarray) -> float:
    if len(points) == 0:
        return 0.0
    _first, count = _covers(inst, points[:, 0], points[:, 1])
    return float(count.mean())


def clique_rows(inst: Instance, cand: Candidates) -> csr_matrix:
    """Pairs x overlap cliques (per teacher and point, the pairs running then; one-pair cliques left
    out), as the transpose of the cliques' rows, built with numpy alone (fast at millions of pairs)."""
    n = cand.n_pairs
    point_day, point_time = overlap_points(inst)
    first, count = _covers(inst, point_day, point_time)
    reps = count[cand.pair_session]
    pair_rep = np.repeat(np.arange(n, dtype=np.int64), reps)
    offset = np.arange(len(pair_rep), dtype=np.int64) - np.repeat(np.cumsum(reps) - reps, reps)
    key = (
        cand.pair_teacher[pair_rep].astype(np.int64) * max(1, len(point_day))
        + first[cand.pair_session[pair_rep]]
        + offset
    )
    del offset
    _unique, clique_of, size = np.unique(key, return_inverse=True, return_counts=True)
    del key
    keep = size[clique_of] > 1
    clique_id = (np.cumsum(size > 1) - 1)[clique_of[keep]].astype(np.int32)
    per_pair = np.bincount(pair_rep[keep], minlength=n)
    indptr = np.concatenate([[0], np.cumsum(per_pair)]).astype(np.int64)
    data = np.ones(len(clique_id), dtype=np.float32)
    return csr_matrix((data, clique_id, indptr), shape=(n, int((size > 1).sum())))


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
) -> tuple[float, np.ndarray, dict]:
    """The LP relaxation's Lagrangian dual (prices on the session rows, the caps and the overlap
    cliques) by projected subgradient with Polyak steps toward `lower`, a known plan's coverage.
    Every iterate is a valid bound by weak duality (as dual_bound): the best is returned, with the
    average of the Lagrangian's maximisers as a rough LP solution for rounding.

    A fixed number of iterations, so the answer does not depend on the machine; `deadline`
    (time.monotonic()) stops it earlier, still with a valid bound.
    """
    began = time.monotonic()
    n = cand.n_pairs
    if n == 0:
        return 0.0, np.zeros(0), {"iterations": 0, "seconds": 0.0}
    session, teacher = cand.pair_session, cand.pair_teacher
    cost = inst.session_weight[session].astype(float)
    periods = inst.session_periods[session].astype(float)
    asked = np.bincount(teacher, weights=periods, minlength=inst.n_teachers)
    caps = inst.teacher_cap.astype(float)
    binding = asked > caps  # a cap that cannot bind needs no price
    cliques_t = clique_rows(inst, cand)  # pairs x cliques
    cliques = cliques_t.T.tocsr()
    n_cliques = cliques_t.shape[1]
    # Start: each session priced at half its weight (measured on bungo-district-a, 400 iterations:
    # 10,810 from half, 11,218 from 0.3, 12,031 from the whole weight, 11,083 from the transport
    # bound's prices after 300 of its iterations; its LP is 10,437).
    y_s, y_t, y_c = 0.5 * inst.session_weight.astype(float), np.zeros(inst.n_teachers), np.zeros(n_cliques)
    best = np.inf
    average = np.zeros(n)
    theta, stalled, done = 2.0, 0, 0
    for it in range(iterations):
        if deadline is not None and time.monotonic() >= deadline:
            break
        reduced = cost - y_s[session] - periods * y_t[teacher]
        if n_cliques:
            reduced -= cliques_t @ y_c
        x = reduced > 0
        value = float(y_s.sum() + y_t @ caps + y_c.sum() + reduced[x].sum())
        done = it + 1
        if value < best - 1e-9:
            best, stalled = value, 0
        else:
            stalled += 1
            if stalled >= 20:  # halve the step when the bound stops improving
                theta, stalled = theta / 2, 0
        xf = x.astype(float)
        average += xf
        g_s = 1.0 - np.bincount(session, weights=xf, minlength=inst.n_sessions)
        g_t = np.where(binding, caps - np.bincount(teacher, weights=periods * xf, minlength=inst.n_teachers), 0.0)
        g_c = 1.0 - cliques @ xf if n_cliques else np.zeros(0)
        for y, g in ((y_s, g_s), (y_t, g_t), (y_c, g_c)):
            g[(y <= 0) & (g > 0)] = 0.0  # the projection on y >= 0
        norm = float(g_s @ g_s + g_t @ g_t + g_c @ g_c)
        if norm <= 1e-12:
            break  # the maximiser is feasible and complementary: the bound is the optimum
        step = theta * max(value - lower, 1e-6 * value) / norm
        y_s = np.maximum(0.0, y_s - step * g_s)
        y_t = np.maximum(0.0, y_t - step * g_t)
        y_c = np.maximum(0.0, y_c - step * g_c)
    stats = {"iterations": done, "cliques": n_cliques, "pairs": n, "seconds": round(time.monotonic() - began, 2)}
    return min(best, float(cost.sum())), average / max(done, 1), stats


def transport_bound(
    inst: Instance, cand: Candidates, lower: float = 0.0, iterations: int = 300, deadline: float | None = None
) -> tuple[np.ndarray, float, int]:
    """Prices per period of each teacher's cap for the transportation bound (caps, one teacher per
    session, no clashes): sum_t u_t cap_t + sum_s max(0, max over s's teachers of w_s - u_t p_s),
    valid for any u >= 0; u by projected subgradient. Weaker than the Lagrangian with cliques
    (11,571 against 10,919 on bungo-district-a after 300 and 400 iterations) but its iterations
    are cheaper and its start is the total weight, not above it: the bound for millions of pairs.
    Returns (u, the best bound, iterations done)."""
    session, teacher = cand.pair_session, cand.pair_teacher  # pairs sorted by session
    w = inst.session_weight[session].astype(float)
    p = inst.session_periods[session].astype(float)
    caps = inst.teacher_cap.astype(float)
    starts = np.flatnonzero(np.r_[True, session[1:] != session[:-1]])
    lengths = np.diff(np.r_[starts, len(session)])
    u = np.zeros(inst.n_teachers)
    best, best_u, theta, stalled, done = np.inf, u, 2.0, 0, 0
    for it in range(iterations):
        if deadline is not None and time.monotonic() >= deadline:
            break
        net = w - u[teacher] * p
        top = np.maximum.reduceat(net, starts)
        value = float(u @ caps + np.maximum(top, 0.0).sum())
        done = it + 1
        if value < best - 1e-9:
            best, best_u, stalled = value, u, 0
        else:
            stalled += 1
            if stalled >= 20:
                theta, stalled = theta / 2, 0
        # Each session's best teacher (the first at the top) takes its periods.
        at_top = np.flatnonzero((net == np.repeat(top, lengths)) & (np.repeat(top, lengths) > 0))
        if len(at_top):
            at_top = at_top[np.r_[True, session[at_top][1:] != session[at_top][:-1]]]
        g = caps - np.bincount(teacher[at_top], weights=p[at_top], minlength=inst.n_teachers)
        g[(u <= 0) & (g > 0)] = 0.0
        norm = float(g @ g)
        if norm <= 1e-12:
            break
        u = np.maximum(0.0, u - theta * max(value - lower, 1e-6 * value) / norm * g)
    return best_u, best, done
