"""Feasible (session, teacher) pairs, and the travel minutes between schools.

Distances are geodesic (WGS-84) as the rules say, but computed only where they
decide something: a vectorised haversine sorts most pairs at once, and the exact
geodesic (geopy) settles the pairs within 1% of a boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from matching.instance import Instance
from scheduling.geo import distance_km

EARTH_KM = 6371.0088
BAND = 0.01  # haversine is within 0.5% of the geodesic; 1% is a safe margin


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


@dataclass
class Candidates:
    """Everything the solvers need about who can take what, and what clashes."""

    pair_session: np.ndarray  # pair -> session index
    pair_teacher: np.ndarray  # pair -> teacher index
    pair_km: np.ndarray  # home -> school km (haversine, for the travel objective)
    by_session: list[np.ndarray]  # session -> pair indices
    by_teacher: list[np.ndarray]  # teacher -> pair indices
    travel_min: np.ndarray  # school x school minutes needed between sessions (0 on the diagonal)
    school_km: np.ndarray  # school x school km

    @property
    def n_pairs(self) -> int:
        return len(self.pair_session)


def reach_matrix(inst: Instance) -> tuple[np.ndarray, np.ndarray]:
    """(school x teacher) bool: school within the teacher's radius; and the km matrix."""
    km = haversine_km(
        inst.school_lat[:, None], inst.school_lon[:, None], inst.teacher_lat[None, :], inst.teacher_lon[None, :]
    )
    radius = inst.teacher_radius[None, :]
    reach = km <= radius * (1 - BAND)
    unsure = np.argwhere((km > radius * (1 - BAND)) & (km <= radius * (1 + BAND) + 1e-6))
    for school, teacher in unsure:
        exact = distance_km(
            (inst.school_lat[school], inst.school_lon[school]), (inst.teacher_lat[teacher], inst.teacher_lon[teacher])
        )
        reach[school, teacher] = exact <= inst.teacher_radius[teacher] + 1e-9
    return reach, km


def travel_matrix(inst: Instance, max_km: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Minutes a teacher needs between two schools: ceil(km / speed * 60) + buffer, 0 for the same school.

    Exact geodesic for every pair that one teacher could reach both of (at most twice the
    largest radius apart); farther pairs can never share a teacher and get a large number.
    """
    n = len(inst.school_ids)
    km = haversine_km(
        inst.school_lat[:, None], inst.school_lon[:, None], inst.school_lat[None, :], inst.school_lon[None, :]
    )
    limit = max_km if max_km is not None else 2 * float(inst.teacher_radius.max(initial=0.0))
    minutes = np.full((n, n), 24 * 60, dtype=np.int64)
    near = np.argwhere(np.triu(km <= limit * (1 + BAND) + 1e-6, k=1))
    for a, b in near:
        exact = distance_km((inst.school_lat[a], inst.school_lon[a]), (inst.school_lat[b], inst.school_lon[b]))
        km[a, b] = km[b, a] = exact
        minutes[a, b] = minutes[b, a] = math.ceil(exact / inst.speed_kmh * 60) + inst.buffer_min
    np.fill_diagonal(minutes, 0)
    np.fill_diagonal(km, 0.0)
    return minutes, km


def available_mask(inst: Instance, day: int, start: int, end: int) -> np.ndarray:
    return np.fromiter(
        (any(a <= start and end <= b for a, b in w.get(day, ())) for w in inst.teacher_windows),
        dtype=bool,
        count=inst.n_teachers,
    )


def build_candidates(inst: Instance, exclude: dict[int, set[int]] | None = None) -> Candidates:
    """All feasible pairs (rules 2-4, and blocked lists); sessions with the same needs share one mask."""
    reach, km = reach_matrix(inst)
    qual_masks: dict[tuple[str, str], np.ndarray] = {}
    avail_masks: dict[tuple[int, int, int], np.ndarray] = {}
    groups: dict[tuple, list[int]] = {}
    for s in range(inst.n_sessions):
        key = (inst.session_key(s), int(inst.session_school[s]), int(inst.session_day[s]), int(inst.session_start[s]),
               int(inst.session_end[s]))  # fmt: skip
        groups.setdefault(key, []).append(s)
    blocked = exclude if exclude is not None else inst.blocked
    sessions_out, teachers_out = [], []
    for (qual, school, day, start, end), sessions in groups.items():
        if qual not in qual_masks:
            qual_masks[qual] = np.fromiter((qual in q for q in inst.teacher_quals), dtype=bool, count=inst.n_teachers)
        if (day, start, end) not in avail_masks:
            avail_masks[(day, start, end)] = available_mask(inst, day, start, end)
        mask = qual_masks[qual] & reach[school] & avail_masks[(day, start, end)]
        if school in blocked and blocked[school]:
            mask = mask.copy()
            mask[list(blocked[school])] = False
        teachers = np.flatnonzero(mask)
        for s in sessions:
            sessions_out.append(np.full(len(teachers), s, dtype=np.int64))
            teachers_out.append(teachers)
    pair_session = np.concatenate(sessions_out) if sessions_out else np.zeros(0, dtype=np.int64)
    pair_teacher = np.concatenate(teachers_out) if teachers_out else np.zeros(0, dtype=np.int64)
    order = np.lexsort((pair_teacher, pair_session))
    pair_session, pair_teacher = pair_session[order], pair_teacher[order]
    pair_km = km[inst.session_school[pair_session], pair_teacher] if len(pair_session) else np.zeros(0)
    by_session = np.split(np.arange(len(pair_session)), np.searchsorted(pair_session, np.arange(1, inst.n_sessions)))
    teacher_order = np.argsort(pair_teacher, kind="stable")
    by_teacher = np.split(teacher_order, np.searchsorted(pair_teacher[teacher_order], np.arange(1, inst.n_teachers)))
    travel_min, school_km = travel_matrix(inst)
    return Candidates(pair_session, pair_teacher, pair_km, by_session, by_teacher, travel_min, school_km)
