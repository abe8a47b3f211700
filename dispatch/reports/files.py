"""Tables as downloads: CSV through the project's one CSV helper (`dispatch/exports.py`: UTF-8 with a
BOM, every cell neutralised) or XLSX (openpyxl), every cell through the same `neutralise`."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import Response

from dispatch.exports import csv_response, neutralise

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Sheet:
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[object]]


def _filename(name: str, fmt: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "laporan"
    return f"{safe}.{fmt}"


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    # Imported here: openpyxl is a tenth of a web process's start-up, which a respawn after a crash waits on.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = book.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", sheet.title)[:31])
        header = []
        for name in sheet.header:
            cell = WriteOnlyCell(ws, value=neutralise(name))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            ws.append([neutralise(c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(fmt: str, name: str, sheets: Sequence[Sheet]) -> Response:
    """One table as CSV (the first sheet), or every sheet in one XLSX workbook."""
    if fmt == "csv":
        return csv_response(_filename(name, fmt), sheets[0].header, sheets[0].rows)
    return Response(
        xlsx_bytes(sheets),
        mimetype=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{_filename(name, fmt)}"'},
    )


# For flask-smorest's @blp.doc(responses=...): a file download in the OpenAPI document.
DOWNLOAD_DOC = {
    "200": {
        "description": "CSV (UTF-8 with BOM) or XLSX; text that would start a formula begins with an apostrophe",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
