"""What-if scenarios side by side: a week's "now" column, then its scenarios, in JP and teacher-equivalents
a week, each gain against the scenario's own "before"; the part the page draws, in both languages."""

from __future__ import annotations

from datetime import date

import pytest

from dispatch.extensions import db
from dispatch.reports.scenarios import comparison, recent_scenarios
from dispatch.runs.models import MatchingRun
from tests.dispatch_world import build_world
from tests.factories import kecamatan

MONDAY = date(2026, 3, 2)


def side(covered: int, periods: int, by_kecamatan: dict[str, tuple[int, int]], weeks: int = 1) -> dict:
    """A what-if result's side: one session a period, so weight and coverage follow the periods."""

    def row(key, c, p):
        return {"key": key, "sessions": p, "covered_sessions": c, "periods": p, "covered_periods": c,
                "unfilled_periods": p - c, "covered": float(c), "weight": float(p), "coverage": round(c / p, 4),
                "teacher_equivalents": round(c / 24 / weeks, 2),
                "unfilled_teacher_equivalents": round((p - c) / 24 / weeks, 2)}  # fmt: skip

    total = row("total", covered, periods)
    total.pop("key")
    rows = [row(k, c, p) for k, (c, p) in by_kecamatan.items()]
    return {**total, "bound": 0.9, "teachers": 10, "by_kecamatan": rows, "by_subject": [row("GK", covered, periods)]}


def what_if(first: date, last: date, before: dict, after: dict, count: int, weeks: list[str]) -> MatchingRun:
    run = MatchingRun(kind="what_if", status="done", first=first, last=last, detail={},
                      params={"add_teachers": [{"count": count, "subjects": ["GK"], "levels": ["SD"],
                                                "kecamatan_code": "15.08.06", "radius_km": 15.0, "max_periods": 24}]},
                      result={"before": before, "after": after, "weeks": weeks})  # fmt: skip
    db.session.add(run)
    db.session.flush()
    return run


@pytest.fixture
def scenarios(app):
    world = build_world()
    kecamatan("15.08.06", "Pelepat", -1.75, 102.03)
    one_week = (MONDAY, date(2026, 3, 8))
    # Two scenarios of one week: the older one ran when less was covered (its own "before").
    older = what_if(*one_week, side(40, 100, {"15.08.06": (10, 50), "15.08.03": (30, 50)}),
                    side(52, 100, {"15.08.06": (22, 50), "15.08.03": (30, 50)}), 12, ["2026-03-02"])  # fmt: skip
    newer = what_if(*one_week, side(48, 100, {"15.08.06": (18, 50), "15.08.03": (30, 50)}),
                    side(72, 100, {"15.08.06": (40, 50), "15.08.03": (32, 50)}), 24, ["2026-03-02"])  # fmt: skip
    # A scenario of two weeks: its JP are shown a week.
    two = what_if(MONDAY, date(2026, 3, 15), side(96, 200, {"15.08.06": (96, 200)}, 2),
                  side(144, 200, {"15.08.06": (144, 200)}, 2), 24, ["2026-03-02", "2026-03-09"])  # fmt: skip
    db.session.add(MatchingRun(kind="plan", status="done", first=MONDAY, last=MONDAY, detail={}))  # not a scenario
    db.session.commit()
    return world, older, newer, two


def test_scenarios_side_by_side_with_now_per_week(scenarios):
    _world, older, newer, two = scenarios
    assert [r.id for r in recent_scenarios()] == [two.id, newer.id, older.id]
    compare = comparison(recent_scenarios())
    columns = [(c.current, c.run.id if c.run else None) for c in compare["columns"]]
    # Grouped by the dates planned, latest range first; "now" leads each group (its newest "before").
    assert columns == [(True, None), (False, two.id), (True, None), (False, newer.id), (False, older.id)]
    now_two, two_col, now_week, newer_col, older_col = compare["summaries"]
    assert now_two["covered_periods"] == 48 and two_col["gain_periods"] == 24  # (144 - 96) / 2 weeks
    assert two_col["gain_teachers"] == 1.0 and two_col["per_teacher"] == 1.0
    assert now_week["covered_periods"] == 48 and now_week["coverage"] == 0.48  # the newest scenario's before
    assert newer_col["gain_periods"] == 24 and newer_col["per_teacher"] == 1.0
    assert older_col["gain_periods"] == 12 and older_col["teachers_added"] == 12  # against its own before (40)
    assert round(older_col["gain_points"], 4) == 0.12
    assert compare["weeks_differ"] is True
    # By kecamatan, worst now first, with names; a kecamatan a column does not have is empty there.
    rows = compare["kecamatan"]
    assert [r["name"] for r in rows] == ["Pelepat", "Pasar Muaro Bungo"]
    pelepat = rows[0]["cells"]
    assert pelepat[3]["gain_periods"] == 22 and pelepat[4]["gain_periods"] == 12
    assert rows[1]["cells"][1] is None  # the two-week scenario planned Pelepat only


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_scenarios_part_draws_in_both_languages(client, scenarios, lang):
    assert client.post("/masuk", data={"username": "admin", "password": "secret-password"}).status_code == 302
    page = client.get(f"/dinas/bagian/scenarios?lang={lang}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-run="') == 3 * 3  # three scenarios' headers in the summary and both area tables
    assert ("Skenario berdampingan" if lang == "id" else "Scenarios side by side") in html
    assert "+24" in html and "Pelepat" in html


def test_only_the_district_office_reads_the_parts(client, scenarios):
    client.post("/masuk", data={"username": "op-a", "password": "secret-password"})
    assert client.get("/dinas/bagian/scenarios").status_code == 403
    assert client.get("/dinas/bagian/nothing").status_code in (403, 404)
