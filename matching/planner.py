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

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from matching.bound import capacity_bound, lagrangian_bound, lp_relaxation, transport_bound
from matching.candidates import Candidates, build_candidates
from matching.greedy import scarcity_first
from matching.instance import Instance
from matching.repair import eject_insert, eject_pass, repair_pass, try_insert
from matching.state import Plan
from scheduling.rules import overlap_groups

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
# The LP's time grows faster than its pairs (measured on one core of the reference machine: 40 s
# for 363,000 pairs, about 84 s for 420,000 on another week): estimated as a power of the pairs
# through the first point, the exponent fitted to the second, which is kept from the LP if its
# estimate is over LP_SHARE of the limit; a slower LP than estimated is stopped at that share.
LP_REFERENCE = (363_000, 40.0)
LP_EXPONENT = 5.0
LP_SHARE = 0.6
# Deadlines of the phases before the search, as shares of the whole limit (from the caller's start).
BUILD_SHARE = 0.4  # of the limit, for building the pairs
SEED_SHARE = 0.5
LAGRANGIAN_SHARE = 0.3
# The Lagrangian bound: 400 iterations of about 2.2e-8 s per pair each when the machine is quiet
# (8 s on bungo-district-a's 363,000 pairs); estimated at twice that, so a loaded machine still fits.
LAGRANGIAN_ITERATIONS = 400
LAGRANGIAN_SECONDS_PER_PAIR_ITERATION = 5e-8
LAGRANGIAN_BESIDE_ITERATIONS = 3000  # beside the search it runs until the end of the limit
# Too large for 400 iterations in front (a regency), the Lagrangian still runs in front for as many
# iterations as its estimate fits in LAGRANGIAN_SHARE, for its guide alone (the bound comes from
# beside): measured on a 4.1M-pair regency, its rounding, repaired and ejected, reached 31,011 after
# 100 iterations (30,326 repaired after 40) where the greedy seed and the same ejections reached
# 29,080. Below this many iterations the guide is not worth its time.
LAGRANGIAN_GUIDE_MIN_ITERATIONS = 40
TRANSPORT_SHARE = 0.6  # of that time, for the transportation bound first
BESIDE_MARGIN = 0.03  # of the limit: the bound beside the search stops this much before the end
ROUNDING_SHARE = 0.7
ROUNDING_CHUNK = 20_000  # pairs between two looks at the clock
# Equity: the floor is sought after this share of the coverage search (the plan before it is the
# run's coverage-only plan, against which the floor's cost is reported), by counting covered
# weight in areas under floor + margin this much more in the search's objective.
DEFAULT_EQUITY_FLOOR = 0.8
EQUITY_AFTER = 0.5
EQUITY_MARGIN = 0.01
EQUITY_BONUS = 0.5
EQUITY_PENALTY = 1.5  # a unit of shortfall is worth this much coverage (1 + EQUITY_BONUS)
EQUITY_BREADTH = (12, 20)  # of the equity pass's ejections (see repair.eject_insert)
EQUITY_PASS_SHARE = 0.25  # of the time left when the floor's search starts
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
    phase: str = ""


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
    bound_method: str = "none"  # capacity, lagrangian or lp: how the bound was proven
    phases: dict = field(default_factory=dict)  # seconds by phase
    # With an equity floor: floor, worst_area_ratio, met, coverage_only (the best coverage-only plan
    # of the run, before the floor's search), coverage_only_projected (that plus what the
    # coverage-only search's recent pace would have won in the floor's search units), cost (the
    # projection minus this plan's coverage, never below 0). Empty without one.
    equity: dict = field(default_factory=dict)

    @property
    def equity_cost(self) -> float | None:
        return self.equity.get("cost") if isinstance(self.equity, dict) else None

    @property
    def coverage_without_equity(self) -> float | None:
        return self.equity.get("coverage_only") if isinstance(self.equity, dict) else None


