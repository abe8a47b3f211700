from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort

from dispatch.accounts.auth import roles_required
from dispatch.extensions import db
from dispatch.idempotency import write_operation
from dispatch.schools.models import School
from dispatch.schools.schemas import SchoolIn, SchoolOut, TeacherIdsIn, TeacherIdsOut
from dispatch.schools.service import set_teacher_list, upsert_school

blp = Blueprint("schools", __name__, url_prefix="/api/v1/schools", description="Schools (NPSN) of the district")


def visible_school(school_id: str) -> School:
    """The school, if the caller may see it: admins see all, operators their own."""
    school = db.session.get(School, school_id)
    if school is None:
        abort(404, message=f"No school {school_id}.")
    if current_user.role == "school_operator" and current_user.school_id != school.npsn:
        abort(403, message="Not your school.")
    return school


@blp.route("")
class Schools(MethodView):
    @roles_required("district_admin", "school_operator")
    @blp.response(200, SchoolOut(many=True))
    def get(self):
        """List schools (an operator sees their own)."""
        query = db.select(School).order_by(School.npsn)
        if current_user.role == "school_operator":
            query = query.where(School.npsn == current_user.school_id)
        return db.session.scalars(query).all()

    @roles_required("district_admin")
    @write_operation
    @blp.arguments(SchoolIn)
    @blp.response(201, SchoolOut)
    def post(self, data):
        """Add a school (or update it if the NPSN exists)."""
        school, _ = upsert_school(data)
        return school


@blp.route("/<school_id>")
class SchoolById(MethodView):
    @roles_required("district_admin", "school_operator")
    @blp.response(200, SchoolOut)
    def get(self, school_id):
        return visible_school(school_id)


def _list_routes(which: str):
    class TeacherList(MethodView):
        @roles_required("district_admin", "school_operator")
        @blp.response(200, TeacherIdsOut)
        def get(self, school_id):
            school = visible_school(school_id)
            return {"school_id": school.npsn, "teacher_ids": [t.id for t in getattr(school, which)]}

        @roles_required("district_admin", "school_operator")
        @write_operation
        @blp.arguments(TeacherIdsIn)
        @blp.response(200, TeacherIdsOut)
        def put(self, data, school_id):
            school = visible_school(school_id)
            return {"school_id": school.npsn, "teacher_ids": set_teacher_list(school, data["teacher_ids"], which)}

    TeacherList.__name__ = f"School{which.title()}"
    TeacherList.get.__doc__ = f"The school's {which} teachers."
    TeacherList.put.__doc__ = f"Replace the school's {which} teachers."
    blp.route(f"/<school_id>/{which}")(TeacherList)


_list_routes("favourites")
_list_routes("blocked")
