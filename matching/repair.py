"""Insertion with one move: cover an open session by shifting one session of a busy teacher to a colleague;
and ejection: take a session from a busy teacher when what it displaces weighs less or finds a free colleague.

Used by the planner on its starting plan (cheap, many small gains) and by instant
ranking when no candidate is free ("one-swap repair").
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from matching.state import Plan
from scheduling.vectorised import within_cap


def blockers(plan: Plan, s: int, t: int) -> list[int] | None:
    """Sessions of t that must leave for t to take s: the clashing ones, or one to free the cap. None if no single set works."""
    inst = plan.inst
    day = int(inst.session_day[s])
    clashing = [o for o in plan.days[(t, day)] if plan.clash(s, o)]
    over = plan.load[t] - sum(inst.session_periods[o] for o in clashing) + inst.session_periods[s] - inst.teacher_cap[t]
    if over <= 0:
        return clashing
    if clashing:
        return None  # both a clash and the cap: not a one-move repair
    # Free the cap with one session of the teacher that is at least `over` periods.
    options = [o for d in range(7) for o in plan.days.get((t, d), ()) if inst.session_periods[o] >= over]
    return options[:1] if options else None


def relocate(plan: Plan, b: int, avoid: int, fixed: dict[int, int]) -> int | None:
    """A teacher other than `avoid` who can take session b as things stand, nearest first."""
    if b in fixed:
        return None
    teachers = plan.cand.pair_teacher[plan.cand.nearest_pairs(b)]
    # Most candidates of a busy week are full: the cap, checked for all at once, leaves few to look at.
    for t2 in teachers[_room(plan, b, teachers) & (teachers != avoid)].tolist():
        if plan.fits(b, t2):
            return t2
    return None


def _room(plan: Plan, s: int, teachers: np.ndarray) -> np.ndarray:
    """Which of `teachers` can take s's periods within their weekly cap (`plan.fits`'s first test)."""
    inst = plan.inst
    return within_cap(plan.load[teachers], inst.session_periods[s], inst.teacher_cap[teachers])


def one_swap(plan: Plan, s: int, t: int, fixed: dict[int, int]) -> tuple[int, int] | None:
    """(b, t2) when moving t's single blocking session b to teacher t2 lets t take s; the plan is left as it was."""
    blocking = blockers(plan, s, t)
    if not blocking or len(blocking) != 1:
        return None
    b = blocking[0]
    plan.unassign(b)
    t2 = relocate(plan, b, t, fixed)
    ok = t2 is not None and plan.fits(s, t)
    plan.assign(b, t)
    return (b, t2) if ok else None


def try_insert(plan: Plan, s: int, fixed: dict[int, int], allow_moves: bool = True) -> bool:
    """Cover s: a free candidate if there is one, else one candidate after moving its single blocking session."""
    nearest = plan.cand.pair_teacher[plan.cand.nearest_pairs(s)]
    for t in nearest[_room(plan, s, nearest)].tolist():
        if plan.fits(s, t):
            plan.assign(s, t)
            return True
    if not allow_moves:
        return False
    for t in nearest.tolist():
        move = one_swap(plan, s, t, fixed)
        if move is not None:
            b, t2 = move
            plan.unassign(b)
            plan.assign(b, t2)
            plan.assign(s, t)
            return True
    return False


def repair_pass(
    plan: Plan,
    rng: np.random.Generator,
    fixed: dict[int, int],
    has_candidates: np.ndarray,
    deadline: float | None = None,
) -> int:
    """Try to cover every open session once, heaviest first, until `deadline` (time.monotonic()).
    Returns how many were covered."""
    inst = plan.inst
    open_sessions = np.flatnonzero((plan.teacher_of < 0) & has_candidates)
    order = open_sessions[np.lexsort((rng.random(len(open_sessions)), -inst.session_weight[open_sessions]))]
    covered = 0
    for s in order.tolist():
        if deadline is not None and time.monotonic() >= deadline:
            break
        covered += try_insert(plan, s, fixed)
    return covered


def eject_insert(
    plan: Plan,
    s: int,
    fixed: dict[int, int],
    breadth: tuple[int, int] = (12, 20),
    accept: Callable[[], bool] | None = None,
) -> bool:
    """Cover s by ejecting what is in a candidate's way, if the ejected sessions weigh less or find
    free colleagues: kept only when the covered weight grows; otherwise the plan is left as it was.

    `breadth`: how many of s's nearest candidates are tried, and how many of an ejected session's
    nearest candidates may take it after one move of their own. `accept` (called on the plan after
    the move) replaces the rule that the covered weight must grow (the equity floor's trades)."""
    inst, cand = plan.inst, plan.cand
    weight = inst.session_weight
    for p in cand.nearest_pairs(s)[: breadth[0]]:
        t = int(cand.pair_teacher[p])
        blocking = blockers(plan, s, t)
        if not blocking or any(b in fixed for b in blocking):
            continue
        for b in blocking:
            plan.unassign(b)
        if not plan.fits(s, t):
            for b in blocking:
                plan.assign(b, t)
            continue
        plan.assign(s, t)
        moved: list[tuple[int, int, int]] = []  # (session, from teacher, to teacher) of one-swap moves, to undo
        for b in blocking:
            if not try_insert(plan, b, fixed, allow_moves=False):
                _rehome_with_one_move(plan, b, t, fixed, moved, breadth[1])
        lost = sum(weight[b] for b in blocking if plan.teacher_of[b] < 0)
        if (weight[s] > lost + 1e-9) if accept is None else accept():
            return True
        for b in blocking:
            if plan.teacher_of[b] >= 0:
                plan.unassign(b)
        for session, before, _ in reversed(moved):
            plan.unassign(session)
            plan.assign(session, before)
        plan.unassign(s)
        for b in blocking:
            plan.assign(b, t)
    return False


def _rehome_with_one_move(plan: Plan, b: int, avoid: int, fixed: dict[int, int], moved: list, breadth: int) -> bool:
    """Give b to one of its nearest candidates after moving that one's single blocking session to a colleague."""
    cand = plan.cand
    for p in cand.nearest_pairs(b)[:breadth]:
        t = int(cand.pair_teacher[p])
        if t == avoid:
            continue
        move = one_swap(plan, b, t, fixed)
        if move is not None:
            b2, t2 = move
            plan.unassign(b2)
            plan.assign(b2, t2)
            moved.append((b2, t, t2))
            plan.assign(b, t)
            return True
    return False


def eject_pass(
    plan: Plan,
    rng: np.random.Generator,
    fixed: dict[int, int],
    has_candidates: np.ndarray,
    breadth: tuple[int, int] = (12, 20),
    deadline: float | None = None,
) -> int:
    """Try to cover every open session once by ejection, heaviest first, until `deadline`
    (time.monotonic(); checked before each session, each of which is bounded by `breadth`).
    Returns how many moves gained."""
    inst = plan.inst
    open_sessions = np.flatnonzero((plan.teacher_of < 0) & has_candidates)
    order = open_sessions[np.lexsort((rng.random(len(open_sessions)), -inst.session_weight[open_sessions]))]
    gained = 0
    for s in order.tolist():
        if deadline is not None and time.monotonic() >= deadline:
            break
        if plan.teacher_of[s] < 0:
            gained += eject_insert(plan, s, fixed, breadth)
    return gained
