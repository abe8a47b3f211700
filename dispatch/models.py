"""Every model, imported in one place so that Alembic and the factory see all tables."""

from dispatch.accounts.models import User
from dispatch.bookings.models import Withdrawal
from dispatch.district.models import District, Kecamatan, SeedMarker, Village
from dispatch.idempotency import IdempotencyRecord
from dispatch.live_marks import LiveMark
from dispatch.offers.models import Offer
from dispatch.orders.models import LessonSession, Order
from dispatch.ratings.models import Rating
from dispatch.runs.models import MatchingRun
from dispatch.schools.models import School, school_blocked, school_favourite
from dispatch.teachers.models import Teacher

__all__ = [
    "District",
    "IdempotencyRecord",
    "LiveMark",
    "Kecamatan",
    "MatchingRun",
    "LessonSession",
    "Offer",
    "Order",
    "Rating",
    "School",
    "SeedMarker",
    "Teacher",
    "User",
    "Village",
    "Withdrawal",
    "school_blocked",
    "school_favourite",
]
