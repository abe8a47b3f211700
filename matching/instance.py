"""The instance format of FORMAT.md (guru-online/matching-instance@1), read into arrays.

Reading checks every element and names the one that is wrong, so a malformed file
fails with `InstanceError("sessions[12].start: ...")`, never deep inside the solver.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scheduling import LEVELS, parse_hhmm

FORMAT = "guru-online/matching-instance@1"


class InstanceError(ValueError):
    """A malformed instance; the message names the element."""


@dataclass
class Instance:
    name: str
    speed_kmh: float
    buffer_min: int
    school_ids: list[str]
    school_lat: np.ndarray
    school_lon: np.ndarray
    school_need: np.ndarray
    school_area: list[str]  # optional "area" of each school (kecamatan code); "" if not given
    teacher_ids: list[str]
    teacher_lat: np.ndarray
    teacher_lon: np.ndarray
    teacher_radius: np.ndarray
    teacher_cap: np.ndarray
    teacher_rating: np.ndarray  # NaN where not given
    teacher_quals: list[frozenset[tuple[str, str]]]  # (subject, level) pairs
    teacher_windows: list[dict[int, list[tuple[int, int]]]]  # day -> [(start, end)]
    session_ids: list[str]
    session_order: np.ndarray  # order index
    order_ids: list[str]
    session_school: np.ndarray  # school index
    session_subject: list[str]
    session_level: list[str]
    session_day: np.ndarray
    session_start: np.ndarray
    session_end: np.ndarray
    session_periods: np.ndarray
    session_weight: np.ndarray
    fixed: list[tuple[int, int]]  # (session index, teacher index)
    raw: dict = field(repr=False, default_factory=dict)
    # Extra, optional: per-school favourite and blocked teacher indices (the service fills these).
    favourites: dict[int, set[int]] = field(default_factory=dict)
    blocked: dict[int, set[int]] = field(default_factory=dict)

    @property
    def n_sessions(self) -> int:
        return len(self.session_ids)

    @property
    def n_teachers(self) -> int:
        return len(self.teacher_ids)

    def session_key(self, s: int) -> tuple[str, str]:
        return (self.session_subject[s], self.session_level[s])


def _need(obj: dict, key: str, where: str, kind=None):
    if not isinstance(obj, dict):
        raise InstanceError(f"{where}: must be an object")
    if key not in obj:
        raise InstanceError(f"{where}.{key}: missing")
    value = obj[key]
    if kind is not None and not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise InstanceError(f"{where}.{key}: must be {getattr(kind, '__name__', kind)}")
    return value


def _number(obj: dict, key: str, where: str, low: float | None = None, high: float | None = None, default=None):
    if key not in obj and default is not None:
        return float(default)
    value = _need(obj, key, where, (int, float))
    if value != value or (low is not None and value < low) or (high is not None and value > high):
        raise InstanceError(f"{where}.{key}: {value!r} is out of range")
    return float(value)


def _time(obj: dict, key: str, where: str) -> int:
    try:
        return parse_hhmm(_need(obj, key, where, str))
    except ValueError as exc:
        raise InstanceError(f"{where}.{key}: {exc}") from None


def _day(obj: dict, where: str) -> int:
    day = _need(obj, "day", where, int)
    if not 0 <= day <= 6:
        raise InstanceError(f"{where}.day: {day} is not 0..6")
    return day


def parse_instance(data: dict) -> Instance:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InstanceError(f"format: must be {FORMAT}")
    travel = data.get("travel", {})
    if not isinstance(travel, dict):
        raise InstanceError("travel: must be an object")
    speed = _number(travel, "speed_kmh", "travel", 1, 300, default=30)
    buffer = int(_number(travel, "buffer_min", "travel", 0, 600, default=10))
    for key in ("schools", "teachers", "sessions"):
        if not isinstance(data.get(key), list):
            raise InstanceError(f"{key}: must be a list")

    school_index: dict[str, int] = {}
    s_lat, s_lon, s_need, s_area = [], [], [], []
    for i, school in enumerate(data["schools"]):
        where = f"schools[{i}]"
        sid = str(_need(school, "id", where))
        if sid in school_index:
            raise InstanceError(f"{where}.id: {sid} repeats")
        school_index[sid] = i
        s_lat.append(_number(school, "lat", where, -90, 90))
        s_lon.append(_number(school, "lon", where, -180, 180))
        s_need.append(_number(school, "need", where, 0, 1e6, default=1.0))
        s_area.append(str(school.get("area", "")))

    teacher_index: dict[str, int] = {}
    t_lat, t_lon, t_radius, t_cap, t_rating, t_quals, t_windows = [], [], [], [], [], [], []
    for i, teacher in enumerate(data["teachers"]):
        where = f"teachers[{i}]"
        tid = str(_need(teacher, "id", where))
        if tid in teacher_index:
            raise InstanceError(f"{where}.id: {tid} repeats")
        teacher_index[tid] = i
        t_lat.append(_number(teacher, "lat", where, -90, 90))
        t_lon.append(_number(teacher, "lon", where, -180, 180))
        t_radius.append(_number(teacher, "radius_km", where, 0, 20000))
        t_cap.append(int(_number(teacher, "max_periods", where, 0, 1000)))
        t_rating.append(_number(teacher, "rating", where, 0, 5) if "rating" in teacher else float("nan"))
        subjects = _need(teacher, "subjects", where, list)
        levels = _need(teacher, "levels", where, list)
        for level in levels:
            if level not in LEVELS:
                raise InstanceError(f"{where}.levels: unknown level {level!r}")
        t_quals.append(frozenset((str(s), lv) for s in subjects for lv in levels))
        windows: dict[int, list[tuple[int, int]]] = {}
        for j, window in enumerate(_need(teacher, "availability", where, list)):
            w_where = f"{where}.availability[{j}]"
            start, end = _time(window, "start", w_where), _time(window, "end", w_where)
            if end <= start:
                raise InstanceError(f"{w_where}.end: must be after start")
            windows.setdefault(_day(window, w_where), []).append((start, end))
        t_windows.append(windows)

    order_index: dict[str, int] = {}
    session_index: dict[str, int] = {}
    cols: dict[str, list] = {
        k: [] for k in ("order", "school", "subject", "level", "day", "start", "end", "periods", "weight")
    }
    for i, session in enumerate(data["sessions"]):
        where = f"sessions[{i}]"
        sid = str(_need(session, "id", where))
        if sid in session_index:
            raise InstanceError(f"{where}.id: {sid} repeats")
        session_index[sid] = i
        school = str(_need(session, "school", where))
        if school not in school_index:
            raise InstanceError(f"{where}.school: unknown school {school}")
        level = _need(session, "level", where, str)
        if level not in LEVELS:
            raise InstanceError(f"{where}.level: unknown level {level!r}")
        start, end = _time(session, "start", where), _time(session, "end", where)
        if end <= start:
            raise InstanceError(f"{where}.end: must be after start")
        order = str(session.get("order", sid))
        cols["order"].append(order_index.setdefault(order, len(order_index)))
        cols["school"].append(school_index[school])
        cols["subject"].append(str(_need(session, "subject", where)))
        cols["level"].append(level)
        cols["day"].append(_day(session, where))
        cols["start"].append(start)
        cols["end"].append(end)
        cols["periods"].append(int(_number(session, "periods", where, 0, 100, default=1)))
        cols["weight"].append(_number(session, "weight", where, 0, 1e6, default=1.0))

    # Extensions the service writes (the reference checker ignores them): per school, favourite
    # and blocked teacher ids.
    favourites: dict[int, set[int]] = {}
    blocked: dict[int, set[int]] = {}
    for i, school in enumerate(data["schools"]):
        for key, table in (("favourites", favourites), ("blocked", blocked)):
            ids = school.get(key) or []
            unknown = [t for t in ids if str(t) not in teacher_index]
            if unknown:
                raise InstanceError(f"schools[{i}].{key}: unknown teachers {unknown}")
            if ids:
                table[i] = {teacher_index[str(t)] for t in ids}

    fixed = []
    for i, pair in enumerate(data.get("fixed", []) or []):
        where = f"fixed[{i}]"
        sid, tid = str(_need(pair, "session", where)), str(_need(pair, "teacher", where))
        if sid not in session_index:
            raise InstanceError(f"{where}.session: unknown session {sid}")
        if tid not in teacher_index:
            raise InstanceError(f"{where}.teacher: unknown teacher {tid}")
        fixed.append((session_index[sid], teacher_index[tid]))

    def arr(values, dtype):
        return np.asarray(values, dtype=dtype)

    return Instance(
        name=str(data.get("name", "")),
        speed_kmh=speed,
        buffer_min=buffer,
        school_ids=list(school_index),
        school_lat=arr(s_lat, float),
        school_lon=arr(s_lon, float),
        school_need=arr(s_need, float),
        school_area=s_area,
        teacher_ids=list(teacher_index),
        teacher_lat=arr(t_lat, float),
        teacher_lon=arr(t_lon, float),
        teacher_radius=arr(t_radius, float),
        teacher_cap=arr(t_cap, np.int64),
        teacher_rating=arr(t_rating, float),
        teacher_quals=t_quals,
        teacher_windows=t_windows,
        session_ids=list(session_index),
        session_order=arr(cols["order"], np.int64),
        order_ids=list(order_index),
        session_school=arr(cols["school"], np.int64),
        session_subject=cols["subject"],
        session_level=cols["level"],
        session_day=arr(cols["day"], np.int64),
        session_start=arr(cols["start"], np.int64),
        session_end=arr(cols["end"], np.int64),
        session_periods=arr(cols["periods"], np.int64),
        session_weight=arr(cols["weight"], float),
        fixed=fixed,
        raw=data,
        favourites=favourites,
        blocked=blocked,
    )


def load_instance(path: str | Path) -> Instance:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise InstanceError(f"{path}: not JSON ({exc})") from None
    return parse_instance(data)


def solution_json(instance: Instance, assignment: dict[int, int], **extra) -> dict:
    """{"assignments": [{"session", "teacher"}], ...extra} in session order."""
    pairs = [
        {"session": instance.session_ids[s], "teacher": instance.teacher_ids[t]} for s, t in sorted(assignment.items())
    ]
    return {"assignments": pairs, **extra}
