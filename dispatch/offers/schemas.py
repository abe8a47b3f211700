"""Offers as the API and the phones' `offer` event show them."""

from marshmallow import Schema, fields

from dispatch.schools.places import kecamatan_name, km_from_home, school_of
from dispatch.validation import Instant
from scheduling import format_hhmm


class OfferOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    school_id = fields.String()
    session_ids = fields.List(fields.Integer())
    expires_at = Instant()
    status = fields.String()
    wave = fields.Integer()
    # What a teacher needs to decide on a small screen (also in the Socket.IO `offer` event).
    school_name = fields.Function(lambda o: school_of(o.order.school_id).name)
    kecamatan = fields.Function(lambda o: kecamatan_name(school_of(o.order.school_id)), allow_none=True)
    distance_km = fields.Function(
        lambda o: km_from_home(o.teacher_id, school_of(o.order.school_id)),
        allow_none=True,
        metadata={"description": "from the teacher's home point to the school"},
    )
    subject = fields.Function(lambda o: o.order.subject)
    level = fields.Function(lambda o: o.order.level)
    class_name = fields.Function(lambda o: o.order.class_name)
    urgent = fields.Function(lambda o: o.order.urgent)
    sessions = fields.Method(
        "_sessions", metadata={"description": "the offered sessions: date, weekday, times, periods"}
    )

    def _sessions(self, offer):
        wanted = set(offer.session_ids)
        return [
            {"id": s.id, "date": s.date.isoformat(), "day": s.date.weekday(), "start": format_hhmm(s.start_min),
             "end": format_hhmm(s.end_min), "periods": s.periods}
            for s in sorted(offer.order.sessions, key=lambda s: (s.date, s.start_min))
            if s.id in wanted
        ]  # fmt: skip
