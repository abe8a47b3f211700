"""CSV import of schools and teachers in the shape of a Dapodik export.

Each row is validated with the same schema as the API and written in its own
savepoint: good rows land, bad rows come back with their row number and field.
Headers may be the API's English names or Dapodik's Indonesian ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from marshmallow import Schema, ValidationError

from dispatch.exceptions import DomainError, Invalid
from dispatch.extensions import db
from dispatch.schools.schemas import SchoolIn
from dispatch.schools.service import upsert_school
from dispatch.teachers.models import Teacher
from dispatch.teachers.schemas import TeacherIn
from dispatch.teachers.service import apply_profile

MAX_ROWS = 20000

SCHOOL_HEADERS = {
    "npsn": "npsn",
    "name": "name", "nama": "name", "nama_sekolah": "name", "nama sekolah": "name",
    "level": "level", "bentuk": "level", "bentuk_pendidikan": "level", "bentuk pendidikan": "level",
    "status": "status", "status_sekolah": "status", "status sekolah": "status",
    "lat": "lat", "lintang": "lat", "latitude": "lat",
    "lon": "lon", "bujur": "lon", "longitude": "lon",
    "kecamatan_code": "kecamatan_code", "kode_kecamatan": "kecamatan_code", "kode_wilayah_kecamatan": "kecamatan_code",
    "address": "address", "alamat": "address", "alamat_jalan": "address", "alamat jalan": "address",
}  # fmt: skip

TEACHER_HEADERS = {
    "name": "name", "nama": "name", "nama_ptk": "name", "nama ptk": "name",
    "nuptk": "nuptk",
    "lat": "lat", "lintang": "lat", "latitude": "lat",
    "lon": "lon", "bujur": "lon", "longitude": "lon",
    "radius_km": "radius_km", "radius": "radius_km", "jarak_maks_km": "radius_km",
    "subjects": "subjects", "mapel": "subjects", "mata_pelajaran": "subjects",
    "levels": "levels", "jenjang": "levels",
    "max_periods": "max_periods", "jam_maks": "max_periods", "jjm": "max_periods",
    "availability": "availability", "ketersediaan": "availability",
    "status": "status",
}  # fmt: skip

STATUS_WORDS = {"n": "Negeri", "negeri": "Negeri", "s": "Swasta", "swasta": "Swasta"}


def decode_csv(raw: bytes) -> list[dict[str, str]]:
    """Bytes of a CSV file -> rows as dicts. UTF-8 (with or without BOM) or UTF-16 with BOM; comma or semicolon."""
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = raw.decode("utf-16")
        else:
            text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("file", "not UTF-8 text; save the sheet as 'CSV UTF-8' and upload again", "files") from None
    if not text.strip():
        raise Invalid("file", "the file is empty", "files")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = list(reader)
    if len(rows) > MAX_ROWS:
        raise Invalid("file", f"at most {MAX_ROWS} rows per file", "files")
    return rows


def _rename(row: dict, headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for key, value in row.items():
        if key is None:  # more cells than headers
            out["_extra"] = value
            continue
        name = headers.get(key.strip().lower())
        if name and value is not None and value.strip() != "":
            out[name] = value.strip()
    return out


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]


def _availability(text: str) -> list[dict]:
    """'0 07:00-12:30; 2 07:00-11:00' -> [{"day": 0, "start": "07:00", "end": "12:30"}, ...]."""
    windows = []
    for part in _split(text):
        day, _, span = part.partition(" ")
        start, _, end = span.strip().partition("-")
        windows.append({"day": int(day) if day.isdigit() else day, "start": start.strip(), "end": end.strip()})
    return windows


def _decimal_commas(row: dict, keys: tuple[str, ...]) -> None:
    """Indonesian spreadsheets write -1,4861 for -1.4861."""
    for key in keys:
        if key in row and "," in row[key] and "." not in row[key]:
            row[key] = row[key].replace(",", ".")


def _school_row(row: dict) -> dict:
    _decimal_commas(row, ("lat", "lon"))
    if "status" in row:
        row["status"] = STATUS_WORDS.get(row["status"].lower(), row["status"])
    return row


def _teacher_row(row: dict) -> dict:
    _decimal_commas(row, ("lat", "lon", "radius_km"))
    if row.get("max_periods", "").isdigit():
        row["max_periods"] = int(row["max_periods"])
    for key in ("subjects", "levels"):
        if key in row:
            row[key] = _split(row[key])
    row["availability"] = _availability(row.get("availability", ""))
    return row


def _messages(errors: dict, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for field, value in errors.items():
        name = f"{prefix}{field}"
        if isinstance(value, dict):
            out.extend(_messages(value, f"{name}."))
        else:
            out.extend((name, str(message)) for message in value)
    return out


def _import(
    rows: list[dict],
    headers: dict,
    shape: Callable[[dict], dict],
    schema: Schema,
    write: Callable[[dict], bool],
    progress: Callable[[int, int], None] | None,
):
    created = updated = 0
    errors: list[dict] = []
    for number, raw in enumerate(rows, start=2):  # row 1 is the header line
        if progress and (number - 1) % 500 == 0:
            progress(number - 1, len(rows))
        row = _rename(raw, headers)
        if "_extra" in row:
            errors.append({"row": number, "field": "file", "message": "more cells than header columns"})
            continue
        try:
            data = schema.load(shape(row))
        except ValidationError as exc:
            errors.extend({"row": number, "field": f, "message": m} for f, m in _messages(exc.messages))
            continue
        except ValueError as exc:
            errors.append({"row": number, "field": "availability", "message": str(exc)})
            continue
        savepoint = db.session.begin_nested()
        try:
            was_created = write(data)
            savepoint.commit()
        except Invalid as exc:
            savepoint.rollback()
            errors.append({"row": number, "field": exc.field, "message": exc.reason})
            continue
        except DomainError as exc:
            savepoint.rollback()
            errors.append({"row": number, "field": "row", "message": exc.message})
            continue
        created += was_created
        updated += not was_created
    return {"created": created, "updated": updated, "errors": errors}


def import_schools(raw: bytes, progress: Callable[[int, int], None] | None = None) -> dict:
    def write(data):
        return upsert_school(data)[1]

    return _import(decode_csv(raw), SCHOOL_HEADERS, _school_row, SchoolIn(), write, progress)


def import_teachers(raw: bytes, progress: Callable[[int, int], None] | None = None) -> dict:
    """Teachers with a NUPTK already known are updated; the rest are created."""

    def write(data):
        existing = (
            db.session.scalar(db.select(Teacher).where(Teacher.nuptk == data["nuptk"])) if data.get("nuptk") else None
        )
        apply_profile(existing or Teacher(), data)
        return existing is None

    return _import(decode_csv(raw), TEACHER_HEADERS, _teacher_row, TeacherIn(), write, progress)
