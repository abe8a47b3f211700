"""Ending a user's sessions: every token, cookie session and open socket, at once.

A new session stamp makes every token and cookie that carries the old one worthless on its next
use. Open Socket.IO connections were checked only when they connected, so they are closed: after
the transaction commits, an internal event to the user's room tells every server process (through
the Redis message queue when there is one) to disconnect that user's sockets
(`dispatch/live/sessions.py`, `dispatch/live/manager.py`).
"""

from __future__ import annotations

import logging

from dispatch.accounts.models import User
from dispatch.extensions import db

log = logging.getLogger(__name__)

# The users whose sockets must close once the transaction commits: `dispatch/live/sessions.py` does it.
PENDING_SOCKET_CLOSE = "accounts_end_sockets"


def end_all_sessions(user: User) -> None:
    """Rotate the user's stamp; their sockets close once the caller's transaction commits."""
    user.new_session_stamp()
    db.session.info.setdefault(PENDING_SOCKET_CLOSE, set()).add(user.id)
