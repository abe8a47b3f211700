"""Orders (one class's lessons in one subject at one school) and their sessions."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    func,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.extensions import db
from dispatch.lifecycle import OrderStatus, SessionStatus, check_constraint, order_status
from scheduling import at

ORDER_STATUSES = tuple(str(s) for s in OrderStatus)
SESSION_STATUSES = tuple(str(s) for s in SessionStatus)
REASONS = ("vacancy", "substitute")


class Order(db.Model):
    __tablename__ = "teaching_order"
    __table_args__ = (CheckConstraint(check_constraint("status", OrderStatus), name="status"),)
    lifecycle_kind = "order"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("school.npsn"), index=True)
    subject: Mapped[str] = mapped_column(String(10))
    level: Mapped[str] = mapped_column(String(4))
    class_name: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(12))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # The weekly pattern it was made from, if any: {"weekdays", "start", "end", "from", "until"}.
    weekly: Mapped[dict | None] = mapped_column(JSON)
    # Seed data marks its orders so a second seed run finds them.
    ref: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the favourites' head start ends and the next teachers are offered the order.
    next_wave_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    sessions: Mapped[list["LessonSession"]] = relationship(
        back_populates="order", order_by="(LessonSession.date, LessonSession.start_min)", cascade="all, delete-orphan"
    )
    school = relationship("School")

    def refresh_status(self) -> None:
        """Derive the order's status from its sessions' (`lifecycle.order_status`, the one rule)."""
        self.status = str(order_status([s.status for s in self.sessions], self.status))


class LessonSession(db.Model):
    __tablename__ = "lesson_session"
    __table_args__ = (
        Index("ix_lesson_session_teacher_date", "teacher_id", "date"),
        Index("ix_lesson_session_status_date", "status", "date"),
        CheckConstraint(check_constraint("status", SessionStatus), name="status"),
    )
    lifecycle_kind = "session"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("teaching_order.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date)
    start_min: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    end_min: Mapped[int] = mapped_column(Integer)
    periods: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teacher.id"))
    # Check-in: when, and how far from the school the phone said it was.
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    checkin_distance_m: Mapped[int | None] = mapped_column(Integer)
    # The lesson record, for the school's report cards.
    topic: Mapped[str | None] = mapped_column(String(300))
    present: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(String(2000))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The school's word on the lesson, kept apart from students' stars: confirmed held, or flagged.
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    flag: Mapped[str | None] = mapped_column(String(10))  # late / no_show
    # The short code students type (or scan) to rate the lesson.
    rating_code: Mapped[str | None] = mapped_column(String(8), unique=True)

    order: Mapped[Order] = relationship(back_populates="sessions")

    @property
    def starts_at(self) -> datetime:
        return at(self.date, self.start_min)

    @classmethod
    def started_by(cls, moment: datetime):
        """SQL: the session starts at or before `moment` (local time), for the clock's queries."""
        minute = moment.hour * 60 + moment.minute
        return or_(cls.date < moment.date(), and_(cls.date == moment.date(), cls.start_min <= minute))

    @property
    def ends_at(self) -> datetime:
        return at(self.date, self.end_min)
