from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from dispatch.accounts.models import ROLES
from dispatch.validation import Id, StrictBoolean

USERNAME = validate.Regexp(r"^[A-Za-z0-9_.@-]{3,80}$", error="3-80 letters, digits or _.@-")


class TokenIn(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 80))
    password = fields.String(required=True, validate=validate.Length(1, 200))


class TokenOut(Schema):
    token = fields.String()
    role = fields.String()
    user_id = fields.Integer()
    expires_in = fields.Integer()


class UserIn(Schema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, validate=validate.Length(8, 200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    school_id = fields.String(allow_none=True)
    teacher_id = Id(allow_none=True)


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String()
    school_id = fields.String(allow_none=True)
    teacher_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


class PasswordChangeIn(Schema):
    current_password = fields.String(required=True, validate=validate.Length(1, 200))
    new_password = fields.String(required=True, validate=validate.Length(8, 200))


class UserPatch(Schema):
    password = fields.String(validate=validate.Length(8, 200))
    active = StrictBoolean()

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError("give password or active", "password")
