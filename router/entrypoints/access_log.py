"""`kanal web`'s access log: one JSON line per request, `{"msg": "POST /twilio/sms 200",
"duration_ms": 3}`, on stdout (`--access-logfile -`).

gunicorn's own access log fills a dict of every atom its format language knows (each request
header, each response header, the environ's variables, times in four units) and formats the
line through it: 0.13-0.38 ms of a worker's CPU per request under the webhook load, about
the acknowledgement's own cost. This logger writes the same line from the four fields it
says, and as real JSON (a path with a quote in it stays one string).
"""

from __future__ import annotations

import json

from gunicorn.glogging import Logger


class AccessLog(Logger):
    """gunicorn's logger, with its access line built from the method, path, status and time
    (`--logger-class router.entrypoints.access_log.AccessLog`)."""

    def access(self, resp, req, environ, request_time) -> None:  # noqa: ANN001 - gunicorn's
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        millis = request_time.seconds * 1000 + request_time.microseconds // 1000
        self.access_line(environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), status, millis)

    def access_line(self, method: object, path: object, status: object, millis: float) -> None:
        """The line of a request the worker answered itself (router/entrypoints/web_worker.py)."""
        if not self.access_log_enabled:
            return
        what = f"{method} {path} {status}"
        try:
            self.access_log.info('{"msg":%s,"duration_ms":%d}', json.dumps(what), int(millis))
        except Exception:
            self.exception("the access log line could not be written")
