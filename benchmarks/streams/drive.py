"""Simulated citizens and agents over kanal's real HTTP endpoints, and the baseline's clients.

Citizens open chat sessions through the chat API, ask for a person and follow their chat
stream on the stream process; agents sign in to the desk, claim their chats (`POST
/desk/claim`), answer them (`POST /desk/contacts/<id>/reply`) and keep one conversation page
open: its desk stream, and `messages.json` read on each event, as desk.js does. Each message
carries a unique mark; its latency runs from the moment its POST is sent to the moment the
other side's screen has it (the widget's stream event; the desk's event and its read).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CONTACT = re.compile(r"/desk/contacts/(\d+)")
CITIZEN = re.compile(r"citizen (\d+)\)")
NO_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_read=None, sock_connect=30)
TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class Tally:
    chat: list[float] = field(default_factory=list)  # agent's reply → citizen's widget
    desk: list[float] = field(default_factory=list)  # citizen's message → agent's page
    posts: list[float] = field(default_factory=list)  # each message's POST, until answered
    # The stream's own part: from the agent's POST answered (committed) to the widget's screen.
    after_post: list[float] = field(default_factory=list)
    answered: dict[str, float] = field(default_factory=dict)
    shown: dict[str, float] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    to_citizen: dict[str, float] = field(default_factory=dict)
    to_desk: dict[str, float] = field(default_factory=dict)
    running: bool = True

    def error(self, what: str) -> None:
        self.errors[what] += 1


def mark() -> str:
    return uuid.uuid4().hex[:12]


async def events(session, url: str, headers: dict, on_event, tally: Tally, what: str) -> None:  # noqa: ANN001
    """Follow a server-sent event stream until cancelled; `on_event(name, id, data)`."""
    try:
        async with session.get(url, headers=headers, timeout=NO_TIMEOUT) as response:
            if response.status != 200:
                tally.error(f"{what} stream answered {response.status}")
                return
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    name, event_id, data = "message", None, None
                    for line in block.decode().split("\n"):
                        key, _, value = line.partition(":")
                        value = value.strip()
                        if key == "event":
                            name = value
                        elif key == "id":
                            event_id = int(value)
                        elif key == "data":
                            data = value
                    if data is not None:
                        await on_event(name, event_id, data)
        if tally.running:
            tally.error(f"{what} stream ended early")
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - counted, never hidden
        if tally.running:
            tally.error(f"{what} stream: {type(exc).__name__}")


class Citizen:
    def __init__(self, n: int, web: str, streams: str, session, tally: Tally) -> None:  # noqa: ANN001
        self.n, self.web, self.streams, self.session, self.tally = n, web, streams, session, tally
        self.sid = self.token = None
        self.ready = asyncio.Event()
        self.state = None
        self.focus = False  # an agent has this conversation's page open

    async def start(self) -> None:
        async with self.session.post(f"{self.web}/api/v1/chat/sessions", json={}) as r:
            if r.status != 201:
                self.tally.error(f"start session {r.status}")
                return
            data = await r.json()
        self.sid, self.token = data["session_id"], data["token"]
        await self.write(f"I want to talk to a person (citizen {self.n})", None)

    async def write(self, text: str, uid: str | None) -> None:
        began = time.monotonic()
        if uid is not None:
            self.tally.to_desk[uid] = began
        try:
            async with self.session.post(
                f"{self.web}/api/v1/chat/sessions/{self.sid}/messages",
                json={"text": text},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=TIMEOUT,
            ) as r:
                if r.status != 200:
                    self.tally.error(f"citizen message {r.status}")
                await r.read()
                self.tally.posts.append(time.monotonic() - began)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.tally.error(f"citizen message: {type(exc).__name__}")
            if uid is not None:
                self.tally.to_desk.pop(uid, None)  # counted once, as the refused POST

    async def follow(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        url = f"{self.streams}/api/v1/chat/sessions/{self.sid}/stream"
        await events(self.session, url, headers, self.on_event, self.tally, "chat")

    async def on_event(self, name: str, event_id: int | None, data: str) -> None:
        if name == "state":
            self.state = re.search(r'"state": "(\w+)"', data).group(1)
            self.ready.set()
        elif name == "message" and '"author": "agent"' in data:
            found = re.search(r"r:(\w+)", data)
            sent = self.tally.to_citizen.pop(found.group(1), None) if found else None
            if sent is not None:
                now = time.monotonic()
                self.tally.chat.append(now - sent)
                answered = self.tally.answered.pop(found.group(1), None)
                if answered is None:
                    self.tally.shown[found.group(1)] = now
                else:
                    self.tally.after_post.append(max(0.0, now - answered))
                if self.tally.running:
                    asyncio.get_running_loop().create_task(self.answer())

    async def answer(self) -> None:
        await asyncio.sleep(random.uniform(1.0, 3.0))
        if self.tally.running:
            uid = mark()
            await self.write(f"c:{uid} thank you", uid if self.focus else None)

    async def chatter(self, every: float) -> None:
        """A citizen whose conversation is on an agent's screen also writes on their own."""
        while self.tally.running:
            await asyncio.sleep(random.uniform(0.5 * every, 1.5 * every))
            if self.tally.running:
                uid = mark()
                await self.write(f"c:{uid} one more thing", uid)


