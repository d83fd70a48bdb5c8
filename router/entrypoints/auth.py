"""Staff sign-in (Flask-Login, hashed passwords, CSRF) and API bearer tokens.

`StaffSignIn(uow_factory)` is built by the app factory for its app: it holds the unit of work
staff are found through, registers sign-in and CSRF on the app, and makes the guards of the
API (`token_required`). Nothing here is kept at module level.

A page session (Flask's signed cookie) carries when it began; it is honoured only while its
user is active and has not signed out, nor timed out at the desk, since (`User.signed_out_at`):
a copy of the cookie taken before the sign-out is refused like a stranger's, with the way to
the sign-in page. API tokens keep their own rule (revoked, expired, or the user inactive).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import wraps

from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import CSRFProtect
from werkzeug.security import check_password_hash, generate_password_hash

from router.domain.model import ROLES, User
from router.domain.staff import password_problem
from router.entrypoints.api_tokens import create_token, hash_token  # noqa: F401 - tests' way in
from router.entrypoints.front_door import landing
from router.entrypoints.live_tokens import instant, micros
from router.service.translations import N_, language_code, translator
from router.web import bound, local_path

WRONG_PASSWORD = N_("Wrong username or password.")
SIGNED_IN = "kanal_signed_in"  # the session's key: when it began, in µs since the epoch
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")  # requests that only read


class StaffSignIn:
    """Sign-in for one app's staff: Flask-Login, CSRF, the sign-in pages and the API's guard."""

    def __init__(
        self,
        uow_factory,  # noqa: ANN001
        languages: tuple[str, ...] = (),
        on_sign_out=None,  # noqa: ANN001
        clock=None,  # noqa: ANN001 - the container's, so sessions and sign-outs agree
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock or (lambda: datetime.now(UTC))
        self.languages = tuple(languages)  # the sign-in page may speak these (?lang=)
        # Called with the user's id when they sign out (the desk: their presence goes offline).
        self.on_sign_out = on_sign_out
        self.login = LoginManager()
        self.login.user_loader(lambda user_id: _load(uow_factory, user_id))
        self.login.login_view = "auth.login"
        self.login.login_message = "Please sign in to use this page."
        self.csrf = CSRFProtect()

    def init_app(self, app: Flask) -> None:
        """Sign-in for staff and CSRF protection on the app's forms."""
        self.login.init_app(app)
        self.csrf.init_app(app)
        app.register_blueprint(self.blueprint())

    def blueprint(self) -> Blueprint:
        bp = Blueprint("auth", __name__, template_folder="templates")
        bp.add_url_rule(
            "/login",
            "login",
            bound(login, self.uow_factory, self.languages, self.clock),
            methods=["GET", "POST"],
        )
        bp.add_url_rule("/logout", "logout", bound(logout, self.on_sign_out), methods=["POST"])
        return bp

    def token_required(self, *roles: str):  # noqa: ANN201
        """Require `Authorization: Bearer <token>` of a user with one of `roles` (admin always)."""
        return token_required(self.uow_factory, *roles, clock=self.clock)


class StaffUser(UserMixin):
    """A signed-in member of staff, as Flask-Login needs it."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = str(user.id)
        self.role = user.role
        self.username = user.username
        self.display_name = user.display_name or user.username

    def has_role(self, *roles: str) -> bool:
        return self.role in roles or self.role == "admin"


def session_began() -> datetime | None:
    """When this request's page session began (signed in), if it carries it."""
    began = session.get(SIGNED_IN)
    return instant(began) if isinstance(began, int) else None


def _load(uow_factory, user_id: str) -> StaffUser | None:  # noqa: ANN001
    """The member of staff a page session names, while it is theirs: active, and not signed
    out (nor timed out at the desk) since the session began. Otherwise the session is
    emptied and the request is a stranger's (the pages send it to sign in)."""
    began = session.get(SIGNED_IN)
    with uow_factory() as uow:
        user = uow.users.get(int(user_id))
    if user is None or not isinstance(began, int) or not user.issued_in_session(instant(began)):
        session.clear()
        return None
    return StaffUser(user)


