"""Geodesic distance (WGS-84) through geopy: the distance every rule uses, one pair at a time."""

from __future__ import annotations

import math

from geopy.distance import geodesic

from scheduling.tolerances import BOX_KM_PER_DEGREE


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return geodesic(a, b).km


def box_degrees(lat: float, km: float) -> tuple[float, float]:
    """(degrees of latitude, degrees of longitude) of a box around a point at `lat` that holds every
    point within `km`: a cheap filter before the exact distance (a database range query)."""
    widen = 1.0 / max(math.cos(math.radians(min(abs(lat) + km / BOX_KM_PER_DEGREE, 89.0))), 1e-6)
    return km / BOX_KM_PER_DEGREE, km / BOX_KM_PER_DEGREE * widen
