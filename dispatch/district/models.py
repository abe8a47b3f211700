"""The district: its settings, kecamatan and villages."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db

DEFAULT_SUBJECTS = [
    "GK", "PAI", "PJOK", "BIND", "BING", "MTK", "IPA", "IPS", "IPAS", "PPKN", "SBD", "INF",
    "FIS", "KIM", "BIO", "EKO", "GEO", "SOS", "SEJ",
    "AKL", "TKJ", "OTKP", "BDP", "TBSM", "TKR", "ATPH", "APHP",
]  # fmt: skip


DEFAULT_EQUITY_FLOOR = 0.8


class District(db.Model):
    """One row: the district this deployment serves and its policy."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    road_speed_kmh: Mapped[float] = mapped_column(Float)
    travel_buffer_min: Mapped[int] = mapped_column(Integer)
    max_radius_km: Mapped[float] = mapped_column(Float)
    offer_timeout_min: Mapped[int] = mapped_column(Integer)
    urgent_offer_timeout_min: Mapped[int] = mapped_column(Integer)
    # The school's favourite teachers have its orders to themselves this long before others hear.
    favourite_head_start_min: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # A teacher who withdraws this close to the lesson has it counted against their reliability.
    late_withdrawal_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    checkin_distance_m: Mapped[int] = mapped_column(Integer)
    checkin_grace_min: Mapped[int] = mapped_column(Integer)
    # Lessons and plans may be dated at most this many days ahead (a typo like 9999-12-31 is refused).
    date_horizon_days: Mapped[int] = mapped_column(Integer, default=400, server_default="400")
    # Most ratings one lesson's code takes: a class and a margin.
    ratings_per_code: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    subjects: Mapped[list[str]] = mapped_column(JSON)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Equity: the weekly plan keeps every kecamatan's coverage at least this share of the district's
    # (0.80: the worst at least 80% of the district's); None plans for coverage alone.
    equity_floor: Mapped[float | None] = mapped_column(
        Float, default=DEFAULT_EQUITY_FLOOR, server_default=str(DEFAULT_EQUITY_FLOOR)
    )

    def holiday_dates(self) -> list[date]:
        return [date.fromisoformat(d) for d in self.holidays or []]


class Kecamatan(db.Model):
    __tablename__ = "kecamatan"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Rollout: dispatch runs only in live kecamatan (town first, villages later).
    live: Mapped[bool] = mapped_column(Boolean, default=True)


class Village(db.Model):
    __tablename__ = "village"

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # desa or kelurahan
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class SeedMarker(db.Model):
    """One row per seeding that must happen at most once."""

    __tablename__ = "seed_marker"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
