"""How the phone driver (ivr/phone.py) reaches kanal: over HTTP (`kanal phone`, the deploy
and Rasa journeys) or through a Flask test client (the tests), the same signed requests."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

# send(method, url, form, headers) -> (status, body): the transport the driver speaks through.
Send = Callable[[str, str, dict, dict], tuple[int, str]]


def http_send(base_url: str, public_url: str, timeout: float = 15.0) -> Send:
    """Return a transport over HTTP to kanal at `base_url` (URLs are signed for `public_url`)."""
    import requests

    session = requests.Session()

    def send(method: str, url: str, form: dict, headers: dict) -> tuple[int, str]:
        if url.startswith(public_url.rstrip("/")):
            url = base_url.rstrip("/") + url[len(public_url.rstrip("/")) :]
        response = session.request(method, url, data=form or None, headers=headers,
                                   timeout=timeout)  # fmt: skip
        return response.status_code, response.text

    return send


def flask_send(client, public_url: str) -> Send:  # noqa: ANN001 - a Flask test client
    """Return a transport through a Flask test client (the tests' phone)."""

    def send(method: str, url: str, form: dict, headers: dict) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.open(path, method=method, data=form or None, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    return send
