"""`kanal web`'s access log: one JSON line per request saying what was asked, the answer's
status and how long it took (router/entrypoints/access_log.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from router.entrypoints.access_log import AccessLog


def logger(path) -> AccessLog:  # noqa: ANN001
    cfg = Config()
    cfg.set("accesslog", str(path))
    return AccessLog(cfg)


def test_each_request_is_one_json_line_with_method_path_status_and_milliseconds(tmp_path):
    log = logger(tmp_path / "access.log")
    answered = SimpleNamespace(status="200 OK")
    log.access(
        answered,
        None,
        {"REQUEST_METHOD": "POST", "PATH_INFO": "/twilio/sms"},
        timedelta(milliseconds=3, microseconds=700),
    )
    log.access(
        SimpleNamespace(status="404 NOT FOUND"),
        None,
        {"REQUEST_METHOD": "GET", "PATH_INFO": '/odd"path\\'},
        timedelta(seconds=2),
    )
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"msg": "POST /twilio/sms 200", "duration_ms": 3},
        {"msg": 'GET /odd"path\\ 404', "duration_ms": 2000},  # still one JSON string
    ]


def test_without_an_access_log_file_nothing_is_written(tmp_path, capsys):
    log = AccessLog(Config())  # no --access-logfile
    log.access(
        SimpleNamespace(status="200 OK"), None, {"REQUEST_METHOD": "GET"}, timedelta(milliseconds=1)
    )
    assert capsys.readouterr() == ("", "")
