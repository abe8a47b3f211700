from flask import current_app
from flask.views import MethodView
from flask_login import current_user, login_user
from flask_smorest import Blueprint, abort

from dispatch.accounts import limits
from dispatch.accounts.auth import bearer_request, issue_token, roles_required
from dispatch.accounts.schemas import PasswordChangeIn, TokenIn, TokenOut, UserIn, UserOut, UserPatch
from dispatch.accounts.service import authenticate, change_own_password, create_user, update_user
from dispatch.idempotency import write_operation
from dispatch.validation import PUBLIC

blp = Blueprint("accounts", __name__, url_prefix="/api/v1", description="Log in and manage users")


@blp.route("/auth/token")
class Token(MethodView):
    decorators = [limits.per_username, limits.per_address]

    @blp.arguments(TokenIn)
    @blp.response(200, TokenOut)
    @blp.alt_response(401, description="Wrong username or password.")
    @blp.alt_response(429, description="Too many failed logins for this username or address; see Retry-After.")
    @blp.doc(security=PUBLIC)
    def post(self, data):
        """Exchange a username and password for a bearer token."""
        user = authenticate(data["username"], data["password"])
        if user is None:
            limits.log_refused_login(data["username"])
            abort(401, message="Wrong username or password.")
        return {
            "token": issue_token(user),
            "role": user.role,
            "user_id": user.id,
            "expires_in": current_app.config["TOKEN_MAX_AGE"],
        }


@blp.route("/me/password")
class MyPassword(MethodView):
    @roles_required()
    @write_operation
    @blp.arguments(PasswordChangeIn)
    @blp.response(204)
    def post(self, data):
        """Change your password. Every session, token and socket of yours ends; a page that asked stays
        logged in (its cookie gets the new session), an API client logs in again."""
        user = current_user._get_current_object()
        change_own_password(user, data["current_password"], data["new_password"])
        if not bearer_request():
            login_user(user)  # this page's cookie now carries the new stamp; every other session has ended
        return None


@blp.route("/users")
class Users(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.arguments(UserIn)
    @blp.response(201, UserOut)
    def post(self, data):
        """Create a user (district admin only)."""
        return create_user(**data)


@blp.route("/users/<id:user_id>")
class UserById(MethodView):
    @roles_required("district_admin")
    @write_operation
    @blp.arguments(UserPatch)
    @blp.response(200, UserOut)
    def patch(self, data, user_id):
        """Reset a user's password or (de)activate them (district admin only); either ends their sessions,
        tokens and sockets."""
        return update_user(user_id, data.get("password"), data.get("active"))
