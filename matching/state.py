"""A plan under construction: who teaches what, with the checks to add a session to a teacher."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from matching.candidates import Candidates
from matching.instance import Instance


class Plan:
    def __init__(self, inst: Instance, cand: Candidates):
        self.inst = inst
        self.cand = cand
        # Plain lists: the clash check runs millions of times and numpy scalars are slow one by one.
        self._fast = _fast_tables(inst, cand)
        self.teacher_of = np.full(inst.n_sessions, -1, dtype=np.int64)
        self.load = np.zeros(inst.n_teachers, dtype=np.int64)
        self.days: dict[tuple[int, int], list[int]] = defaultdict(list)  # (teacher, day) -> sessions

    def copy(self) -> Plan:
        other = Plan.__new__(Plan)
        other.inst, other.cand, other._fast = self.inst, self.cand, self._fast
        other.teacher_of = self.teacher_of.copy()
        other.load = self.load.copy()
        other.days = defaultdict(list, {k: list(v) for k, v in self.days.items()})
        return other

    def fits(self, s: int, t: int) -> bool:
        """Rules 5 and 6 for adding session s to teacher t (rules 2-4 hold for every candidate pair)."""
        day, start, end, school, periods, caps, travel = self._fast
        if self.load[t] + periods[s] > caps[t]:
            return False
        s_start, s_end, s_school = start[s], end[s], school[s]
        for o in self.days[(t, day[s])]:
            o_start, o_end = start[o], end[o]
            if s_start < o_end and o_start < s_end:
                return False  # the two overlap
            if school[o] != s_school:
                gap = s_start - o_end if o_end <= s_start else o_start - s_end
                if gap < travel[school[o]][s_school]:
                    return False  # no time to drive between the schools
        return True

    def clash(self, a: int, b: int) -> bool:
        """Rule 5 between sessions a and b for one teacher (the plain-list twin of candidates.clash)."""
        day, start, end, school, _periods, _caps, travel = self._fast
        if day[a] != day[b]:
            return False
        if start[a] < end[b] and start[b] < end[a]:
            return True
        if school[a] == school[b]:
            return False
        gap = start[b] - end[a] if end[a] <= start[b] else start[a] - end[b]
        return gap < travel[school[a]][school[b]]

    def assign(self, s: int, t: int) -> None:
        self.teacher_of[s] = t
        self.load[t] += self.inst.session_periods[s]
        self.days[(t, self._fast[0][s])].append(s)

    def unassign(self, s: int) -> None:
        t = int(self.teacher_of[s])
        if t < 0:
            return
        self.teacher_of[s] = -1
        self.load[t] -= self.inst.session_periods[s]
        self.days[(t, self._fast[0][s])].remove(s)

    def assignment(self) -> dict[int, int]:
        return {int(s): int(t) for s, t in enumerate(self.teacher_of) if t >= 0}

    def coverage(self) -> float:
        return float(self.inst.session_weight[self.teacher_of >= 0].sum())

    @classmethod
    def from_assignment(cls, inst: Instance, cand: Candidates, assignment: dict[int, int]) -> Plan:
        plan = cls(inst, cand)
        for s, t in assignment.items():
            plan.assign(s, t)
        return plan


def _fast_tables(inst: Instance, cand: Candidates) -> tuple:
    cache = getattr(cand, "_fast_tables", None)
    if cache is None:
        cache = (
            inst.session_day.tolist(),
            inst.session_start.tolist(),
            inst.session_end.tolist(),
            inst.session_school.tolist(),
            inst.session_periods.tolist(),
            inst.teacher_cap.tolist(),
            cand.travel_min.tolist(),
        )
        cand._fast_tables = cache
    return cache
