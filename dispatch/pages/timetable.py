"""The school day's periods (jam pelajaran) per level, for the order form's period pickers.

Indonesian schools start at 07:30 and break after the fourth period; a period lasts 35 (SD),
40 (SMP) or 45 (SMA, SMK) minutes (scheduling.PERIOD_MINUTES). The form turns "periods 3 to 4"
into the start and end times the API takes, so an order is always whole periods.
"""

from __future__ import annotations

from scheduling import PERIOD_MINUTES, format_hhmm

DAY_STARTS = 7 * 60 + 30
BREAK_AFTER = 4  # periods before the break (istirahat)
BREAK_MINUTES = 15
PERIODS_PER_DAY = {"SD": 8, "SMP": 9, "SMA": 10, "SMK": 10}


def timetable(level: str) -> list[dict]:
    """[{"period": 1, "start": "07:30", "end": "08:10"}, ...] for the level (SLB follows SD)."""
    level = level if level in PERIOD_MINUTES else "SD"
    minutes, start, out = PERIOD_MINUTES[level], DAY_STARTS, []
    for period in range(1, PERIODS_PER_DAY[level] + 1):
        if period == BREAK_AFTER + 1:
            start += BREAK_MINUTES
        out.append({"period": period, "start": format_hhmm(start), "end": format_hhmm(start + minutes)})
        start += minutes
    return out
