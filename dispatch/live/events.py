"""Socket.IO connections: a valid token (phones) or the page's cookie session, or no connection.

Each user joins their own room and their role's room, then hears `resume`: whether it missed anything
since the mark it handed back (dispatch/live/marks.py)."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy.exc import SQLAlchemyError

from dispatch.accounts.auth import user_from_token
from dispatch.extensions import db, socketio
from dispatch.live import DISTRICT_ROOM, school_room, teacher_room, user_room
from dispatch.live.manager import SOCKET_STAMP
from dispatch.live.marks import RESUME_EVENT, marked, marks_room, read_mark, resume


@socketio.on("connect")
def connect(auth=None):
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        if isinstance(token, str) and token:
            user = user_from_token(token)
        else:  # the web pages: the cookie session of the page that opened the connection
            user = current_user._get_current_object() if current_user.is_authenticated else None
    except SQLAlchemyError:  # the database is away: refused, and the client's backoff tries again
        db.session.rollback()
        raise ConnectionRefusedError("the service is unavailable; retry shortly") from None
    if user is None:
        raise ConnectionRefusedError("a valid token is required: connect with auth={'token': ...}")
    request.environ[SOCKET_STAMP] = user.session_stamp  # a close names the stamp it ends (live/manager.py)
    join_room(user_room(user.id))  # a password change or reset closes every connection in it
    if user.role == "teacher" and user.teacher_id is not None:
        room = teacher_room(user.teacher_id)
    elif user.role == "school_operator" and user.school_id is not None:
        room = school_room(user.school_id)
    elif user.role == "district_admin":
        room = DISTRICT_ROOM
    else:
        raise ConnectionRefusedError("this account has no room to listen to")
    wants_marks = isinstance(auth, dict) and "mark" in auth  # the pages do; other clients hear no more
    if wants_marks and db.session.get_bind().dialect.name == "sqlite":
        # SQLite reads from a snapshot taken at a transaction's first read: the count must be read in one
        # begun after the join. (PostgreSQL's read committed sees every commit before each statement.)
        db.session.rollback()
    join_room(room)
    if wants_marks:
        if marked(room):
            join_room(marks_room(room))
        # Joined first, then read: a change committed after the read is emitted after the join.
        try:
            verdict = resume(db.session, room, read_mark(auth))
        except SQLAlchemyError:  # unknown: the page fetches (and may find the database back)
            db.session.rollback()
            verdict = {"missed": True, "epoch": None, "seq": None}
        # To this socket only: through Redis every process would read it and find nobody to give it to.
        socketio.server.emit(RESUME_EVENT, verdict, to=request.sid, namespace="/", ignore_queue=True)
