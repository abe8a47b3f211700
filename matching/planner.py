"""The weekly planner: a greedy seed, then large-neighbourhood search with CP-SAT.

Why this shape: one CP-SAT model of a whole district week (a Boolean per feasible
pair, clash constraints per teacher) is too big to build and presolve on two
cores within a minute. So the planner keeps a complete feasible plan at all
times and repeatedly frees a neighbourhood of it (the sessions near one school on
one or more days, and every teacher who could take them), solves that
sub-problem exactly with CP-SAT, hinted with the current plan so it never gets
worse, and writes the answer back. Each sub-problem is a few thousand pairs.

Objectives, in order, folded into one integer objective with weights far apart:
covered weight; continuity (the teacher already on the order); fairness (areas
with lower coverage first); less travel; better rating and the school's favourites.
The search works in two phases: first on covered weight alone, in growing
neighbourhoods (CP-SAT proves a pure coverage sub-problem optimal several times
faster than one carrying the tie-breaking terms, whose many distinct coefficients
it must also prove), then a polish with the whole objective in small ones, which
keeps the coverage and improves everything below it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from matching.bound import lp_relaxation
from matching.candidates import Candidates, build_candidates
from matching.greedy import scarcity_first
from matching.instance import Instance
from matching.repair import eject_pass, repair_pass
from matching.state import Plan

COVER = 1_000_000  # per unit of session weight: outranks everything below together
CONTINUITY = 2_000  # the teacher already teaches this order elsewhere
FAIRNESS = 1_000  # times (1 - coverage of the session's area)
TRAVEL = 10  # per km from home (at most a few hundred)
RATING = 20  # per star above 1
FAVOURITE = 50
NEIGHBOURHOOD_DAYS = [1, 1, 2, 3]
# The two phases of the search: (candidate pairs per neighbourhood, CP-SAT deterministic seconds per
# sub-solve). Coverage alone, in neighbourhoods that grow as the search goes on (small ones win
# fast and then run dry, large ones are slow to start), each size from the units of search spent
# given; then the polish. Measured on the district from its ejected LP rounding (9,714), 420 units
# of search: whole objective, 1,500 pairs 9,812, 6,000 pairs 9,818; coverage alone, 1,500 pairs
# 9,814, 3,000 pairs 9,863, 6,000 pairs 9,868, 3,000 then 6,000 from half-way 9,892; coverage with
# continuity kept, 3,000 then 6,000: 9,795 at 210 units where coverage alone had 9,844.
SEARCH = [(0.0, 1500, 0.5), (60.0, 3000, 1.0), (200.0, 6000, 2.0)]
POLISH = (1500, 0.5)
POLISH_SHARE = 0.25  # of the search budget left after the LP and the ejections
# Search budget in CP-SAT deterministic time per second of the time limit, and the overhead
# charged per iteration of OVERHEAD_PAIRS pairs for building its model (calibrated on the 2-core reference machine:
# the coverage search runs about 1.45 units a second there, the polish about 1; 0.95 left a third of a
# 10-minute limit unused).
DETERMINISTIC_PER_SECOND = 1.3
ITERATION_OVERHEAD = 0.1
OVERHEAD_PAIRS = 1500
LP_SECONDS_PER_PAIR = 1.1e-4  # measured: 40 s for 363,000 pairs on one core of the reference machine
LP_SHARE = 0.75  # use the LP only if its estimated time is within this share of the limit
# Ejection breadths (see repair.eject_insert) and their measured seconds per open session on the
# district's LP rounding (5,050 open): the widest whose estimate fits EJECTION_SHARE of what is left.
EJECTIONS = [((0, 0), 0.0), ((12, 20), 1.9e-3), ((1000, 1000), 1.9e-2)]
EJECTION_SHARE = 0.7


@dataclass
class Progress:
    seconds: float
    coverage: float
    bound: float | None
    iteration: int
    improved: bool


@dataclass
class PlanResult:
    assignment: dict[int, int]
    coverage: float
    seconds: float
    iterations: int
    status: str
    history: list[Progress] = field(default_factory=list)
    bound: float | None = None
    lp: dict = field(default_factory=dict)


def _pair_bonus(inst: Instance, cand: Candidates, pairs: np.ndarray) -> np.ndarray:
    """Travel, rating and favourite terms of the objective for the given pairs (integers)."""
    teachers = cand.pair_teacher[pairs]
    rating = np.nan_to_num(inst.teacher_rating[teachers], nan=3.0)
    bonus = -np.round(cand.pair_km[pairs] * TRAVEL) + np.round((rating - 1) * RATING)
    if inst.favourites:
        schools = inst.session_school[cand.pair_session[pairs]]
        fav = np.fromiter(
            (t in inst.favourites.get(int(s), ()) for s, t in zip(schools, teachers, strict=True)), bool, len(pairs)
        )
        bonus += fav * FAVOURITE
    return bonus.astype(np.int64)


class Planner:
    def __init__(
        self,
        inst: Instance,
        cand: Candidates | None = None,
        *,
        seed: int = 0,
        workers: int = 2,
    ):
        self.inst = inst
        self.cand = cand if cand is not None else build_candidates(inst)
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.workers = workers
        self.bonus = _pair_bonus(inst, self.cand, np.arange(self.cand.n_pairs))
        # Areas for fairness: the schools' optional "area" (kecamatan); one area if none is given.
        labels = inst.school_area
        names = sorted(set(labels))
        self.school_area = np.array([names.index(x) for x in labels], dtype=np.int64)
        self.session_area = self.school_area[inst.session_school]
        self.n_areas = len(names)
        self.area_weight = np.bincount(self.session_area, weights=inst.session_weight, minlength=self.n_areas)
        self.fixed = {s: t for s, t in inst.fixed}
        self.school_km = self.cand.school_km
        self.has_candidates = np.array([len(p) > 0 for p in self.cand.by_session], dtype=bool)
        self.lp_cover = np.zeros(inst.n_sessions)  # the LP's coverage of each session, once known

    # -- neighbourhoods ------------------------------------------------------------------------

    def _neighbourhood(self, plan: Plan, target_pairs: int) -> np.ndarray:
        """Sessions near a random school on one to three random days, grown until about target_pairs pairs."""
        inst, cand = self.inst, self.cand
        n_days = int(self.rng.choice(NEIGHBOURHOOD_DAYS))
        days = self.rng.choice(
            np.unique(inst.session_day), size=min(n_days, len(np.unique(inst.session_day))), replace=False
        )
        on_days = np.flatnonzero(np.isin(inst.session_day, days))
        if len(on_days) == 0:
            return on_days
        # Start from an unassigned session half of the time: that is where coverage is won.
        open_sessions = on_days[(plan.teacher_of[on_days] < 0) & self.has_candidates[on_days]]
        if len(open_sessions) and self.rng.random() < 0.7:
            # Where the LP covers a session the plan leaves open, a better plan likely exists nearby.
            hope = self.lp_cover[open_sessions] + 0.05
            seed = self.rng.choice(open_sessions, p=hope / hope.sum())
        else:
            seed = self.rng.choice(on_days)
        centre = inst.session_school[seed]
        by_distance = np.argsort(self.school_km[centre], kind="stable")
        school_rank = np.empty_like(by_distance)
        school_rank[by_distance] = np.arange(len(by_distance))
        ranked = on_days[np.argsort(school_rank[inst.session_school[on_days]], kind="stable")]
        sizes = np.cumsum([len(cand.by_session[s]) for s in ranked])
        count = int(np.searchsorted(sizes, target_pairs)) + 1
        return ranked[:count]

    # -- one sub-problem -----------------------------------------------------------------------

    def _solve_neighbourhood(
        self,
        plan: Plan,
        sessions: np.ndarray,
        seconds: float,
        deadline: float,
        coverage_only: bool = False,
    ) -> tuple[bool, float, bool]:
        """Re-solve the neighbourhood exactly; returns (improved, CP-SAT deterministic time used, proven optimal).

        With `coverage_only`, the objective is the covered weight alone and the plan changes only
        when that grows (so the terms below it are never traded away for nothing)."""
        inst, cand = self.inst, self.cand
        free = set(int(s) for s in sessions if int(s) not in self.fixed)
        if not free:
            return False, 0.0, True
        model = cp_model.CpModel()
        x: dict[tuple[int, int], cp_model.IntVar] = {}
        objective = []
        by_teacher: dict[int, list[int]] = {}
        # Coverage of areas outside the neighbourhood, for the fairness weights.
        covered = plan.teacher_of >= 0
        area_cov = np.bincount(self.session_area[covered], weights=inst.session_weight[covered], minlength=self.n_areas)
        area_ratio = area_cov / np.maximum(self.area_weight, 1e-9)
        order_teachers: dict[int, set[int]] = {}
        for s in np.flatnonzero(covered):
            if int(s) not in free:
                order_teachers.setdefault(int(inst.session_order[s]), set()).add(int(plan.teacher_of[s]))
        outside_load = plan.load.copy()
        for s in free:
            if plan.teacher_of[s] >= 0:
                outside_load[plan.teacher_of[s]] -= inst.session_periods[s]
        for s in free:
            day = int(inst.session_day[s])
            fair = int(round(FAIRNESS * (1 - area_ratio[self.session_area[s]])))
            cover = int(round(COVER * inst.session_weight[s]))
            same_order = order_teachers.get(int(inst.session_order[s]), ())
            for p in cand.by_session[s]:
                t = int(cand.pair_teacher[p])
                if outside_load[t] + inst.session_periods[s] > inst.teacher_cap[t]:
                    continue
                # Sessions of this teacher that stay as they are must not clash with it.
                if any(o not in free and plan.clash(s, o) for o in plan.days[(t, day)]):
                    continue
                var = model.new_bool_var(f"x_{s}_{t}")
                x[(s, t)] = var
                by_teacher.setdefault(t, []).append(s)
                if coverage_only:
                    objective.append((cover, var))
                else:
                    bonus = fair + int(self.bonus[p]) + (CONTINUITY if t in same_order else 0)
                    objective.append((cover + bonus, var))
        if not x:
            return False, 0.0, True
        per_session: dict[int, list] = {}
        for (s, _t), var in x.items():
            per_session.setdefault(s, []).append(var)
        for vars_ in per_session.values():
            if len(vars_) > 1:
                model.add_at_most_one(vars_)
        for t, ss in by_teacher.items():
            cap = int(inst.teacher_cap[t] - outside_load[t])
            periods = [int(inst.session_periods[s]) for s in ss]
            if sum(periods) > cap:
                model.add(sum(p * x[(s, t)] for s, p in zip(ss, periods, strict=True)) <= cap)
            self._add_clashes(model, plan, x, t, ss)
        model.maximize(sum(c * v for c, v in objective))
        for (s, t), var in x.items():
            model.add_hint(var, plan.teacher_of[s] == t)
        solver = cp_model.CpSolver()
        solver.parameters.max_deterministic_time = seconds
        # Wall time is a safety stop only (it would make the plan depend on the machine's speed).
        solver.parameters.max_time_in_seconds = min(10 * seconds, max(0.01, deadline - time.monotonic()))
        solver.parameters.num_workers = self.workers
        solver.parameters.interleave_search = self.workers > 1  # deterministic with several workers
        solver.parameters.random_seed = int(self.rng.integers(1 << 30))
        status = solver.solve(model)
        used = solver.deterministic_time
        optimal = status == cp_model.OPTIMAL
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False, used, False
        before = sum(c * int(plan.teacher_of[s] == t) for (c, _v), (s, t) in zip(objective, x, strict=True))
        if solver.objective_value <= before:
            return False, used, optimal
        for s in free:
            plan.unassign(s)
        for (s, t), var in x.items():
            if solver.boolean_value(var):
                plan.assign(s, t)
        return True, used, optimal

    def _add_clashes(self, model: cp_model.CpModel, plan: Plan, x: dict, t: int, sessions: list[int]) -> None:
        """Rule 5 among one teacher's free sessions: overlaps as cliques, travel gaps as pairs."""
        inst = self.inst
        per_day: dict[int, list[int]] = {}
        for s in sessions:
            per_day.setdefault(int(inst.session_day[s]), []).append(s)
        for ss in per_day.values():
            if len(ss) < 2:
                continue
            ss.sort(key=lambda s: (inst.session_start[s], inst.session_end[s]))
            # Overlap: at each start time, every session running then is a clique.
            last: frozenset[int] = frozenset()
            for s in ss:
                point = inst.session_start[s]
                active = frozenset(o for o in ss if inst.session_start[o] <= point < inst.session_end[o])
                if len(active) > 1 and not active <= last:
                    model.add_at_most_one(x[(o, t)] for o in active)
                last = active
            # Travel: non-overlapping sessions at different schools too close together.
            for i, a in enumerate(ss):
                for b in ss[i + 1 :]:
                    if inst.session_start[b] >= inst.session_end[a] and plan.clash(a, b):
                        model.add_bool_or([x[(a, t)].Not(), x[(b, t)].Not()])

    # -- the whole run -------------------------------------------------------------------------

    def lp_rounding(self, x: np.ndarray) -> Plan:
        """Pairs in order of LP value (then weight, then scarcer sessions, then distance), each taken if it fits."""
        inst, cand = self.inst, self.cand
        plan = Plan(inst, cand)
        for s, t in inst.fixed:
            plan.assign(s, t)
        n_cands = np.array([len(p) for p in cand.by_session])[cand.pair_session]
        order = np.lexsort((cand.pair_km, n_cands, -inst.session_weight[cand.pair_session], -np.round(x, 2)))
        sessions, teachers = cand.pair_session[order].tolist(), cand.pair_teacher[order].tolist()
        for s, t in zip(sessions, teachers, strict=True):
            if plan.teacher_of[s] < 0 and plan.fits(s, t):
                plan.assign(s, t)
        return plan

    def solve(
        self,
        time_limit: float,
        start: Plan | None = None,
        progress: Callable[[Progress], None] | None = None,
        use_lp: bool = True,
        started: float | None = None,
    ) -> PlanResult:
        """Plan within `time_limit` seconds of wall time, counted from `started` (a time.monotonic()
        reading, e.g. taken before the caller built the pairs; default now).

        Deterministic for a fixed seed, worker count and limit: every sub-solve is limited in
        CP-SAT's deterministic time, the search stops after a deterministic budget
        (DETERMINISTIC_PER_SECOND per second of the limit, whenever it started), and the LP,
        solved first when it fits the limit, is charged as its estimated time. The wall-clock
        limit is a safety stop that only a machine far slower than the reference would reach.
        (A caller that took its building time off the limit would make the budget, and so the
        plan, depend on how long the building took.)
        """
        began = time.monotonic() if started is None else started
        inst = self.inst
        plan = start.copy() if start is not None else scarcity_first(inst, self.cand)
        history: list[Progress] = []
        bound: float | None = None
        lp_stats: dict = {}

        def report(iteration: int, improved: bool) -> None:
            history.append(Progress(time.monotonic() - began, plan.coverage(), bound, iteration, improved))
            if progress:
                progress(history[-1])

        report(0, True)
        budget = time_limit * DETERMINISTIC_PER_SECOND
        spent = 0.0
        # The LP pays off only if it is back well within the limit; it runs beside the search.
        use_lp = use_lp and self.cand.n_pairs > 0 and self.cand.n_pairs * LP_SECONDS_PER_PAIR <= LP_SHARE * time_limit
        reachable = float(inst.session_weight[self.has_candidates].sum())
        bound = reachable  # trivial but valid: what has a candidate; the LP tightens it
        iteration = 0
        if use_lp:
            # The LP first, alone: searching beside it on two cores slowed it by half, and its
            # rounding beats anything that search finds from the seed (measured: 9,568 vs 8,995).
            # Its time is charged as its estimate, not as measured, so that the plan is the
            # same on every run with the same seed and workers.
            lp = _LPJob(inst, self.cand, threads=1).result(timeout=time_limit - (time.monotonic() - began) - 1)
            spent = self.cand.n_pairs * LP_SECONDS_PER_PAIR * DETERMINISTIC_PER_SECOND
            if lp is not None:
                bound, x, lp_stats = lp
                bound = min(bound, reachable)
                self.lp_cover = np.bincount(self.cand.pair_session, weights=x, minlength=inst.n_sessions)
                rounded = self.lp_rounding(x)
                repair_pass(rounded, self.rng, self.fixed, self.has_candidates)
                if rounded.coverage() > plan.coverage():
                    plan = rounded
                report(iteration, True)
        # Ejections: cheap gains on the starting plan (measured on the district's LP rounding: +92 in
        # 8 s at breadth (12, 20), +150 in 84 s at full breadth, where the search gains about 1.5 a
        # second). Charged as an estimate, as the LP is, so the plan stays deterministic.
        open_count = int(((plan.teacher_of < 0) & self.has_candidates).sum())
        fitting = [(b, c * open_count * DETERMINISTIC_PER_SECOND) for b, c in EJECTIONS
                   if c * open_count * DETERMINISTIC_PER_SECOND <= EJECTION_SHARE * (budget - spent)]  # fmt: skip
        breadth, cost = fitting[-1]
        if cost > 0:
            eject_pass(plan, self.rng, self.fixed, self.has_candidates, breadth)
            spent += cost
            report(iteration, True)
        # The wall clock is a safety stop: each sub-solve also stops at the deadline, which leaves
        # room to build the last model and return.
        deadline = began + time_limit - min(1.0, 0.05 * time_limit)
        search_from = spent
        polish_from = budget - POLISH_SHARE * max(0.0, budget - spent)
        while spent < budget and time.monotonic() < deadline:
            # Coverage first; the polish once its share of the budget is reached, or at once when
            # the coverage meets the bound (provably nothing left to gain there).
            searching = spent < polish_from and plan.coverage() < bound - 1e-9
            if searching:
                target_pairs, sub_seconds = [(n, d) for at, n, d in SEARCH if spent - search_from >= at][-1]
            else:
                target_pairs, sub_seconds = POLISH
            iteration += 1
            whole = self.cand.n_pairs <= target_pairs  # a small instance is one neighbourhood
            sessions = np.arange(inst.n_sessions) if whole else self._neighbourhood(plan, target_pairs)
            improved, used, optimal = self._solve_neighbourhood(
                plan, sessions, sub_seconds, deadline, coverage_only=searching
            )
            spent += used + ITERATION_OVERHEAD * target_pairs / OVERHEAD_PAIRS
            if whole and optimal:
                if not searching:
                    break  # the whole instance solved to optimality: nothing left to gain
                polish_from = spent
            if improved:
                report(iteration, True)
        status = "feasible"
        return PlanResult(
            assignment=plan.assignment(),
            coverage=plan.coverage(),
            seconds=time.monotonic() - began,
            iterations=iteration,
            status=status,
            history=history,
            bound=bound,
            lp=lp_stats,
        )


class _LPJob:
    """The LP relaxation solved in a forked process: a stuck LP can be stopped at the time limit."""

    def __init__(self, inst: Instance, cand: Candidates, threads: int):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_lp_child, args=(inst, cand, threads, send), daemon=True)
        self._process.start()
        send.close()

    def result(self, timeout: float) -> tuple[float, np.ndarray, dict] | None:
        """The LP's answer, or None (and the LP stopped) if it is not back within `timeout` seconds."""
        if not self._receive.poll(max(0.0, timeout)):
            self._process.kill()
            self._process.join()
            return None
        value = self._receive.recv()
        self._process.join()
        if isinstance(value, Exception):
            raise value
        return value


def _lp_child(inst: Instance, cand: Candidates, threads: int, send) -> None:
    try:
        send.send(lp_relaxation(inst, cand, threads=threads))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
        send.send(exc)
