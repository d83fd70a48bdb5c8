"""The SMS load: signed webhooks, wrk runs with per-request accounting, a Python burst sender."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from benchmarks.sms_webhook.servers import HERE, TOKEN
from channels.twilio_signature import sign


@dataclass(frozen=True)
class Webhook:
    sid: str
    body: str  # urlencoded form
    signature: str  # also sent as I-Twilio-Idempotency-Token, so a replay carries the same one


def make_webhooks(url: str, count: int, citizens: int, prefix: str = "31") -> list[Webhook]:
    """`count` distinct inbound SMS webhooks (own MessageSid each), signed for `url`."""
    hooks = []
    for i in range(count):
        sid = "SM" + secrets.token_hex(16)
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": "ACbenchmark",
            "From": f"+45{prefix}{i % citizens:06d}",
            "To": "+4570000000",
            "Body": "When is my payment?",
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        hooks.append(Webhook(sid, urlencode(form), sign(url, form, TOKEN)))
    return hooks


def write_tsv(path: Path, hooks: list[Webhook], threads: int = 32) -> None:
    """Write the webhooks, and each wrk thread's share (hooks[t::threads]) as `path.<t>`."""
    path.write_text("".join(f"{h.body}\t{h.signature}\n" for h in hooks))
    for t in range(threads):
        share = hooks[t::threads]
        Path(f"{path}.{t}").write_text("".join(f"{h.body}\t{h.signature}\n" for h in share))


def wrk(url: str, tsv: Path, connections: int, duration: float, mode: str = "unique") -> dict:
    """Flat out: one wrk thread per connection, so each response pairs with its request.

    Returns rps, latency percentiles, errors, and per wrk thread how many requests it sent
    and which of them did not get a 200 (errors, other statuses, in flight at the end).
    """
    env = {
        **os.environ,
        "KANAL_BENCH_REQUESTS": str(tsv),
        "KANAL_BENCH_MODE": mode,
        "KANAL_BENCH_THREADS": str(connections),
    }
    cmd = [
        "wrk",
        f"-t{connections}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "15s",
        "-s",
        str(HERE / "post.lua"),
        url + "/twilio/sms",
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    result = json.loads(line[5:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["repeated_requests"] = "WARNING" in out
    return result


def warm_up(url: str, tsv: Path, hooks: list[Webhook], connections: int) -> tuple[set, set]:
    """An unmeasured 2 s wrk run on webhooks of its own: wrk's threads have loaded their
    Lua states and the server's threads have served, so the measured run starts level.
    Returns (sent, unacknowledged) MessageSids, for the accounting."""
    write_tsv(tsv, hooks, connections)
    result = wrk(url, tsv, connections, 2)
    return sent_and_unacked(result, hooks, connections)


def sent_and_unacked(result: dict, hooks: list[Webhook], connections: int):
    """Map wrk's per-thread counters back to webhooks: (sent sids, sids without a 200)."""
    by_thread = [hooks[t::connections] for t in range(connections)]
    sent, unacked = set(), set()
    for thread in result["threads"]:
        mine = by_thread[thread["id"]]
        sent.update(h.sid for h in mine[: thread["sent"]])
        unacked.update(mine[i - 1].sid for i in thread["unacked"])
    return sent, unacked


@dataclass
class Burst:
    """What a Python sender saw: status per MessageSid, first and last send times."""

    status: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    @property
    def acked(self) -> set[str]:
        return {sid for sid, status in self.status.items() if status == 200}


def post_all(url: str, hooks: list[Webhook], concurrency: int = 16) -> Burst:
    """POST every webhook (threads, one kept-alive connection each); record each one's
    status (0: the connection failed, so it is delivered again like any unacknowledged one).

    http.client rather than requests: the driver shares the two cores with what it measures,
    and requests cost it three times as much CPU per webhook."""
    local = threading.local()
    burst = Burst()
    lock = threading.Lock()
    target = urlsplit(url)
    path = target.path.rstrip("/") + "/twilio/sms"

    def post(hook: Webhook) -> None:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": hook.signature,
            "I-Twilio-Idempotency-Token": hook.signature,
        }
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(target.netloc, timeout=15)
        try:
            connection.request("POST", path, hook.body, headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            if response.will_close:
                connection.close()
        except (OSError, http.client.HTTPException):
            connection.close()  # opened again by the next request
            status = 0
        with lock:
            burst.status[hook.sid] = status

    burst.started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, hooks))
    burst.finished = time.monotonic()
    return burst


def redeliver(url: str, hooks: list[Webhook], sids: set[str]) -> set[str]:
    """Deliver again, as Twilio does, the webhooks never acknowledged; return those still not."""
    again = [h for h in hooks if h.sid in sids]
    if not again:
        return set()
    return {h.sid for h in again} - post_all(url, again, concurrency=4).acked