def lagrangian_iterations(pairs: int, seconds: float) -> int:
    """How many Lagrangian iterations the estimate fits in `seconds` for this many pairs (at most
    LAGRANGIAN_ITERATIONS): a count, so the guide does not depend on the machine's speed."""
    if pairs <= 0:
        return 0
    fits = int(seconds / (LAGRANGIAN_SECONDS_PER_PAIR_ITERATION * pairs))
    return min(LAGRANGIAN_ITERATIONS, fits)


def lp_seconds(pairs: int) -> float:
    """The LP's estimated seconds on one core for this many pairs (see LP_REFERENCE)."""
    reference_pairs, reference_seconds = LP_REFERENCE
    return reference_seconds * (pairs / reference_pairs) ** LP_EXPONENT


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

    def _neighbourhood(self, plan: Plan, target_pairs: int, lagging_areas: np.ndarray | None = None) -> np.ndarray:
        """Sessions near a random school on one to three random days, grown until about target_pairs pairs.
        With `lagging_areas`, the neighbourhood starts from an open session of one of them."""
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
        if lagging_areas is not None and len(lagging_areas):
            behind = open_sessions[np.isin(self.session_area[open_sessions], lagging_areas)]
            if len(behind):
                open_sessions = behind
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
        area_bonus: np.ndarray | None = None,
        floor: float | None = None,
    ) -> tuple[bool, float, bool]:
        """Re-solve the neighbourhood exactly; returns (improved, CP-SAT deterministic time used, proven optimal).

        With `coverage_only`, the objective is the covered weight alone and the plan changes only
        when that grows (so the terms below it are never traded away for nothing); `area_bonus`
        (per area) counts covered weight in some areas more; with `floor`, a change is kept only if
        the plan's equity score (equity_score) does not fall (the equity floor)."""
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
        if not coverage_only:  # continuity counts in the polish only
            orders = set(int(inst.session_order[s]) for s in free)
            for s in np.flatnonzero(covered & np.isin(inst.session_order, list(orders))).tolist():
                if s not in free:
                    order_teachers.setdefault(int(inst.session_order[s]), set()).add(int(plan.teacher_of[s]))
        outside_load = plan.load.copy()
        for s in free:
            if plan.teacher_of[s] >= 0:
                outside_load[plan.teacher_of[s]] -= inst.session_periods[s]
        for s in free:
            day = int(inst.session_day[s])
            fair = int(round(FAIRNESS * (1 - area_ratio[self.session_area[s]])))
            cover = int(round(COVER * inst.session_weight[s]))
            if area_bonus is not None:
                cover = int(round(cover * (1.0 + area_bonus[self.session_area[s]])))
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
        score_before = self.equity_score(plan, floor) if floor is not None else 0.0
        previous = {s: int(plan.teacher_of[s]) for s in free}
        for s in free:
            plan.unassign(s)
        for (s, t), var in x.items():
            if solver.boolean_value(var):
                plan.assign(s, t)
        if floor is not None and self.equity_score(plan, floor) < score_before - 1e-9:
            for s in free:
                plan.unassign(s)
            for s, t in previous.items():
                if t >= 0:
                    plan.assign(s, t)
            return False, used, optimal
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
            starts, ends = [int(inst.session_start[s]) for s in ss], [int(inst.session_end[s]) for s in ss]
            for group in overlap_groups([0] * len(ss), starts, ends):
                model.add_at_most_one(x[(ss[j], t)] for j in group)
            # Travel: non-overlapping sessions at different schools too close together.
            for i, a in enumerate(ss):
                for b in ss[i + 1 :]:
                    if inst.session_start[b] >= inst.session_end[a] and plan.clash(a, b):
                        model.add_bool_or([x[(a, t)].Not(), x[(b, t)].Not()])

    # -- the whole run -------------------------------------------------------------------------

    def lp_rounding(self, x: np.ndarray, deadline: float | None = None) -> Plan:
        """Pairs in order of LP value (then weight, then scarcer sessions, then distance), each taken
        if it fits; what is not reached by `deadline` stays open."""
        inst, cand = self.inst, self.cand
        plan = Plan(inst, cand)
        for s, t in inst.fixed:
            plan.assign(s, t)
        n_cands = np.array([len(p) for p in cand.by_session])[cand.pair_session]
        order = np.lexsort((cand.pair_km, n_cands, -inst.session_weight[cand.pair_session], -np.round(x, 2)))
        teacher_of, fits, assign = plan.teacher_of, plan.fits, plan.assign
        for start in range(0, len(order), ROUNDING_CHUNK):
            if deadline is not None and time.monotonic() >= deadline:
                break
            chunk = order[start : start + ROUNDING_CHUNK]
            for s, t in zip(cand.pair_session[chunk].tolist(), cand.pair_teacher[chunk].tolist(), strict=True):
                if teacher_of[s] < 0 and fits(s, t):
                    assign(s, t)
        return plan

    def _guided_start(self, guide: np.ndarray, deadline: float) -> Plan:
        """A plan from a relaxed solution (the LP's or the Lagrangian's average maximiser): its coverage
        of each session seeds the neighbourhoods, its rounding is repaired; both within `deadline`."""
        self.lp_cover = np.bincount(self.cand.pair_session, weights=guide, minlength=self.inst.n_sessions)
        rounded = self.lp_rounding(guide, deadline=deadline)
        repair_pass(rounded, self.rng, self.fixed, self.has_candidates, deadline=deadline)
        return rounded

    @classmethod
    def build(cls, inst: Instance, time_limit: float, started: float | None = None, **options) -> Planner:
        """The planner with its pairs built within BUILD_SHARE of `time_limit` (counted from `started`);
        pairs cut short by that deadline are still all feasible (`cand.complete` says so)."""
        began = time.monotonic() if started is None else started
        return cls(inst, build_candidates(inst, deadline=began + BUILD_SHARE * time_limit), **options)

    def solve(
        self,
        time_limit: float,
        start: Plan | None = None,
        progress: Callable[[Progress], None] | None = None,
        use_lp: bool = True,
        started: float | None = None,
        equity_floor: float | None = DEFAULT_EQUITY_FLOOR,
        budget: float | None = None,
    ) -> PlanResult:
        """Plan within `time_limit` seconds of wall time, counted from `started` (a time.monotonic()
        reading, e.g. taken before the caller built the pairs; default now).

        Every phase keeps a deadline inside the limit (the seed, the bound, the LP, its rounding,
        the repairs, the ejections, the search, the polish), so the plan is back within the limit
        at any size. Which phases run and how long follow the instance's measured size (pairs,
        open sessions), not one instance's timings.

        `equity_floor`: with areas (the schools' kecamatan), the search keeps the worst area's
        coverage at or above this share of the whole coverage where it can (None or 0: coverage
        alone); the result reports the best coverage-only plan of the run and what the floor cost.

        Without `budget` the search uses the whole limit (the wall clock decides how far it gets).
        With `budget` (CP-SAT deterministic units, e.g. DETERMINISTIC_PER_SECOND per second of a
        limit; the LP and the ejections are charged at their estimates) the plan is the same for a
        fixed seed and worker count, as long as no phase reaches its wall-clock deadline: those
        deadlines are safety stops that keep the limit on a slow or loaded machine.
        """
        began = time.monotonic() if started is None else started
        inst = self.inst

        def at(share: float) -> float:
            return began + share * time_limit

        # Room to write the answer back; the last sub-solve also stops here.
        end = began + time_limit - min(1.0, 0.02 * time_limit)
        history: list[Progress] = []
        phases: dict[str, float] = {}
        lp_stats: dict = {}
        phase_began = time.monotonic()

        def phase_done(name: str) -> None:
            nonlocal phase_began
            now = time.monotonic()
            phases[name] = round(phases.get(name, 0.0) + now - phase_began, 2)
            phase_began = now

        plan = start.copy() if start is not None else scarcity_first(inst, self.cand, deadline=min(end, at(SEED_SHARE)))
        phase_done("seed")
        reachable = float(inst.session_weight[self.has_candidates].sum())
        if getattr(self.cand, "complete", True):
            bound, bound_method = capacity_bound(inst, self.cand), "capacity"
        else:
            # Pairs cut short by their deadline: a bound over them would not hold for the instance.
            bound, bound_method = float(inst.session_weight.sum()), "total weight (pairs cut short)"

        def report(iteration: int, improved: bool, phase: str) -> None:
            history.append(Progress(time.monotonic() - began, plan.coverage(), bound, iteration, improved, phase))
            if progress:
                progress(history[-1])

        report(0, True, "seed")
        # Without a budget, the search runs to the deadline (every second of the limit used);
        # with one, it stops when the budget is spent and its phases follow the budget alone.
        budget_given = budget is not None
        budget = budget if budget_given else np.inf
        spent = 0.0
        pairs = self.cand.n_pairs
        # The LP pays off when its estimated time fits the limit (it runs beside the Lagrangian on the
        # second core, and is stopped at its deadline if it is slower than estimated).
        lp_estimate = lp_seconds(pairs)
        use_lp = use_lp and pairs > 0 and lp_estimate <= LP_SHARE * time_limit and bound_method == "capacity"
        lp_job = _Job(lp_relaxation, inst, self.cand, threads=1) if use_lp else None
        guide: np.ndarray | None = None
        lagrangian_job = None
        if pairs > 0 and bound_method == "capacity":
            iterations = lagrangian_iterations(pairs, LAGRANGIAN_SHARE * time_limit)
            whole = iterations == LAGRANGIAN_ITERATIONS
            # In front: its average maximiser guides a rounding, and with its whole count it is the
            # bound. A part of it is run for the guide only when no LP is coming to guide instead.
            if whole or (iterations >= LAGRANGIAN_GUIDE_MIN_ITERATIONS and lp_job is None):
                value, guide, lag_stats = lagrangian_bound(
                    inst, self.cand, plan.coverage(), iterations, deadline=min(end, at(LAGRANGIAN_SHARE))
                )
                lag_stats["asked"] = iterations
                lp_stats["lagrangian"] = lag_stats
                if value < bound:
                    bound, bound_method = value, "lagrangian"
                if lag_stats["iterations"] < min(iterations, LAGRANGIAN_GUIDE_MIN_ITERATIONS):
                    guide = None  # stopped by its deadline almost at once: nothing to round
                phase_done("lagrangian")
            if not whole:
                # Too large to wait for the bound: on the second core beside the ejections and the
                # search (which are single-threaded or share the cores), back with its best bound by
                # the end. Forked after the guide, which then has both cores and its memory back.
                lagrangian_job = _Job(_bound_beside, inst, self.cand, plan.coverage(), end - BESIDE_MARGIN * time_limit)
        # With a budget the plan must not depend on when the LP is back: it is waited for (until its
        # deadline). Without one, the LP runs on beside the ejections and the search, and its answer
        # is taken between two sub-solves when it comes (an LP slower than its estimate then costs
        # a share of one core, not the wait).
        if lp_job is not None and budget_given:
            lp = lp_job.result(timeout=min(end, at(LP_SHARE)) - time.monotonic())
            spent += lp_estimate * DETERMINISTIC_PER_SECOND
            if lp is not None:
                value, guide, stats = lp
                lp_stats.update(stats)
                if value < bound:
                    bound, bound_method = value, "lp"
            else:
                lp_stats["stopped"] = "the LP was not back by its deadline"
            phase_done("lp")
            lp_job = None
        bound = min(bound, reachable)
        if guide is not None:
            rounded = self._guided_start(guide, deadline=min(end, at(ROUNDING_SHARE)))
            if rounded.coverage() > plan.coverage():
                plan = rounded
            phase_done("rounding")
            report(0, True, "rounding")
        # Ejections: cheap gains on the starting plan (measured on the district's LP rounding: +92 in
        # 8 s at breadth (12, 20), +150 in 84 s at full breadth, where the search gains about 1.5 a
        # second). The breadth follows the open sessions; charged as its estimate, as the LP is.
        open_count = int(((plan.teacher_of < 0) & self.has_candidates).sum())
        room = max(0.0, (budget - spent) / DETERMINISTIC_PER_SECOND if budget_given else end - time.monotonic())
        breadth, cost = [(b, c * open_count) for b, c in EJECTIONS if c * open_count <= EJECTION_SHARE * room][-1]
        if cost > 0:
            ejection_end = time.monotonic() + EJECTION_SHARE * max(0.0, end - time.monotonic())
            eject_pass(plan, self.rng, self.fixed, self.has_candidates, breadth, deadline=ejection_end)
            spent += cost * DETERMINISTIC_PER_SECOND if budget_given else 0.0
            phase_done("ejections")
            report(0, True, "ejections")
        # The search: coverage first, then (with areas and a floor) the areas left behind, then the polish.
        equity = self._equity_state(equity_floor)
        coverage_only = plan.coverage()
        # The coverage-only search's recent pace (coverage per unit, over the second half of its
        # phase) projects what it would have won in the units the floor's search took instead.
        midway: tuple[float, float] | None = None
        pace = 0.0
        equity_units = 0.0
        equity_passed = False
        iteration = 0
        search_from = spent
        if budget_given:
            polish_from = budget - POLISH_SHARE * max(0.0, budget - spent)
            equity_from = search_from + EQUITY_AFTER * max(0.0, polish_from - search_from)
            midway_from = (search_from + equity_from) / 2
            polish_at = equity_at = midway_at = np.inf
        else:
            # The phases at their shares of the time left.
            polish_from = equity_from = midway_from = np.inf
            now = time.monotonic()
            polish_at = now + (1 - POLISH_SHARE) * max(0.0, end - now)
            equity_at = now + EQUITY_AFTER * (polish_at - now)
            midway_at = (now + equity_at) / 2
        while spent < budget and time.monotonic() < end:
            if lp_job is not None and (answer := lp_job.poll()) is not None:
                lp_job = None
                value, x, stats = answer
                lp_stats.update(stats)
                if value < bound:
                    bound, bound_method = min(value, reachable), "lp"
                rounded = self._guided_start(x, deadline=end)
                better = rounded.coverage() > plan.coverage()
                if equity is not None and spent >= equity_from:  # the floor's search has begun
                    better = self.equity_score(rounded, equity) > self.equity_score(plan, equity)
                if better:
                    plan = rounded
                report(iteration, True, "lp")
            now = time.monotonic()
            if now >= polish_at:
                polish_from = min(polish_from, spent)
            if now >= equity_at:
                equity_from = min(equity_from, spent)
            if now >= midway_at:
                midway_from = min(midway_from, spent)
            weights = None
            floor = equity if equity is not None and spent >= equity_from else None
            if floor is not None and not equity_passed:
                # First the cheap trades, then the search with the areas' weights.
                equity_passed = True
                self.equity_pass(plan, floor, time.monotonic() + EQUITY_PASS_SHARE * max(0.0, end - time.monotonic()))
                report(iteration, True, "equity")
                phase_done("equity")
            if floor is not None:
                weights = self._area_bonus(plan, floor)
            elif equity is not None:
                coverage_only = max(coverage_only, plan.coverage())
                if midway is None and spent >= midway_from:
                    midway = (spent, coverage_only)
                if midway is not None and spent > midway[0]:
                    pace = (coverage_only - midway[1]) / (spent - midway[0])
            # Coverage to win, or areas under the floor: search; else the polish.
            behind = weights is not None and bool(weights.any())
            searching = spent < polish_from and (plan.coverage() < bound - 1e-9 or behind)
            if searching:
                target_pairs, sub_seconds = [(n, d) for at_, n, d in SEARCH if spent - search_from >= at_][-1]
                phase = "equity" if behind else "search"
            else:
                target_pairs, sub_seconds = POLISH
                phase = "polish"
            iteration += 1
            whole = pairs <= target_pairs  # a small instance is one neighbourhood
            if whole:
                sessions = np.arange(inst.n_sessions)
            else:
                lagging = np.flatnonzero(weights > 0) if weights is not None and searching else None
                sessions = self._neighbourhood(plan, target_pairs, lagging)
            improved, used, optimal = self._solve_neighbourhood(
                plan,
                sessions,
                sub_seconds,
                end,
                coverage_only=searching,
                area_bonus=weights if searching else None,
                floor=floor,
            )
            spent += used + ITERATION_OVERHEAD * target_pairs / OVERHEAD_PAIRS
            if floor is not None and searching:
                equity_units += used + ITERATION_OVERHEAD * target_pairs / OVERHEAD_PAIRS
            if whole and optimal:
                if equity is not None and floor is None:
                    equity_from = spent  # coverage alone is solved: now the floor
                elif not searching:
                    break  # the whole instance solved to optimality: nothing left to gain
                else:
                    polish_from = spent
            if improved:
                report(iteration, True, phase)
            phase_done(phase)
        if lp_job is not None:
            lp_job.result(timeout=0.0)  # not back in time: stopped
            lp_stats["stopped"] = "the LP was not back by the end"
        if lagrangian_job is not None:
            answer = lagrangian_job.result(timeout=end - time.monotonic())
            if answer is not None:
                lp_stats["beside"] = answer[1]
                if answer[0] < bound:
                    bound, bound_method = min(answer[0], reachable), answer[1]["method"]
            else:
                lp_stats["beside"] = {"stopped": "not back by the end"}
        result_equity: dict = {}
        if equity is not None:
            worst = self._worst_ratio(plan)
            # The best coverage-only plan this run found (before the floor was asked for) against the
            # final plan: what the floor cost, as far as this run can tell.
            result_equity = {
                "floor": equity,
                "worst_area_ratio": round(worst, 4),
                "met": bool(worst >= equity - 1e-9),
                "coverage_only": coverage_only,
                "coverage_only_projected": round(coverage_only + pace * equity_units, 1),
                "cost": round(max(0.0, coverage_only + pace * equity_units - plan.coverage()), 1),
            }
        return PlanResult(
            assignment=plan.assignment(),
            coverage=plan.coverage(),
            seconds=time.monotonic() - began,
            iterations=iteration,
            status="feasible",
            history=history,
            bound=bound,
            lp=lp_stats,
            bound_method=bound_method,
            phases=phases,
            equity=result_equity,
        )

    # -- equity --------------------------------------------------------------------------------

    def _equity_state(self, floor: float | None) -> float | None:
        """The floor to keep, or None: no floor asked, or fewer than two areas to compare."""
        if not floor or floor <= 0:
            return None
        named = {a for a in self.inst.school_area if a}
        return float(floor) if len(named) > 1 else None

    def _area_ratios(self, plan: Plan) -> tuple[np.ndarray, float]:
        inst = self.inst
        covered = plan.teacher_of >= 0
        area_cov = np.bincount(self.session_area[covered], weights=inst.session_weight[covered], minlength=self.n_areas)
        total = float(self.area_weight.sum())
        district = float(area_cov.sum()) / total if total else 0.0
        return area_cov / np.maximum(self.area_weight, 1e-9), district

    def _worst_ratio(self, plan: Plan) -> float:
        ratios, district = self._area_ratios(plan)
        present = self.area_weight > 0
        return float(ratios[present].min() / district) if district > 0 and present.any() else 1.0

    def equity_score(self, plan: Plan, floor: float) -> float:
        """Coverage less EQUITY_PENALTY per unit of weight by which areas fall short of the floor
        (floor x the district's coverage ratio x the area's weight): what the equity phase improves."""
        ratios, district = self._area_ratios(plan)
        shortfall = np.maximum(0.0, (floor * district - ratios) * self.area_weight)
        return plan.coverage() - EQUITY_PENALTY * float(shortfall.sum())

    def equity_pass(self, plan: Plan, floor: float, deadline: float) -> int:
        """Open sessions of the areas under the floor, heaviest first: each taken by a free candidate,
        or by one whose sessions in the way go elsewhere or are given up, when the equity score
        (coverage less the areas' shortfall) grows. Cheap trades the search would find slowly.
        Returns how many sessions it covered."""
        inst = self.inst
        lagging = np.flatnonzero(self._area_bonus(plan, floor) > 0)
        open_sessions = np.flatnonzero(
            (plan.teacher_of < 0) & self.has_candidates & np.isin(self.session_area, lagging)
        )
        order = open_sessions[np.lexsort((self.rng.random(len(open_sessions)), -inst.session_weight[open_sessions]))]
        covered = 0
        for s in order.tolist():
            if time.monotonic() >= deadline:
                break
            if plan.teacher_of[s] >= 0 or self._area_bonus(plan, floor)[self.session_area[s]] == 0:
                continue
            before = self.equity_score(plan, floor)
            if try_insert(plan, s, self.fixed, allow_moves=True) or eject_insert(
                plan, s, self.fixed, EQUITY_BREADTH, accept=lambda b=before: self.equity_score(plan, floor) > b + 1e-9
            ):
                covered += 1
        return covered

    def _area_bonus(self, plan: Plan, floor: float) -> np.ndarray:
        """Extra value per unit of covered weight in each area under the floor (with a margin, so
        that coverage-only moves elsewhere do not push it back under at once); 0 elsewhere."""
        ratios, district = self._area_ratios(plan)
        lagging = ratios < (floor + EQUITY_MARGIN) * district
        return np.where(lagging & (self.area_weight > 0), EQUITY_BONUS, 0.0)


