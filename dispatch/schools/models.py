"""Schools, and each school's favourite and blocked teachers."""

from datetime import datetime

from sqlalchemy import Column, DateTime, Float, ForeignKey, String, Table, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db

school_favourite = Table(
    "school_favourite",
    db.metadata,
    Column("school_id", ForeignKey("school.npsn", ondelete="CASCADE"), primary_key=True),
    Column("teacher_id", ForeignKey("teacher.id", ondelete="CASCADE"), primary_key=True),
)

school_blocked = Table(
    "school_blocked",
    db.metadata,
    Column("school_id", ForeignKey("school.npsn", ondelete="CASCADE"), primary_key=True),
    Column("teacher_id", ForeignKey("teacher.id", ondelete="CASCADE"), primary_key=True),
)


class School(db.Model):
    __tablename__ = "school"

    npsn: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(4))
    status: Mapped[str | None] = mapped_column(String(10))  # Negeri / Swasta
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    kecamatan_code: Mapped[str | None] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    village_code: Mapped[str | None] = mapped_column(ForeignKey("village.code"))
    address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    favourites = relationship("Teacher", secondary=school_favourite, order_by="Teacher.id")
    blocked = relationship("Teacher", secondary=school_blocked, order_by="Teacher.id")

    @property
    def id(self) -> str:
        return self.npsn
