"""Read the agency's digital routes file, again whenever it changes."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import yaml

DEFAULT_ROUTES_FILE = Path(__file__).resolve().parent.parent / "digital_routes.yml"
ENV_ROUTES_FILE = "KANAL_DIGITAL_ROUTES_FILE"
DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "da")

_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "data": {}}


def routes_file() -> Path:
    """Return the routes file in use: the env override, or the one shipped with the bot."""
    return Path(os.environ.get(ENV_ROUTES_FILE) or DEFAULT_ROUTES_FILE)


def load_file() -> dict[str, Any]:
    """Return the whole routes file, re-reading it when its path or mtime changed."""
    path = routes_file()
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if _cache["key"] != key:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict) or not isinstance(data.get("routes"), dict):
                raise ValueError(f"{path}: expected a 'routes' mapping")
            _cache.update(key=key, data=data)
        return _cache["data"]


def load_routes() -> dict[str, Any]:
    """Return the routes by need."""
    return load_file()["routes"]


def in_language(value: Any, language: str) -> str | None:
    """Return a text for a language: one string for all, or a mapping by language (en fallback)."""
    if isinstance(value, dict):
        value = value.get(language) or value.get(DEFAULT_LANGUAGE)
    return str(value) if value else None


def reply_for(need: str, benefit: str | None = None, language: str = DEFAULT_LANGUAGE) -> str | None:
    """Return the reply text for a need (and benefit) in a language, or None without a route."""
    route = load_routes().get(need)
    if not isinstance(route, dict):
        return None
    specific = (route.get("benefits") or {}).get(benefit) if benefit else None
    if isinstance(specific, dict) and specific.get("url"):
        route = specific
    url = in_language(route.get("url"), language)
    if not url:
        return None
    text = in_language(route.get("text"), language) or "{url}"
    return text.replace("{url}", url)


def benefit_title(benefit: str, language: str = DEFAULT_LANGUAGE) -> str:
    """Return a benefit's name for a button, in a language."""
    names = load_file().get("benefit_names") or {}
    return in_language(names.get(benefit), language) or benefit.capitalize()


def benefits_offered() -> list[str]:
    """Return the benefits that have their own application route, in the file's order."""
    route = load_routes().get("apply_benefit") or {}
    return [b for b, r in (route.get("benefits") or {}).items() if isinstance(r, dict)]
