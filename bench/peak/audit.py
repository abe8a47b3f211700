"""The audit after a load or fault run: what the database holds must be consistent, and every write the
service acknowledged (a 2xx the load generator kept in its journal) must be there.

    python -m bench.peak.audit DATABASE_URL [JOURNAL.jsonl]

Checks, each a list of the rows that break it (empty is good):
- double_booked: a session accepted by two offers, or booked by a teacher other than its accepted offer's;
  a teacher booked in two sessions that overlap on the same day;
- booking_without_order: a booked or held session without its order, or in a cancelled order;
  a booked session without a teacher, or an open one with a teacher;
- offers: every offer open, closed with its reason (expired, taken, cancelled, declined with a reason)
  or accepted; no open offer holding a session that no longer needs a teacher;
- lost: every acknowledged write present (orders, accepted offers, claims, declines, ratings).

Reads the database with plain SQL (no app), so it can run beside a deployment in any state.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from config import database_url

CLOSED_WITH_REASON = {"expired", "taken", "cancelled"}
NEEDS_TEACHER = {"open", "offered"}
HAS_TEACHER = {"booked", "held"}


def _rows(conn, sql: str) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(sa.text(sql))]


def _session_ids(value) -> list[int]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def check_database(conn) -> dict[str, list]:
    sessions = {r["id"]: r for r in _rows(conn, "select id, order_id, date, start_min, end_min, status, teacher_id "
                                                "from lesson_session")}  # fmt: skip
    orders = {r["id"]: r for r in _rows(conn, "select id, status from teaching_order")}
    offers = _rows(conn, "select id, order_id, teacher_id, session_ids, status, decline_reason from offer")
    problems: dict[str, list] = {"double_booked": [], "booking_without_order": [], "offers": []}

    accepted_by_session: dict[int, list[dict]] = defaultdict(list)
    for offer in offers:
        ids = _session_ids(offer["session_ids"])
        status = offer["status"]
        if status == "accepted":
            for sid in ids:
                accepted_by_session[sid].append(offer)
        elif status == "declined":
            if not offer["decline_reason"]:
                problems["offers"].append({"offer": offer["id"], "why": "declined without a reason"})
        elif status == "open":
            held = [sid for sid in ids if sessions.get(sid, {}).get("status") not in NEEDS_TEACHER]
            if held:
                problems["offers"].append({"offer": offer["id"], "why": f"open on sessions no longer free {held}"})
        elif status not in CLOSED_WITH_REASON:
            problems["offers"].append({"offer": offer["id"], "why": f"unknown status {status!r}"})
        if offer["order_id"] not in orders:
            problems["offers"].append({"offer": offer["id"], "why": "offer without its order"})

    for sid, accepted in accepted_by_session.items():
        session = sessions.get(sid)
        if len(accepted) > 1:
            problems["double_booked"].append({"session": sid, "accepted_offers": [o["id"] for o in accepted]})
        elif session and session["status"] in HAS_TEACHER and session["teacher_id"] != accepted[0]["teacher_id"]:
            problems["double_booked"].append({"session": sid, "why": "booked by another teacher than its offer's"})

    by_teacher_day: dict[tuple, list[dict]] = defaultdict(list)
    for s in sessions.values():
        if s["status"] in HAS_TEACHER:
            if s["teacher_id"] is None:
                problems["booking_without_order"].append(
                    {"session": s["id"], "why": f"{s['status']} without a teacher"}
                )
                continue
            by_teacher_day[(s["teacher_id"], str(s["date"]))].append(s)
            order = orders.get(s["order_id"])
            if order is None or order["status"] == "cancelled":
                problems["booking_without_order"].append(
                    {"session": s["id"], "why": "booked in a missing or cancelled order"}
                )
        elif s["status"] in NEEDS_TEACHER and s["teacher_id"] is not None:
            problems["booking_without_order"].append({"session": s["id"], "why": f"{s['status']} with a teacher"})
    for (teacher, day), booked in by_teacher_day.items():
        booked.sort(key=lambda s: s["start_min"])
        for a, b in zip(booked, booked[1:], strict=False):
            if b["start_min"] < a["end_min"]:
                problems["double_booked"].append({"teacher": teacher, "date": day, "sessions": [a["id"], b["id"]]})
    return problems


def check_journal(conn, journal: list[dict]) -> list[dict]:
    """Every acknowledged write is in the database, as it was acknowledged."""
    lost = []
    order_ids = {r["id"] for r in _rows(conn, "select id from teaching_order")}
    offers = {r["id"]: r for r in _rows(conn, "select id, status, teacher_id, session_ids from offer")}
    sessions = {r["id"]: r for r in _rows(conn, "select id, status, teacher_id from lesson_session")}
    ratings = {r["id"] for r in _rows(conn, "select id from rating")}
    for entry in journal:
        kind = entry["kind"]
        if kind == "order":
            ok = entry["id"] in order_ids
        elif kind == "accept":
            offer = offers.get(entry["id"])
            ok = offer is not None and offer["status"] == "accepted" and all(
                sessions.get(sid, {}).get("teacher_id") == offer["teacher_id"] for sid in _session_ids(offer["session_ids"])
            )  # fmt: skip
        elif kind == "decline":
            ok = offers.get(entry["id"], {}).get("status") == "declined"
        elif kind == "claim":
            ok = all(sessions.get(sid, {}).get("teacher_id") == entry["teacher_id"] for sid in entry["session_ids"])
        elif kind == "rating":
            ok = entry["id"] in ratings
        else:
            ok = True
        if not ok:
            lost.append(entry)
    return lost


def read_journal(path: Path | None) -> list[dict]:
    if path is None or not Path(path).exists():
        return []
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def audit(url: str, journal: list[dict] | None = None) -> dict[str, list]:
    engine = sa.create_engine(database_url(url))
    try:
        with engine.connect() as conn:
            problems = check_database(conn)
            problems["lost"] = check_journal(conn, journal or [])
    finally:
        engine.dispose()
    return problems


def summary(problems: dict[str, list], journal: list[dict]) -> str:
    counts = ", ".join(f"{name} {len(rows)}" for name, rows in problems.items())
    return f"audit: {len(journal)} acknowledged writes checked; problems: {counts}"


if __name__ == "__main__":
    journal = read_journal(Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    result = audit(sys.argv[1], journal)
    print(summary(result, journal))
    for name, rows in result.items():
        for row in rows[:20]:
            print(f"  {name}: {row}")
    sys.exit(1 if any(result.values()) else 0)
