"""A district with lessons in three kecamatan, booked, held and missed, for the district office's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from dispatch.extensions import db
from dispatch.orders.models import LessonSession
from tests import factories as f
from tests.dispatch_world import build_world


@dataclass
class District:
    world: object
    monday: date
    teacher_3: object
    school_c: object
    school_d: object

    def headers(self, who: str | None) -> dict[str, str]:
        return self.world.headers(who)


def sessions(day: date, statuses: list[str], teacher_id=None, start: int = 450) -> list[LessonSession]:
    out = []
    for i, status in enumerate(statuses):
        s = LessonSession(date=day, start_min=start + 90 * i, end_min=start + 90 * i + 80, periods=2, status=status)
        if status in ("booked", "held", "no_show"):
            s.teacher_id = teacher_id
        if status == "held":
            s.topic, s.present = f"Pecahan {i}", 28
        out.append(s)
    return out


@pytest.fixture
def district(app):
    """Town (15.08.03): school A with 4 sessions (held, booked, open, no-show) and school B with 1 open;
    Tanah Tumbuh (15.08.01): school C, SD, 2 sessions (held, open); Jujuhan (15.08.10): school D, SMA, 1 booked."""
    world = build_world()
    f.kecamatan("15.08.01", "Tanah Tumbuh", -1.4962, 101.8476)
    f.kecamatan("15.08.10", "Jujuhan", -1.3521, 101.7305)
    world.school_a.kecamatan_code = world.school_b.kecamatan_code = "15.08.03"
    world.school_a.name, world.school_b.name = "SMP NEGERI 1 MUARA BUNGO", "SMP NEGERI 2 MUARA BUNGO"
    school_c = f.school(npsn="10500003", level="SD", name="SD NEGERI 1 TANAH TUMBUH", kecamatan_code="15.08.01",
                        lat=-1.45, lon=101.87)  # fmt: skip
    school_d = f.school(npsn="10500004", level="SMA", name="SMA NEGERI 1 JUJUHAN", kecamatan_code="15.08.10",
                        lat=-1.36, lon=101.74)  # fmt: skip
    teacher_3 = f.teacher(name="Rina Harahap", nuptk="1234567890123456", levels=["SD", "SMA"], subjects=["GK", "FIS"],
                          kecamatan_code="15.08.01")  # fmt: skip
    monday = f.next_weekday(0)
    while (monday + timedelta(days=6)).month != monday.month:  # one month holds the whole week (monthly reports)
        monday += timedelta(days=7)
    world.order_b.sessions[0].date = monday
    t1 = world.teacher_1.id
    db.session.delete(world.order_a.sessions[0])
    world.order_a.sessions = sessions(monday, ["held", "booked", "open", "no_show"], t1)
    f.order(world.school_a, subject="IPA", class_name="VIII B",
            sessions=sessions(monday + timedelta(days=1), ["held"], t1))  # fmt: skip
    f.order(school_c, subject="GK", level="SD", class_name="IV A",
            sessions=sessions(monday + timedelta(days=2), ["held", "open"], teacher_3.id))  # fmt: skip
    f.order(school_d, subject="FIS", level="SMA", class_name="XI IPA 1",
            sessions=sessions(monday + timedelta(days=3), ["booked"], teacher_3.id))  # fmt: skip
    db.session.commit()
    return District(world, monday, teacher_3, school_c, school_d)
