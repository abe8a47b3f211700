"""A plan under construction: who teaches what, with the checks to add a session to a teacher."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from matching.candidates import Candidates
from matching.instance import Instance
from scheduling.rules import clash_minutes, within_cap


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
        if not within_cap(self.load[t], periods[s], caps[t]):
            return False
        s_start, s_end, to_school = start[s], end[s], travel[school[s]]
        # The travel matrix holds 0 on its diagonal: at one school only an overlap clashes.
        for o in self.days[(t, day[s])]:
            if clash_minutes(s_start, s_end, start[o], end[o], to_school[school[o]]):
                return False
        return True

    def clash(self, a: int, b: int) -> bool:
        """Rule 5 between sessions a and b for one teacher: `scheduling.rules.clash_minutes` on plain lists."""
        day, start, end, school, _periods, _caps, travel = self._fast
        return day[a] == day[b] and clash_minutes(start[a], end[a], start[b], end[b], travel[school[a]][school[b]])

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
