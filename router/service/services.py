"""What a channel's entrypoint is handed: the service layer's front doors and its settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from router.service.callbacks import Callbacks
from router.service.calls import Calls
from router.service.delivery import Delivery
from router.service.dialling import Dialling
from router.service.followups import Followups
from router.service.left_chats import LeftChats
from router.service.survey import Surveys
from router.service.turn import Turns
from router.service.views import Views


@dataclass(frozen=True)
class ChannelServices:
    """The parts of kanal a channel's blueprint may use."""

    turns: Turns
    views: Views
    delivery: Delivery
    # Hands an acknowledged inbox entry to the turn worker in this process; None when a
    # separate `kanal worker` process polls the inbox.
    run_turn: Callable[[int, str], None] | None
    config: Mapping[str, object]
    demo_identities: Callable[[], list[dict[str, str]]] | None = None
    # Book callbacks (`callbacks.book(contact_id, reason=…, at=…)`), answer the provider's
    # side of outbound calls (`dialling`), and follow deflections up
    # (`followups.schedule(contact_id, need)`).
    callbacks: Callbacks | None = None
    dialling: Dialling | None = None
    followups: Followups | None = None
    calls: Calls | None = None  # the phone's front door beside the turns
    # The satisfaction question after a contact closes (the chat widget shows it).
    surveys: Surveys | None = None
    # Web chats left in the queue: a returning citizen's comes back (router/service/left_chats.py).
    left_chats: LeftChats | None = None
