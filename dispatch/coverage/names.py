"""What the district office reads instead of codes: subject and level names.

Subject codes are the district's own list (`District.subjects`); these are the usual names of the
national curriculum's codes. A code not listed here is shown as itself.
"""

from __future__ import annotations

SUBJECT_NAMES = {
    "GK": "Guru Kelas",
    "PAI": "Pendidikan Agama Islam",
    "PJOK": "Pendidikan Jasmani, Olahraga dan Kesehatan",
    "BIND": "Bahasa Indonesia",
    "BING": "Bahasa Inggris",
    "MTK": "Matematika",
    "IPA": "Ilmu Pengetahuan Alam",
    "IPS": "Ilmu Pengetahuan Sosial",
    "IPAS": "Ilmu Pengetahuan Alam dan Sosial",
    "PPKN": "Pendidikan Pancasila",
    "SBD": "Seni Budaya",
    "INF": "Informatika",
    "FIS": "Fisika",
    "KIM": "Kimia",
    "BIO": "Biologi",
    "EKO": "Ekonomi",
    "GEO": "Geografi",
    "SOS": "Sosiologi",
    "SEJ": "Sejarah",
    "AKL": "Akuntansi dan Keuangan Lembaga",
    "TKJ": "Teknik Komputer dan Jaringan",
    "OTKP": "Otomatisasi dan Tata Kelola Perkantoran",
    "BDP": "Bisnis Daring dan Pemasaran",
    "TBSM": "Teknik dan Bisnis Sepeda Motor",
    "TKR": "Teknik Kendaraan Ringan",
    "ATPH": "Agribisnis Tanaman Pangan dan Hortikultura",
    "APHP": "Agribisnis Pengolahan Hasil Pertanian",
}

LEVEL_NAMES = {
    "SD": "Sekolah Dasar",
    "SMP": "Sekolah Menengah Pertama",
    "SMA": "Sekolah Menengah Atas",
    "SMK": "Sekolah Menengah Kejuruan",
    "SLB": "Sekolah Luar Biasa",
}

NO_KECAMATAN = "?"  # a school without a kecamatan (the key coverage has always used)


def subject_name(code: str) -> str:
    return SUBJECT_NAMES.get(code, code)


def level_name(code: str) -> str:
    return LEVEL_NAMES.get(code, code)
