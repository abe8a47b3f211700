"""What-if scenarios side by side: the current coverage and each scenario's, in periods (JP) and
teacher-equivalents a week, overall, by kecamatan and by subject.

A scenario's gain is against its own "before" (the same week planned as it was when the scenario
ran, by the same solver); the "now" column is the latest scenario's "before" for that week.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dispatch.coverage.names import subject_name
from dispatch.coverage.service import FULL_LOAD
from dispatch.district.models import Kecamatan
from dispatch.extensions import db
from dispatch.runs.models import MatchingRun, RunKind, RunStatus

SHOWN = 4  # scenarios compared at once: wider tables stop being readable on a laptop


@dataclass
class Column:
    run: MatchingRun | None  # None: the week as it is now
    weeks: int
    week: str
    side: dict  # the result's "before" or "after"
    before: dict  # what the gain is counted against
    specs: list[dict] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return self.run is None

    def per_week(self, periods: float) -> float:
        return periods / max(1, self.weeks)

    def summary(self) -> dict:
        side, before = self.side, self.before
        gain = side["covered_periods"] - before["covered_periods"]
        added = sum(spec["count"] for spec in self.specs)
        return {
            "teachers_added": added,
            "coverage": side["coverage"],
            "covered_periods": self.per_week(side["covered_periods"]),
            "unfilled_periods": self.per_week(side["unfilled_periods"]),
            "shortage": side["unfilled_teacher_equivalents"],
            "bound": side.get("bound"),
            "gain_points": side["coverage"] - before["coverage"],
            "gain_periods": self.per_week(gain),
            "gain_teachers": self.per_week(gain) / FULL_LOAD,
            # What a new teacher would teach a week: the hires' use (a full load is 24 JP).
            "per_teacher": self.per_week(gain) / added if added else None,
        }

    def row(self, table: str, key: str) -> dict | None:
        """One kecamatan's or subject's numbers: coverage and JP a week gained against `before`."""
        mine = {r["key"]: r for r in self.side[table]}.get(key)
        base = {r["key"]: r for r in self.before[table]}.get(key)
        if mine is None:
            return None
        gain = mine["covered_periods"] - (base["covered_periods"] if base else 0)
        return {"coverage": mine["coverage"], "gain_periods": self.per_week(gain),
                "periods": self.per_week(mine["periods"])}  # fmt: skip


def recent_scenarios(limit: int = SHOWN) -> list[MatchingRun]:
    return db.session.scalars(
        db.select(MatchingRun)
        .where(MatchingRun.kind == RunKind.WHAT_IF, MatchingRun.status == RunStatus.DONE)
        .order_by(MatchingRun.id.desc())
        .limit(limit)
    ).all()


def comparison(runs: list[MatchingRun]) -> dict:
    """Columns grouped by the week planned (a "now" column, then that week's scenarios, newest first),
    and the kecamatan and subject rows, worst covered now first."""
    usable = [r for r in runs if r.result and "before" in r.result and "after" in r.result]
    groups: dict[tuple, list[MatchingRun]] = {}
    for run in usable:
        groups.setdefault((run.first, run.last), []).append(run)
    names = dict(db.session.execute(db.select(Kecamatan.code, Kecamatan.name)).all())
    columns: list[Column] = []
    for (first, last), members in sorted(groups.items(), reverse=True):
        newest = members[0].result
        weeks = max(1, len(newest.get("weeks") or [first]))
        label = f"{first:%d-%m-%Y} – {last:%d-%m-%Y}"
        columns.append(Column(None, weeks, label, newest["before"], newest["before"]))
        for run in members:
            result = run.result
            specs = [{**spec, "kecamatan_name": names.get(spec.get("kecamatan_code"), spec.get("kecamatan_code"))}
                     for spec in (run.params or {}).get("add_teachers", [])]  # fmt: skip
            columns.append(Column(run, weeks, label, result["after"], result["before"], specs))

    def rows(table: str, name) -> list[dict]:
        keys: dict[str, float] = {}
        for column in columns:
            for r in column.side[table]:
                keys.setdefault(r["key"], r["coverage"] if column.current else 2.0)
        ordered = sorted(keys, key=lambda k: (keys[k], name(k)))
        return [{"key": k, "name": name(k), "cells": [c.row(table, k) for c in columns]} for k in ordered]

    return {
        "columns": columns,
        "summaries": [c.summary() for c in columns],
        "kecamatan": rows("by_kecamatan", lambda k: names.get(k, k)),
        "subject": rows("by_subject", subject_name),
        "weeks_differ": len(groups) > 1,
    }
