"""The eligibility rules of `scheduling.rules` over whole arrays, for the solver.

Every function here decides exactly as its scalar twin does, pair by pair (a property test
holds them to it). Distances are geodesic (WGS-84) as the rules say, but the exact geodesic
is paid for only where it decides something:

- a haversine sorts most pairs at once: it is within 0.56% of the geodesic, so a pair
  farther than `HAVERSINE_BAND` from a boundary is decided by it;
- Vincenty's ellipsoidal formula, vectorised, measures the rest (it agrees with geopy's
  geodesic to well under a millimetre);
- geopy itself settles the few that fall within `SETTLE_BAND_KM` of a boundary (a radius,
  or a whole minute of driving), and any pair Vincenty cannot resolve (near-antipodal points).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from scheduling.geo import distance_km
from scheduling.tolerances import DISTANCE_EPSILON_KM, HAVERSINE_BAND, NEVER_MINUTES, SETTLE_BAND_KM

EARTH_KM = 6371.0088  # the mean radius: the sphere closest to WGS-84 on average

# WGS-84, as geopy's default ellipsoid.
_A_KM = 6378.137
_F = 1 / 298.257223563
_B_KM = _A_KM * (1 - _F)
_VINCENTY_ITERATIONS = 200
_VINCENTY_TOLERANCE = 1e-12

# A haversine this far (in km) beyond a zero-ish reach is still worth measuring exactly.
_TINY_KM = 1e-6


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle km on the mean sphere, broadcasting its arguments: a fast first sort only."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def vincenty_km(lat1, lon1, lat2, lon2) -> tuple[np.ndarray, np.ndarray]:
    """(km, converged): Vincenty's inverse formula on WGS-84, broadcasting its arguments.

    Where it does not converge (nearly antipodal points) `converged` is False and the km are
    not to be trusted; `geodesic_km` hands those to geopy."""
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (lat1, lon1, lat2, lon2)))
    big_l = np.radians((lon2 - lon1 + 180.0) % 360.0 - 180.0)
    u1 = np.arctan((1 - _F) * np.tan(np.radians(lat1)))
    u2 = np.arctan((1 - _F) * np.tan(np.radians(lat2)))
    sin_u1, cos_u1, sin_u2, cos_u2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    lam = big_l.copy()
    converged = np.zeros(lam.shape, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(_VINCENTY_ITERATIONS):
            sin_lam, cos_lam = np.sin(lam), np.cos(lam)
            sin_sigma = np.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
            cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
            sigma = np.arctan2(sin_sigma, cos_sigma)
            sin_alpha = np.where(sin_sigma == 0, 0.0, cos_u1 * cos_u2 * sin_lam / sin_sigma)
            cos2_alpha = 1 - sin_alpha**2
            # On the equator cos2_alpha is 0 and the term vanishes.
            cos_2sm = np.where(cos2_alpha == 0, 0.0, cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha)
            c = _F / 16 * cos2_alpha * (4 + _F * (4 - 3 * cos2_alpha))
            lam_next = big_l + (1 - c) * _F * sin_alpha * (
                sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm**2))
            )
            done = np.abs(lam_next - lam) <= _VINCENTY_TOLERANCE
            lam = np.where(converged, lam, lam_next)
            converged |= done
            if converged.all():
                break
        u_sq = cos2_alpha * (_A_KM**2 - _B_KM**2) / _B_KM**2
        big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
        big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
        delta_sigma = (
            big_b
            * sin_sigma
            * (
                cos_2sm
                + big_b
                / 4
                * (
                    cos_sigma * (-1 + 2 * cos_2sm**2)
                    - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)
                )
            )
        )
        km = _B_KM * big_a * (sigma - delta_sigma)
    converged &= np.isfinite(km)
    return np.where(converged, km, np.nan), converged


def _exact(km: np.ndarray, which: np.ndarray, lat1, lon1, lat2, lon2) -> None:
    """Replace km[which] by geopy's geodesic, in place (one pair at a time: keep `which` small)."""
    if not which.any():
        return
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (lat1, lon1, lat2, lon2)))
    for index in zip(*np.nonzero(which), strict=True):
        km[index] = distance_km((float(lat1[index]), float(lon1[index])), (float(lat2[index]), float(lon2[index])))


