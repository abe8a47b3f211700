"""The words the pages' scripts show, translated on the server (Flask-Babel) and sent with the page."""

from __future__ import annotations

from flask_babel import gettext as _

from dispatch.ratings.models import TAGS


def status_labels() -> dict[str, str]:
    return {
        "open": _("terbuka"),
        "offered": _("ditawarkan"),
        "partly_booked": _("sebagian terisi"),
        "booked": _("terisi"),
        "held": _("terlaksana"),
        "completed": _("selesai"),
        "no_show": _("guru tidak hadir"),
        "cancelled": _("dibatalkan"),
        "expired": _("kedaluwarsa"),
    }


def common() -> dict:
    return {
        "labels": status_labels(),
        "connected": _("tersambung"),
        "reconnecting": _("menyambung ulang…"),
        "not_connected": _("belum tersambung"),
        "failed": _("Gagal, coba lagi."),
        "urgent": _("mendesak"),
        "periods": _("{n} JP"),
        "sessions": _("{n} sesi"),
        "class": _("kelas {name}"),
        "m_required": _("wajib diisi"),
        "m_date": _("tanggal tidak valid"),
        "m_time": _("jam tidak valid (JJ:MM)"),
        "m_after_start": _("harus sesudah jam mulai"),
        "m_until": _("tidak boleh sebelum tanggal mulai"),
        "m_past": _("{when} sudah lewat"),
        "m_overlap": _("bertabrakan dengan sesi lain di pesanan ini"),
        "m_one_way": _("pilih tanggal tunggal atau pola mingguan"),
        "m_no_dates": _("pola ini tidak menghasilkan tanggal apa pun"),
        "m_too_many": _("pola ini menghasilkan {n} sesi; paling banyak 400"),
        "m_length": _("panjangnya tidak sesuai"),
        "m_range": _("harus antara {min} dan {max}"),
        "m_at_least": _("paling sedikit {min}"),
        "m_at_most": _("paling banyak {max}"),
        "m_number": _("harus berupa angka"),
        "m_one_of": _("pilih salah satu dari daftar"),
        "m_level": _("jenjang sekolah ini {level}"),
        "m_subject": _("mata pelajaran tidak ada di daftar kabupaten"),
        "m_too_far": _("Anda {m} m dari sekolah; absen hanya bisa dalam {allowed} m."),
        "m_too_early": _("Absen dibuka 30 menit sebelum pelajaran dan ditutup saat pelajaran selesai."),
        "m_check_in_first": _("Absen dulu: catatan hanya untuk pelajaran yang terlaksana."),
        "m_taken": _("Sudah diambil guru lain."),
        "m_expired": _("Waktunya sudah habis."),
        "m_cancelled": _("Dibatalkan sekolah."),
        "m_clash": _("Bertabrakan dengan jadwal Anda."),
        "m_started": _("Pelajaran sudah dimulai; hubungi sekolah."),
        "m_not_started": _("Bisa setelah pelajaran dimulai."),
    }


