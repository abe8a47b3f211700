"""One test per rule family of FORMAT.md, for the planner, the greedy and instant ranking alike."""

import pytest

from matching.candidates import build_candidates
from matching.greedy import nearest_first, scarcity_first
from matching.instance import parse_instance
from matching.instant import Ranker
from matching.planner import Planner
from matching.state import Plan
from matching.validate import check
from tests.matching.builders import instance, session, teacher


def plan_all(data, seconds=1.0):
    """Every solver's assignment as {session id: teacher id}, each checked by the validator."""
    inst = parse_instance(data)
    cand = build_candidates(inst)
    plans = {
        "nearest_first": nearest_first(inst, cand).assignment(),
        "scarcity_first": scarcity_first(inst, cand).assignment(),
        "planner": Planner(inst, cand, seed=0, workers=1).solve(seconds).assignment,
    }
    named = {}
    for name, assignment in plans.items():
        problems, _ = check(inst, assignment)
        assert problems == [], (name, problems)
        named[name] = {inst.session_ids[s]: inst.teacher_ids[t] for s, t in assignment.items()}
    return named


def each(named):
    return list(named.values())


def test_qualification_subject_and_level():
    data = instance(
        [teacher("IPA-SMP", subjects=["IPA"]), teacher("MTK-SD", levels=["SD"]), teacher("MTK-SMP")],
        [session("L1")],
    )
    for result in each(plan_all(data)):
        assert result == {"L1": "MTK-SMP"}


def test_radius_is_the_teachers_own():
    # 9.9 km from S2's... the teacher lives at S1; S2 is 9.9 km away.
    data = instance([teacher("near", radius=9.8), teacher("far-reaching", radius=10.0)], [session("L1", school="S2")])
    for result in each(plan_all(data)):
        assert result == {"L1": "far-reaching"}


def test_availability_window_must_hold_the_session():
    data = instance(
        [teacher("morning", end="08:30"), teacher("tuesday", days=[1]), teacher("ok")],
        [session("L1", start="07:30", end="08:50")],
    )
    for result in each(plan_all(data)):
        assert result == {"L1": "ok"}


def test_overlapping_sessions_need_two_teachers():
    data = instance([teacher("T1")], [session("L1"), session("L2", start="08:00", end="09:20")])
    for result in each(plan_all(data)):
        assert len(result) == 1


def test_back_to_back_at_one_school_is_fine():
    data = instance([teacher("T1")], [session("L1"), session("L2", start="08:50", end="10:10")])
    for result in each(plan_all(data)):
        assert result == {"L1": "T1", "L2": "T1"}


def test_other_school_needs_the_drive():
    # S2 is 30 minutes away (20 driving + 10 buffer): 08:50 -> 09:20 is exactly enough, 09:19 is not.
    enough = instance([teacher("T1")], [session("L1"), session("L2", school="S2", start="09:20", end="10:40")])
    for result in each(plan_all(enough)):
        assert result == {"L1": "T1", "L2": "T1"}
    short = instance([teacher("T1")], [session("L1"), session("L2", school="S2", start="09:19", end="10:40")])
    for result in each(plan_all(short)):
        assert len(result) == 1


def test_weekly_cap_in_periods():
    data = instance([teacher("T1", cap=5)], [session(f"L{d}", day=d) for d in range(4)])
    for result in each(plan_all(data)):
        assert len(result) == 2  # 2 periods each: 2 fit in 5, 3 do not


def test_fixed_assignments_are_kept_and_count():
    data = instance(
        [teacher("T1", cap=2), teacher("T2", cap=2)],
        [session("L1"), session("L2", day=1)],
        fixed=[{"session": "L1", "teacher": "T2"}],
    )
    for result in each(plan_all(data)):
        assert result["L1"] == "T2"
        assert result.get("L2") == "T1"  # T2's cap is used by the fixed session


def test_heavier_session_wins_a_conflict():
    data = instance([teacher("T1")], [session("L1", weight=1.0), session("L2", start="08:00", end="09:20", weight=2.0)])
    assert plan_all(data)["planner"] == {"L2": "T1"}


def test_continuity_prefers_one_teacher_per_order():
    data = instance(
        [teacher("T1"), teacher("T2")],
        [session("L1", day=0, order="O1"), session("L2", day=1, order="O1"), session("L3", day=2, order="O1")],
    )
    assert len(set(plan_all(data)["planner"].values())) == 1


def test_less_travel_prefers_the_nearer_teacher():
    data = instance([teacher("T1", lon=102.16), teacher("T2", lon=102.11)], [session("L1")])
    assert plan_all(data)["planner"] == {"L1": "T2"}


