from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from dispatch.accounts.auth import issue_token, roles_required
from dispatch.accounts.schemas import TokenIn, TokenOut, UserIn, UserOut
from dispatch.accounts.service import authenticate, create_user
from dispatch.idempotency import write_operation

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Log in and manage users")


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(TokenIn)
    @blp.response(200, TokenOut)
    def post(self, data):
        """Exchange a username and password for a bearer token."""
        user = authenticate(data["username"], data["password"])
        if user is None:
            abort(401, message="Wrong username or password.")
        return {
            "token": issue_token(user),
            "role": user.role,
            "user_id": user.id,
            "expires_in": current_app.config["TOKEN_MAX_AGE"],
        }


@blp.route("/users")
class Users(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    def post(self, data):
        """Create a user (district admin only)."""
        return create_user(**data)
