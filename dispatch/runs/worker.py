"""What the job worker does with a run: claim it, plan week by week, report, finish.

Runs only in the job worker (dispatch/jobs.py), never in a web process. Every write here is a
short transaction of its own (SQLite: `writing()` takes the write lock at BEGIN and commits at
once), so schools' and teachers' requests never wait behind the solver: it thinks in a child
process holding no lock (runs/solving.py), and the row changes are one UPDATE each.

Every run ends `done`, `failed` with the reason in `error`, or `cancelled`: a crash in the solver
is `failed`; a worker stopped by a signal marks its run failed on the way out; a worker killed
outright (SIGKILL, power) leaves it `running`, and the next worker start marks it failed
(`recover_runs`), since a plan's first weeks may already have sent offers and a rerun would
send them again.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.exc import OperationalError

from dispatch.district import equity
from dispatch.district.models import Kecamatan
from dispatch.district.service import district_now, get_district
from dispatch.extensions import db, socketio
from dispatch.live import DISTRICT_ROOM
from dispatch.planning import mondays, range_instance
from dispatch.runs.models import MatchingRun, RunKind, RunStatus
from dispatch.runs.offers import write_plan_offers
from dispatch.runs.solving import SolverFailed, outside_weight, solve_in_child
from dispatch.sqlite import writing
from matching.whatif import merge_breakdowns, summarize, total

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 1.0  # at most one progress write (and event) a second
CANCEL_CHECK_SECONDS = 1.0
FINISH_TRIES = 10
HEARTBEAT_SECONDS = 5.0  # the seconds on the row move on even while the solver reports nothing (its LP)
STALE_ERROR = "the job worker stopped while the run was going (killed or restarted); post it again"


class RunCancelled(Exception):
    pass


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


# --- the row: short transactions -------------------------------------------------------------


def _update(run_id: int, *conditions, **values) -> bool:
    """One UPDATE of the run in a transaction of its own; False if `conditions` matched nothing."""
    # End any read first (e.g. the district's time zone for a timestamp): on SQLite a transaction
    # that began with a read cannot take the write lock once another process wrote, not even after
    # waiting (WAL snapshot); one begun by `writing()` queues for the lock instead.
    db.session.commit()
    with writing():
        result = db.session.execute(
            db.update(MatchingRun).where(MatchingRun.id == run_id, *conditions).values(**values)
        )
        db.session.commit()
    return result.rowcount == 1


def announce(run_id: int) -> None:
    """`run_updated` to the district office's room: through Redis from the worker when REDIS_URL is set
    (without it nobody listens to this process, and the page polls GET /matching/runs/<id>)."""
    from dispatch.runs.schemas import RunOut

    if socketio.server is None:
        return
    run = db.session.get(MatchingRun, run_id)
    if run is None:
        return
    data = RunOut().dump(run)
    db.session.commit()  # end the read
    try:
        socketio.emit("run_updated", data, to=DISTRICT_ROOM)
    except Exception:  # the row is the record; a page that missed this polls
        log.exception("could not emit run_updated for run %s", run_id)


def claim(run_id: int) -> bool:
    """queued -> running, once: a second message for the same run (a requeue on restart) finds it taken."""
    return _update(
        run_id,
        MatchingRun.status == RunStatus.QUEUED,
        status=RunStatus.RUNNING,
        phase="starting",
        started_at=district_now(),
        worker=worker_name(),
    )


def finish(run_id: int, status: RunStatus, seconds: float, error: str | None = None, **values) -> bool:
    """The run's end, written whatever it takes: a database busy for longer than its timeout is
    tried again (FINISH_TRIES times), so a run does not stay `running` for want of one UPDATE."""
    for attempt in range(1, FINISH_TRIES + 1):
        try:
            done = _update(
                run_id,
                MatchingRun.status == RunStatus.RUNNING,
                status=status,
                error=error,
                phase=None,
                seconds=round(seconds, 2),
                finished_at=district_now(),
                **values,
            )
            break
        except OperationalError:
            db.session.rollback()
            if attempt == FINISH_TRIES:
                raise  # the next worker start marks it failed
            log.warning("run %s: could not write its end (attempt %s), trying again", run_id, attempt)
            time.sleep(1)
    if done:
        announce(run_id)
    return done


def fail_interrupted(run_id: int, error: str) -> None:
    """The consumer is stopping with this run in flight (called from its main thread)."""
    db.session.rollback()
    if _update(run_id, MatchingRun.status == RunStatus.RUNNING, status=RunStatus.FAILED, error=error, phase=None,
               finished_at=district_now()):  # fmt: skip
        announce(run_id)


def fail_unqueued(run_id: int, error: str) -> None:
    """The run's row committed but the queue refused the job: the run fails now instead of waiting for ever."""
    from dispatch.district.models import District

    with db.engine.begin() as conn:  # not the session: this runs in its after_commit
        zone = conn.execute(db.select(District.timezone).limit(1)).scalar() or "UTC"
        conn.execute(
            db.update(MatchingRun)
            .where(MatchingRun.id == run_id, MatchingRun.status == RunStatus.QUEUED)
            .values(status=RunStatus.FAILED, error=error, finished_at=datetime.now(ZoneInfo(zone)).replace(tzinfo=None))
        )


