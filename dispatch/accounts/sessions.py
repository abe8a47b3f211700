"""Ending a user's sessions: every token, cookie session and open socket, at once.

A new session stamp makes every token and cookie that carries the old one worthless on its next
use. Open Socket.IO connections were checked only when they connected, so they are closed: after
the transaction commits, an internal event to the user's room tells every server process (through
the Redis message queue when there is one) to disconnect that user's sockets
(`dispatch/live/sessions.py`, `dispatch/live/manager.py`).
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from dispatch.accounts.models import ENDED_STAMPS, User
from dispatch.extensions import db

log = logging.getLogger(__name__)

# The users whose sockets must close once the transaction commits, with the stamp their sockets were opened
# with: `dispatch/live/sessions.py` does it.
PENDING_SOCKET_CLOSE = "accounts_end_sockets"


def end_all_sessions(user: User) -> None:
    """Rotate the user's stamp; their sockets close once the caller's transaction commits."""
    user.new_session_stamp()
    # The stamp being ended goes with the close: a socket of a later login (the new stamp) stays open, even
    # if this close reaches it late (published again after a Redis outage: dispatch/live/resync.py).
    ended = db.session.info.get(ENDED_STAMPS, {}).get(user.id)
    db.session.info.setdefault(PENDING_SOCKET_CLOSE, {})[user.id] = ended


def _forget_ended_stamps(session: Session) -> None:
    """A later transaction's rotation must name its own ended stamp, never this one's."""
    session.info.pop(ENDED_STAMPS, None)


event.listen(Session, "after_commit", _forget_ended_stamps)
event.listen(Session, "after_rollback", _forget_ended_stamps)
