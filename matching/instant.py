"""Instant ranking: who can take one urgent session right now, given the week's bookings.

No re-solve: the candidates' masks are computed for this one session (qualified,
within reach, available), each is checked against their booked sessions (clash
with travel time, weekly cap), and when nobody is free, a one-swap repair looks
for a booked session that a colleague could take over to free a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.instance import Instance
from matching.repair import one_swap
from matching.state import Plan
from scheduling import vectorised


@dataclass(frozen=True)
class Ranked:
    teacher: int
    score: float
    km: float
    # A one-swap repair: (session, from teacher, to teacher) to do before this teacher can take it.
    move: tuple[int, int, int] | None = None


class Ranker:
    REPAIR_TRIES = 12  # nearest busy candidates tried for a one-swap repair

    def __init__(self, plan: Plan, use_pairs: bool = True):
        self.plan = plan
        self.inst: Instance = plan.inst
        self._quals: dict[tuple[str, str], np.ndarray] = {}
        self._windows: vectorised.Windows | None = None
        # Sessions already in the candidate index reuse its pairs; new ones are computed on the spot.
        self.use_pairs = use_pairs
        order = plan.inst.session_order
        by_order = np.argsort(order, kind="stable")
        self._order_sessions = np.split(
            by_order, np.searchsorted(order[by_order], np.arange(1, len(plan.inst.order_ids)))
        )

    def _qualified(self, subject: str, level: str) -> np.ndarray:
        key = (subject, level)
        if key not in self._quals:
            self._quals[key] = vectorised.qualified(self.inst.teacher_quals, subject, level)
        return self._quals[key]

    def _available(self, day: int, start: int, end: int) -> np.ndarray:
        if self._windows is None:
            per_teacher = [[(d, a, b) for d, ws in w.items() for a, b in ws] for w in self.inst.teacher_windows]
            self._windows = vectorised.Windows.of(per_teacher)
        return self._windows.available(day, start, end)

    def candidates(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """(teachers, km) for session s: qualified, within their radius, available; not blocked at the school."""
        inst = self.inst
        if self.use_pairs and s < len(self.plan.cand.by_session):
            pairs = self.plan.cand.by_session[s]
            return self.plan.cand.pair_teacher[pairs], self.plan.cand.pair_km[pairs]
        school = int(inst.session_school[s])
        day, start, end = int(inst.session_day[s]), int(inst.session_start[s]), int(inst.session_end[s])
        mask = self._qualified(inst.session_subject[s], inst.session_level[s]) & self._available(day, start, end)
        blocked = inst.blocked.get(school)
        if blocked:
            mask[list(blocked)] = False
        teachers = np.flatnonzero(mask)
        reached, km = vectorised.within_reach(
            inst.school_lat[school],
            inst.school_lon[school],
            inst.teacher_lat[teachers],
            inst.teacher_lon[teachers],
            inst.teacher_radius[teachers],
        )
        return teachers[reached], km[reached]

    def _score(self, s: int, t: int, km: float) -> float:
        """Higher is better: the order's own teacher, the school's favourite, rating, then a short drive."""
        inst, plan = self.inst, self.plan
        same_order = bool(np.any(plan.teacher_of[self._order_sessions[int(inst.session_order[s])]] == t))
        favourite = t in inst.favourites.get(int(inst.session_school[s]), ())
        rating = inst.teacher_rating[t] if inst.teacher_rating[t] == inst.teacher_rating[t] else 3.0
        return 100.0 * same_order + 50.0 * favourite + 10.0 * rating - km

    def rank(self, s: int, limit: int = 10, repair: bool = True) -> list[Ranked]:
        """The best `limit` teachers for session s, free ones first; with no one free, one-swap repairs."""
        plan = self.plan
        teachers, kms = self.candidates(s)
        free = [
            Ranked(int(t), self._score(s, int(t), float(d)), float(d))
            for t, d in zip(teachers, kms, strict=True)
            if plan.fits(s, int(t))
        ]
        if free or not repair:
            return sorted(free, key=lambda r: -r.score)[:limit]
        fixed = {a: b for a, b in self.inst.fixed}
        repaired = []
        nearest = sorted(zip(teachers.tolist(), kms.tolist(), strict=True), key=lambda td: td[1])[: self.REPAIR_TRIES]
        for t, d in nearest:
            move = one_swap(plan, s, t, fixed)
            if move is not None:
                b, t2 = move
                repaired.append(Ranked(t, self._score(s, t, d) - 1000.0, d, (b, t, t2)))
                if len(repaired) >= limit:
                    break
        return sorted(repaired, key=lambda r: -r.score)
