from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields

from dispatch.accounts.auth import roles_required
from dispatch.idempotency import write_operation
from dispatch.imports.service import import_schools, import_teachers

blp = Blueprint("imports", __name__, url_prefix="/api/v1/import", description="CSV import (Dapodik-style)")


class RowError(Schema):
    row = fields.Integer()
    field = fields.String()
    message = fields.String()


class ImportResult(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    errors = fields.List(fields.Nested(RowError))


def _uploaded() -> bytes:
    upload = request.files.get("file")
    if upload is None:
        abort(422, message="file: send the CSV as multipart field 'file'", errors={"files": {"file": ["missing"]}})
    return upload.read()


@blp.route("/schools")
class ImportSchools(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.response(200, ImportResult)
    def post(self):
        """Import schools from a CSV (multipart field `file`). Columns: npsn, name/nama, level/bentuk_pendidikan,
        status, lat/lintang, lon/bujur, kecamatan_code, address/alamat_jalan."""
        return import_schools(_uploaded())


@blp.route("/teachers")
class ImportTeachers(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.response(200, ImportResult)
    def post(self):
        """Import teachers from a CSV (multipart field `file`). Columns: name/nama, nuptk, lat, lon, radius_km,
        subjects ("MTK;IPA"), levels ("SMP;SMA"), max_periods, availability ("0 07:00-12:30; 2 07:00-11:00")."""
        return import_teachers(_uploaded())
