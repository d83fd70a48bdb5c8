"""kanal's own calls through the provider: the `Dialler` port's adapter.

It owns the URLs the provider fetches and reports to for the calls kanal places: a callback
rings the citizen with `…/twilio/voice/callback/<id>` (served by `ivr/legs.py`) and its
statuses go to `…/twilio/voice/call-status?callback=<id>`; an agent's leg (the desk's
"Connect call") rings the agent's endpoint with `…/twilio/voice/agent/<contact id>` (served
by `ivr/voice.py`). The call itself is placed through the `Caller` port (Twilio's REST API
or the sandbox).
"""

from __future__ import annotations

from router.service.ports import Caller, CallResult

BASE = "/twilio/voice"


class TwilioDialler:
    """Place kanal's calls with Twilio Voice's URLs."""

    def __init__(
        self, caller: Caller, public_url: str, agent_endpoint: str = "client:agent-{id}"
    ) -> None:
        self.caller = caller
        self.base = public_url.rstrip("/") + BASE
        self.agent_endpoint = agent_endpoint  # where an agent's leg rings ({id}: user id)

    def call_citizen(self, to: str, callback_id: int) -> CallResult:
        return self.caller.place(
            to,
            url=f"{self.base}/callback/{callback_id}",
            status_callback=f"{self.base}/call-status?callback={callback_id}",
        )

    def ring_agent(self, agent_id: int, contact_id: int) -> CallResult:
        return self.caller.place(
            self.endpoint(agent_id),
            url=f"{self.base}/agent/{contact_id}",
            status_callback=f"{self.base}/call-status?contact={contact_id}",
        )

    def endpoint(self, agent_id: int) -> str:
        return self.agent_endpoint.format(id=agent_id)
