"""Adding a channel is one module and one registration line: a throwaway channel, registered
in `channels.INSTALLED`, gets the bot's answers through its own sender in the real app."""

import time

import pytest
from sqlalchemy import create_engine

import channels
from router import create_app
from router.adapters.db import create_all
from router.entrypoints.bootstrap import kanal_of
from tests import throwaway_channel
from tests.fakes import RecordingSender

# The channel cannot carry links (sends_links=False): the bot's address becomes the website.
PENSION = "[payment_date] See the agency's website"


@pytest.fixture
def database_url(tmp_path):
    """A temporary SQLite file: the test is about the wiring, not the database."""
    url = f"sqlite:///{tmp_path / 'kanal.db'}"
    engine = create_engine(url)
    create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def throwaway(monkeypatch, app_config, bot):
    """The real app with the throwaway channel registered, and the channel's sender."""
    monkeypatch.setattr(channels, "INSTALLED", (*channels.INSTALLED, throwaway_channel.__name__))
    sender = RecordingSender()
    app = create_app(app_config, bot=bot, senders={throwaway_channel.NAME: sender})
    yield app.test_client(), sender, kanal_of(app)
    kanal_of(app).close()


def post(client, text, sid, wait=True):
    return client.post(
        "/throwaway/messages", json={"from": "pager-7", "text": text, "id": sid, "wait": wait}
    )


def test_a_registered_channel_gets_the_bots_answer_through_its_own_sender(throwaway):
    client, sender, kanal = throwaway
    answer = post(client, "When is my pension paid?", "t-1")
    assert answer.status_code == 200
    assert answer.get_json() == {"replies": [PENSION]}
    assert sender.sent == [("pager-7", PENSION, None)]
    assert kanal.channels["throwaway"].max_text == 160
    assert "throwaway" in kanal.channels.names()


def test_a_registered_channel_recognises_a_retried_message(throwaway):
    client, sender, _ = throwaway
    post(client, "When is my pension paid?", "t-1")
    again = post(client, "When is my pension paid?", "t-1")
    assert again.get_json() == {"replies": []}
    assert len(sender.sent) == 1


def test_a_registered_channel_hands_its_turns_to_the_worker_when_nobody_waits(throwaway):
    client, sender, kanal = throwaway
    assert post(client, "I want a person", "t-2", wait=False).status_code == 202
    deadline = time.monotonic() + 10
    while not sender.sent and time.monotonic() < deadline:
        time.sleep(0.02)
    [(to, body, _)] = sender.sent
    assert to == "pager-7"
    assert "everything you have written here" in body
    assert kanal.views.contact_on("throwaway", "pager-7").state == "queued"
