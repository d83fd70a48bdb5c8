"""Read the agency's digital routes file, again whenever it changes."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import yaml

DEFAULT_ROUTES_FILE = Path(__file__).resolve().parent.parent / "digital_routes.yml"
ENV_ROUTES_FILE = "KANAL_DIGITAL_ROUTES_FILE"

_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "routes": {}}


def routes_file() -> Path:
    """Return the routes file in use: the env override, or the one shipped with the bot."""
    return Path(os.environ.get(ENV_ROUTES_FILE) or DEFAULT_ROUTES_FILE)


def load_routes() -> dict[str, Any]:
    """Return the routes by need, re-reading the file when its path or mtime changed."""
    path = routes_file()
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if _cache["key"] != key:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            routes = data.get("routes")
            if not isinstance(routes, dict):
                raise ValueError(f"{path}: expected a 'routes' mapping")
            _cache.update(key=key, routes=routes)
        return _cache["routes"]


def reply_for(need: str, benefit: str | None = None) -> str | None:
    """Return the reply text for a need (and benefit), or None when no route is configured."""
    route = load_routes().get(need)
    if not isinstance(route, dict):
        return None
    specific = (route.get("benefits") or {}).get(benefit) if benefit else None
    if isinstance(specific, dict) and specific.get("url"):
        route = specific
    url = route.get("url")
    if not url:
        return None
    text = route.get("text") or "You can do this online at {url}."
    return text.replace("{url}", str(url))
