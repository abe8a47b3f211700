"""What-if: the coverage the district would reach with more teachers, from the same planner."""

from __future__ import annotations

import copy
import math

from matching.instance import Instance, InstanceError, parse_instance
from matching.planner import Planner

DEFAULT_WEEK = [{"day": d, "start": "07:00", "end": "13:00"} for d in range(6)]


def _spec_point(data: dict, spec: dict, where: str) -> tuple[float, float]:
    """Where the new teachers live: a point, a school, or the middle of an area's schools."""
    if "lat" in spec and "lon" in spec:
        return float(spec["lat"]), float(spec["lon"])
    schools = data["schools"]
    if "school" in spec:
        for school in schools:
            if str(school["id"]) == str(spec["school"]):
                return school["lat"], school["lon"]
        raise InstanceError(f"{where}.school: unknown school {spec['school']}")
    area = spec.get("area") or spec.get("kecamatan_code")
    if area:
        members = [s for s in schools if s.get("area") == area]
        if not members:
            raise InstanceError(f"{where}.kecamatan_code: no school in area {area}")
        return sum(s["lat"] for s in members) / len(members), sum(s["lon"] for s in members) / len(members)
    raise InstanceError(f"{where}: give lat and lon, school, or kecamatan_code")


def add_teachers(data: dict, specs: list[dict]) -> dict:
    """A copy of the instance with hypothetical teachers; homes spread within about 3 km of the spec's point."""
    out = copy.deepcopy(data)
    for i, spec in enumerate(specs):
        where = f"add_teachers[{i}]"
        count = spec.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 5000:
            raise InstanceError(f"{where}.count: a whole number from 1 to 5000")
        for key in ("subjects", "levels"):
            if not isinstance(spec.get(key), list) or not spec[key]:
                raise InstanceError(f"{where}.{key}: a non-empty list")
        lat, lon = _spec_point(data, spec, where)
        for k in range(count):
            # A golden-angle spiral: deterministic, evenly spread homes.
            r_km = 3.0 * math.sqrt((k + 0.5) / count)
            angle = k * 2.399963
            out["teachers"].append(
                {
                    "id": f"WHATIF-{i + 1}-{k + 1:04d}",
                    "lat": lat + r_km / 111.0 * math.sin(angle),
                    "lon": lon + r_km / 111.0 * math.cos(angle),
                    "radius_km": float(spec.get("radius_km", 15)),
                    "subjects": list(spec["subjects"]),
                    "levels": list(spec["levels"]),
                    "max_periods": int(spec.get("max_periods", 24)),
                    "availability": spec.get("availability", DEFAULT_WEEK),
                }
            )
    return out


FULL_LOAD = 24  # periods a week: one teacher-equivalent
SUMS = ("covered", "weight", "sessions", "covered_sessions", "periods", "covered_periods")


def coverage_breakdown(inst: Instance, assignment: dict[int, int], sessions=None) -> dict:
    """Covered weight, sessions and periods by area and by subject (of `sessions`, default all).

    Sums, so that the weeks of a range add up (merge_breakdowns); summarize() makes shares of them.
    """
    tables: dict[str, dict[str, dict]] = {"by_area": {}, "by_subject": {}}
    for s in range(inst.n_sessions) if sessions is None else sessions:
        covered = s in assignment
        w, periods = float(inst.session_weight[s]), int(inst.session_periods[s])
        for name, key in (
            ("by_area", inst.school_area[inst.session_school[s]] or "all"),
            ("by_subject", inst.session_subject[s]),
        ):
            row = tables[name].setdefault(key, dict.fromkeys(SUMS, 0))
            row["weight"] += w
            row["sessions"] += 1
            row["periods"] += periods
            if covered:
                row["covered"] += w
                row["covered_sessions"] += 1
                row["covered_periods"] += periods
    return tables


def merge_breakdowns(parts: list[dict]) -> dict:
    """The sum of several weeks' coverage_breakdown()."""
    merged: dict[str, dict[str, dict]] = {"by_area": {}, "by_subject": {}}
    for part in parts:
        for name, table in part.items():
            for key, row in table.items():
                into = merged[name].setdefault(key, dict.fromkeys(SUMS, 0))
                for field in SUMS:
                    into[field] += row[field]
    return merged


def total(table: dict[str, dict]) -> dict:
    """The sums of a table's rows (one row for the whole table)."""
    return {field: sum(row[field] for row in table.values()) for field in SUMS}


def summarize(table: dict[str, dict], weeks: int = 1) -> list[dict]:
    """Rows sorted by key with shares and teacher-equivalents: periods a week / FULL_LOAD."""
    rows = []
    for key, r in sorted(table.items()):
        unfilled = r["periods"] - r["covered_periods"]
        rows.append(
            {
                "key": key,
                "sessions": r["sessions"],
                "covered_sessions": r["covered_sessions"],
                "periods": r["periods"],
                "covered_periods": r["covered_periods"],
                "unfilled_periods": unfilled,
                "covered": round(r["covered"], 3),
                "weight": round(r["weight"], 3),
                "coverage": round(r["covered"] / r["weight"], 4) if r["weight"] else 0.0,
                "teacher_equivalents": round(r["covered_periods"] / FULL_LOAD / max(1, weeks), 2),
                "unfilled_teacher_equivalents": round(unfilled / FULL_LOAD / max(1, weeks), 2),
            }
        )
    return rows


def what_if(data: dict, specs: list[dict], time_limit: float = 30.0, seed: int = 0, workers: int = 2) -> dict:
    """Plan the week as it is and with the added teachers; report both coverages and where they differ."""
    results = {}
    for label, instance_data in (("current", data), ("with_added", add_teachers(data, specs))):
        inst = parse_instance(instance_data)
        planner = Planner.build(inst, time_limit / 2, seed=seed, workers=workers)
        result = planner.solve(time_limit / 2)
        breakdown = coverage_breakdown(inst, result.assignment)
        results[label] = {
            "coverage": result.coverage,
            "total_weight": float(inst.session_weight.sum()),
            "teachers": inst.n_teachers,
            "bound": result.bound,
            "bound_method": result.bound_method,
            **{name: summarize(table) for name, table in breakdown.items()},
        }
    results["gain"] = results["with_added"]["coverage"] - results["current"]["coverage"]
    return results
