"""The district's map as SVG drawn on the server: kecamatan polygons from GeoJSON, schools as points.

No tiles and no script: the page gets a few kilobytes of paths. Longitude is scaled by the cosine
of the middle latitude (an equirectangular projection), true enough over one regency.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

WIDTH = 1000.0
MARGIN = 10.0


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str  # kabupaten or kecamatan
    path: str  # SVG path data
    label: tuple[float, float]  # where its name goes


@dataclass(frozen=True)
class Map:
    width: float
    height: float
    areas: tuple[Area, ...]
    west: float
    north: float
    scale: float
    x_factor: float

    def point(self, lat: float, lon: float) -> tuple[float, float]:
        return (
            round(MARGIN + (lon - self.west) * self.x_factor * self.scale, 1),
            round(MARGIN + (self.north - lat) * self.scale, 1),
        )

    def kecamatan(self) -> list[Area]:
        return [a for a in self.areas if a.level == "kecamatan"]

    def outline(self) -> list[Area]:
        return [a for a in self.areas if a.level != "kecamatan"]


def _rings(geometry: dict) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return geometry["coordinates"]
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


@lru_cache(maxsize=4)
def load_map(path: str) -> Map:
    """The map of the file's kecamatan (and kabupaten outline), fitted to WIDTH."""
    with open(path, encoding="utf-8") as f:
        features = [x for x in json.load(f)["features"] if x["properties"].get("level") in ("kabupaten", "kecamatan")]
    points = [pt for x in features for ring in _rings(x["geometry"]) for pt in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    x_factor = math.cos(math.radians((north + south) / 2))
    scale = (WIDTH - 2 * MARGIN) / ((east - west) * x_factor)
    height = round((north - south) * scale + 2 * MARGIN, 1)
    frame = Map(WIDTH, height, (), west, north, scale, x_factor)
    areas = []
    for x in features:
        props = x["properties"]
        d = []
        for ring in _rings(x["geometry"]):
            xy = [frame.point(lat, lon) for lon, lat in ring]
            d.append("M" + " L".join(f"{px:g},{py:g}" for px, py in xy) + "Z")
        if "centroid_lat" in props:
            label = frame.point(props["centroid_lat"], props["centroid_lon"])
        else:
            label = frame.point(sum(p[1] for p in _rings(x["geometry"])[0]) / len(_rings(x["geometry"])[0]),
                                sum(p[0] for p in _rings(x["geometry"])[0]) / len(_rings(x["geometry"])[0]))  # fmt: skip
        areas.append(Area(props["code"], props.get("name", props["code"]), props["level"], " ".join(d), label))
    return Map(WIDTH, height, tuple(areas), west, north, scale, x_factor)


STOPS = ((0.0, (198, 40, 40)), (0.5, (249, 168, 37)), (1.0, (46, 125, 50)))  # red, amber, green
NO_DATA = "#e0e2e5"


def shade(coverage: float | None) -> str:
    """A colour for a share covered: red (none) through amber (half) to green (all)."""
    if coverage is None:
        return NO_DATA
    c = min(1.0, max(0.0, coverage))
    for (a, ca), (b, cb) in zip(STOPS, STOPS[1:], strict=False):
        if c <= b:
            t = (c - a) / (b - a)
            return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))
    return "#2e7d32"
