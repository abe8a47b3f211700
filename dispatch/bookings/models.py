"""A teacher's withdrawal from a booked session: kept for the reliability shown beside ratings."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.extensions import db


class Withdrawal(db.Model):
    __tablename__ = "withdrawal"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("lesson_session.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("teaching_order.id", ondelete="CASCADE"), index=True)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("teacher.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    # Within the district's late-withdrawal hours of the lesson: counted against reliability.
    late: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