def recover_runs(enqueue: Callable[[int], None]) -> tuple[int, int]:
    """At the worker's start: runs left `running` are failed (their worker is gone, see the module's
    note); runs `queued` are queued again with `enqueue`, in case their message was lost with a killed
    worker. Returns (failed, queued again)."""
    with writing():
        stale = db.session.scalars(db.select(MatchingRun.id).where(MatchingRun.status == RunStatus.RUNNING)).all()
        db.session.execute(
            db.update(MatchingRun)
            .where(MatchingRun.id.in_(stale), MatchingRun.status == RunStatus.RUNNING)
            .values(status=RunStatus.FAILED, error=STALE_ERROR, phase=None, finished_at=district_now())
        )
        db.session.commit()
    queued = db.session.scalars(
        db.select(MatchingRun.id).where(MatchingRun.status == RunStatus.QUEUED).order_by(MatchingRun.id)
    ).all()
    db.session.commit()
    for run_id in stale:
        announce(run_id)
    for run_id in queued:
        enqueue(run_id)
    return len(stale), len(queued)


class Reporter:
    """Progress of one run on its row and to the district's room, throttled; and the cancel check."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.began = time.monotonic()
        self._written = 0.0
        self._checked = 0.0
        self._phase: str | None = None
        self.pending: dict = {}  # values not written yet (the database was busy)

    def seconds(self) -> float:
        return time.monotonic() - self.began

    def update(self, phase: str | None = None, force: bool = False, **values) -> None:
        now = time.monotonic()
        if phase is not None and phase != self._phase:
            self._phase, force = phase, True
        if not force and now - self._written < PROGRESS_SECONDS:
            return
        self._written = now
        if phase is not None:
            values["phase"] = phase
        self.pending.update(values)
        try:
            written = _update(self.run_id, MatchingRun.status == RunStatus.RUNNING, seconds=round(self.seconds(), 2),
                              **self.pending)  # fmt: skip
        except OperationalError:  # not the run's failure: the values go with the next write, or the end
            db.session.rollback()
            log.warning("run %s: progress not written (database busy)", self.run_id, exc_info=True)
            return
        self.pending.clear()
        if written:
            announce(self.run_id)

    def tick(self) -> None:
        """Called about twice a second while the solver works: cancel check, and a heartbeat."""
        self.check_cancel()
        if time.monotonic() - self._written >= HEARTBEAT_SECONDS:
            self.update(force=True)

    def check_cancel(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < CANCEL_CHECK_SECONDS:
            return
        self._checked = now
        wanted = db.session.scalar(db.select(MatchingRun.cancel_requested).where(MatchingRun.id == self.run_id))
        db.session.commit()  # end the read: no snapshot held while the solver thinks
        if wanted:
            raise RunCancelled


def execute_run(run_id: int) -> None:
    """The job: run it to one of its ends, whatever happens."""
    if not claim(run_id):
        return  # cancelled while queued, already taken, or gone
    announce(run_id)
    reporter = Reporter(run_id)
    try:
        run = db.session.get(MatchingRun, run_id)
        kind, first, last, params = run.kind, run.first, run.last, run.params or {}
        db.session.commit()
        if kind == RunKind.WHAT_IF:
            _what_if(reporter, first, last, params["add_teachers"])
        else:
            _plan(reporter, first, last)
        finish(run_id, RunStatus.DONE, reporter.seconds(), **_final(reporter.pending))
    except RunCancelled:
        db.session.rollback()
        finish(run_id, RunStatus.CANCELLED, reporter.seconds())
    except (KeyboardInterrupt, SystemExit):
        db.session.rollback()
        finish(
            run_id,
            RunStatus.FAILED,
            reporter.seconds(),
            "the job worker was stopped while the run was going; post it again",
        )
        raise
    except SolverFailed as exc:
        db.session.rollback()
        finish(run_id, RunStatus.FAILED, reporter.seconds(), str(exc))
    except Exception as exc:  # noqa: BLE001 - a failed run is reported on its row, not lost
        log.exception("run %s failed", run_id)
        db.session.rollback()
        finish(run_id, RunStatus.FAILED, reporter.seconds(), f"{type(exc).__name__}: {exc}"[:500])


def _final(pending: dict) -> dict:
    """What a busy database kept from the row, less the progress-only phase."""
    return {k: v for k, v in pending.items() if k != "phase"}


def _solve(reporter: Reporter, data: dict, in_range: set[str], label: str, totals: dict, **kwargs) -> dict:
    """One week in the solver's child process, its progress shown as shares of the range so far."""
    outside = outside_weight(data, in_range)
    weight = totals["weight"] + sum(float(s.get("weight", 1.0)) for s in data["sessions"] if s["id"] in in_range)

    def on_progress(p: dict) -> None:
        covered = totals["covered"] + p["covered_all"] - outside
        bound = None if p["bound_all"] is None else totals["bound"] + p["bound_all"] - outside
        solver_phase = f"{label}: {p['phase']}" if p.get("phase") else label
        reporter.update(
            phase=solver_phase[:40],
            coverage=round(covered / weight, 4) if weight else 0.0,
            bound=round(min(1.0, bound / weight), 4) if weight and bound is not None else None,
        )

    config = current_app.config
    return solve_in_child(
        data,
        in_range,
        on_progress=on_progress,
        should_stop=reporter.tick,
        workers=config["MATCHING_WORKERS"],
        nice=config["JOBS_SOLVER_NICE"],
        hold_file=config["SOLVER_HOLD_FILE"],
        **kwargs,
    )


