from flask.views import MethodView
from flask_smorest import Blueprint

from dispatch.accounts.auth import roles_required
from dispatch.district.models import Kecamatan
from dispatch.district.schemas import DistrictOut, DistrictPatch, KecamatanOut, KecamatanPatch
from dispatch.district.service import ensure_district, get_district
from dispatch.extensions import db
from dispatch.idempotency import write_operation
from dispatch.workflow import switch_kecamatan

blp = Blueprint("district", __name__, url_prefix="/api/v1", description="District policy, kecamatan and rollout")


@blp.route("/district")
class DistrictSettings(MethodView):
    @roles_required()
    @blp.response(200, DistrictOut)
    def get(self):
        """The district's policy: radius, travel, offers, check-in, subjects, holidays."""
        return get_district()

    @roles_required("district_admin")
    @write_operation
    @blp.arguments(DistrictPatch)
    @blp.response(200, DistrictOut)
    def patch(self, data):
        district = ensure_district()
        if "holidays" in data:
            data["holidays"] = sorted({d.isoformat() for d in data["holidays"]})
        for key, value in data.items():
            setattr(district, key, value)
        db.session.flush()
        return district


@blp.route("/kecamatan")
class KecamatanList(MethodView):
    @roles_required()
    @blp.response(200, KecamatanOut(many=True))
    def get(self):
        return db.session.scalars(db.select(Kecamatan).order_by(Kecamatan.code)).all()


@blp.route("/kecamatan/<code>")
class KecamatanByCode(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.arguments(KecamatanPatch)
    @blp.response(200, KecamatanOut)
    def patch(self, data, code):
        """Switch a kecamatan live or not (rollout: town first, villages later). A school in a kecamatan not
        live may post orders, which count in coverage, but nothing is dispatched to or planned for them
        (no offer, claim, booking or weekly plan) until it is live. Switching off closes its open offers
        (as cancelled); bookings stand. Switching on offers its waiting urgent orders at once."""
        return switch_kecamatan(code, data["live"])
