from flask.views import MethodView
from flask_smorest import Blueprint, abort

from dispatch.accounts.auth import roles_required
from dispatch.district.models import Kecamatan
from dispatch.district.schemas import DistrictOut, DistrictPatch, KecamatanOut, KecamatanPatch
from dispatch.district.service import ensure_district, get_district
from dispatch.extensions import db
from dispatch.idempotency import write_operation

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
        """Switch a kecamatan live or not (rollout: town first, villages later)."""
        kecamatan = db.session.get(Kecamatan, code)
        if kecamatan is None:
            abort(404, message=f"No kecamatan {code}.")
        kecamatan.live = data["live"]
        db.session.flush()
        return kecamatan