def _add(totals: dict, week: dict) -> None:
    totals["sessions"] += week["open"]
    totals["assigned"] += len(week["planned"])
    totals["covered"] += week["covered"]
    totals["weight"] += week["weight"]
    totals["bound"] += week["bound"] if week["bound"] is not None else week["weight"]


def _shares(totals: dict) -> dict:
    w = totals["weight"]
    return {
        "sessions": totals["sessions"],
        "assigned": totals["assigned"],
        "coverage": round(totals["covered"] / w, 4) if w else 0.0,
        "bound": round(min(1.0, totals["bound"] / w), 4) if w else None,
    }


def _new_totals() -> dict:
    return {"sessions": 0, "assigned": 0, "covered": 0.0, "weight": 0.0, "bound": 0.0}


def _equity_floor() -> float | None:
    floor = get_district().equity_floor
    db.session.commit()  # end the read
    return floor


class _Equity:
    """The plan's equity over its weeks: covered weight by kecamatan and the floor's cost, summed as the
    weeks are solved, and stored on the run (`detail.equity`) from the same solves."""

    def __init__(self, floor: float | None):
        self.floor, self.applied, self.cost, self.areas = floor, False, None, {}
        self.names = dict(db.session.execute(db.select(Kecamatan.code, Kecamatan.name)).all())
        db.session.commit()

    def add(self, week: dict) -> dict:
        part = week["equity"]
        equity.merge(self.areas, part["areas"])
        self.applied = self.applied or part["applied"]
        if part["cost"] is not None:
            self.cost = (self.cost or 0.0) + part["cost"]
        return equity.summary(self.areas, self.floor, self.applied, self.cost, self.names)


