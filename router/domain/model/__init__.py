"""The contact centre's domain model: plain dataclasses, mapped to storage by the adapters.

One module per aggregate, each importing the standard library and the domain only:
`aggregate` (what every aggregate shares: `Aggregate`, `IllegalTransition`), `citizen`
(`Citizen`, `Exemption`, `Consent`), `contact` (`Contact`, `ContactState`, why a contact
closed, the log's `ContactEvent`), `queue_item` (`QueueItem`, `QueueState`,
`RoutingDecision`), `message` (`Message`, `DeliveryState`, `InboxEntry`) and `accounts`
(staff roles, `User`, `ApiToken`). Callers import the names from here.
"""

from router.domain.model.accounts import INTEGRATION_ROLE, ROLES, STAFF_ROLES, ApiToken, User
from router.domain.model.aggregate import Aggregate, IllegalTransition
from router.domain.model.citizen import EXEMPTION_GROUNDS, Citizen, Consent, Exemption
from router.domain.model.contact import (
    CLOSED_ABANDONED,
    CLOSED_BY_BOT,
    CLOSED_INACTIVE,
    CLOSED_RESOLVED,
    Contact,
    ContactEvent,
    ContactState,
)
from router.domain.model.message import (
    CLAIMABLE,
    DELIVERY_RANK,
    LOGGED_DELIVERY,
    SENDING,
    DeliveryState,
    InboxEntry,
    Message,
    advance,
)
from router.domain.model.queue_item import DEFAULT_AGING, QueueItem, QueueState, RoutingDecision

__all__ = [
    "CLAIMABLE",
    "CLOSED_ABANDONED",
    "CLOSED_BY_BOT",
    "CLOSED_INACTIVE",
    "CLOSED_RESOLVED",
    "DEFAULT_AGING",
    "DELIVERY_RANK",
    "EXEMPTION_GROUNDS",
    "INTEGRATION_ROLE",
    "LOGGED_DELIVERY",
    "ROLES",
    "SENDING",
    "STAFF_ROLES",
    "Aggregate",
    "ApiToken",
    "Citizen",
    "Consent",
    "Contact",
    "ContactEvent",
    "ContactState",
    "DeliveryState",
    "Exemption",
    "IllegalTransition",
    "InboxEntry",
    "Message",
    "QueueItem",
    "QueueState",
    "RoutingDecision",
    "User",
    "advance",
]
