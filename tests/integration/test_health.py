"""Liveness, readiness and /metrics as an operator sees them."""

from router.entrypoints.app import kanal_of


def test_healthz_answers_ok(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_database_and_bot(client):
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["state"] == "up"
    assert body["checks"]["bot"]["state"] == "up"


def test_readyz_stays_ready_but_says_so_when_the_bot_is_down(client, bot):
    bot.down = True
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["checks"]["bot"]["state"] == "down"
    assert "people" in body["degraded"]


def test_logs_carry_no_phone_numbers(caplog):
    import logging

    from router.entrypoints.logs import JsonFormatter

    record = logging.LogRecord(
        "kanal", logging.INFO, __file__, 1, "sms from +4512345678", None, None
    )
    assert "+4512345678" not in JsonFormatter().format(record)


def test_metrics_show_the_waiting_queue_and_no_personal_data(client, add_citizen):
    add_citizen(phone="+4520123499", name="Karen Blixen")
    session = client.post("/api/v1/chat/sessions").get_json()
    auth = {"Authorization": f"Bearer {session['token']}"}
    client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/messages",
        json={"text": "I want a person"},
        headers=auth,
    )
    body = client.get("/metrics").get_data(as_text=True)
    assert 'kanal_queue_waiting{skill="general"} 1' in body
    assert 'kanal_open_contacts{channel="webchat",state="queued"} 1' in body
    assert "kanal_bot_up 1" in body
    assert "Karen" not in body and "4520123499" not in body


def test_logged_errors_name_the_exception_not_its_data():
    import logging

    from router.entrypoints.logs import JsonFormatter

    try:
        raise ValueError("INSERT ... parameters: ('+4520123499', 'my secret words')")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "kanal", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert '"exc": "ValueError"' in line
    assert "4520123499" not in line and "secret words" not in line


def families(client):
    from prometheus_client.parser import text_string_to_metric_families

    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    return response, {f.name: f for f in text_string_to_metric_families(text)}


def value(family, **labels):
    found = [s.value for s in family.samples if s.labels == labels]
    assert len(found) == 1, (family.name, labels, family.samples)
    return found[0]


def test_metrics_parse_as_prometheus_and_count_the_queue_and_the_turns(app_config, bot):
    from prometheus_client import CONTENT_TYPE_LATEST

    from router.entrypoints.app import create_app
    from tests.fakes import FakeClock

    clock = FakeClock()
    app = create_app(app_config, bot=bot, clock=clock)
    client = app.test_client()

    for text in ("I want a person", "I want a person", "hello"):
        session = client.post("/api/v1/chat/sessions").get_json()
        client.post(
            f"/api/v1/chat/sessions/{session['session_id']}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {session['token']}"},
        )
    clock.advance(seconds=90)
    response, metrics = families(client)
    assert response.content_type == CONTENT_TYPE_LATEST
    assert value(metrics["kanal_queue_waiting"], skill="general") == 2
    assert value(metrics["kanal_queue_oldest_wait_seconds"], skill="general") >= 90
    assert value(metrics["kanal_open_contacts"], channel="webchat", state="queued") == 2
    assert metrics["kanal_turns"].type == "counter"
    assert value(metrics["kanal_turns"], channel="webchat") == 1  # the bot took "hello" only
    assert value(metrics["kanal_bot_up"]) == 1
    kanal_of(app).close()


def test_metrics_count_the_bots_failures_by_reason(client, bot):
    bot.down = True
    session = client.post("/api/v1/chat/sessions").get_json()
    client.post(
        f"/api/v1/chat/sessions/{session['session_id']}/messages",
        json={"text": "hello"},
        headers={"Authorization": f"Bearer {session['token']}"},
    )
    _, metrics = families(client)
    assert value(metrics["kanal_bot_failures"], channel="webchat", reason="unavailable") == 1
    assert value(metrics["kanal_bot_up"]) == 0
