"""Pages shown in Danish say nothing in English, on SQLite and PostgreSQL: every text kanal
writes on them is marked for translation and translated (`make translations`,
docs/translations.md). A text that reaches a page unmarked, or marked but passed on without
being translated, shows up here in English.

The pages are filled with the surge tests' scripted day (tests/integration/
test_dashboard_surges.py), so the dashboard, its surge section and the supervisor board have
figures, tables and charts to show; no page looked at shows a citizen's own words (which may
be in any language).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.integration import test_dashboard_surges as scripted
from tests.integration.test_dashboard import PASSWORD, sign_in

pytestmark = pytest.mark.integration

# The surge tests' clock, app on it, and scripted day.
clock, app, surges = scripted.clock, scripted.app, scripted.surges

# English words no Danish sentence has; names and codes are not sentences.
ENGLISH = re.compile(
    r"\b(the|and|of|with|this|these|your|you|was|were|has|have|been|which|when|while|"
    r"waiting|answered|callbacks?|contacts?|queue|wait|agents?|minutes|hours|day|days|"
    r"shows?|period|please|sign|there|their|here|each|per|than)\b",
    re.IGNORECASE,
)
VISIBLE_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")


class Visible(HTMLParser):
    """The words a reader sees or hears: text outside scripts and styles, and the
    attributes a screen reader says."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        if tag in ("script", "style", "template"):
            self._hidden += 1
        self.texts += [v for k, v in attrs if k in VISIBLE_ATTRIBUTES and v]

    def handle_endtag(self, tag):  # noqa: ANN001, ANN201
        if tag in ("script", "style", "template"):
            self._hidden -= 1

    def handle_data(self, data):  # noqa: ANN001, ANN201
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def english_on(html: str) -> list[str]:
    reader = Visible()
    reader.feed(html)
    return [text for text in reader.texts if ENGLISH.search(text)]


def test_the_managers_and_supervisors_pages_in_danish_say_nothing_in_english(
    app, client, kanal, surges
):
    from router.entrypoints.auth import create_user

    create_user(kanal.uow, "sigrid", PASSWORD, "supervisor")
    window = {"from": "2026-03-01", "to": "2026-03-04", "lang": "da"}
    found = {}
    front = app.test_client()
    found["/"] = english_on(front.get("/?lang=da").get_data(as_text=True))
    found["/login"] = english_on(front.get("/login?lang=da").get_data(as_text=True))
    assert sign_in(client, "manager").status_code == 302
    for path in ("/dashboard", "/dashboard/simulate"):
        answer = client.get(path, query_string=window)
        assert answer.status_code == 200, path
        found[path] = english_on(answer.get_data(as_text=True))
    board = app.test_client()
    assert sign_in(board, "sigrid").status_code == 302
    for path in ("/desk/?lang=da", "/desk/supervisor?lang=da"):
        answer = board.get(path)
        assert answer.status_code == 200, path
        found[path] = english_on(answer.get_data(as_text=True))

    assert {path: texts for path, texts in found.items() if texts} == {}
