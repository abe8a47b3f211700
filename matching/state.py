"""A plan under construction: who teaches what, with the checks to add a session to a teacher."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from matching.candidates import Candidates, clash
from matching.instance import Instance


class Plan:
    def __init__(self, inst: Instance, cand: Candidates):
        self.inst = inst
        self.cand = cand
        self.teacher_of = np.full(inst.n_sessions, -1, dtype=np.int64)
        self.load = np.zeros(inst.n_teachers, dtype=np.int64)
        self.days: dict[tuple[int, int], list[int]] = defaultdict(list)  # (teacher, day) -> sessions

    def copy(self) -> Plan:
        other = Plan(self.inst, self.cand)
        other.teacher_of = self.teacher_of.copy()
        other.load = self.load.copy()
        other.days = defaultdict(list, {k: list(v) for k, v in self.days.items()})
        return other

    def fits(self, s: int, t: int) -> bool:
        """Rules 5 and 6 for adding session s to teacher t (rules 2-4 hold for every candidate pair)."""
        inst = self.inst
        if self.load[t] + inst.session_periods[s] > inst.teacher_cap[t]:
            return False
        return not any(
            clash(inst, self.cand.travel_min, s, other) for other in self.days[(t, int(inst.session_day[s]))]
        )

    def assign(self, s: int, t: int) -> None:
        self.teacher_of[s] = t
        self.load[t] += self.inst.session_periods[s]
        self.days[(t, int(self.inst.session_day[s]))].append(s)

    def unassign(self, s: int) -> None:
        t = int(self.teacher_of[s])
        if t < 0:
            return
        self.teacher_of[s] = -1
        self.load[t] -= self.inst.session_periods[s]
        self.days[(t, int(self.inst.session_day[s]))].remove(s)

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
