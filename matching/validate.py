"""The project's own validator: every rule of FORMAT.md, and the three scores.

Independent of the solvers' data structures: it recomputes qualification, radius
(geodesic), availability, clashes with travel and caps from the instance alone, one pair at
a time with the scalar rules of `scheduling.rules` (the booking path's), in the reference
checker's order and words.
"""

from __future__ import annotations

from collections import defaultdict

from matching.instance import Instance
from scheduling.geo import distance_km
from scheduling.rules import clash_minutes, qualified, travel_minutes, within_availability, within_cap, within_reach


def check(inst: Instance, assignment: dict[int, int]) -> tuple[list[str], dict]:
    """(broken rules, scores) for an assignment {session index: teacher index}."""
    problems: list[str] = []
    km_cache: dict[tuple, float] = {}

    def km(a: tuple[float, float], b: tuple[float, float]) -> float:
        key = (a, b) if a <= b else (b, a)
        if key not in km_cache:
            km_cache[key] = distance_km(a, b)
        return km_cache[key]

    def school_point(s: int) -> tuple[float, float]:
        i = inst.session_school[s]
        return (float(inst.school_lat[i]), float(inst.school_lon[i]))

    def home(t: int) -> tuple[float, float]:
        return (float(inst.teacher_lat[t]), float(inst.teacher_lon[t]))

    by_teacher: dict[int, list[int]] = defaultdict(list)
    for s, t in assignment.items():
        sid, tid = inst.session_ids[s], inst.teacher_ids[t]
        quals = inst.teacher_quals[t]  # every subject of the teacher's at every level of theirs
        subjects, levels = {subject for subject, _ in quals}, {level for _, level in quals}
        if not qualified(subjects, levels, inst.session_subject[s], inst.session_level[s]):
            problems.append(f"{tid} does not teach {inst.session_subject[s]}/{inst.session_level[s]} ({sid})")
        if not within_reach(km(home(t), school_point(s)), float(inst.teacher_radius[t])):
            problems.append(f"{tid} lives beyond radius of school {inst.school_ids[inst.session_school[s]]} ({sid})")
        day = int(inst.session_day[s])
        windows = [(day, a, b) for a, b in inst.teacher_windows[t].get(day, [])]
        if not within_availability(windows, day, int(inst.session_start[s]), int(inst.session_end[s])):
            problems.append(f"{tid} is not available for {sid}")
        if inst.session_school[s] in inst.blocked and t in inst.blocked[inst.session_school[s]]:
            problems.append(f"{tid} is blocked at school {inst.school_ids[inst.session_school[s]]} ({sid})")
        by_teacher[t].append(s)
    for s, t in inst.fixed:
        if assignment.get(s) != t:
            problems.append(f"fixed assignment {inst.session_ids[s]} -> {inst.teacher_ids[t]} not kept")
    travel_km = 0.0
    for t, sessions in by_teacher.items():
        load = int(sum(inst.session_periods[s] for s in sessions))
        if not within_cap(0, load, int(inst.teacher_cap[t])):
            problems.append(f"{inst.teacher_ids[t]} teaches {load} periods, cap {inst.teacher_cap[t]}")
        per_day: dict[int, list[int]] = defaultdict(list)
        for s in sessions:
            per_day[int(inst.session_day[s])].append(s)
        for day, ss in per_day.items():
            ss.sort(key=lambda s: (inst.session_start[s], inst.session_end[s]))
            for i in range(len(ss)):
                for j in range(i + 1, len(ss)):
                    a, b = ss[i], ss[j]
                    if inst.session_school[a] == inst.session_school[b]:
                        need = 0  # one school: only an overlap clashes
                    else:
                        need = travel_minutes(km(school_point(a), school_point(b)), inst.speed_kmh, inst.buffer_min)
                    a_start, a_end = int(inst.session_start[a]), int(inst.session_end[a])
                    if clash_minutes(a_start, a_end, int(inst.session_start[b]), int(inst.session_end[b]), need):
                        problems.append(
                            f"{inst.teacher_ids[t]} clash on day {day}: {inst.session_ids[a]} / {inst.session_ids[b]}"
                        )
            # The day's route in the reference checker's order: by start, then as the solution lists them.
            route = sorted(ss, key=lambda s: (inst.session_start[s], s))
            stops = [home(t)] + [school_point(s) for s in route] + [home(t)]
            travel_km += sum(km(p, q) for p, q in zip(stops, stops[1:], strict=False) if p != q)
    teachers_per_order: dict[int, set[int]] = defaultdict(set)
    for s, t in assignment.items():
        teachers_per_order[int(inst.session_order[s])].add(t)
    scores = {
        "sessions": inst.n_sessions,
        "assigned": len(assignment),
        "coverage": round(float(sum(inst.session_weight[s] for s in assignment)), 6),
        "total_weight": round(float(inst.session_weight.sum()), 6),
        "continuity_breaks": sum(len(ts) - 1 for ts in teachers_per_order.values()),
        "travel_km": round(travel_km, 3),
        "feasible": not problems,
    }
    return problems, scores
