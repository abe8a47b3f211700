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
from sqlalchemy.exc import DataError

from dispatch.exceptions import DomainError, Invalid
from dispatch.exports import FORMULA_START
from dispatch.extensions import db
from dispatch.input_guard import bad_text
from dispatch.schools.schemas import SchoolIn
from dispatch.schools.service import upsert_school
from dispatch.teachers.models import Teacher
from dispatch.teachers.schemas import TeacherIn
from dispatch.teachers.service import apply_profile

MAX_ROWS = 20000
MAX_CELL = 2000  # characters: longer than any field the schemas take (the longest, an address, is 300)
# Text a spreadsheet would run as a formula when the data is exported again (dispatch/exports.py).
NAME_FIELDS = ("name", "address")
# The API takes numbers as JSON numbers; a CSV has only text, so these are read here first.
NUMBER_FIELDS = ("lat", "lon", "radius_km")

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
    # The csv module stops a whole file at a cell over 131,072 characters; let it read the file
    # (bounded by MAX_CONTENT_LENGTH) and refuse such a cell in its own row (`cell_errors`).
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
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


def cell_errors(row: dict[str, str]) -> list[tuple[str, str]]:
    """(field, message) for cells no field can take: too long, NUL, broken Unicode, formulas in names."""
    errors = []
    for field, value in row.items():
        if not isinstance(value, str):
            continue
        if len(value) > MAX_CELL:
            errors.append((field, f"longer than {MAX_CELL} characters"))
        elif problem := bad_text(value):
            errors.append((field, problem))
        elif field in NAME_FIELDS and value.startswith(FORMULA_START):
            errors.append((field, "must not start with = + - @ (a spreadsheet would run it as a formula)"))
    return errors


def _numbers(row: dict) -> None:
    """Numeric cells as numbers (Indonesian spreadsheets write -1,4861 for -1.4861); text that is no
    number stays text, and the schema names the field."""
    for key in NUMBER_FIELDS:
        if key in row:
            text = row[key].replace(",", ".") if "," in row[key] and "." not in row[key] else row[key]
            try:
                number = float(text)
            except ValueError:
                continue
            if number == number and abs(number) != float("inf"):
                row[key] = number


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


def _school_row(row: dict) -> dict:
    _numbers(row)
    if "status" in row:
        row["status"] = STATUS_WORDS.get(row["status"].lower(), row["status"])
    return row


def _teacher_row(row: dict) -> dict:
    _numbers(row)
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
        if problems := cell_errors(row):
            errors.extend({"row": number, "field": f, "message": m} for f, m in problems)
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
        except DataError as exc:  # a value the database refused: this row only
            savepoint.rollback()
            errors.append({"row": number, "field": "row", "message": f"refused by the database: {exc.orig}"[:300]})
            continue
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
