"""A chat session's guards: its bearer token, and the signed identity of a citizen who comes
from the agency's portal; an abandoned session's citizen who is back waits again."""

from __future__ import annotations

import hashlib
import hmac

from flask import request

from channels.base import json_error
from router.domain.channels import WEBCHAT
from router.service.services import ChannelServices
from router.web import storable

NO_SESSION = "No such chat session."
TOKEN_ERROR = "Send the session's token: Authorization: Bearer <token>."


def token_hash(token: str) -> str:
    """The hash of a session's token, the only form kanal keeps it in."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(contact, token: str) -> bool:  # noqa: ANN001 - a Contact or its SessionKey
    """Say whether `token` is the bearer token of the chat session `contact` is at."""
    return hmac.compare_digest(token_hash(token.strip()), contact.secret_hash or "")


def identity_token(secret: str, pseudonym: str) -> str:
    """Return a signed identity for a citizen already signed in on the agency's portal."""
    mac = hmac.new(secret.encode(), b"chat-identity:" + pseudonym.encode(), hashlib.sha256)
    return f"{pseudonym}.{mac.hexdigest()[:32]}"


def verified_pseudonym(secret: str, identity: str) -> str | None:
    """The pseudonym an identity from the portal names, when this agency signed it."""
    if not storable(identity):
        return None
    pseudonym, _, _mac = identity.rpartition(".")
    expected = identity_token(secret, pseudonym)
    # Bytes: compare_digest refuses str holding anything but ASCII (TypeError, then 500).
    matches = hmac.compare_digest(expected.encode(), identity.encode())
    return pseudonym if pseudonym and matches else None


def session(services: ChannelServices):
    """Return the session's key (the contact's id, state, token hash and language) after
    checking the bearer token."""
    session_id = request.view_args["session_id"]
    contact = services.views.session_key(WEBCHAT, session_id)
    if contact is None:
        return None, json_error(404, NO_SESSION)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token_matches(contact, token):
        return None, json_error(401, TOKEN_ERROR)
    return contact, None


def bearer_hash() -> str:
    """The hash of the request's bearer token ("" when it carries none)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token_hash(token.strip()) if scheme.lower() == "bearer" and token.strip() else ""


def came_back(services: ChannelServices, contact_id: int) -> bool:
    """An abandoned chat whose citizen returned waits again (router/service/left_chats.py)."""
    return services.left_chats is not None and services.left_chats.come_back(contact_id)
