"""A small district shared by the API tests: two schools, their operators, two teachers, one order each."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.extensions import db
from tests import factories as f


@dataclass
class World:
    admin: object
    school_a: object
    school_b: object
    op_a: object
    op_b: object
    teacher_1: object
    teacher_2: object
    user_t1: object
    user_t2: object
    order_a: object
    order_b: object

    def headers(self, who: str | None) -> dict[str, str]:
        return {} if who is None else f.auth(getattr(self, who))


def build_world() -> World:
    f.kecamatan()
    f.village()
    school_a = f.school(npsn="10500001", level="SMP")
    school_b = f.school(npsn="10500002", level="SMP", lat=-1.50, lon=102.12)
    teacher_1 = f.teacher(name="Siti Lubis")
    teacher_2 = f.teacher(name="Budi Saputra")
    world = World(
        admin=f.user("district_admin", username="admin"),
        school_a=school_a,
        school_b=school_b,
        op_a=f.user("school_operator", username="op-a", school_id=school_a.npsn),
        op_b=f.user("school_operator", username="op-b", school_id=school_b.npsn),
        teacher_1=teacher_1,
        teacher_2=teacher_2,
        user_t1=f.user("teacher", username="guru-1", teacher_id=teacher_1.id),
        user_t2=f.user("teacher", username="guru-2", teacher_id=teacher_2.id),
        order_a=f.order(school_a),
        order_b=f.order(school_b),
    )
    db.session.commit()
    return world