class _Job:
    """A function run in a forked process (the LP, or the bound beside the search): its answer, or
    None and the process stopped when it is not back in time. A generator function may yield
    answers as they get better: the last one back in time is taken."""

    def __init__(self, target, *args, **kwargs):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(target, args, kwargs, send), daemon=True)
        self._process.start()
        send.close()

    def poll(self):
        """The answer if it is back (the process then joined), else None at once."""
        if not self._receive.poll(0):
            return None
        kind, value = self._receive.recv()
        if kind == "error":
            raise value
        self._process.join()  # the LP sends one answer, then "done"
        return value

    def result(self, timeout: float):
        until = time.monotonic() + max(0.0, timeout)
        latest = None
        while True:
            # What is already back is read even when the time is up.
            if not self._receive.poll(max(0.0, until - time.monotonic())):
                self._process.kill()
                self._process.join()
                return latest
            try:
                kind, value = self._receive.recv()
            except EOFError:
                self._process.join()
                return latest
            if kind == "error":
                self._process.kill()
                self._process.join()
                raise value
            if kind == "done":
                self._process.join()
                return latest
            latest = value


def _child(target, args, kwargs, send) -> None:
    try:
        answer = target(*args, **kwargs)
        for value in answer if inspect.isgenerator(answer) else [answer]:
            send.send(("answer", value))
        send.send(("done", None))
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
        send.send(("error", exc))


def _bound_beside(inst: Instance, cand: Candidates, lower: float, deadline: float):
    """The transportation bound for the first part of the time (it starts at the total weight and
    falls steadily), then the Lagrangian with cliques (tighter, but it starts far above) to the end;
    yields (bound, statistics) after each."""
    began = time.monotonic()
    _u, value, done = transport_bound(inst, cand, lower, LAGRANGIAN_BESIDE_ITERATIONS,
                                      began + TRANSPORT_SHARE * (deadline - began))  # fmt: skip
    stats = {"transport": {"iterations": done, "bound": round(value, 1), "seconds": round(time.monotonic() - began, 1)}}
    yield value, stats | {"method": "transport"}
    if time.monotonic() < deadline:
        full, _x, stats["lagrangian"] = lagrangian_bound(inst, cand, lower, LAGRANGIAN_BESIDE_ITERATIONS, deadline)
        if full < value:
            yield full, stats | {"method": "lagrangian"}
