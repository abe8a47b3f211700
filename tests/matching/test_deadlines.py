"""Every phase of the planner keeps its deadline: given one already past on an instance made large
for it, a phase returns at once, which the test sees in what it did (no timed assertion)."""

import time

import numpy as np

import matching.planner as planner_module
from matching.bound import capacity_bound, lagrangian_bound, lp_relaxation, transport_bound
from matching.candidates import build_candidates
from matching.greedy import scarcity_first
from matching.instance import parse_instance
from matching.planner import (
    LAGRANGIAN_GUIDE_MIN_ITERATIONS,
    LAGRANGIAN_ITERATIONS,
    Planner,
    _Job,
    lagrangian_iterations,
)
from matching.repair import eject_pass, repair_pass
from matching.state import Plan
from matching.validate import check
from tests.matching.builders import instance, session, teacher

PAST = 0.0  # a time.monotonic() reading long gone


def crowded(n_teachers=30, n_sessions=400):
    """More lessons than the teachers can take, all in reach, one in four weighing double: every
    phase has work to do."""
    teachers = [teacher(f"T{i}", lon=102.10 + 0.001 * i, cap=8, subjects=["MTK", "IPA"]) for i in range(n_teachers)]
    sessions = [
        session(f"L{i}", school=("S1", "S2")[i % 2], day=i % 6, subject=("MTK", "IPA")[i % 3 == 0],
                start=f"{7 + i % 5:02d}:{(i % 2) * 30:02d}", end=f"{8 + i % 5:02d}:{(i % 2) * 30 + 10:02d}",
                weight=2.0 if i % 4 == 1 else 1.0)
        for i in range(n_sessions)
    ]  # fmt: skip
    inst = parse_instance(instance(teachers, sessions))
    return inst, build_candidates(inst)


def test_the_lagrangian_and_transport_bounds_stop_at_a_past_deadline_with_a_valid_bound():
    inst, cand = crowded()
    value, x, stats = lagrangian_bound(inst, cand, deadline=PAST)
    assert stats["iterations"] == 0 and value == inst.session_weight[cand.pair_session].sum()
    _u, transport, done = transport_bound(inst, cand, deadline=PAST)
    assert done == 0
    # With time, both fall below the trivial bounds, and stay above what a plan covers.
    plan = scarcity_first(inst, cand)
    tight, _x, stats = lagrangian_bound(inst, cand, lower=plan.coverage(), iterations=200)
    _u, transport, done = transport_bound(inst, cand, lower=plan.coverage(), iterations=200)
    assert stats["iterations"] > 0 and done > 0
    exact, _x, _stats = lp_relaxation(inst, cand, threads=1)
    for bound in (tight, transport, capacity_bound(inst, cand)):
        assert exact - 1e-3 <= bound  # the LP's own bound is valid to its tolerance
    assert tight <= capacity_bound(inst, cand) + 1e-3 and tight < value


def test_the_lp_job_is_stopped_when_its_time_is_up():
    inst, cand = crowded()
    job = _Job(lp_relaxation, inst, cand, threads=1)
    assert job.result(timeout=0.0) is None  # not waited for: stopped
    assert not job._process.is_alive()


def test_the_seed_repairs_and_ejections_stop_at_a_past_deadline():
    inst, cand = crowded()
    assert scarcity_first(inst, cand, deadline=PAST).coverage() == 0.0
    has = np.array([len(p) > 0 for p in cand.by_session])
    rng = np.random.default_rng(0)
    # A plan of the light lessons only, as many as fit, then the passes: nothing done past the
    # deadline, gains without one (the repair fills what is free, the ejections trade up).
    plan = Plan(inst, cand)
    for s in np.flatnonzero(inst.session_weight == 1.0)[::4].tolist():
        for p in cand.by_session[s]:
            if plan.fits(s, int(cand.pair_teacher[p])):
                plan.assign(s, int(cand.pair_teacher[p]))
                break
    before = plan.assignment()
    assert repair_pass(plan, rng, {}, has, deadline=PAST) == 0
    assert eject_pass(plan, rng, {}, has, (1000, 1000), deadline=PAST) == 0
    assert plan.assignment() == before
    assert repair_pass(plan.copy(), rng, {}, has) > 0
    full = plan.copy()
    repair_pass(full, rng, {}, has)
    covered = full.coverage()
    assert eject_pass(full, rng, {}, has, (1000, 1000)) > 0 and full.coverage() > covered


def test_the_search_stops_at_the_limit_and_still_returns_a_feasible_plan():
    inst, cand = crowded()
    late = Planner(inst, cand, seed=0, workers=1).solve(5.0, started=time.monotonic() - 60.0)
    assert late.iterations == 0  # the search never started
    assert check(inst, late.assignment)[0] == []
    assert late.bound is not None and late.bound_method in ("capacity", "lagrangian", "lp")
    assert late.bound >= late.coverage
    # Given time, the same planner searches and covers more.
    fresh = Planner(inst, cand, seed=0, workers=1).solve(30.0, budget=2.0)
    assert fresh.iterations > 0 and fresh.coverage > late.coverage


def test_every_plan_carries_a_bound_and_its_method():
    inst, cand = crowded(n_teachers=8, n_sessions=200)
    result = Planner(inst, cand, seed=0, workers=1).solve(30.0, budget=1.0)
    assert result.bound_method in ("lagrangian", "lp", "capacity")
    assert result.coverage <= result.bound + 1e-6 < inst.session_weight.sum()


def test_lagrangian_iterations_are_a_count_that_fits_the_time_share():
    assert lagrangian_iterations(0, 30.0) == 0
    assert lagrangian_iterations(363_000, 18.0) == LAGRANGIAN_ITERATIONS  # a district week: all of them
    regency = lagrangian_iterations(4_100_000, 36.0)  # a regency at 120 s: some, for the guide
    assert LAGRANGIAN_GUIDE_MIN_ITERATIONS <= regency < LAGRANGIAN_ITERATIONS
    assert lagrangian_iterations(4_100_000, 72.0) >= 2 * regency - 1


def test_too_large_for_the_whole_lagrangian_it_still_guides_the_start_and_the_bound_comes_from_beside(monkeypatch):
    """As on a regency: the estimate fits 100 of the 400 iterations in front; they guide the rounding,
    and the bound is the one computed beside the search."""
    inst, cand = crowded()
    limit = 30.0
    monkeypatch.setattr(
        planner_module,
        "LAGRANGIAN_SECONDS_PER_PAIR_ITERATION",
        planner_module.LAGRANGIAN_SHARE * limit / (100 * cand.n_pairs),
    )
    result = Planner(inst, cand, seed=0, workers=1).solve(limit, use_lp=False, budget=1.0)
    assert result.lp["lagrangian"]["iterations"] == 100
    assert "rounding" in result.phases  # the guide was rounded
    assert result.bound_method in ("transport", "lagrangian") and "beside" in result.lp
    assert result.coverage <= result.bound + 1e-6
    assert check(inst, result.assignment)[0] == []
