"""The baseline: a bare asyncio SSE server (aiohttp) that pushes a no-op event when told.

    python -m benchmarks.streams.baseline PORT

`GET /s/<n>` is stream n; `POST /push/<n>` writes one event to it at once. The benchmark
drives it with the same clients and rate as kanal's streams, so the ratio says what kanal's
path (the commit, the notice, the read) adds to serving server-sent events on this machine.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

STREAMS: dict[str, asyncio.Queue] = {}


async def stream(request: web.Request) -> web.StreamResponse:
    n = request.match_info["n"]
    queue = STREAMS.setdefault(n, asyncio.Queue())
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b"retry: 2000\n\n")
    while True:
        data = await queue.get()
        await response.write(f"event: message\ndata: {data}\n\n".encode())


async def push(request: web.Request) -> web.Response:
    n = request.match_info["n"]
    STREAMS.setdefault(n, asyncio.Queue()).put_nowait(await request.text())
    return web.Response(status=204)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main(port: int) -> None:
    app = web.Application()
    app.router.add_get("/s/{n}", stream)
    app.router.add_post("/push/{n}", push)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None,
                handler_cancellation=True, shutdown_timeout=1.0)  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]))