def _plan(reporter: Reporter, first, last) -> None:
    """The weekly plan: each week planned, then its offers sent, before the next week is built."""
    limit = current_app.config["MATCHING_TIME_LIMIT"]
    weeks, totals, offers = [], _new_totals(), 0
    floor = _equity_floor()
    fairness = _Equity(floor)
    all_mondays = mondays(first, last)
    for i, monday in enumerate(all_mondays, 1):
        label = f"week {i}/{len(all_mondays)}"
        reporter.check_cancel(force=True)
        reporter.update(phase=f"{label}: building")
        data, in_range = range_instance(monday, first, last)
        db.session.commit()  # end the reads before the solve
        week = _solve(reporter, data, in_range, label, totals, time_limit=limit, equity_floor=floor)
        reporter.check_cancel(force=True)
        reporter.update(phase=f"{label}: offers")
        # tick: the cancel check, and the seconds on the row move on while the offers go out (a minute and
        # more for a district week on SQLite), so the page's progress does not look stuck.
        offers += write_plan_offers(week["planned"], reporter.tick)
        _add(totals, week)
        weeks.append({"week": monday.isoformat(), "sessions": week["open"], "planned": len(week["planned"]),
                      "coverage": week["covered"], "weight": week["weight"], "bound": week["bound"],
                      "iterations": week["iterations"]})  # fmt: skip
        detail = {"weeks": weeks, "equity": fairness.add(week)}
        reporter.update(force=True, offers=offers, detail=detail, **_shares(totals))


def _what_if(reporter: Reporter, first, last, specs: list[dict]) -> None:
    """Each week planned twice, as it is and with the added teachers; nothing but the run's row is written."""
    limit = current_app.config["MATCHING_WHATIF_TIME_LIMIT"]
    floor = _equity_floor()  # planned as the weekly plan would, so "before" is the plan's own answer
    all_mondays = mondays(first, last)
    scenarios = {"before": {"add": None}, "after": {"add": specs}}
    for scenario in scenarios.values():
        scenario.update(totals=_new_totals(), breakdowns=[], teachers=0)
    for i, monday in enumerate(all_mondays, 1):
        reporter.check_cancel(force=True)
        reporter.update(phase=f"week {i}/{len(all_mondays)}: building")
        data, in_range = range_instance(monday, first, last)
        db.session.commit()
        for name, scenario in scenarios.items():
            label = f"week {i}/{len(all_mondays)}: {'as it is' if name == 'before' else 'with added'}"
            week = _solve(reporter, data, in_range, label, scenario["totals"], time_limit=limit,
                          add=scenario["add"], breakdown=True, equity_floor=floor)  # fmt: skip
            _add(scenario["totals"], week)
            scenario["breakdowns"].append(week["breakdown"])
            scenario["teachers"] = week["teachers"]
    weeks = len(all_mondays)
    result = {name: _scenario_result(s, weeks) for name, s in scenarios.items()}
    before, after = result["before"], result["after"]
    result["teachers_added"] = sum(spec["count"] for spec in specs)
    result["gain"] = {
        "coverage": round(after["coverage"] - before["coverage"], 4),
        "covered_periods": after["covered_periods"] - before["covered_periods"],
        "teacher_equivalents": round(after["teacher_equivalents"] - before["teacher_equivalents"], 2),
    }
    result["weeks"] = [m.isoformat() for m in all_mondays]
    reporter.update(force=True, result=result, **_shares(scenarios["after"]["totals"]))


def _scenario_result(scenario: dict, weeks: int) -> dict:
    merged = merge_breakdowns(scenario["breakdowns"])
    by_kecamatan, by_subject = summarize(merged["by_area"], weeks), summarize(merged["by_subject"], weeks)
    overall = summarize({"total": total(merged["by_subject"])}, weeks)[0]
    overall.pop("key")
    return {
        **overall,
        "bound": _shares(scenario["totals"])["bound"],
        "teachers": scenario["teachers"],
        "by_kecamatan": by_kecamatan,
        "by_subject": by_subject,
    }