def geodesic_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic km (WGS-84), broadcasting: Vincenty, with geopy where Vincenty does not converge."""
    km, converged = vincenty_km(lat1, lon1, lat2, lon2)
    _exact(km, ~converged, lat1, lon1, lat2, lon2)
    return km


def within_reach(lat1, lon1, lat2, lon2, radius_km) -> tuple[np.ndarray, np.ndarray]:
    """(reached, km), broadcasting: `rules.within_reach` for every pair of points.

    `radius_km` is the reach already capped by the district's maximum (min of the two), as the
    scalar rule takes it. `km` is the geodesic wherever the pair is reached (and haversine for
    the pairs that a haversine alone sorted out as too far)."""
    radius = np.asarray(radius_km, dtype=float)
    km = haversine_km(lat1, lon1, lat2, lon2)
    radius = np.broadcast_to(radius, km.shape)
    reached = km <= radius * (1 - HAVERSINE_BAND)
    unsure = ~reached & (km <= radius * (1 + HAVERSINE_BAND) + _TINY_KM)
    # The reached ones need an exact km too (for the travel objective), the unsure ones to decide.
    measure = reached | unsure
    if measure.any():
        lat1, lon1, lat2, lon2 = (
            np.broadcast_to(np.asarray(x, dtype=float), km.shape)[measure] for x in (lat1, lon1, lat2, lon2)
        )
        exact, converged = vincenty_km(lat1, lon1, lat2, lon2)
        limit = radius[measure] + DISTANCE_EPSILON_KM
        settle = ~converged | (np.abs(exact - limit) <= SETTLE_BAND_KM)
        _exact(exact, settle, lat1, lon1, lat2, lon2)
        km[measure] = exact
        reached[measure] = exact <= limit
    return reached, km


def travel_minutes(km, speed_kmh: float, buffer_min: int) -> np.ndarray:
    """`rules.travel_minutes` over an array of exact km: ceil(km / speed * 60) + buffer, as int64."""
    return np.ceil(np.asarray(km, dtype=float) / speed_kmh * 60).astype(np.int64) + buffer_min


def travel_matrix(
    lat, lon, speed_kmh: float, buffer_min: int, max_km: float, deadline: float | None = None
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(minutes, km, complete), place x place: `rules.travel_minutes` between every two places at most
    `max_km` apart (and some a little farther; 0 on the diagonal, where the rule needs no drive),
    `NEVER_MINUTES` beyond (no teacher reaches both); km geodesic where measured, haversine beyond.

    `deadline` (a `time.monotonic()` value) stops the work between rows; the rows not reached stay
    `NEVER_MINUTES` (never together is always a safe answer) and `complete` is False."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    n = len(lat)
    minutes = np.full((n, n), NEVER_MINUTES, dtype=np.int64)
    km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(minutes, 0)
    np.fill_diagonal(km, 0.0)
    for a in range(n):
        if deadline is not None and time.monotonic() >= deadline:
            return minutes, km, False
        others = np.arange(a + 1, n)
        rough = haversine_km(lat[a], lon[a], lat[others], lon[others])
        others = others[rough <= max_km * (1 + HAVERSINE_BAND) + _TINY_KM]
        exact, converged = vincenty_km(lat[a], lon[a], lat[others], lon[others])
        # A km within the settle band of a whole minute's drive could round either way: geopy decides.
        drive = exact / speed_kmh * 60
        settle = ~converged | (np.abs(drive - np.round(drive)) * speed_kmh / 60 <= SETTLE_BAND_KM)
        _exact(exact, settle, lat[a], lon[a], lat[others], lon[others])
        km[a, others] = km[others, a] = exact
        minutes[a, others] = minutes[others, a] = travel_minutes(exact, speed_kmh, buffer_min)
    return minutes, km, True


@dataclass(frozen=True)
class Windows:
    """Every teacher's availability windows, flattened: window -> teacher, day, start, end."""

    n_teachers: int
    teacher: np.ndarray
    day: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def of(cls, per_teacher: Sequence[Iterable[tuple[int, int, int]]]) -> Windows:
        """From each teacher's (day, start, end) windows, as `rules.within_availability` takes them."""
        rows = [(t, d, a, b) for t, windows in enumerate(per_teacher) for d, a, b in windows]
        table = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
        return cls(len(per_teacher), table[:, 0], table[:, 1], table[:, 2], table[:, 3])

    def available(self, day: int, start_min: int, end_min: int) -> np.ndarray:
        """Teacher -> bool: `rules.within_availability` for one session time, every teacher at once."""
        inside = (self.day == day) & (self.start <= start_min) & (end_min <= self.end)
        mask = np.zeros(self.n_teachers, dtype=bool)
        mask[self.teacher[inside]] = True
        return mask


def qualified(teacher_quals: Sequence[Iterable[tuple[str, str]] | frozenset], subject: str, level: str) -> np.ndarray:
    """Teacher -> bool: `rules.qualified`, with each teacher's (subject, level) pairs."""
    key = (subject, level)
    return np.fromiter((key in q for q in teacher_quals), dtype=bool, count=len(teacher_quals))


def within_cap(load_periods, extra_periods, cap) -> np.ndarray:
    """`rules.within_cap` elementwise."""
    return np.asarray(load_periods) + np.asarray(extra_periods) <= np.asarray(cap)


def clash_minutes(a_start, a_end, b_start, b_end, travel_min) -> np.ndarray:
    """`rules.clash_minutes` elementwise: they overlap, or the gap is shorter than the drive."""
    a_start, a_end, b_start, b_end = (np.asarray(x) for x in (a_start, a_end, b_start, b_end))
    overlap = (a_start < b_end) & (b_start < a_end)
    gap = np.where(a_end <= b_start, b_start - a_end, a_start - b_end)
    return overlap | (gap < np.asarray(travel_min))


def clashes(a_day, a_start, a_end, a_place, b_day, b_start, b_end, b_place, travel: np.ndarray) -> np.ndarray:
    """`rules.clashes` elementwise, with `travel` a place x place minutes matrix (`travel_matrix`):
    sessions on one day clash when they overlap, or when the gap is shorter than the drive between
    their places (none at one place)."""
    a_place, b_place = np.asarray(a_place), np.asarray(b_place)
    need = np.where(a_place == b_place, 0, travel[a_place, b_place])
    return (np.asarray(a_day) == np.asarray(b_day)) & clash_minutes(a_start, a_end, b_start, b_end, need)
