"""The numbered changes of each phone room (dispatch/live/marks.py): a row per room, written by the
transaction that changes what the room's phones show, so a number read is always a committed one."""

from __future__ import annotations

from dispatch.extensions import db

EPOCH_ROOM = "~epoch"  # one row whose number names this database (set by its migration); no room starts with "~"


class LiveMark(db.Model):
    __tablename__ = "live_mark"

    room = db.Column(db.String(64), primary_key=True)
    seq = db.Column(db.BigInteger, nullable=False)
