"""The stream process's app served in a thread (its own event loop), and an SSE reader."""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import requests
from aiohttp import web

from router.entrypoints.streams.app import make_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamServer:
    """`kanal streams` around a kanal, on a free port, for the length of a `with` block."""

    def __init__(
        self,
        kanal,  # noqa: ANN001
        poll_seconds: float = 0.05,
        port: int | None = None,
        keepalive_seconds: float = 15.0,
    ) -> None:
        self.kanal = kanal
        self.poll_seconds = poll_seconds
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.app = make_app(kanal, poll_seconds=poll_seconds, keepalive_seconds=keepalive_seconds)

    def __enter__(self) -> StreamServer:
        started = threading.Event()

        async def start() -> None:
            self.runner = web.AppRunner(
                self.app, handle_signals=False, access_log=None,
                handler_cancellation=True, shutdown_timeout=0.5,
            )  # fmt: skip
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True, name="kanal-streams")
        self.thread.start()
        started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            await self.runner.cleanup()
            current = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not current]
            for task in rest:  # streams still open when the test ends
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        future = asyncio.run_coroutine_threadsafe(stop(), self.loop)
        future.result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Events:
    """Read server-sent events from an open response, one at a time."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.lines = response.iter_lines(decode_unicode=True)

    def next(self) -> dict:
        """The next event: {"event", "id", "data"} (data parsed as JSON)."""
        found: dict = {"event": "message", "id": None, "data": None}
        for line in self.lines:
            if line == "":
                if found["data"] is not None:
                    return found
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                found["event"] = value
            elif name == "id":
                found["id"] = int(value)
            elif name == "data":
                found["data"] = json.loads(value)
        raise EOFError("the stream ended")

    def until(self, predicate) -> dict:  # noqa: ANN001
        while True:
            found = self.next()
            if predicate(found):
                return found

    def close(self) -> None:
        self.response.close()


def open_stream(url: str, token: str, after: int | None = None, timeout: float = 20) -> Events:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if after is not None:
        headers["Last-Event-ID"] = str(after)
    response = requests.get(url, headers=headers, stream=True, timeout=(5, timeout))
    response.raise_for_status()
    return Events(response)
