from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort

from dispatch.accounts.auth import roles_required
from dispatch.extensions import db
from dispatch.idempotency import write_operation
from dispatch.teachers.models import Teacher
from dispatch.teachers.schemas import TeacherIn, TeacherOut, TeacherPatch, TeacherPublicOut
from dispatch.teachers.service import apply_profile, create_teacher

blp = Blueprint("teachers", __name__, url_prefix="/api/v1/teachers", description="Teachers and their profiles")


def _dump(teacher_or_list):
    """Full profile for the district and the teacher themself; the public part for school operators."""
    schema = TeacherPublicOut if current_user.role == "school_operator" else TeacherOut
    many = isinstance(teacher_or_list, list)
    return schema(many=many).dump(teacher_or_list)


@blp.route("")
class Teachers(MethodView):
    @roles_required("district_admin", "school_operator")
    @blp.response(200, TeacherOut(many=True))
    def get(self):
        """List teachers (school operators see the public part of each profile)."""
        teachers = db.session.scalars(db.select(Teacher).order_by(Teacher.id)).all()
        return _dump(list(teachers))

    @roles_required("district_admin")
    @write_operation
    @blp.arguments(TeacherIn)
    @blp.response(201, TeacherOut)
    def post(self, data):
        """Add a teacher."""
        return create_teacher(data)


def _teacher_for_caller(teacher_id: int) -> Teacher:
    teacher = db.session.get(Teacher, teacher_id)
    if current_user.role == "teacher" and current_user.teacher_id != teacher_id:
        abort(403, message="You may see and change only your own profile.")
    if teacher is None:
        abort(404, message=f"No teacher {teacher_id}.")
    return teacher


@blp.route("/<id:teacher_id>")
class TeacherById(MethodView):
    @roles_required()
    @blp.response(200, TeacherOut)
    def get(self, teacher_id):
        return _dump(_teacher_for_caller(teacher_id))

    @roles_required("district_admin", "teacher")
    @write_operation
    @blp.arguments(TeacherPatch(partial=True))
    @blp.response(200, TeacherOut)
    def patch(self, data, teacher_id):
        """Change profile fields (a teacher changes only their own)."""
        return apply_profile(_teacher_for_caller(teacher_id), data)
