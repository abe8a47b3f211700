"""Live push over Socket.IO: who is in which room, and what is told to whom after each commit.

Rooms: a teacher's (`teacher:<id>`), a school's (`school:<npsn>`) and the district office's.
Events are collected while a transaction runs and emitted only after it commits, so
nobody is ever told of an offer or a booking that was rolled back. With REDIS_URL set,
every process (servers, the solver run, command-line jobs) emits through Redis and
each server delivers to the clients connected to it.
"""

DISTRICT_ROOM = "district"


def teacher_room(teacher_id: int) -> str:
    return f"teacher:{teacher_id}"


def school_room(school_id: str) -> str:
    return f"school:{school_id}"


def user_room(user_id: int) -> str:
    """Every connection of one account (ended together on a password change, reset or deactivation)."""
    return f"user:{user_id}"
