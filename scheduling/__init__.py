"""Rules of time and place, pure Python: no Flask, no database.

Used by `matching` (the solver) and by `dispatch` (the atomic booking path)
alike, so that both read every rule the same way: `rules` one pair at a time,
`vectorised` the same rules over arrays, tested to agree pair by pair.
"""

from scheduling.rules import (
    LEVELS,
    PERIOD_MINUTES,
    Slot,
    at,
    clashes,
    expand_weekly,
    format_hhmm,
    parse_hhmm,
    periods_for,
    travel_minutes,
    week_of,
    within_availability,
)

__all__ = [
    "LEVELS",
    "PERIOD_MINUTES",
    "Slot",
    "at",
    "clashes",
    "expand_weekly",
    "format_hhmm",
    "parse_hhmm",
    "periods_for",
    "travel_minutes",
    "week_of",
    "within_availability",
]
