"""District settings and places."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from dispatch.district.models import DEFAULT_EQUITY_FLOOR, DEFAULT_SUBJECTS, District, Kecamatan, Village
from dispatch.exceptions import NotFound
from dispatch.extensions import db
from scheduling.geo import box_degrees, distance_km


def _from_config() -> District:
    cfg = current_app.config
    return District(
        id=1,
        code=cfg["DISTRICT_CODE"],
        name=cfg["DISTRICT_NAME"],
        timezone=cfg["DISTRICT_TIMEZONE"],
        road_speed_kmh=cfg["ROAD_SPEED_KMH"],
        travel_buffer_min=cfg["TRAVEL_BUFFER_MIN"],
        max_radius_km=cfg["MAX_RADIUS_KM"],
        offer_timeout_min=cfg["OFFER_TIMEOUT_MIN"],
        urgent_offer_timeout_min=cfg["URGENT_OFFER_TIMEOUT_MIN"],
        favourite_head_start_min=cfg["FAVOURITE_HEAD_START_MIN"],
        late_withdrawal_hours=cfg["LATE_WITHDRAWAL_HOURS"],
        checkin_distance_m=cfg["CHECKIN_DISTANCE_M"],
        checkin_grace_min=cfg["CHECKIN_GRACE_MIN"],
        date_horizon_days=cfg["DATE_HORIZON_DAYS"],
        ratings_per_code=cfg["RATINGS_PER_CODE"],
        subjects=list(DEFAULT_SUBJECTS),
        holidays=[],
        equity_floor=DEFAULT_EQUITY_FLOOR,
    )


def held(obj):
    """Keep `obj` in this session's identity map until the session ends (the request's, or the job's).

    SQLAlchemy's identity map holds weak references: a row looked up by key in a loop, and dropped
    between the lookups, was read again each time (GET /api/v1/orders/open read the district row
    about 100 times and as many schools and kecamatan, at the morning peak). Held, it is read once per
    transaction, as any object the code keeps a reference to."""
    if obj is not None:
        db.session.info.setdefault("held", {})[(type(obj).__name__, db.inspect(obj).identity)] = obj
    return obj


def get_district() -> District:
    """The district row; before it is written, the configured defaults (nothing is written on read)."""
    return held(db.session.get(District, 1)) or _from_config()


def ensure_district() -> District:
    """Write the district row from the configured defaults if it is missing. The caller commits."""
    district = db.session.get(District, 1)
    if district is None:
        district = _from_config()
        db.session.add(district)
        db.session.flush()
    return district


def wall_clock(timezone: str) -> datetime:
    """The time now in `timezone`, without tzinfo. The one clock every rule reads (tests set it here)."""
    return datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)


def district_now() -> datetime:
    """Wall-clock time in the district's time zone, without tzinfo (all stored times are local)."""
    return wall_clock(get_district().timezone)


def district_today() -> date:
    return district_now().date()


def nearest_village(lat: float, lon: float, max_km: float = 15.0) -> Village | None:
    """The village whose centre is nearest the point, if one lies within `max_km`.

    Village polygons are not stored; the nearest centre is close enough to tell a
    home's or a school's kecamatan for coverage by area.
    """
    best, best_km = None, max_km
    box_lat, box_lon = box_degrees(lat, max_km)  # a cheap box first
    candidates = db.session.scalars(
        db.select(Village).where(
            Village.lat.between(lat - box_lat, lat + box_lat), Village.lon.between(lon - box_lon, lon + box_lon)
        )
    )
    for village in candidates:
        km = distance_km((lat, lon), (village.lat, village.lon))
        if km <= best_km:
            best, best_km = village, km
    return best


def kecamatan_exists(code: str) -> bool:
    return db.session.get(Kecamatan, code) is not None


# --- Rollout -------------------------------------------------------------------------------------
# A school in a kecamatan not yet live may post orders (the district sees the need, counted in
# coverage), but nothing is dispatched to or planned for them: no offer, no claim, no booking, no
# weekly plan, until the kecamatan goes live. Bookings made before it was switched off stand.

NOT_LIVE = "the school's kecamatan is not live yet (rollout): its orders wait until the district switches it on"


def kecamatan_live(code: str | None) -> bool:
    """Dispatch runs for schools here. A school with no kecamatan, or one the district does not list, is live."""
    if code is None:
        return True
    kecamatan = held(db.session.get(Kecamatan, code))
    return kecamatan is None or kecamatan.live


def set_kecamatan_live(code: str, live: bool) -> tuple[Kecamatan, bool]:
    """Switch one kecamatan; returns it and whether anything changed. The caller (the workflow) commits."""
    kecamatan = db.session.get(Kecamatan, code, with_for_update=True)
    if kecamatan is None:
        raise NotFound(f"No kecamatan {code}.")
    changed = kecamatan.live != live
    kecamatan.live = live
    db.session.flush()
    return kecamatan, changed
