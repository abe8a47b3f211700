"""Exports: the same numbers as the coverage API, lesson records for report cards, teaching hours, safe cells."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from dispatch.extensions import db

NUMBERS = ["sessions", "booked", "held", "coverage", "periods", "booked_periods", "held_periods", "unfilled_periods",
           "unfilled_teacher_equivalents"]  # fmt: skip


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheet programs then read UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> dict[str, list[list]]:
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def api_rows(client, district, query: str) -> dict:
    response = client.get(f"/api/v1/coverage?{query}", headers=district.headers("admin"))
    assert response.status_code == 200
    return response.get_json()


@pytest.mark.parametrize(
    "query",
    ["by=kecamatan", "by=school&sort=worst", "by=subject&kecamatan_code=15.08.03", "by=level&subject=GK", "by=week"],
)
def test_coverage_exports_have_the_coverage_apis_numbers(client, district, query):
    period = f"from={district.monday.isoformat()}&to={(district.monday + timedelta(days=27)).isoformat()}"
    data = api_rows(client, district, f"{period}&{query}")
    assert data["rows"], "the filter should leave something to compare"
    width = {"school": 2, "week": 2}.get(data["by"], 0)
    wanted = [[r["key"], r["name"]] + [r[n] for n in NUMBERS] for r in data["rows"]]
    wanted.append(["total", "Jumlah"] + [data["total"][n] for n in NUMBERS])

    as_csv = client.get(f"/api/v1/reports/coverage?{period}&{query}&format=csv", headers=district.headers("admin"))
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    header, *rows = read_csv(as_csv)
    assert header[:2] == ["Kode", "Nama"] and header[-1] == "Setara guru belum terisi"
    got = [[r[0], r[1]] + [float(x) for x in r[2 + width :]] for r in rows]
    assert got == [[w[0], w[1]] + [float(x) for x in w[2:]] for w in wanted]

    as_xlsx = client.get(f"/api/v1/reports/coverage?{period}&{query}&format=xlsx", headers=district.headers("admin"))
    assert as_xlsx.status_code == 200 and as_xlsx.mimetype.endswith("spreadsheetml.sheet")
    [(title, sheet)] = read_xlsx(as_xlsx).items()
    assert sheet[0] == header
    assert [[r[0], r[1]] + r[2 + width :] for r in sheet[1:]] == wanted


def test_the_whole_workbook_has_a_sheet_per_table_and_csv_names_kecamatan(client, district):
    period = f"from={district.monday.isoformat()}&to={district.monday.isoformat()}"
    book = read_xlsx(
        client.get(f"/api/v1/reports/coverage?{period}&by=all&format=xlsx", headers=district.headers("admin"))
    )
    assert list(book) == ["Kecamatan", "Sekolah", "Mata pelajaran", "Jenjang", "Minggu"]
    names = {row[1] for row in book["Kecamatan"][1:]}
    assert "Pasar Muaro Bungo" in names
    schools = {row[0]: row for row in book["Sekolah"][1:]}
    assert schools[district.world.school_a.npsn][1:4] == ["SMP NEGERI 1 MUARA BUNGO", "Pasar Muaro Bungo", "SMP"]


def test_lesson_records_for_report_cards_per_school_and_month(client, district):
    world = district.world
    held = next(s for s in world.order_a.sessions if s.status == "held")
    held.topic = '=HYPERLINK("http://evil")'  # typed by someone: must reach the sheet as text
    db.session.commit()
    month = district.monday.strftime("%Y-%m")
    response = client.get(f"/api/v1/reports/lesson-records?school_id={world.school_a.npsn}&month={month}",
                          headers=world.headers("admin"))  # fmt: skip
    assert response.status_code == 200
    header, *rows = read_csv(response)
    assert header == ["Kelas", "Kode mapel", "Mata pelajaran", "Tanggal", "Mulai", "Selesai", "JP", "Guru", "NUPTK",
                      "Kehadiran guru", "Materi", "Siswa hadir", "Catatan"]  # fmt: skip
    by_class = {(r[0], r[1], r[3], r[4]): r for r in rows}
    # Held and missed lessons of school A (two classes), never the booked or open ones, nor school B's.
    assert len(rows) == 3 and {r[0] for r in rows} == {"VII A", "VIII B"}
    first = by_class[("VII A", "MTK", district.monday.isoformat(), "07:30")]
    assert first[2] == "Matematika" and first[6] == "2" and first[7] == "Siti Lubis" and first[9] == "hadir"
    assert first[10] == '\'=HYPERLINK("http://evil")' and first[11] == "28"
    assert any(r[9] == "tidak hadir" for r in rows)
    book = read_xlsx(client.get(f"/api/v1/reports/lesson-records?school_id={world.school_a.npsn}&month={month}"
                                "&format=xlsx", headers=world.headers("admin")))  # fmt: skip
    [sheet] = book.values()
    assert [r[10] for r in sheet[1:] if r[0] == "VII A" and r[9] == "hadir"] == ['\'=HYPERLINK("http://evil")']
    assert [r[6] for r in sheet[1:]] == [2, 2, 2]  # numbers stay numbers
    # The school's operator gets their own school without naming it; another school is a 404.
    own = client.get(f"/api/v1/reports/lesson-records?month={month}", headers=world.headers("op_a"))
    assert own.status_code == 200 and len(read_csv(own)) == 4
    other = client.get(f"/api/v1/reports/lesson-records?school_id={world.school_a.npsn}&month={month}",
                       headers=world.headers("op_b"))  # fmt: skip
    assert other.status_code == 404


def test_teaching_hours_per_teacher_and_month_count_taught_periods(client, district):
    month = district.monday.strftime("%Y-%m")
    response = client.get(
        f"/api/v1/reports/teaching-hours?month={month}&format=xlsx", headers=district.headers("admin")
    )
    [sheet] = read_xlsx(response).values()
    rows = {r[1]: r for r in sheet[1:]}
    # Siti: two lessons held (4 JP) at one school, one missed (2 JP), one booked ahead (2 JP).
    assert rows["Siti Lubis"][4:] == [2, 4, 1, 2, 2]
    # Rina: one held at the SD (2 JP), one booked at the SMA.
    assert rows["Rina Harahap"][2:] == ["1234567890123456", "Tanah Tumbuh", 1, 2, 1, 0, 2]
    assert "Budi Saputra" not in rows  # taught nothing


def test_bad_report_queries_name_the_field(client, district):
    admin = district.headers("admin")
    bad_month = client.get("/api/v1/reports/teaching-hours?month=2026-13", headers=admin)
    assert bad_month.status_code == 422 and "month" in bad_month.get_json()["errors"]["query"]
    bad_format = client.get("/api/v1/reports/coverage?format=pdf", headers=admin)
    assert bad_format.status_code == 422 and "format" in bad_format.get_json()["errors"]["query"]
    no_school = client.get("/api/v1/reports/lesson-records?month=2026-01", headers=admin)
    assert no_school.status_code == 422 and "school_id" in no_school.get_json()["errors"]["query"]
    assert client.get("/api/v1/reports/lesson-records?school_id=99999999", headers=admin).status_code == 404
    assert client.get("/api/v1/reports/teaching-hours", headers=district.headers("op_a")).status_code == 403
    assert client.get("/api/v1/reports/coverage").status_code == 401