def test_fairness_gives_the_clashing_teacher_to_the_area_left_behind():
    # Area A already has a lesson covered; area B has none of its two. T1, halfway between the
    # schools, can take one of the two 08:00 lessons: B's.
    schools = [
        {"id": "S1", "lat": -1.49, "lon": 102.10, "area": "A"},
        {"id": "S2", "lat": -1.49, "lon": 102.189, "area": "B"},
    ]
    data = instance(
        [teacher("T0", lon=102.10, subjects=["IPA"]), teacher("T1", lon=102.1445)],
        [
            session("A-IPA", subject="IPA"),
            session("A-MTK", start="08:00", end="09:20"),
            session("B-MTK", school="S2", start="08:00", end="09:20"),
            session("B-IPS", school="S2", subject="IPS"),  # nobody teaches IPS
        ],
        schools=schools,
    )
    assert plan_all(data)["planner"] == {"A-IPA": "T0", "B-MTK": "T1"}


def test_blocked_teacher_never_assigned():
    data = instance([teacher("T1"), teacher("T2", lon=102.15)], [session("L1")])
    inst = parse_instance(data)
    inst.blocked = {0: {0}}  # T1 is blocked at S1
    cand = build_candidates(inst)
    assert Planner(inst, cand, workers=1).solve(1).assignment == {0: 1}
    assert Ranker(Plan(inst, cand)).rank(0)[0].teacher == 1


def test_instant_ranking_prefers_free_near_teachers_and_repairs_with_one_swap():
    data = instance(
        [teacher("T1"), teacher("T2", lon=102.14), teacher("T3", subjects=["IPA"], lon=102.12)],
        [session("L1"), session("L2", subject="IPA", start="07:30", end="08:50")],
    )
    inst = parse_instance(data)
    cand = build_candidates(inst)
    plan = Plan(inst, cand)
    ranked = Ranker(plan).rank(0)
    assert [r.teacher for r in ranked] == [0, 1] and ranked[0].move is None
    # Now T1 and T2 are busy; only T2 can move... make T1 busy with a session T3 could take over.
    data2 = instance(
        [teacher("T1", subjects=["MTK", "IPA"]), teacher("T3", subjects=["IPA"], lon=102.12)],
        [session("L1"), session("L2", subject="IPA")],
    )
    inst2 = parse_instance(data2)
    cand2 = build_candidates(inst2)
    plan2 = Plan(inst2, cand2)
    plan2.assign(1, 0)  # T1 teaches the IPA session at the same time
    [repair] = Ranker(plan2).rank(0)
    assert repair.teacher == 0 and repair.move == (1, 0, 1)  # move L2 from T1 to T3


def test_validator_catches_every_broken_rule():
    data = instance(
        [teacher("T1", cap=2)],
        [session("L1"), session("L2", start="08:00", end="09:20"), session("L3", day=1, subject="IPA")],
    )
    inst = parse_instance(data)
    problems, scores = check(inst, {0: 0, 1: 0, 2: 0})
    text = " ".join(problems)
    assert "does not teach" in text and "clash" in text and "cap" in text
    assert scores["feasible"] is False


