"""The app as `make run` and gunicorn serve it: CSRF on, every route reachable without a 500."""

from __future__ import annotations

import pytest

from router import create_app
from router.entrypoints.bootstrap import kanal_of
from tests.fakes import ScriptedBot

pytestmark = pytest.mark.integration


@pytest.fixture
def deployed(app_config):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True}, bot=ScriptedBot())
    yield app
    kanal_of(app).close()


def test_every_view_is_known_by_its_name_and_module(deployed):
    # Flask-WTF's CSRF check names a view "module.name"; a bare functools.partial has neither.
    for endpoint, view in deployed.view_functions.items():
        assert getattr(view, "__module__", None), endpoint
        assert getattr(view, "__name__", None), endpoint


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/chat", "/login"])
def test_public_pages_answer_with_csrf_on(deployed, path):
    assert deployed.test_client().get(path).status_code == 200


def test_posts_without_a_csrf_token_are_refused_or_authenticated_never_a_500(deployed):
    client = deployed.test_client()
    assert client.post("/api/v1/chat/sessions").status_code == 201  # a token of its own
    assert client.post("/twilio/sms").status_code == 403  # Twilio's signature, not CSRF
    assert client.post("/desk/claim").status_code in (302, 400, 401)