class Agent:
    def __init__(self, n: int, user_id: int, token: str, web: str, streams: str, tally: Tally):
        self.n, self.user_id, self.token, self.web, self.streams = n, user_id, token, web, streams
        self.tally = tally
        jar = aiohttp.CookieJar(unsafe=True)  # 127.0.0.1: cookies for an address
        # A connection per request, as browsers behind a proxy: a kept-alive one gunicorn
        # closed while idle would otherwise fail the next POST (not kanal's error).
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        self.session = aiohttp.ClientSession(cookie_jar=jar, timeout=TIMEOUT, connector=connector)
        self.csrf = ""
        self.contacts: list[int] = []
        self.focus: int | None = None

    async def sign_in(self, password: str) -> None:
        async with self.session.get(f"{self.web}/login") as r:
            self.csrf = CSRF.search(await r.text()).group(1)
        form = {"username": f"bench{self.n}", "password": password, "csrf_token": self.csrf}
        async with self.session.post(f"{self.web}/login", data=form, allow_redirects=False) as r:
            if r.status not in (302, 303):
                raise SystemExit(f"agent {self.n} could not sign in: {r.status}")
        async with self.session.get(f"{self.web}/desk/") as r:
            self.csrf = CSRF.search(await r.text()).group(1)

    async def claim(self, count: int) -> None:
        for _ in range(count):
            async with self.session.post(
                f"{self.web}/desk/claim", data={"csrf_token": self.csrf}, allow_redirects=False
            ) as r:
                found = CONTACT.search(r.headers.get("Location", ""))
                if r.status not in (302, 303) or not found:
                    self.tally.error(f"claim {r.status}")
                    continue
                self.contacts.append(int(found.group(1)))

    async def messages(self, contact_id: int, after: int) -> list[dict]:
        url = f"{self.web}/desk/contacts/{contact_id}/messages.json?after={after}"
        async with self.session.get(url, headers={"Accept": "application/json"}) as r:
            if r.status != 200:
                self.tally.error(f"messages.json {r.status}")
                return []
            return (await r.json())["messages"]

    async def focus_citizen(self) -> int | None:
        """Open the first claimed conversation's page; say whose it is (the citizen's number)."""
        self.focus = self.contacts[0] if self.contacts else None
        if self.focus is None:
            return None
        for m in await self.messages(self.focus, 0):
            found = CITIZEN.search(m["text"])
            if found:
                return int(found.group(1))
        return None

    async def follow(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        shown = max([m["id"] for m in await self.messages(self.focus, 0)] or [0])
        headers["Last-Event-ID"] = str(shown)
        url = f"{self.streams}/desk/live/contacts/{self.focus}"
        await events(self.session, url, headers, self.on_event, self.tally, "desk")

    async def on_event(self, name: str, event_id: int | None, data: str) -> None:
        if name != "message" or event_id is None or '"author": "citizen"' not in data:
            return
        for m in await self.messages(self.focus, event_id - 1):
            found = re.match(r"c:(\w+)", m["text"])
            sent = self.tally.to_desk.pop(found.group(1), None) if found else None
            if sent is not None:
                self.tally.desk.append(time.monotonic() - sent)

    async def answer(self, every: float) -> None:
        turn = 0
        while self.tally.running and self.contacts:
            await asyncio.sleep(random.uniform(0.5 * every, 1.5 * every))
            if not self.tally.running:
                return
            contact_id = self.contacts[turn % len(self.contacts)]
            turn += 1
            uid = mark()
            began = self.tally.to_citizen[uid] = time.monotonic()
            form = {"text": f"r:{uid} here is your answer", "csrf_token": self.csrf}
            try:
                async with self.session.post(
                    f"{self.web}/desk/contacts/{contact_id}/reply", data=form,
                    allow_redirects=False,
                ) as r:  # fmt: skip
                    if r.status not in (302, 303):
                        self.tally.error(f"agent reply {r.status}")
                    now = time.monotonic()
                    self.tally.posts.append(now - began)
                    if self.tally.shown.pop(uid, None) is not None:
                        self.tally.after_post.append(0.0)  # on screen before the POST answered
                    else:
                        self.tally.answered[uid] = now
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.tally.error(f"agent reply: {type(exc).__name__}")
                self.tally.to_citizen.pop(uid, None)  # counted once, as the refused POST


async def gather_limited(limit: int, coroutines) -> None:  # noqa: ANN001
    gate = asyncio.Semaphore(limit)

    async def one(coroutine) -> None:  # noqa: ANN001
        async with gate:
            await coroutine

    await asyncio.gather(*(one(c) for c in coroutines))


async def kanal_run(
    web: str, streams: str, agents: list[tuple[int, str]], password: str, *, chats: int,
    seconds: float, agent_every: float, citizen_every: float,
) -> dict:  # fmt: skip
    """500 citizens and 20 agents for `seconds`; the latencies and errors."""
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session:
        citizens = [Citizen(n, web, streams, session, tally) for n in range(chats)]
        await gather_limited(16, (c.start() for c in citizens))
        ready_in = time.monotonic() - started
        followers = [asyncio.create_task(c.follow()) for c in citizens if c.sid]
        try:
            await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in citizens)), 120)
        except TimeoutError:
            tally.error("chat streams not open after 120 s")
        desk = [Agent(n, uid, token, web, streams, tally) for n, (uid, token) in enumerate(agents)]
        await asyncio.gather(*(a.sign_in(password) for a in desk))
        per_agent = -(-chats // len(desk))
        await asyncio.gather(*(a.claim(per_agent) for a in desk))
        for agent in desk:
            n = await agent.focus_citizen()
            if n is not None:
                citizens[n].focus = True
        followers += [asyncio.create_task(a.follow()) for a in desk if a.focus]
        await asyncio.sleep(1.0)  # the desk streams are open
        exchange = time.monotonic()
        work = [asyncio.create_task(a.answer(agent_every)) for a in desk]
        work += [asyncio.create_task(c.chatter(citizen_every)) for c in citizens if c.focus]
        await asyncio.sleep(seconds)
        tally.running = False
        await asyncio.gather(*work, return_exceptions=True)
        await asyncio.sleep(5.0)  # what is on its way arrives
        lost = len(tally.to_citizen) + len(tally.to_desk)
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        for agent in desk:
            await agent.session.close()
        assigned = sum(len(a.contacts) for a in desk)
    if lost:
        tally.errors["messages not on screen 5 s after the run"] = lost
    return {
        "chats": chats,
        "desks": len(agents),
        "assigned": assigned,
        "setup_seconds": round(ready_in, 1),
        "exchange_seconds": round(time.monotonic() - exchange, 1),
        "messages": len(tally.chat) + len(tally.desk),
        "chat": summary(tally.chat),
        "desk": summary(tally.desk),
        "all": summary(tally.chat + tally.desk),
        "of_which_the_post": summary(tally.posts),  # the web's part: the POST until answered
        "chat_after_the_post": summary(tally.after_post),  # the stream's part
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
    }


async def baseline_run(url: str, streams: int, rate: float, seconds: float) -> dict:
    """The bare SSE server: `streams` open, `rate` pushes a second spread over them."""
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as session:

        async def on_event(name: str, event_id: int | None, data: str) -> None:
            sent = tally.to_citizen.pop(data, None)
            if sent is not None:
                tally.chat.append(time.monotonic() - sent)

        followers = [
            asyncio.create_task(events(session, f"{url}/s/{n}", {}, on_event, tally, "baseline"))
            for n in range(streams)
        ]
        await asyncio.sleep(2.0)
        deadline = time.monotonic() + seconds

        async def push(n: int) -> None:
            uid = mark()
            tally.to_citizen[uid] = time.monotonic()
            async with session.post(f"{url}/push/{n}", data=uid) as r:
                if r.status != 204:
                    tally.error(f"push {r.status}")

        pushes = []
        while time.monotonic() < deadline:
            pushes.append(asyncio.create_task(push(random.randrange(streams))))
            await asyncio.sleep(random.expovariate(rate))
        await asyncio.gather(*pushes)
        tally.running = False
        await asyncio.sleep(2.0)
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
    if tally.to_citizen:
        tally.errors["not received"] = len(tally.to_citizen)
    return {"streams": streams, "rate_per_second": rate, **summary(tally.chat),
            "errors": sum(tally.errors.values()), "error_kinds": dict(tally.errors)}  # fmt: skip


def summary(values: list[float]) -> dict:
    if not values:
        return {"count": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ordered = sorted(values)
    pick = lambda q: round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)  # noqa: E731
    return {"count": len(ordered), "p50_ms": pick(0.50), "p95_ms": pick(0.95),
            "max_ms": round(1000 * ordered[-1], 1)}  # fmt: skip
