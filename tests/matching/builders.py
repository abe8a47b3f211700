"""Small instances in the FORMAT.md shape, built in code."""

from __future__ import annotations

import copy

BASE = {
    "format": "guru-online/matching-instance@1",
    "name": "test",
    "travel": {"speed_kmh": 30, "buffer_min": 10},
    "schools": [
        {"id": "S1", "lat": -1.49, "lon": 102.10},
        {"id": "S2", "lat": -1.49, "lon": 102.189},  # 9.9 km east of S1: 20 min + 10 buffer
    ],
    "teachers": [],
    "sessions": [],
}


def teacher(
    tid="T1",
    lat=-1.49,
    lon=102.10,
    radius=20.0,
    subjects=("MTK",),
    levels=("SMP",),
    cap=24,
    days=range(6),
    start="07:00",
    end="13:00",
    **extra,
):
    return {"id": tid, "lat": lat, "lon": lon, "radius_km": radius, "subjects": list(subjects), "levels": list(levels),
            "max_periods": cap, "availability": [{"day": d, "start": start, "end": end} for d in days], **extra}  # fmt: skip


def session(
    sid, school="S1", day=0, start="07:30", end="08:50", subject="MTK", level="SMP", periods=2, weight=1.0, order=None
):
    return {"id": sid, "order": order or f"O-{sid}", "school": school, "subject": subject, "level": level, "day": day,
            "start": start, "end": end, "periods": periods, "weight": weight}  # fmt: skip


def instance(teachers, sessions, **extra):
    data = copy.deepcopy(BASE)
    data["teachers"] = teachers
    data["sessions"] = sessions
    data.update(extra)
    return data
