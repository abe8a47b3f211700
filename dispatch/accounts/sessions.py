"""Ending a user's sessions: every token, cookie session and open socket, at once.

A new session stamp makes every token and cookie that carries the old one worthless on its next
use. Open Socket.IO connections were checked only when they connected, so they are closed: after
the transaction commits, an internal event to the user's room tells every server process (through
the Redis message queue when there is one) to disconnect that user's sockets
(`dispatch/live/manager.py`).
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from dispatch.accounts.models import User
from dispatch.extensions import db

log = logging.getLogger(__name__)

_PENDING = "accounts_end_sockets"


def end_all_sessions(user: User) -> None:
    """Rotate the user's stamp; their sockets close once the caller's transaction commits."""
    user.new_session_stamp()
    db.session.info.setdefault(_PENDING, set()).add(user.id)


def disconnect_user(user_id: int) -> None:
    from dispatch.extensions import socketio
    from dispatch.live import user_room
    from dispatch.live.manager import END_SESSIONS_EVENT

    if socketio.server is None:
        return
    try:
        socketio.emit(END_SESSIONS_EVENT, {}, to=user_room(user_id))
    except Exception:  # the stamp already refuses them on their next request or reconnect
        log.exception("could not close the sockets of user %s", user_id)


def _after_commit(session: Session) -> None:
    for user_id in sorted(session.info.pop(_PENDING, ())):
        disconnect_user(user_id)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def install() -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
