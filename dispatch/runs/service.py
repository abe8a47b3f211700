"""Solver runs, the web side: write the run row and queue its job; cancel; nothing here solves.

The job runs in the worker process (dispatch/jobs.py, runs/worker.py). The row and the request's
idempotency record commit in one transaction, and the job is queued only after that commit.
"""

from __future__ import annotations

from dispatch.district.models import Kecamatan
from dispatch.district.service import district_now
from dispatch.exceptions import Conflict, Invalid, NotFound
from dispatch.extensions import db
from dispatch.runs.models import FINISHED, MatchingRun, RunKind, RunStatus
from dispatch.schools.models import School
from dispatch.teachers.service import check_subjects


def start_run(first, last, user_id: int) -> MatchingRun:
    """A weekly plan of first..last: the run's row (the caller queues its job once it has committed)."""
    return _queue(MatchingRun(kind=RunKind.PLAN, first=first, last=last, created_by=user_id))


def start_what_if(first, last, add: list[dict], user_id: int) -> MatchingRun:
    """A what-if, checked before anything is queued: the kecamatan exist, the subjects are the district's.
    The new teachers live around their kecamatan's centre (or the middle of its schools)."""
    specs = []
    for i, spec in enumerate(add):
        check_subjects(spec["subjects"], field=f"add_teachers.{i}.subjects")
        lat, lon = _centre(spec["kecamatan_code"], f"add_teachers.{i}.kecamatan_code")
        specs.append({**spec, "lat": lat, "lon": lon})
    run = MatchingRun(kind=RunKind.WHAT_IF, first=first, last=last, created_by=user_id, params={"add_teachers": specs})
    return _queue(run)


def _queue(run: MatchingRun) -> MatchingRun:
    run.status, run.detail = RunStatus.QUEUED, {}
    run.created_at = district_now()  # like started_at and finished_at: district time, as every stored time
    db.session.add(run)
    db.session.flush()
    return run


def _centre(code: str, field: str) -> tuple[float, float]:
    kecamatan = db.session.get(Kecamatan, code)
    if kecamatan is None:
        raise Invalid(field, "unknown kecamatan")
    if kecamatan.lat is not None and kecamatan.lon is not None:
        return kecamatan.lat, kecamatan.lon
    points = db.session.execute(db.select(School.lat, School.lon).where(School.kecamatan_code == code)).all()
    if not points:
        raise Invalid(field, "this kecamatan has no location and no school to place teachers by")
    return sum(p.lat for p in points) / len(points), sum(p.lon for p in points) / len(points)


def get_run(run_id: int) -> MatchingRun:
    run = db.session.get(MatchingRun, run_id)
    if run is None:
        raise NotFound(f"No run {run_id}.")
    return run


def cancel_run(run_id: int) -> MatchingRun:
    """A queued run is cancelled at once; a running one is asked to stop and the worker ends it
    `cancelled` at its next check (about a second). A run that has already ended is a 409."""
    run = get_run(run_id)
    if run.status == RunStatus.QUEUED:
        changed = db.session.execute(
            db.update(MatchingRun)
            .where(MatchingRun.id == run_id, MatchingRun.status == RunStatus.QUEUED)
            .values(status=RunStatus.CANCELLED, finished_at=district_now(), cancel_requested=True)
        ).rowcount
        if changed:
            db.session.refresh(run)
            return run
        db.session.refresh(run)  # the worker took it meanwhile: ask it to stop
    if run.status == RunStatus.RUNNING:
        run.cancel_requested = True
        db.session.flush()
    elif run.status in FINISHED and run.status != RunStatus.CANCELLED:
        raise Conflict(f"Run {run_id} has already ended ({run.status}).")
    return run
