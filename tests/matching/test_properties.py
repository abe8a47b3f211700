"""Property test: on random small instances every solver's answer keeps every rule."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.candidates import build_candidates
from matching.greedy import nearest_first, scarcity_first
from matching.instance import parse_instance
from matching.instant import Ranker
from matching.planner import Planner
from matching.validate import check

SUBJECTS = ["MTK", "IPA"]
LEVELS = ["SD", "SMP"]


@st.composite
def instances(draw):
    n_schools = draw(st.integers(1, 4))
    schools = [
        {"id": f"S{i}", "lat": -1.5 + draw(st.floats(0, 0.15)), "lon": 102.0 + draw(st.floats(0, 0.15))}
        for i in range(n_schools)
    ]
    teachers = []
    for i in range(draw(st.integers(1, 6))):
        windows = []
        for day in draw(st.lists(st.integers(0, 2), min_size=1, max_size=3, unique=True)):
            start = draw(st.integers(6 * 60, 9 * 60))
            windows.append(
                {
                    "day": day,
                    "start": f"{start // 60:02d}:{start % 60:02d}",
                    "end": f"{(start + draw(st.integers(60, 360))) // 60:02d}:00",
                }
            )
        teachers.append({
            "id": f"T{i}", "lat": -1.5 + draw(st.floats(0, 0.15)), "lon": 102.0 + draw(st.floats(0, 0.15)),
            "radius_km": draw(st.sampled_from([3.0, 8.0, 15.0, 30.0])),
            "subjects": draw(st.lists(st.sampled_from(SUBJECTS), min_size=1, max_size=2, unique=True)),
            "levels": draw(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=2, unique=True)),
            "max_periods": draw(st.integers(1, 8)), "availability": windows,
        })  # fmt: skip
    sessions = []
    for i in range(draw(st.integers(1, 14))):
        start = draw(st.integers(7 * 60, 12 * 60))
        length = draw(st.sampled_from([35, 40, 70, 80, 90]))
        sessions.append({
            "id": f"L{i}", "order": f"O{draw(st.integers(0, 4))}", "school": f"S{draw(st.integers(0, n_schools - 1))}",
            "subject": draw(st.sampled_from(SUBJECTS)), "level": draw(st.sampled_from(LEVELS)), "day": draw(st.integers(0, 2)),
            "start": f"{start // 60:02d}:{start % 60:02d}", "end": f"{(start + length) // 60:02d}:{(start + length) % 60:02d}",
            "periods": draw(st.integers(1, 3)), "weight": draw(st.sampled_from([1.0, 2.0])),
        })  # fmt: skip
    return {"format": "guru-online/matching-instance@1", "travel": {"speed_kmh": 30, "buffer_min": 10},
            "schools": schools, "teachers": teachers, "sessions": sessions}  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_solver_keeps_every_rule(data):
    inst = parse_instance(data)
    cand = build_candidates(inst)
    greedy = nearest_first(inst, cand)
    plans = {
        "nearest_first": greedy.assignment(),
        "scarcity_first": scarcity_first(inst, cand).assignment(),
        "planner": Planner(inst, cand, seed=1, workers=1).solve(0.3).assignment,
    }
    for name, assignment in plans.items():
        problems, _ = check(inst, assignment)
        assert problems == [], (name, problems)
    # The planner never does worse than the greedy baseline it competes with.
    weight = lambda a: sum(inst.session_weight[s] for s in a)  # noqa: E731
    assert weight(plans["planner"]) >= weight(plans["scarcity_first"]) - 1e-9
    # Instant ranking: giving any open session to its top-ranked teacher (after the repair move) keeps every rule.
    ranker = Ranker(greedy)
    for s in range(inst.n_sessions):
        if greedy.teacher_of[s] >= 0:
            continue
        ranked = ranker.rank(s, limit=1)
        if not ranked:
            continue
        top = ranked[0]
        if top.move:
            moved, _old, new = top.move
            greedy.unassign(moved)
            greedy.assign(moved, new)
        greedy.assign(s, top.teacher)
        problems, _ = check(inst, greedy.assignment())
        assert problems == [], ("instant", problems)
