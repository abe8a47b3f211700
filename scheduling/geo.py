"""Geodesic distance (WGS-84) through geopy: the distance every rule uses."""

from geopy.distance import geodesic


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return geodesic(a, b).km
