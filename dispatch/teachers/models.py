"""Teachers: qualifications, home point, reach, weekly availability and load."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db
from scheduling import parse_hhmm


class Teacher(db.Model):
    __tablename__ = "teacher"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    nuptk: Mapped[str | None] = mapped_column(String(16), unique=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_km: Mapped[float] = mapped_column(Float)
    subjects: Mapped[list[str]] = mapped_column(JSON)
    levels: Mapped[list[str]] = mapped_column(JSON)
    max_periods: Mapped[int] = mapped_column(Integer)
    # [{"day": 0, "start": "07:00", "end": "12:30"}, ...], 0 = Monday
    availability: Mapped[list[dict]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="live")  # live / paused
    kecamatan_code: Mapped[str | None] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("village.code"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    def windows(self) -> list[tuple[int, int, int]]:
        """Availability as (day, start minute, end minute) tuples for the scheduling rules."""
        return windows_of(self.availability)


def windows_of(availability: list[dict]) -> list[tuple[int, int, int]]:
    return [(w["day"], parse_hhmm(w["start"]), parse_hhmm(w["end"])) for w in availability]
