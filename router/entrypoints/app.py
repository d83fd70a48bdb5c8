"""create_app: the web around a container bootstrap built.

It adds what only the web needs: sign-in and CSRF, the HTTP conventions, and every
blueprint, each built by a factory handed the parts it uses. The container itself
(`router.entrypoints.bootstrap.bootstrap`) knows nothing of Flask.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError

from router.entrypoints.bootstrap import bootstrap, kanal_of
from router.entrypoints.container import Kanal
from router.entrypoints.logs import configure_logging
from router.entrypoints.peers import load_language_models
from router.service.services import ChannelServices
from router.web import SERVER_LANES, JSONBodies

__all__ = ["create_app", "kanal_of"]

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "5"


def create_app(kanal: Kanal | Mapping | None = None, **parts: object) -> Flask:
    """Create the kanal web application around `kanal`.

    Given a configuration (or nothing) instead of a container, bootstrap one first from it
    and `parts` (`bot=`, `senders=`, `clock=`, `caller=`, `jobs=`: bootstrap's stand-ins).
    """
    if not isinstance(kanal, Kanal):
        kanal = bootstrap(kanal, **parts)
    elif parts:
        raise TypeError("create_app(kanal) takes no parts: give them to bootstrap()")
    configure_logging(kanal.config["KANAL_LOG_LEVEL"])  # the process's: JSON lines
    # Chat and phone turns run in the web's requests: their language models load now.
    load_language_models(kanal.turns.identify)
    app = Flask(__name__, instance_relative_config=False)
    app.json = JSONBodies(app)  # a body nested too deeply is a 400, not a 500
    app.config.from_mapping(kanal.config)
    app.extensions["kanal"] = kanal
    proxies = int(kanal.config.get("KANAL_PROXIES") or 0)
    if proxies > 0:  # behind nginx (deploy/): trust its X-Forwarded-* headers, no more
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    _register(app, kanal)
    return app


# The public contract (docs/architecture.md): every URL under these is in the API document.
PUBLIC = ("/api/", "/twilio/", "/healthz", "/readyz", "/metrics")


def _api_info(kanal: Kanal) -> dict:
    """The API document's title, version, description and server (docs/api.md)."""
    return {
        "title": "kanal",
        "version": "1",
        "description": "Omnichannel contact centre and digital-first channel router. Web chat "
        "for citizens' widgets, Twilio webhooks, channel-shift statistics for managers, the "
        "agency's integration API, and health checks.",
        "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        "servers": [{"url": kanal.config.get("KANAL_PUBLIC_URL") or "/"}],
    }


def _rule_reasons(kanal: Kanal):  # noqa: ANN202
    """Return (profile, rule id) -> the running profile's reason for that rule, as written."""
    profile = kanal.profile
    reasons = {rule.id: rule.reason for rule in (*profile.rules, profile.default)}

    def reason(profile_name: str, rule_id: str) -> str | None:
        return reasons.get(rule_id) if profile_name == profile.name else None

    return reason


def _register(app: Flask, kanal: Kanal) -> None:
    """Register sign-in, CSRF and every blueprint, each handed what it needs."""
    from analytics import api as analytics_api
    from router import openapi, web
    from router.adapters.replies_file import load_replies
    from router.entrypoints import auth, front_door, health, integration_api, security
    from router.entrypoints.auth import StaffSignIn
    from router.entrypoints.desk import api as desk_api_views
    from router.entrypoints.desk import views as desk_views
    from router.service.access import DeskAccess
    from router.service.staff_sessions import StaffSessions

    sessions = StaffSessions(kanal.uow, kanal.clock, kanal.assignments)
    staff = StaffSignIn(
        kanal.read_uow, kanal.settings.languages, on_sign_out=sessions.sign_out, clock=kanal.clock
    )
    staff.init_app(app)
    security.init_app(app)  # cookies' flags, security headers, sign-in limits
    web.init_app(app)
    for unavailable in (OperationalError, InterfaceError):
        app.register_error_handler(unavailable, _database_unavailable)
    development = kanal.config["KANAL_ENV"] != "production"
    doors = front_door.Doors(
        chat="channels.webchat" in kanal.installed,
        dashboard=True,
        sandbox_outbox=development and kanal.sandbox is not None,
        api_document=development,
    )
    app.register_blueprint(front_door.blueprint(kanal.settings.languages, doors))
    app.register_blueprint(
        health.blueprint(kanal.engine, kanal.bot, kanal.uow, kanal.counters, kanal.clock)
    )
    desk = desk_views.blueprint(
        kanal.desk,
        kanal.views,
        kanal.callback_desk,
        timezone=kanal.config["KANAL_TIMEZONE"],
        access=DeskAccess(
            kanal.uow, kanal.clock, kanal.settings.routing
        ),  # the access rule and its audit log
        languages=kanal.settings.languages,
        rules=_rule_reasons(kanal),
        replies=load_replies(kanal.config["KANAL_CANNED_REPLIES"]),
        agency=kanal.config["KANAL_AGENCY_NAME"],
        live=(str(kanal.config["KANAL_STREAM_URL"]), str(kanal.config["SECRET_KEY"])),
        supervision=kanal.supervision,
    )
    app.register_blueprint(desk)
    desk_api = desk_api_views.blueprint(
        kanal.desk,
        kanal.views,
        DeskAccess(kanal.uow, kanal.clock, kanal.settings.routing),
        staff.token_required,
        kanal.callback_desk,
    )
    app.register_blueprint(desk_api)
    staff.csrf.exempt(desk_api)
    api = analytics_api.blueprint(
        kanal.analytics_engine, kanal.config, staff.token_required, kanal.channels.names
    )
    app.register_blueprint(api)
    staff.csrf.exempt(api)
    app.register_blueprint(openapi.blueprint(_api_info(kanal), PUBLIC))
    from analytics import dashboard

    page = dashboard.blueprint(
        kanal.analytics_engine,
        kanal.config,
        auth.role_required(*dashboard.DASHBOARD_ROLES),
        front_door.speaker(kanal.settings.languages),
        kanal.channels.names,
        kanal.clock,  # one clock and one zone (KANAL_TIMEZONE) for every figure's day
    )
    app.register_blueprint(page)
    events_api = integration_api.blueprint(kanal.followups, staff.token_required)
    app.register_blueprint(events_api)
    staff.csrf.exempt(events_api)
    demo = None
    if kanal.config["KANAL_ENV"] != "production":
        from router.entrypoints.demo import demo_identities

        def demo() -> list[dict[str, str]]:
            return demo_identities(kanal.uow, kanal.config["SECRET_KEY"])

    services = ChannelServices(
        turns=kanal.turns,
        views=kanal.views,
        delivery=kanal.delivery,
        run_turn=kanal.worker.notify if kanal.config["KANAL_TURN_WORKER"] == "thread" else None,
        config=kanal.config,
        demo_identities=demo,
        callbacks=kanal.callbacks,
        dialling=kanal.dialling,
        followups=kanal.followups,
        calls=kanal.calls,
        surveys=kanal.surveys,
        left_chats=kanal.left_chats,
    )
    for name in kanal.installed:
        module = importlib.import_module(name)
        bp = module.blueprint(services)
        app.register_blueprint(bp)
        staff.csrf.exempt(bp)  # channels authenticate their callers themselves
        if hasattr(module, "wsgi_lane"):  # a webhook answered before Flask (channels/sms.py)
            lane = module.wsgi_lane(app.wsgi_app, services, security.response_headers(app.config))
            app.wsgi_app = lane
            if hasattr(lane, "take"):  # `kanal web`'s server hands it what it reads itself
                app.extensions.setdefault(SERVER_LANES, {})[lane.PATH] = lane
    from ivr import legs

    bp = legs.blueprint(services)  # outbound calls: callbacks answered, calls' statuses
    app.register_blueprint(bp)
    staff.csrf.exempt(bp)
    if kanal.sandbox is not None:
        from channels.twilio_sandbox import app as sandbox

        bp = sandbox.blueprint(kanal.sandbox)
        app.register_blueprint(bp)
        staff.csrf.exempt(bp)


def _database_unavailable(exc: Exception) -> Response:
    """Answer 503 with Retry-After while the database cannot be reached (restarting, down,
    or SQLite busy past its wait): nothing was stored, so the caller's retry is safe, and
    Twilio retries a webhook it got a 5xx for. The pool reconnects by itself afterwards."""
    cause = exc.orig or exc  # the driver's own words ("database is locked"), not the statement
    log.warning("database unavailable: %s: %.200s", type(cause).__name__, str(cause).strip())
    text = "The service is briefly unavailable; please try again shortly."
    if request.path.startswith("/api/"):
        response = jsonify(error=text)
        response.status_code = 503
    else:
        response = Response(text, status=503, mimetype="text/plain")
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response
