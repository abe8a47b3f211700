"""The weekly plan: every open session in a date range planned by the solver, then offered.

A run is a row; the work happens in a background thread with its own app context
and database session, writing progress to the row as the solver improves, so
`GET /matching/runs/<id>` shows it live. The planned teacher of each order gets
one offer for the sessions planned for them; acceptance goes through the
booking path like any other offer.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from flask import Flask, current_app

from dispatch.district import equity
from dispatch.district.models import Kecamatan
from dispatch.district.service import get_district
from dispatch.extensions import db
from dispatch.planning import build_week_instance, week_of
from dispatch.runs.models import MatchingRun
from dispatch.sqlite import writing
from dispatch.workflow import offer_plan
from matching.candidates import build_candidates
from matching.instance import parse_instance
from matching.planner import Planner

log = logging.getLogger(__name__)


def start_run(first, last, user_id: int) -> MatchingRun:
    """Write the run row (the caller commits), then hand the work to a background thread after commit."""
    run = MatchingRun(first=first, last=last, status="queued", created_by=user_id, detail={})
    db.session.add(run)
    db.session.flush()
    return run


def launch(run_id: int) -> None:
    app = current_app._get_current_object()
    if app.config.get("MATCHING_RUN_INLINE"):
        execute(app, run_id)  # tests: the same work, finished before the response
        return
    threading.Thread(target=execute, args=(app, run_id), daemon=True, name=f"matching-run-{run_id}").start()


def execute(app: Flask, run_id: int) -> None:
    # Every transaction of the run takes SQLite's write lock at BEGIN: a read that later wrote progress
    # failed with "database is locked" once a request had written in between (issue 10; the job queue
    # replaces this thread).
    with app.app_context(), writing():
        run = db.session.get(MatchingRun, run_id)
        began = time.monotonic()
        try:
            run.status = "running"
            db.session.commit()
            _plan_weeks(app, run, began)
            run.status = "done"
        except Exception:  # noqa: BLE001 - a failed run is reported on its row, not lost
            log.exception("matching run %s failed", run_id)
            db.session.rollback()
            run = db.session.get(MatchingRun, run_id)
            run.status = "failed"
        run.seconds = round(time.monotonic() - began, 2)
        db.session.commit()
        db.session.remove()


def _plan_weeks(app: Flask, run: MatchingRun, began: float) -> None:
    limit = app.config["MATCHING_TIME_LIMIT"]
    monday = week_of(run.first)[0]
    # coverage and bound are shares of the range's session weight, bookings included.
    totals = {"sessions": 0, "assigned": 0, "covered": 0.0, "bound": 0.0, "weight": 0.0}
    weeks = []
    floor = get_district().equity_floor
    areas: dict[str, dict] = {}
    costs: list[float | None] = []
    names = dict(db.session.execute(db.select(Kecamatan.code, Kecamatan.name)).all())
    while monday <= run.last:
        data = build_week_instance(monday)
        db.session.commit()  # end the reads: the write lock is not held while the solver thinks
        data["sessions"] = [
            s
            for s in data["sessions"]
            if run.first <= monday + timedelta(days=s["day"]) <= run.last
            or s["id"] in {f["session"] for f in data["fixed"]}
        ]
        inst = parse_instance(data)
        fixed = {f["session"] for f in data["fixed"]}
        planner = Planner(inst, build_candidates(inst), seed=0, workers=app.config["MATCHING_WORKERS"])

        covered_before, weight = totals["covered"], totals["weight"] + float(inst.session_weight.sum())

        def progress(p, covered_before=covered_before, weight=weight):
            run.coverage = round((covered_before + p.coverage) / weight, 4) if weight else 0.0
            run.seconds = round(time.monotonic() - began, 2)
            db.session.commit()

        options = equity.solve_options(planner.solve, floor)
        result = planner.solve(limit, progress=progress, **options)
        equity.merge(areas, equity.area_sums(inst, result.assignment, range(inst.n_sessions)))
        costs.append(equity.planner_cost(result))
        planned = {
            inst.session_ids[s]: inst.teacher_ids[t]
            for s, t in result.assignment.items()
            if inst.session_ids[s] not in fixed
        }
        db.session.commit()  # end the reads; the offers are written holding the write lock (SQLite)
        with writing():
            run.offers += offer_plan({int(s): int(t) for s, t in planned.items()})
            db.session.commit()
        open_count = inst.n_sessions - len(fixed)
        totals["sessions"] += open_count
        totals["assigned"] += len(planned)
        totals["covered"] += result.coverage
        totals["bound"] += result.bound if result.bound is not None else float(inst.session_weight.sum())
        totals["weight"] = weight
        weeks.append({"week": monday.isoformat(), "sessions": open_count, "planned": len(planned), "coverage": result.coverage,
                      "bound": result.bound, "iterations": result.iterations})  # fmt: skip
        run.sessions, run.assigned = totals["sessions"], totals["assigned"]
        run.coverage = round(totals["covered"] / weight, 4) if weight else 0.0
        run.bound = round(min(1.0, totals["bound"] / weight), 4) if weight else None
        cost = None if None in costs else sum(costs)
        run.detail = {"weeks": weeks, "equity": equity.summary(areas, floor, bool(options), cost, names)}
        db.session.commit()
        monday += timedelta(days=7)
