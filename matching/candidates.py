"""Feasible (session, teacher) pairs, and the travel minutes between schools.

The rules are `scheduling.vectorised` (the same rules as the booking path's scalar form, tested
to agree): reach by blocks of teachers, qualification and availability as teacher masks shared
by every session that needs the same, and the drive between every two schools one teacher could
reach. A deadline stops the work between blocks; what was built by then is valid (a subset of the
pairs, and "never together" for school pairs not yet measured), marked `complete = False`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from matching.instance import Instance
from scheduling import vectorised

# Teachers measured against every school at once: bounds the km block at schools x this many floats.
TEACHER_BLOCK = 1024
# Sessions between two looks at the clock (each at most a few teacher masks: milliseconds in all).
SESSIONS_PER_CHECK = 256


@dataclass
class Candidates:
    """Everything the solvers need about who can take what, and what clashes."""

    pair_session: np.ndarray  # pair -> session index
    pair_teacher: np.ndarray  # pair -> teacher index
    pair_km: np.ndarray  # home -> school km (geodesic, for the travel objective)
    by_session: list[np.ndarray]  # session -> pair indices
    by_teacher: list[np.ndarray]  # teacher -> pair indices
    travel_min: np.ndarray  # school x school minutes needed between sessions (0 on the diagonal)
    school_km: np.ndarray  # school x school km (geodesic where one teacher reaches both, haversine beyond)
    complete: bool = True  # False when a deadline stopped the build: the pairs are a valid subset

    @property
    def n_pairs(self) -> int:
        return len(self.pair_session)

    def nearest_pairs(self, s: int) -> np.ndarray:
        """Session s's pairs, nearest teacher's home first (ties in pair order): sorted once per
        session, as the repairs ask for the same session's order again and again."""
        cache = self.__dict__.setdefault("_nearest", {})
        pairs = cache.get(s)
        if pairs is None:
            pairs = self.by_session[s]
            pairs = cache[s] = pairs[np.argsort(self.pair_km[pairs], kind="stable")]
        return pairs


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def reach_matrix(inst: Instance, deadline: float | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """(reach, km, complete): school x teacher, the school within the teacher's radius and the km
    (geodesic where reached). Teachers of blocks not reached before the deadline reach nothing."""
    reach = np.zeros((len(inst.school_ids), inst.n_teachers), dtype=bool)
    km = np.full(reach.shape, np.inf)
    for first in range(0, inst.n_teachers, TEACHER_BLOCK):
        if _past(deadline):
            return reach, km, False
        block = slice(first, first + TEACHER_BLOCK)
        reached, block_km = vectorised.within_reach(
            inst.school_lat[:, None],
            inst.school_lon[:, None],
            inst.teacher_lat[None, block],
            inst.teacher_lon[None, block],
            inst.teacher_radius[None, block],
        )
        reach[:, block] = reached
        km[:, block] = np.where(reached, block_km, np.inf)
    return reach, km, True


def travel_matrix(inst: Instance, deadline: float | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """(minutes, km, complete): minutes a teacher needs between two schools, 0 for the same school.

    Exact for every two schools one teacher could reach (at most twice the largest radius apart);
    farther ones, and rows the deadline cut off, can never share a teacher: `NEVER_MINUTES`."""
    limit = 2 * float(inst.teacher_radius.max(initial=0.0))
    return vectorised.travel_matrix(inst.school_lat, inst.school_lon, inst.speed_kmh, inst.buffer_min, limit, deadline)


def build_candidates(
    inst: Instance, exclude: dict[int, set[int]] | None = None, deadline: float | None = None
) -> Candidates:
    """All feasible pairs (rules 2-4, and blocked lists); sessions with the same needs share one mask.

    `deadline` (a `time.monotonic()` value): when it passes, stop and return what was built, with
    `complete = False`; every pair returned is feasible and the travel matrix is safe (unmeasured
    school pairs are never together)."""
    travel_min, school_km, complete = travel_matrix(inst, deadline)
    reach, km, complete = reach_matrix(inst, deadline) if complete else (None, None, False)
    blocked = exclude if exclude is not None else inst.blocked
    windows = vectorised.Windows.by_day(inst.teacher_windows)
    qual_masks: dict[tuple[str, str], np.ndarray] = {}
    avail_masks: dict[tuple[int, int, int], np.ndarray] = {}
    group_teachers: dict[tuple, np.ndarray] = {}
    counts = np.zeros(inst.n_sessions, dtype=np.int64)
    teachers_out: list[np.ndarray] = []
    built = 0  # sessions 0..built-1 have their pairs
    if complete:  # else the deadline has passed already: nothing more
        for s in range(inst.n_sessions):
            if s % SESSIONS_PER_CHECK == 0 and _past(deadline):
                complete = False
                break
            qual, school = inst.session_key(s), int(inst.session_school[s])
            when = (int(inst.session_day[s]), int(inst.session_start[s]), int(inst.session_end[s]))
            key = (qual, school, when)
            teachers = group_teachers.get(key)
            if teachers is None:
                if qual not in qual_masks:
                    qual_masks[qual] = vectorised.qualified(inst.teacher_quals, *qual)
                if when not in avail_masks:
                    avail_masks[when] = windows.available(*when)
                mask = qual_masks[qual] & reach[school] & avail_masks[when]
                if blocked.get(school):
                    mask[list(blocked[school])] = False
                teachers = group_teachers[key] = np.flatnonzero(mask)
            teachers_out.append(teachers)
            counts[s] = len(teachers)
            built = s + 1
    # Sessions in index order, each with its teachers ascending: pairs sorted by (session, teacher).
    pair_session = np.repeat(np.arange(built, dtype=np.int64), counts[:built])
    pair_teacher = np.concatenate(teachers_out).astype(np.int64) if teachers_out else np.zeros(0, dtype=np.int64)
    del teachers_out, group_teachers
    if len(pair_session):
        pair_km = km[inst.session_school[pair_session], pair_teacher].astype(float)
    else:
        pair_km = np.zeros(0)
    starts = np.concatenate(([0], np.cumsum(counts)))
    by_session = [np.arange(starts[s], starts[s + 1]) for s in range(inst.n_sessions)]
    teacher_order = np.argsort(pair_teacher, kind="stable")
    by_teacher = np.split(teacher_order, np.searchsorted(pair_teacher[teacher_order], np.arange(1, inst.n_teachers)))
    return Candidates(pair_session, pair_teacher, pair_km, by_session, by_teacher, travel_min, school_km, complete)
