"""The named tolerances of the rules of place, in one place.

Every check of a distance against a radius, and every vectorised shortcut that must
agree with the exact geodesic, uses these; a loose literal elsewhere is a copy that
can drift.
"""

# A distance equal to a radius up to floating-point noise is within it (1 micrometre): the
# reference checker's `km <= radius_km + 1e-9`.
DISTANCE_EPSILON_KM = 1e-9

# The spherical (haversine) distance on the mean radius is within 0.56% of the WGS-84 geodesic
# (the meridian's and the prime vertical's radii of curvature lie 0.56% and 0.45% from it); pairs
# closer than this share of a boundary are decided by the ellipsoidal formula instead.
HAVERSINE_BAND = 0.01

# The vectorised ellipsoidal formula (Vincenty) agrees with geopy's geodesic (Karney) to well
# under a millimetre; a distance this close to a boundary (a radius, or a whole minute of
# driving) is settled by geopy itself, one pair at a time. It never happens in practice.
SETTLE_BAND_KM = 1e-5

# Bounding boxes before an exact distance: a degree of latitude is at least 110.57 km and a
# degree of longitude 111.32 km times cos(latitude), so `km / BOX_KM_PER_DEGREE` degrees (with
# longitude widened by 1 / cos(latitude), see `geo.box_degrees`) always holds every point within `km`.
BOX_KM_PER_DEGREE = 100.0

# A session length or gap is compared in whole minutes; a teacher can never drive between two
# schools farther apart than this many minutes within one day, so it marks "never together".
NEVER_MINUTES = 24 * 60