@pytest.mark.parametrize(
    "mutate, named",
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d["sessions"][0].update(school="NOPE"), "sessions[0].school"),
        (lambda d: d["sessions"][0].update(start="25:00"), "sessions[0].start"),
        (lambda d: d["sessions"][0].update(end="07:00"), "sessions[0].end"),
        (lambda d: d["sessions"][0].update(level="TK"), "sessions[0].level"),
        (lambda d: d["teachers"][0].pop("radius_km"), "teachers[0].radius_km"),
        (lambda d: d["teachers"][0].update(lat=200), "teachers[0].lat"),
        (lambda d: d["teachers"][0]["availability"][0].update(day=9), "teachers[0].availability[0].day"),
        (lambda d: d.update(fixed=[{"session": "L1", "teacher": "NOPE"}]), "fixed[0].teacher"),
        (lambda d: d["schools"].append({"id": "S1", "lat": 0, "lon": 0}), "schools[2].id"),
    ],
)
def test_malformed_instance_names_the_element(mutate, named):
    from matching.instance import InstanceError

    data = instance([teacher("T1")], [session("L1")])
    mutate(data)
    with pytest.raises(InstanceError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse_instance(data)


def test_same_seed_and_workers_give_the_same_plan():
    teachers = [teacher(f"T{i}", lon=102.10 + 0.01 * i, cap=4 + i % 3) for i in range(6)]
    sessions = [
        session(f"L{i}", school=("S1", "S2")[i % 2], day=i % 3, start=f"{7 + i % 4:02d}:00", end=f"{8 + i % 4:02d}:10")
        for i in range(18)
    ]
    data = instance(teachers, sessions)
    plans = []
    for _ in range(2):
        inst = parse_instance(data)
        plans.append(Planner(inst, build_candidates(inst), seed=7, workers=2).solve(600.0, budget=1.3).assignment)
    assert plans[0] == plans[1]


def test_the_plan_does_not_depend_on_time_spent_before_the_solve():
    """Large enough for the neighbourhood search; its budget is given in deterministic units and the
    limit is so far away that no wall-clock deadline can decide, however loaded the machine: the
    plan follows the budget, not the time the caller spent building."""
    import time

    import matching.planner as planner

    teachers = [teacher(f"T{i}", lon=102.10 + 0.002 * i, cap=6 + 2 * (i % 3)) for i in range(40)]
    sessions = [
        session(f"L{i}", school=("S1", "S2")[i % 2], day=i % 6, start=f"{7 + i % 5:02d}:00", end=f"{8 + i % 5:02d}:20")
        for i in range(70)
    ]
    inst = parse_instance(instance(teachers, sessions))
    cand = build_candidates(inst)
    assert cand.n_pairs > planner.POLISH[0]  # not solved as one neighbourhood
    fresh = Planner(inst, cand, seed=3, workers=2).solve(3600.0, budget=3.0)
    late = Planner(inst, cand, seed=3, workers=2).solve(3600.0, started=time.monotonic() - 2.0, budget=3.0)
    assert fresh.iterations > 0 and fresh.iterations == late.iterations
    assert fresh.assignment == late.assignment


def test_ejection_covers_by_a_chain_of_moves_and_undoes_what_does_not_gain():
    import numpy as np

    from matching.repair import eject_pass, repair_pass

    # Same hour: T1 can teach the open MTK lesson but teaches IPA; T2 could take the IPA lesson
    # but teaches BIO; T3 is free and teaches BIO. A one-move repair cannot see this chain.
    data = instance(
        [teacher("T1", subjects=["MTK", "IPA"]), teacher("T2", subjects=["IPA", "BIO"], lon=102.11),
         teacher("T3", subjects=["BIO"], lon=102.12)],
        [session("L-MTK"), session("L-IPA", subject="IPA"), session("L-BIO", subject="BIO")],
    )  # fmt: skip
    inst = parse_instance(data)
    cand = build_candidates(inst)
    has = np.ones(inst.n_sessions, dtype=bool)
    plan = Plan(inst, cand)
    plan.assign(1, 0)  # T1: IPA
    plan.assign(2, 1)  # T2: BIO
    assert repair_pass(plan, np.random.default_rng(0), {}, has) == 0
    assert eject_pass(plan, np.random.default_rng(0), {}, has) == 1
    assert plan.assignment() == {0: 0, 1: 1, 2: 2} and check(inst, plan.assignment())[0] == []

    # Without T3 nothing can be re-homed: the heavier IPA lesson stays, the plan is as it was.
    heavy = instance(
        [teacher("T1", subjects=["MTK", "IPA"])], [session("L-MTK"), session("L-IPA", subject="IPA", weight=2.0)]
    )
    inst = parse_instance(heavy)
    plan = Plan(inst, build_candidates(inst))
    plan.assign(1, 0)
    assert eject_pass(plan, np.random.default_rng(0), {}, np.ones(2, dtype=bool)) == 0
    assert plan.assignment() == {1: 0}


def test_the_equity_floor_lifts_the_area_left_behind_and_reports_what_it_cost():
    # One teacher for two lessons at 08:00: A's weighs 1.2, B's 1.0. Coverage alone takes A's and
    # leaves area B with nothing; the floor gives B its lesson for 0.2 of coverage, and says so.
    schools = [
        {"id": "S1", "lat": -1.49, "lon": 102.10, "area": "A"},
        {"id": "S2", "lat": -1.49, "lon": 102.189, "area": "B"},
    ]
    data = instance(
        [teacher("T0", subjects=["IPA"]), teacher("T1")],
        [
            session("A-IPA", subject="IPA"),
            session("A-MTK", start="08:00", end="09:20", weight=1.2),
            session("B-MTK", school="S2", start="08:00", end="09:20"),
        ],
        schools=schools,
    )
    inst = parse_instance(data)
    cand = build_candidates(inst)
    alone = Planner(inst, cand, seed=0, workers=1).solve(60.0, equity_floor=None, budget=2.0)
    assert alone.assignment == {0: 0, 1: 1} and alone.equity == {} and alone.equity_cost is None
    floored = Planner(inst, cand, seed=0, workers=1).solve(60.0, equity_floor=0.8, budget=2.0)
    assert floored.assignment == {0: 0, 2: 1}
    assert floored.equity["coverage_only"] == 2.2 and abs(floored.equity_cost - 0.2) < 1e-9
    assert floored.equity["worst_area_ratio"] > 0.7  # from 0: A's 1.0 of 2.2 against the district's 2.0 of 3.2
    assert check(inst, floored.assignment)[0] == []
