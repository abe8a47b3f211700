"""Cells a spreadsheet reads as data, never as formulas.

Text starting with = + - @, a tab or a carriage return is a formula to Excel, LibreOffice and
Google Sheets (`=HYPERLINK(...)`), so a lesson topic or a name typed by anyone could run on the
district office's computer: such text gets a leading apostrophe (OWASP), numbers pass as numbers.

Kept to this one function so that the project-wide helper (`dispatch/exports.py`, `neutralise`,
same behaviour) replaces it with a one-line import.
"""

from __future__ import annotations

from datetime import date, datetime

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    if cell is None:
        return ""
    if isinstance(cell, bool | int | float | date | datetime):
        return cell
    text = str(cell)
    return "'" + text if text.startswith(FORMULA_START) else text
