"""Offers: an order's open sessions proposed to one teacher, until accepted, declined or expired."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.lifecycle import OfferStatus, check_constraint

OFFER_STATUSES = tuple(str(s) for s in OfferStatus)


class Offer(db.Model):
    __tablename__ = "offer"
    __table_args__ = (CheckConstraint(check_constraint("status", OfferStatus), name="status"),)
    lifecycle_kind = "offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("teaching_order.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id"), index=True)
    session_ids: Mapped[list[int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    wave: Mapped[int] = mapped_column(Integer, default=1)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    order = relationship("Order")

    @property
    def school_id(self) -> str:
        return self.order.school_id