def create_user(
    uow_factory, username: str, password: str, role: str, display_name: str = ""
) -> User:
    """Create a member of staff with a hashed password (the demo's and the tests' way; an
    administrator's is `kanal users create`, audited: router/service/staff_accounts.py)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    problem = password_problem(password, username)
    if problem is not None:
        raise ValueError(problem)
    with uow_factory() as uow:
        if uow.users.by_username(username):
            raise ValueError(f"user {username!r} exists already")
        user = uow.users.add(
            User(
                username=username,
                password_hash=generate_password_hash(password),
                role=role,
                display_name=display_name or username,
                created_at=datetime.now(UTC),
            )
        )
        uow.commit()
        return user


def token_required(uow_factory, *roles: str, clock=None):  # noqa: ANN001, ANN201
    """Require `Authorization: Bearer <token>` of a user with one of `roles` (admin always),
    not expired by `clock`; a signed-in page session of such a user stands in for the token
    on reads only."""
    clock = clock or (lambda: datetime.now(UTC))

    def wrap(view):
        @wraps(view)
        def checked(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                # A page session may read (the dashboard's figures), never act: the API
                # takes no CSRF token, and a form on another site can send the cookie.
                reads = request.method in SAFE_METHODS
                if reads and current_user.is_authenticated and current_user.has_role(*roles):
                    g.api_user = current_user.user
                    return view(*args, **kwargs)
                return jsonify(error="Send an API token: Authorization: Bearer <token>."), 401
            with uow_factory() as uow:
                found = uow.users.token_by_hash(hash_token(token.strip()))
                user = uow.users.get(found.user_id) if found else None
            if user is None or not user.active:
                return jsonify(error="The API token is not valid."), 401
            if found.expired(clock()):
                ended = found.expires_at.date().isoformat() if found.expires_at else "-"
                return jsonify(error=f"The API token expired on {ended}; ask for a new one."), 401
            if user.role not in roles and user.role != "admin":
                return jsonify(error=f"This needs the role {' or '.join(roles)}."), 403
            g.api_user = user
            return view(*args, **kwargs)

        return checked

    return wrap


def role_required(*roles: str):
    """Require a signed-in member of staff with one of `roles` (admin always)."""

    def wrap(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not current_user.has_role(*roles):
                return render_template("forbidden.html"), 403
            return view(*args, **kwargs)

        return login_required(checked)  # not signed in: Flask-Login's way to the sign-in page

    return wrap


def login(uow_factory, languages: tuple[str, ...] = (), clock=None):  # noqa: ANN001, ANN201
    """Sign in with username and password; land on the page the role is for."""
    _login_language(languages)
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        with uow_factory() as uow:
            user = uow.users.by_username(username)
        if user and user.active and check_password_hash(user.password_hash, password):
            staff = StaffUser(user)
            login_user(staff)
            now = clock() if clock is not None else datetime.now(UTC)
            session[SIGNED_IN] = micros(user.session_start(now))
            target = request.args.get("next", "")
            if not local_path(target):  # no open redirect
                target = landing(staff, g.get("page_language"))
            return redirect(target)
        flash(translator(g.get("page_language"))(WRONG_PASSWORD), "error")
        return render_template("login.html", username=username), 401
    return render_template("login.html", username="")


def _login_language(languages: tuple[str, ...]) -> None:
    """Sign-in speaks the language the front door asked for (?lang=), else English."""
    asked = language_code(request.args.get("lang"))
    if asked in languages:
        g.page_language = asked


def logout(on_sign_out=None):  # noqa: ANN001, ANN201
    if on_sign_out is not None and current_user.is_authenticated:
        on_sign_out(int(current_user.id))
    logout_user()
    session.pop(SIGNED_IN, None)
    return redirect(url_for("auth.login"))