def teacher() -> dict:
    return {
        "from_home": _("{km} km dari rumah"),
        "left": _("sisa {time}"),
        "expired_now": _("waktu habis"),
        "accept": _("Terima"),
        "decline": _("Tolak"),
        "decline_reason": _("Alasan menolak"),
        "accepted": _("Diterima: pelajaran masuk jadwal Anda."),
        "declined": _("Ditolak."),
        "offer_gone": _("Tawaran ini tidak bisa diterima: {why}"),
        "queued": _("Tidak ada sinyal: disimpan dan dikirim saat sinyal kembali."),
        "queue_waiting": _("{n} tindakan menunggu sinyal."),
        "sent_later": _("Terkirim setelah sinyal kembali: {what}"),
        "no_offers": _("Belum ada tawaran. Tawaran baru muncul di sini."),
        "no_open": _("Tidak ada pesanan terbuka yang cocok di dekat Anda."),
        "no_week": _("Belum ada pelajaran terjadwal."),
        "claim": _("Ambil"),
        "claimed": _("Diambil: pelajaran masuk jadwal Anda."),
        "all": _("Semua"),
        "check_in": _("Absen di sekolah"),
        "checked_in": _("Sudah absen pukul {time}."),
        "checking": _("Mencari lokasi Anda…"),
        "no_location": _("Lokasi tidak tersedia: izinkan lokasi di browser, lalu coba lagi."),
        "too_early": _("Absen dibuka pukul {time} (30 menit sebelum pelajaran)."),
        "too_far": _("Anda {m} m dari sekolah; absen hanya bisa dalam {allowed} m."),
        "checkin_done": _("Absen tercatat. Selamat mengajar!"),
        "record": _("Catatan pelajaran"),
        "topic": _("Materi"),
        "present": _("Siswa hadir"),
        "notes": _("Catatan (boleh kosong)"),
        "save_record": _("Simpan catatan"),
        "record_saved": _("Catatan tersimpan."),
        "recorded": _("Catatan sudah diisi"),
        "map": _("Peta"),
        "withdraw": _("Mundur"),
        "withdraw_reason": _("Alasan mundur"),
        "withdraw_late": _(
            "Perhatian: kurang dari {hours} jam sebelum pelajaran, mundur sekarang tercatat sebagai terlambat. Lanjutkan?"
        ),
        "withdraw_sure": _("Mundur dari pelajaran ini? Sekolah akan dicarikan guru lain."),
        "withdrawn": _("Anda mundur; pelajaran ditawarkan ke guru lain."),
        "withdraw_needs_signal": _("Mundur perlu sinyal; coba lagi nanti."),
        "starts_in": _("Mulai {mins} menit lagi"),
        "running": _("Sedang berlangsung"),
        "score": _("Nilai"),
        "interval": _("kisaran {low}–{high}"),
        "ratings_count": _("{n} penilaian"),
        "no_ratings": _("Belum ada penilaian dari siswa."),
        "tags_title": _("Kata siswa"),
        "stars_title": _("Bintang"),
        "log_in_again": _("Sesi berakhir: masuk lagi, lalu tindakan yang menunggu akan dikirim."),
        "offline_copy": _("Luring: menampilkan data terakhir ({when})."),
    }


def decline_reasons() -> list[str]:
    return [_("Ada jadwal lain"), _("Terlalu jauh"), _("Sakit"), _("Urusan keluarga"), _("Lainnya")]


def tag_labels() -> dict[str, str]:
    labels = {
        "jelas": _("jelas"),
        "menarik": _("menarik"),
        "sabar": _("sabar"),
        "tepat_waktu": _("tepat waktu"),
        "membantu": _("membantu"),
        "kurang_jelas": _("kurang jelas"),
        "terlambat": _("terlambat"),
        "membosankan": _("membosankan"),
    }
    return {tag: labels.get(tag, tag) for tag in TAGS}


def order_reasons() -> dict[str, str]:
    return {"vacancy": _("Kekosongan guru"), "substitute": _("Pengganti guru yang berhalangan")}


def weekdays() -> list[str]:
    return [_("Senin"), _("Selasa"), _("Rabu"), _("Kamis"), _("Jumat"), _("Sabtu"), _("Minggu")]


def school() -> dict:
    return {
        "posted": _("Pesanan terkirim."),
        "fix_fields": _("Periksa isian yang ditandai."),
        "cancel": _("Batalkan pesanan"),
        "cancel_sure": _("Batalkan pesanan ini? Guru yang sudah terjadwal akan diberi tahu."),
        "cancelled_ok": _("Pesanan dibatalkan."),
        "confirm": _("Konfirmasi terlaksana"),
        "confirmed": _("dikonfirmasi"),
        "flag_late": _("Terlambat"),
        "flag_no_show": _("Tidak hadir"),
        "flagged": _("ditandai: {flag}"),
        "flag_names": {"late": _("terlambat"), "no_show": _("tidak hadir")},
        "qr": _("Kode QR untuk siswa"),
        "checked_in": _("sudah absen"),
        "no_teacher": _("belum ada guru"),
        "saved": _("Tersimpan."),
        "no_orders": _("Belum ada pesanan."),
        "period_from_to": _("jam ke-{a} s.d. {b}"),
    }
