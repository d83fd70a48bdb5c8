"""Signing in goes back to the page asked for (`next=`), never off the site: a `next` a
browser would read as another host lands on the role's own page (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.integration.test_desk import PASSWORD, sign_in

pytestmark = pytest.mark.integration

# Each reads as evil.example in a browser: it drops a tab or newline from a URL and reads a
# backslash as a slash. A newline also cannot go in a Location header (it answered 500).
OFF_SITE = (
    "/\t/evil.example/",
    "/\\evil.example/",
    "/\\/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "//evil.example/",
    "https://evil.example/",
)


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_in_never_leaves_the_site(app, staff, target):
    staff("agent1", "agent")
    answer = app.test_client().post(
        "/login", query_string={"next": target}, data={"username": "agent1", "password": PASSWORD}
    )
    assert answer.status_code == 302
    assert answer.location == "/desk/", repr(answer.location)


def test_signing_in_goes_back_to_the_desk_page_asked_for(app, staff):
    staff("agent1", "agent")
    answer = app.test_client().post(
        "/login",
        query_string={"next": "/desk/callbacks/failed"},
        data={"username": "agent1", "password": PASSWORD},
    )
    assert answer.location == "/desk/callbacks/failed"


@pytest.mark.parametrize("target", ("/desk/\n/x", "/desk/\r\n/x"))
def test_the_desks_language_switch_goes_back_only_to_a_desk_page(app, staff, target):
    desk = sign_in(app, staff)
    answer = desk.post("/desk/language", data={"language": "en", "next": target})
    assert answer.status_code == 302 and answer.location == "/desk/", repr(answer.location)
