"""Greedy dispatch: the ride-hailing baseline (nearest free teacher first) and the planner's seed.

`nearest_first` takes sessions in time order and gives each to the nearest teacher
who can still take it, as a ride-hailing app gives a ride to the nearest driver.
`scarcity_first` is the seed of the planner: sessions with the fewest candidates
first, each to the candidate who keeps the most options open for the others.
"""

from __future__ import annotations

import time

import numpy as np

from matching.candidates import Candidates
from matching.instance import Instance
from matching.state import Plan


def _with_fixed(inst: Instance, cand: Candidates) -> Plan:
    plan = Plan(inst, cand)
    for s, t in inst.fixed:
        plan.assign(s, t)
    return plan


def nearest_first(inst: Instance, cand: Candidates) -> Plan:
    plan = _with_fixed(inst, cand)
    order = np.lexsort((inst.session_end, inst.session_start, inst.session_day))
    for s in order:
        if plan.teacher_of[s] >= 0:
            continue
        for p in cand.nearest_pairs(s):
            t = int(cand.pair_teacher[p])
            if plan.fits(s, t):
                plan.assign(s, t)
                break
    return plan


def scarcity_first(
    inst: Instance, cand: Candidates, rng: np.random.Generator | None = None, deadline: float | None = None
) -> Plan:
    """Hardest sessions first; each goes to the least sought-after teacher who fits; what is not
    reached by `deadline` (time.monotonic()) stays open.

    A teacher's demand is the weight of open sessions that could use them, per period of
    capacity left: giving work to teachers nobody else needs keeps coverage high. The
    order's teacher (continuity) wins ties, then the shorter drive.
    """
    plan = _with_fixed(inst, cand)
    n_cands = np.array([len(p) for p in cand.by_session])
    demand = np.bincount(cand.pair_teacher, weights=inst.session_periods[cand.pair_session], minlength=inst.n_teachers)
    noise = rng.random(inst.n_sessions) * 0.5 if rng is not None else np.zeros(inst.n_sessions)
    # Heavier sessions first, then the ones with fewer candidates.
    order = np.lexsort((noise + n_cands, -inst.session_weight))
    order_teachers: dict[int, set[int]] = {}
    for k, s in enumerate(order):
        if deadline is not None and k % 256 == 0 and time.monotonic() >= deadline:
            break
        if plan.teacher_of[s] >= 0 or n_cands[s] == 0:
            continue
        pairs = cand.by_session[s]
        teachers = cand.pair_teacher[pairs]
        o = int(inst.session_order[s])
        same_order = order_teachers.get(o, set())
        pressure = demand[teachers] / np.maximum(inst.teacher_cap[teachers] - plan.load[teachers], 1)
        score = pressure + cand.pair_km[pairs] * 1e-3 - np.isin(teachers, list(same_order)) * 1e6
        for i in np.argsort(score, kind="stable"):
            t = int(teachers[i])
            if plan.fits(s, t):
                plan.assign(s, t)
                order_teachers.setdefault(o, set()).add(t)
                break
        demand[teachers] -= inst.session_periods[s]
    return plan
