"""Solver runs: weekly plans and what-ifs, queued for the job worker, with their progress on the row."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, false, func
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)


class RunKind(StrEnum):
    PLAN = "plan"  # the weekly plan: plans open sessions and sends offers
    WHAT_IF = "what_if"  # coverage with hypothetical teachers added; writes nothing else


class MatchingRun(db.Model):
    __tablename__ = "matching_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default=RunKind.PLAN, server_default=RunKind.PLAN.value)
    first: Mapped[date] = mapped_column(Date)
    last: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=RunStatus.QUEUED)
    # What the worker is doing now ("building", "solving", "offers"...), and why a run failed.
    phase: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    # Set by POST .../cancel on a running run; the worker stops at its next check (about a second).
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    params: Mapped[dict | None] = mapped_column(JSON)  # a what-if's added teachers
    result: Mapped[dict | None] = mapped_column(JSON)  # a what-if's coverage before and after
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid of the worker process running it
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    coverage: Mapped[float] = mapped_column(Float, default=0.0)
    bound: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    offers: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
