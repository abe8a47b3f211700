"""Building the pairs keeps a deadline, and what it returns when stopped is still safe to plan with."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from matching import candidates
from matching.candidates import build_candidates
from matching.greedy import scarcity_first
from matching.instance import parse_instance
from matching.validate import check
from scheduling import vectorised
from scheduling.tolerances import NEVER_MINUTES


def big_district(schools: int, teachers: int, sessions: int, seed: int = 3) -> dict:
    """A district far larger than the tests' usual: the pair build takes a while on it."""
    rng = np.random.default_rng(seed)
    subjects, levels = ["MTK", "IPA", "BIN", "IPS"], ["SD", "SMP", "SMA"]

    def hhmm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    return {
        "format": "guru-online/matching-instance@1",
        "schools": [
            {"id": f"S{i}", "lat": -1.5 + rng.uniform(-0.4, 0.4), "lon": 102.1 + rng.uniform(-0.6, 0.6)}
            for i in range(schools)
        ],
        "teachers": [
            {
                "id": f"T{i}",
                "lat": -1.5 + rng.uniform(-0.4, 0.4),
                "lon": 102.1 + rng.uniform(-0.6, 0.6),
                "radius_km": float(rng.uniform(10, 30)),
                "subjects": list(rng.choice(subjects, 2, replace=False)),
                "levels": [str(rng.choice(levels))],
                "max_periods": 24,
                "availability": [{"day": d, "start": "07:00", "end": "14:00"} for d in range(6)],
            }
            for i in range(teachers)
        ],
        "sessions": [
            {
                "id": f"X{i}",
                "school": f"S{rng.integers(schools)}",
                "subject": str(rng.choice(subjects)),
                "level": str(rng.choice(levels)),
                "day": int(rng.integers(6)),
                "start": hhmm(start := 7 * 60 + 40 * int(rng.integers(8))),
                "end": hhmm(start + 80),
                "periods": 2,
            }
            for i in range(sessions)
        ],
    }


@pytest.fixture(scope="module")
def large():
    return parse_instance(big_district(schools=600, teachers=3000, sessions=12000))


def test_a_deadline_already_past_returns_at_once_with_nothing_built(large):
    cand = build_candidates(large, deadline=time.monotonic() - 1.0)
    assert cand.complete is False
    assert cand.n_pairs == 0
    assert len(cand.by_session) == large.n_sessions and all(len(p) == 0 for p in cand.by_session)
    assert len(cand.by_teacher) == large.n_teachers
    # No school pair was measured: every two schools are "never together", each school with itself free.
    off_diagonal = ~np.eye(len(large.school_ids), dtype=bool)
    assert (cand.travel_min[off_diagonal] == NEVER_MINUTES).all() and (np.diag(cand.travel_min) == 0).all()


def test_no_deadline_builds_everything_and_says_so():
    inst = parse_instance(big_district(schools=40, teachers=200, sessions=400))
    cand = build_candidates(inst)
    assert cand.complete is True and cand.n_pairs > 0


@pytest.fixture(scope="module")
def medium():
    # Three blocks of teachers, a dozen looks at the clock while pairing sessions.
    return parse_instance(big_district(schools=60, teachers=2 * candidates.TEACHER_BLOCK + 100, sessions=3000, seed=5))


@pytest.mark.parametrize("phase", ["measuring schools", "reaching teachers", "pairing sessions"])
def test_a_deadline_mid_build_returns_a_safe_part(monkeypatch, medium, phase):
    """A clock that moves one tick per look makes "the deadline passes after N looks" deterministic: the
    pairs returned are a subset of the full build's, the travel matrix is exact or "never", and a plan
    made from them keeps every rule."""
    inst = medium
    full = build_candidates(inst)
    # One look per school row of the travel matrix, then one per block of teachers, then every few sessions.
    rows, blocks = len(inst.school_ids), -(-inst.n_teachers // candidates.TEACHER_BLOCK)
    looks = {"measuring schools": rows // 2, "reaching teachers": rows + 2, "pairing sessions": rows + blocks + 6}
    ticks = itertools.count()
    clock = lambda: float(next(ticks))  # noqa: E731
    monkeypatch.setattr(candidates.time, "monotonic", clock)
    monkeypatch.setattr(vectorised.time, "monotonic", clock)
    part = build_candidates(inst, deadline=float(looks[phase]))
    assert part.complete is False
    assert part.n_pairs < full.n_pairs
    assert (part.n_pairs > 0) == (phase == "pairing sessions")  # pairs only once every school and teacher is measured
    full_pairs = set(zip(full.pair_session.tolist(), full.pair_teacher.tolist(), strict=True))
    assert set(zip(part.pair_session.tolist(), part.pair_teacher.tolist(), strict=True)) <= full_pairs
    measured = part.travel_min != NEVER_MINUTES
    assert (part.travel_min[measured] == full.travel_min[measured]).all()
    for s, pairs in enumerate(part.by_session):
        assert (part.pair_session[pairs] == s).all()
    for t, pairs in enumerate(part.by_teacher):
        assert (part.pair_teacher[pairs] == t).all()
    plan = scarcity_first(inst, part)
    problems, _ = check(inst, plan.assignment())
    assert problems == []
