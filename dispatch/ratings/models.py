"""Stored ratings: one per session per device, with no account and nothing that names the student."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db

TAGS = ("jelas", "menarik", "sabar", "tepat_waktu", "membantu", "kurang_jelas", "terlambat", "membosankan")


class Rating(db.Model):
    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("session_id", "device_hash", name="uq_rating_session_device"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("lesson_session.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id"), index=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("school.npsn"))
    stars: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A keyed hash of the device id: enough to refuse a second rating, useless to identify anyone.
    device_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
