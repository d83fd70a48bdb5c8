"""The demo's citizens on each channel: a chat through the chat API, texts through the signed
Twilio SMS webhook and calls through the signed voice webhooks (the phone simulator,
ivr/phone.py), each with its satisfaction answer; the driver (demo_traffic.py) runs them."""

from __future__ import annotations

from datetime import datetime, timedelta

from router.domain.channels import SMS
from router.entrypoints.demo_citizens import BYE, GIBBERISH, NEEDS, PERSON, PHRASES, YES, pick


class Journeys:
    """A citizen's contact on each channel, driven through one in-process kanal (the
    `Driver`'s app, client, clock, random numbers and tally)."""

    def _story(self) -> tuple[dict | None, str, list[str]]:
        """Return who writes (None: anonymous), in which language, and what they write."""
        rng = self.rng
        who = rng.choice(self.citizens) if self.citizens and rng.random() < 0.75 else None
        language = who["language"] if who else ("da" if rng.random() < 0.7 else "en")
        need = pick(rng, NEEDS)
        roll = rng.random()
        first = rng.choice(PHRASES[need][language])
        if roll < 0.10:
            texts = [PERSON[language]]
        elif roll < 0.20:
            texts = [rng.choice(GIBBERISH), rng.choice(GIBBERISH)]  # the bot fails twice
        elif roll < 0.30:
            texts = [first, PERSON[language]]
        elif roll < 0.65:
            texts = [first, BYE[language]]
        else:
            texts = [first]  # answered; the conversation times out
        return who, language, texts

    def chat(self, before: datetime) -> None:
        from channels.webchat_session import identity_token
        from router.domain.model import ContactState

        who, _, texts = self._story()
        body = {}
        if who is not None:
            from router.adapters.register_file import national_id
            from router.domain.citizens import pseudonym_for

            secret = self.config["SECRET_KEY"]
            pseudonym = pseudonym_for(secret, national_id(who["national_id"]))
            body["identity"] = identity_token(secret, pseudonym)
        opened = self.client.post("/api/v1/chat/sessions", json=body)
        if opened.status_code != 201:
            self.tally["chat_refused"] += 1
            return
        session = opened.get_json()
        headers = {"Authorization": f"Bearer {session['token']}"}
        url = f"/api/v1/chat/sessions/{session['session_id']}/messages"
        state = None
        for text in texts:
            self._later(self.rng.uniform(10, 60), before)
            answer = self.client.post(url, json={"text": text}, headers=headers)
            state = (answer.get_json() or {}).get("state")
            if state != ContactState.BOT:
                break
        self._serve(before)
        # The widget asks the satisfaction question once the conversation has ended.
        survey = self.client.get(url.replace("/messages", "/survey"), headers=headers)
        if (survey.get_json() or {}).get("state") == "asked" and self.rng.random() < 0.6:
            self._later(self.rng.uniform(5, 30), before)
            answer = {"score": self._score()}
            self.client.post(url.replace("/messages", "/survey"), json=answer, headers=headers)
            self.tally["satisfaction_answers"] += 1

    def text(self, before: datetime) -> None:
        who, _, texts = self._story()
        number = who["phone"] if who else f"+452813{self.rng.randrange(10**4):04d}"
        for text in texts:
            self._later(self.rng.uniform(20, 120), before)
            if not self._post_sms(number, text):
                return
        self._serve(before)
        self._answer_by_sms(number, before)

    def _post_sms(self, number: str, text: str) -> bool:
        """Post one signed inbound-SMS webhook and wait for its turn; False when refused."""
        from channels.twilio_sandbox.sms_simulator import webhook_form
        from channels.twilio_signature import sign

        public = self.config["KANAL_PUBLIC_URL"].rstrip("/")
        form = webhook_form(self._sms_phone(), number, text)
        signature = sign(public + "/twilio/sms", form, self.config["TWILIO_AUTH_TOKEN"])
        response = self.client.post("/twilio/sms", data=form,
                                    headers={"X-Twilio-Signature": signature})  # fmt: skip
        if response.status_code != 200:
            self.tally["sms_refused"] += 1
            return False
        self._settle()
        return True

    def _answer_by_sms(self, number: str, before: datetime) -> None:
        """The scheduler's survey job texts the question; some citizens text a score back."""
        from router.entrypoints.jobs import ask_surveys

        if self.kanal.surveys is None:
            return
        self._later(self.rng.uniform(60, 300), before)
        ask_surveys(self.kanal)
        with self.kanal.uow() as uow:
            asked = uow.surveys.asked_on(SMS, number, self.clock() - timedelta(hours=1))
        if asked is None or self.rng.random() >= 0.5:
            return
        self._later(self.rng.uniform(60, 600), before)
        self._post_sms(number, str(self._score()))
        self.tally["satisfaction_answers"] += 1

    def _score(self) -> int:
        """A 5-point answer, 5 very satisfied: most are content, a tail is not."""
        return self.rng.choices((5, 4, 3, 2, 1), (35, 33, 14, 11, 7))[0]

    def _sms_phone(self):  # noqa: ANN202
        from channels.twilio_sandbox.sms_simulator import TextingPhone

        return TextingPhone(
            base_url="", public_url=self.config["KANAL_PUBLIC_URL"],
            account_sid=self.config["TWILIO_ACCOUNT_SID"] or "ACdemo",
            auth_token=self.config["TWILIO_AUTH_TOKEN"],
            agency_number=self.config["TWILIO_FROM_NUMBER"],
        )  # fmt: skip

    def call(self, before: datetime) -> None:
        from ivr.phone import CallFailed, Line, Phone
        from ivr.phone_transport import flask_send

        who, language, texts = self._story()
        number = who["phone"] if who else f"+452814{self.rng.randrange(10**4):04d}"
        public = self.config["KANAL_PUBLIC_URL"].rstrip("/")
        line = Line(public_url=public, auth_token=self.config["TWILIO_AUTH_TOKEN"],
                    account_sid=self.config["TWILIO_ACCOUNT_SID"] or "ACdemo",
                    agency_number=self.config["TWILIO_FROM_NUMBER"])  # fmt: skip
        call = Phone(line, number, flask_send(self.client, public))
        try:
            call.dial()
            if who is None and call.gather is not None:
                call.press("1" if language == "da" else "2")  # the language menu
            for text in texts:
                if call.ended or call.queue is not None:
                    break
                self._later(self.rng.uniform(5, 20), before)
                call.say(text)
                offered = not call.ended and call.queue is None and call.gather is not None
                if offered and self.rng.random() < 0.55:
                    call.say(YES[language])  # take the link by SMS (if it was offered)
                    self.tally["links_taken"] += 1
                    break
            if call.queue is not None:
                self._later(self.rng.uniform(20, 240), before)
                if self.rng.random() < 0.15:
                    call.hang_up()  # gave up waiting
                    self.tally["calls_abandoned"] += 1
                    return
                self._serve(before, voice=True)
            elif not call.ended:
                call.hang_up()
        except CallFailed:
            self.tally["calls_failed"] += 1
