"""CSV (and later XLSX) exports that a spreadsheet opens as data, never as formulas.

A cell that starts with = + - @, a tab or a carriage return is read by Excel, LibreOffice and
Google Sheets as a formula (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`), so a lesson topic or a
teacher's name typed by someone could run on the district office's computer. `neutralise` puts
an apostrophe in front of such text (OWASP's advice: the sheet shows the text as typed); numbers
pass untouched, so "-1.5" as a number stays a number. Every export goes through `csv_response`
(or `write_rows` for its own stream); the import refuses such names to begin with
(`FORMULA_START`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from flask import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    """The cell as a spreadsheet should see it: text that would start a formula gets a leading apostrophe."""
    if cell is None:
        return ""
    if isinstance(cell, bool | int | float | date | datetime):
        return cell
    text = str(cell)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def write_rows(out, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    writer = csv.writer(out)
    writer.writerow([neutralise(name) for name in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Response:
    """A CSV download: UTF-8 with a BOM (so spreadsheet programs read it as UTF-8), every cell neutralised."""
    out = io.StringIO()
    write_rows(out, header, rows)
    safe_name = "".join(ch for ch in filename if ch.isalnum() or ch in "-_.") or "export.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{safe_name}"'},
    )


# For flask-smorest's @blp.doc(responses=...): a CSV download in the OpenAPI document.
CSV_RESPONSE_DOC = {
    "200": {
        "description": "CSV (UTF-8 with BOM); cells that would start a formula begin with an apostrophe",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
