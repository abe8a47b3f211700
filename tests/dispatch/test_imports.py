"""CSV import: good rows written, bad rows reported by row and field, wrong encodings refused."""

import io

from dispatch.extensions import db
from dispatch.schools.models import School
from dispatch.teachers.models import Teacher

SCHOOLS_CSV = """npsn,name,level,status,lat,lon,kecamatan_code,address
10599101,SD NEGERI 1 UJI,SD,Negeri,-1.4861,102.1177,15.08.03,Jl. Uji
10599102,SMP NEGERI 2 UJI,SMP,S,-1.49,102.12,,
1059910,SMP PENDEK,SMP,Negeri,-1.49,102.12,,
10599104,SMA LINTANG,SMA,Negeri,-95,102.12,,
"""

DAPODIK_SCHOOLS = """NPSN;Nama Sekolah;Bentuk Pendidikan;Status Sekolah;Lintang;Bujur;Alamat Jalan
10599201;SD NEGERI 9 UJI;SD;N;-1,4861;102,1177;Desa Uji
"""

TEACHERS_CSV = """nama,nuptk,lintang,bujur,radius_km,mapel,jenjang,jjm,ketersediaan
Siti Aminah,1111222233334444,-1.49,102.10,12,MTK;IPA,SMP,24,0 07:00-12:30; 2 07:00-11:00
Budi Santoso,,-1.48,102.11,10,ASTRO,SMP,24,0 07:00-12:30
Rina Wati,,-1.48,102.11,10,BIND,SMP,24,8 07:00-12:30
"""


def upload(client, world, kind, content: bytes, name="data.csv"):
    return client.post(
        f"/api/v1/import/{kind}",
        data={"file": (io.BytesIO(content), name)},
        headers=world.headers("admin"),
        content_type="multipart/form-data",
    )


def test_schools_good_rows_written_bad_rows_reported(client, world):
    response = upload(client, world, "schools", SCHOOLS_CSV.encode())
    assert response.status_code == 200
    result = response.get_json()
    assert (result["created"], result["updated"]) == (2, 0)
    assert {(e["row"], e["field"]) for e in result["errors"]} == {(4, "npsn"), (5, "lat")}
    assert db.session.get(School, "10599102").status == "Swasta"
    assert db.session.get(School, "1059910") is None


def test_second_import_updates(client, world):
    upload(client, world, "schools", SCHOOLS_CSV.encode())
    result = upload(client, world, "schools", SCHOOLS_CSV.encode()).get_json()
    assert (result["created"], result["updated"]) == (0, 2)


def test_dapodik_headers_semicolons_and_bom(client, world):
    result = upload(client, world, "schools", b"\xef\xbb\xbf" + DAPODIK_SCHOOLS.encode()).get_json()
    assert result == {"created": 1, "updated": 0, "errors": []}
    school = db.session.get(School, "10599201")
    assert (school.level, school.status, school.address) == ("SD", "Negeri", "Desa Uji")


def test_wrong_encoding_is_refused_naming_the_file(client, world):
    latin1 = "npsn,name,level,lat,lon\n10599301,SD CAÑADA,SD,-1.5,102.1\n".encode("latin-1")
    response = upload(client, world, "schools", latin1)
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]["files"]
    assert db.session.get(School, "10599301") is None


def test_utf16_excel_export_is_read(client, world):
    content = "npsn,name,level,lat,lon\n10599302,SD ÜJI,SD,-1.5,102.1\n".encode("utf-16")
    assert upload(client, world, "schools", content).get_json()["created"] == 1


def test_row_with_extra_cells_is_reported(client, world):
    content = b"npsn,name,level,lat,lon\n10599303,SD A,SD,-1.5,102.1,extra\n10599304,SD B,SD,-1.5,102.1\n"
    result = upload(client, world, "schools", content).get_json()
    assert result["created"] == 1 and result["errors"][0]["row"] == 2


def test_missing_and_empty_file(client, world):
    response = client.post("/api/v1/import/schools", headers=world.headers("admin"), data={})
    assert response.status_code == 422 and "file" in response.get_json()["errors"]["files"]
    assert upload(client, world, "schools", b"").status_code == 422


def test_teachers_import(client, world):
    response = upload(client, world, "teachers", TEACHERS_CSV.encode())
    assert response.status_code == 200
    result = response.get_json()
    assert result["created"] == 1
    assert {(e["row"], e["field"]) for e in result["errors"]} == {(3, "subjects"), (4, "availability.0.day")}
    siti = db.session.scalar(db.select(Teacher).where(Teacher.nuptk == "1111222233334444"))
    assert siti.subjects == ["MTK", "IPA"]
    assert siti.availability == [
        {"day": 0, "start": "07:00", "end": "12:30"},
        {"day": 2, "start": "07:00", "end": "11:00"},
    ]
    again = upload(client, world, "teachers", TEACHERS_CSV.encode()).get_json()
    assert (again["created"], again["updated"]) == (0, 1)


def test_cli_import_reports_rows(app, runner, world, tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text(SCHOOLS_CSV)
    result = runner.invoke(args=["import-csv", "schools", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 2, updated 0, rejected rows 2" in result.output
    assert "row 4: npsn" in result.output
