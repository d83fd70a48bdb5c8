"""Web chat in the citizen's language: kanal's texts, the bot's language and the widget's
words, on SQLite and PostgreSQL."""

from __future__ import annotations

from channels.webchat_session import identity_token
from channels.webchat_widget import widget_messages
from router.service import wording
from router.service.translations import translator
from tests.conftest import SECRET
from tests.integration.test_webchat import say, start

DANISH = "hvornår bliver min pension udbetalt"


def test_a_danish_chat_gets_danish_kanal_texts_and_the_bot_hears_danish(client, kanal, bot):
    sid, auth = start(client)
    first = say(client, sid, auth, DANISH).get_json()
    assert first["language"] == "da"
    assert bot.languages == ["da"]
    handed = say(client, sid, auth, "jeg vil gerne tale med en person").get_json()
    assert handed["state"] == "queued"
    told = handed["messages"][-1]["text"]
    assert told.startswith("Du bad om en medarbejder: en medarbejder tager over.")
    assert "Jeg sender dig videre til en medarbejder nu" in told
    contact = kanal.views.contact_on("webchat", sid)
    assert contact.language == "da"  # stored: it sticks for the conversation
    with kanal.uow() as uow:  # the desk's decision trail keeps the profile's own words
        assert uow.decisions.for_contact(contact.id)[-1].reason.startswith("You asked for")


def test_an_english_chat_still_gets_english(client, kanal, bot):
    sid, auth = start(client)
    body = say(client, sid, auth, "When will my pension be paid?").get_json()
    assert body["language"] == "en"
    handed = say(client, sid, auth, "I want to talk to a person").get_json()
    assert "passing you to a person" in handed["messages"][-1]["text"]
    assert bot.languages == ["en"]


def test_a_short_first_message_decides_nothing_and_the_next_one_does(client, kanal, bot):
    sid, auth = start(client)
    body = say(client, sid, auth, "12345678").get_json()  # a case number says no language
    assert body["language"] is None
    assert say(client, sid, auth, DANISH).get_json()["language"] == "da"
    assert say(client, sid, auth, "12345678").get_json()["language"] == "da"
    assert bot.languages == ["en", "da", "da"]  # at first the agency's first language (en here)


def test_the_registered_language_wins_and_is_known_before_the_first_message(
    client, kanal, bot, add_citizen
):
    pseudonym = add_citizen(language="da")
    sid, auth = start(client, identity=identity_token(SECRET, pseudonym))
    listed = client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=auth).get_json()
    assert listed["language"] == "da"
    say(client, sid, auth, "When will my pension be paid?")
    assert bot.languages == ["da"]


def test_the_widget_words_are_served_per_language(client):
    response = client.get("/api/v1/chat/texts/da")
    assert response.status_code == 200
    body = response.get_json()
    assert body["language"] == "da"
    assert set(body["texts"]) == set(widget_messages())
    assert body["texts"]["Send"] == "Send"
    assert body["texts"]["Write a message to start."] == "Skriv en besked for at begynde."
    assert body["texts"]["You are chatting with a person."] == "Du chatter med en medarbejder."
    assert client.get("/api/v1/chat/texts/sv").status_code == 404


def test_the_chat_page_speaks_the_browsers_language_or_the_one_asked_for(client):
    danish = client.get("/chat", headers={"Accept-Language": "da-DK,da;q=0.9,en;q=0.5"})
    html = danish.get_data(as_text=True)
    assert '<html lang="da">' in html
    assert "Stil os et spørgsmål" in html
    assert "Skriv en besked for at begynde." in html
    english = client.get("/chat?lang=en", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Ask us a question" in english
    assert translator("da")(wording.CLOSE) not in english


def test_a_language_chosen_on_the_page_starts_the_conversation(client, kanal, bot):
    sid, auth = start(client, language="da")
    say(client, sid, auth, "When will my pension be paid?")
    assert bot.languages == ["da"]  # chosen by the citizen: it holds over identification
    response = client.post("/api/v1/chat/sessions", json={"language": "xx"})
    assert response.status_code == 400
    assert "da" in response.get_json()["error"]


def test_the_web_app_has_its_language_models_before_the_first_message(kanal):
    # Loading them holds every thread of the process for a second or two: not in a request.
    assert kanal.turns.identify.loaded
