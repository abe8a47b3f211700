"""What the district office's dashboard and monthly report show, gathered once for both."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from dispatch.coverage.service import FULL_LOAD, coverage, iso_week, weeks_in
from dispatch.district.models import Kecamatan
from dispatch.extensions import db
from dispatch.lifecycle import SessionStatus
from dispatch.orders.models import LessonSession
from dispatch.reports.geo import load_map, shade
from dispatch.runs.models import MatchingRun
from dispatch.schools.models import School
from scheduling import week_of

TABLES = ("kecamatan", "school", "subject", "level")


def term_of(day: date) -> tuple[date, date]:
    """The school semester holding the day: January to June, or July to December."""
    if day.month <= 6:
        return date(day.year, 1, 1), date(day.year, 6, 30)
    return date(day.year, 7, 1), date(day.year, 12, 31)


def default_week(today: date) -> date:
    """This week's Monday if lessons are asked for this week; else the next week that has some (within
    half a year), so a district that plans ahead sees what is coming; else this week."""
    monday = week_of(today)[0]
    first = db.session.scalar(
        db.select(db.func.min(LessonSession.date)).where(
            LessonSession.date >= monday,
            LessonSession.date <= monday + timedelta(days=182),
            LessonSession.status != SessionStatus.CANCELLED,
        )
    )
    return week_of(first)[0] if first else monday


def _term_weeks(first: date, filters: dict) -> list[dict]:
    """Fill rate of every week of the term, empty weeks included (so the axis is the whole term)."""
    term_first, term_last = term_of(first)
    rows = {r["key"]: r for r in coverage(term_first, term_last, "week", filters)["rows"]}
    monday = week_of(term_first)[0]
    out = []
    while monday <= term_last:
        key = iso_week(monday)
        row = rows.get(key)
        out.append({"key": key, "monday": monday, "coverage": row["coverage"] if row else None,
                    "periods": row["periods"] if row else 0, "booked_periods": row["booked_periods"] if row else 0})  # fmt: skip
        monday += timedelta(days=7)
    return out


def _map(tables: dict) -> dict:
    frame = load_map(current_app.config["DISTRICT_BOUNDARIES"])
    by_kecamatan = {r["key"]: r for r in tables["kecamatan"]["rows"]}
    live = dict(db.session.execute(db.select(Kecamatan.code, Kecamatan.live)).all())
    names = dict(db.session.execute(db.select(Kecamatan.code, Kecamatan.name)).all())
    areas = []
    for area in frame.kecamatan():
        row = by_kecamatan.get(area.code)
        areas.append({"area": area, "row": row, "name": names.get(area.code, area.name),
                      "fill": shade(row["coverage"] if row else None), "live": live.get(area.code, True)})  # fmt: skip
    by_school = {r["key"]: r for r in tables["school"]["rows"]}
    schools = []
    for npsn, name, level, lat, lon in db.session.execute(
        db.select(School.npsn, School.name, School.level, School.lat, School.lon).order_by(School.npsn)
    ):
        row = by_school.get(npsn)
        x, y = frame.point(lat, lon)
        if not (0 <= x <= frame.width and 0 <= y <= frame.height):
            continue  # a point outside the district's frame (a suspect coordinate) is left off the map
        schools.append({"npsn": npsn, "name": name, "level": level, "x": x, "y": y, "row": row,
                        "fill": shade(row["coverage"]) if row else None})  # fmt: skip
    # Schools with lessons on top, the worst last (drawn over the others).
    schools.sort(key=lambda s: (s["row"] is not None, -(s["row"]["coverage"] if s["row"] else 0)))
    return {"frame": frame, "areas": areas, "schools": schools}


def latest_plan() -> MatchingRun | None:
    return db.session.scalars(
        db.select(MatchingRun).where(MatchingRun.status == "done").order_by(MatchingRun.id.desc()).limit(20)
    ).first()


def dashboard(first: date, last: date, filters: dict) -> dict:
    """The numbers of the range (a week on the dashboard, a month in the report), by kecamatan, school,
    subject and level, worst first, with the term's weekly fill rate and the map."""
    tables = {by: coverage(first, last, by, filters, "worst") for by in TABLES}
    total = tables["kecamatan"]["total"]
    areas = [r for r in tables["kecamatan"]["rows"] if r["key"] != "?"]
    return {
        "first": first,
        "last": last,
        "weeks": weeks_in(first, last),
        "filters": filters,
        "tables": tables,
        "total": total,
        "unfilled_teacher_equivalents": tables["kecamatan"]["unfilled_teacher_equivalents"],
        "full_load": FULL_LOAD,
        "worst_area": areas[0] if areas else None,
        "best_area": areas[-1] if areas else None,
        "spread": round(areas[-1]["coverage"] - areas[0]["coverage"], 4) if areas else 0.0,
        "term": term_of(first),
        "term_weeks": _term_weeks(first, filters),
        "map": _map(tables),
    }
