"""Closing a user's open sockets once the transaction that ended their sessions has committed.

`dispatch.accounts.sessions.end_all_sessions` rotates the user's stamp and marks them; after the
commit this emits the internal event that every server process's client manager turns into a
disconnect of that user's sockets (`dispatch/live/manager.py`). A rollback closes nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from dispatch.accounts.sessions import PENDING_SOCKET_CLOSE
from dispatch.extensions import socketio
from dispatch.live import user_room
from dispatch.live.manager import END_SESSIONS_EVENT

log = logging.getLogger(__name__)


def disconnect_user(user_id: int, stamp: str) -> None:
    """Close the user's sockets opened with `stamp` (the one just ended), in every process."""
    if socketio.server is None:
        return
    try:
        socketio.emit(END_SESSIONS_EVENT, {"stamp": stamp}, to=user_room(user_id))
    except Exception:  # the stamp already refuses them on their next request or reconnect
        log.exception("could not close the sockets of user %s", user_id)


def _after_commit(session: Session) -> None:
    for user_id, stamp in sorted(session.info.pop(PENDING_SOCKET_CLOSE, {}).items()):
        disconnect_user(user_id, stamp)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_SOCKET_CLOSE, None)


def install() -> None:
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
