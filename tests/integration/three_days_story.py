"""The three days of tests/integration/test_metrics_three_days.py: citizens, callers and
agents driving kanal's services (the chat and SMS front door, the phone's service as its
webhooks drive it, the desk, the callbacks' dialler, the self-service's completion API) on a
clock the test moves, in the agency's time zone, Asia/Kolkata."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from channels.sms import inbound
from router.domain.commands import AgentReply, ClaimNext, ReceiveMessage, Resolve, StartChat
from router.entrypoints.auth import create_token, create_user
from router.service.calls import Input
from router.service.housekeeping import close_inactive
from tests.integration.metrics_support import Citizen

IST = ZoneInfo("Asia/Kolkata")  # UTC+05:30 all year: no daylight saving time
LINK_TEXT = "Here is the link: {link}"


def at(day: int, hms: str) -> datetime:
    """A moment of November 2026 in the agency's local time, as UTC."""
    h, m, s = (float(x) for x in hms.split(":"))
    local = datetime(2026, 11, day, int(h), int(m), tzinfo=IST) + timedelta(seconds=s)
    return local.astimezone(UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, moment: datetime) -> None:
        assert moment >= self.now, (moment, self.now)
        self.now = moment


class Caller:
    count = 0

    def __init__(self, kanal, number: str) -> None:
        Caller.count += 1
        self.kanal, self.number = kanal, number
        self.sid = f"CA{Caller.count:032d}"
        self.contact_id = kanal.calls.answer(self.sid, number).contact_id
        self.turns = 0

    def say(self, text: str):  # noqa: ANN201
        self.turns += 1
        return self.kanal.calls.turn(
            self.contact_id, self.number, Input(self.sid, self.turns), text,
            confidence=0.9, input="speech", language="en",
        ).result  # fmt: skip


class Story:
    """The three days, through kanal's services on the test's clock."""

    def __init__(self, kanal, client, clock, add_citizen) -> None:
        self.kanal, self.client, self.clock, self.add = kanal, client, clock, add_citizen
        self.ids: dict[str, int] = {}
        self.people: dict[str, tuple[str, str]] = {}
        self.voices: dict[str, Citizen] = {}
        self.sids = 0
        self.n = 0
        create_user(kanal.uow, "portal", "correct horse", "integration")
        self.portal = {"Authorization": "Bearer " + create_token(kanal.uow, "portal", "portal")}
        self.agents = []
        for name in ("agent1", "agent2"):
            user = create_user(kanal.uow, name, "correct horse", "agent")
            with kanal.uow() as uow:
                uow.users.get(user.id).available_for_calls = True
                uow.commit()
            self.agents.append(user.id)

    def citizen(self, name: str, born: int = 1990, exempt: str | None = None) -> Citizen:
        if name not in self.people:
            self.n += 1
            phone = f"+9198000{self.n:05d}"
            self.people[name] = (
                self.add(phone=phone, birth_year=born, exempt_ground=exempt),
                phone,
            )
        if name not in self.voices:
            pseudonym, phone = self.people[name]
            self.voices[name] = Citizen(self.kanal.turns, pseudonym, phone)
        return self.voices[name]

    def take(self, key: str, moment: datetime, agent: int = 0) -> None:
        self.clock.at(moment)
        claimed = self.kanal.desk.claim_next(ClaimNext(agent_id=self.agents[agent]))
        assert claimed is not None and claimed.contact_id == self.ids[key], (key, claimed)
        self.kanal.desk.reply(AgentReply(self.agents[agent], claimed.contact_id, "Hello."))

    def resolve(self, key: str, moment: datetime, outcome: str = "resolved", agent: int = 0):
        self.clock.at(moment)
        self.kanal.desk.resolve(
            Resolve(self.agents[agent], self.ids[key], "answered", outcome=outcome)
        )

    def call(self, key: str, name: str, moment: datetime, born=1990, exempt=None) -> Caller:
        self.citizen(name, born, exempt)
        self.clock.at(moment)
        caller = Caller(self.kanal, self.people[name][1])
        self.ids[key] = caller.contact_id
        return caller

    def link(self, key, name, moment, born=1990) -> None:
        caller = self.call(key, name, moment, born)
        result = caller.say("when is my pension paid")
        assert str(result.decision.action) == "offer_digital"
        assert self.kanal.calls.text_link(caller.contact_id, caller.sid, LINK_TEXT) == "sent"
        self.clock.at(moment + timedelta(seconds=40))
        self.kanal.calls.ended(caller.sid, "completed", 40)

    def queue_call(self, key, name, moment, born=1990, exempt=None) -> Caller:
        caller = self.call(key, name, moment, born, exempt)
        if exempt is None:
            caller.say("I want to talk to a person")
        else:
            caller.say("I need help with my pension")
        self.kanal.calls.enqueued(caller.sid, caller.contact_id)
        return caller

    def hang_up(self, caller: Caller, moment: datetime) -> None:
        self.clock.at(moment)
        self.kanal.calls.wait_ended(caller.sid, "hangup")
        self.kanal.calls.ended(caller.sid, "completed", 60)

    def answered_call(
        self, key, name, moment, wait, handle, born=1990, exempt=None, outcome="resolved"
    ):
        caller = self.queue_call(key, name, moment, born, exempt)
        self.take(key, moment + timedelta(seconds=wait))
        self.kanal.calls.wait_ended(caller.sid, "bridged")
        done = moment + timedelta(seconds=wait + handle)
        self.clock.at(done)
        self.kanal.calls.ended(caller.sid, "completed", int(wait + handle))
        self.resolve(key, done, outcome)

    def chat(self, key, name, moment, *texts, born=1990, exempt=None) -> None:
        who = self.citizen(name, born, exempt)
        self.clock.at(moment)
        self.ids[key] = who.chat(*texts)

    def sms(self, key, name, moment, *texts, born=1990, exempt=None) -> None:
        """Texts as Twilio's webhook form carries them, read by the SMS channel's own parser
        (a keyword such as STOP is marked so and never reaches the bot)."""
        self.citizen(name, born, exempt)
        self.clock.at(moment)
        for text in texts:
            self.sids += 1
            form = {"MessageSid": f"SMcitizen{self.sids:025d}", "From": self.people[name][1],
                    "To": "+4570000000", "Body": text}  # fmt: skip
            self.kanal.turns.receive(inbound(form))
        with self.kanal.uow() as uow:
            latest = uow.contacts.latest_on("sms", self.people[name][1])
            if latest is not None:
                self.ids[key] = latest.id

    def complete(self, name: str, moment: datetime) -> None:
        self.clock.at(moment)
        answer = self.client.post(
            "/api/v1/events/digital-completion",
            json={"need": "payment_date", "citizen": self.people[name][0]},
            headers=self.portal,
        )
        assert answer.status_code == 200, answer.get_json()

    def sweep_bots(self, moment: datetime) -> int:
        self.clock.at(moment)
        return close_inactive(self.kanal.uow, self.kanal.channels, moment)


def chat_in_two(s: Story, key: str, name: str, first: datetime, then: datetime) -> None:
    """A chat whose second message comes later (across local midnight)."""
    who = s.citizen(name)
    s.clock.at(first)
    session = f"s_{name}_late"
    cid = s.kanal.turns.start_chat(
        StartChat(secret_hash="x" * 64, citizen_pseudonym=who.pseudonym), address=session
    )
    s.ids[key] = cid
    s.kanal.turns.receive(
        ReceiveMessage("webchat", session, "When is my pension paid?", contact_id=cid)
    )
    s.clock.at(then)
    s.kanal.turns.receive(ReceiveMessage("webchat", session, "bye", contact_id=cid))


def play(s: Story) -> None:
    k, clock = s.kanal, s.clock
    pension, bye, person = "When is my pension paid?", "bye", "I want to talk to a person"
    # -- Tuesday 3 November (IST) ---------------------------------------------------------
    s.chat("c01", "asha", at(3, "09:00:00"), pension, bye)
    s.chat("c02", "bilal", at(3, "09:05:00"), "hello", person)
    s.take("c02", at(3, "09:05:15"))
    s.resolve("c02", at(3, "09:08:15"))
    s.sms("c03", "deepa", at(3, "09:20:00"), "I need help with my pension", born=1950,
          exempt="impairment")  # fmt: skip
    s.take("c03", at(3, "09:20:20"))
    s.resolve("c03", at(3, "09:25:20"), "assisted_digital")
    s.link("v04", "esha", at(3, "10:00:00"))
    s.link("v05", "farid", at(3, "10:05:00"))
    s.link("v06", "gita", at(3, "10:10:00"), born=1950)
    s.hang_up(s.queue_call("v07", "isha", at(3, "10:20:00")), at(3, "10:20:03"))
    s.hang_up(s.queue_call("v08", "jai", at(3, "10:25:00")), at(3, "10:25:45"))
    s.hang_up(s.queue_call("v09", "kavi", at(3, "10:30:00"), born=1950), at(3, "10:30:12"))
    s.answered_call("v10", "lata", at(3, "10:35:00"), 19.5, 300)
    s.answered_call("v11", "manu", at(3, "10:45:00"), 20, 180, born=1950, exempt="language")
    s.answered_call("v12", "nila", at(3, "10:50:00"), 25, 120)
    om = s.queue_call("v13", "om", at(3, "11:00:00"), born=1950)
    clock.at(at(3, "11:01:00"))
    assert k.calls.book(om.contact_id, om.sid, "waited_too_long").ok
    k.calls.wait_ended(om.sid, "leave")
    k.calls.ended(om.sid, "completed", 60)
    [callback] = k.callbacks.for_contact(om.contact_id)
    clock.at(at(3, "11:10:00"))
    assert k.dialling.run(callback.id) == "placed"
    sid = k.callbacks.for_contact(om.contact_id)[0].call_sid
    assert k.dialling.answered(callback.id, sid).agent_endpoint
    s.resolve("v13", at(3, "11:15:00"))
    s.sms("c14", "priya", at(3, "11:30:00"), "STOP")
    s.chat("c15", "ravi", at(3, "11:40:00"), "asdf", "qwerty")
    s.take("c15", at(3, "11:40:30"))
    clock.at(at(3, "11:42:00"))
    k.assignments.transfer(s.agents[0], s.ids["c15"], queue="pension", note="pension")
    s.take("c15", at(3, "11:43:00"), agent=1)
    s.resolve("c15", at(3, "11:46:00"), agent=1)
    s.chat("c16", "tara", at(3, "12:00:00"), "pension payment?", born=1950)
    assert "c14" not in s.ids  # Priya's STOP, her first text: her opt-out, and no contact
    assert s.sweep_bots(at(3, "12:31:00")) == 1  # Tara
    s.chat("c17", "sara", at(3, "23:50:00"), "I need help with my pension", born=1940,
           exempt="homeless")  # fmt: skip
    s.take("c17", at(3, "23:59:50"))
    s.resolve("c17", at(4, "00:10:00"))
    # -- Wednesday 4 November ---------------------------------------------------------------
    s.complete("esha", at(4, "06:00:00"))
    s.link("v18", "hari", at(4, "09:00:00"))
    s.chat("c19", "tara", at(4, "10:00:00"), "my payment is missing", bye)
    s.sms("c20", "uma", at(4, "10:30:00"), "I need help with my pension", exempt="emigrated")
    s.take("c20", at(4, "10:30:08"))
    s.resolve("c20", at(4, "10:33:28"), "referred")
    s.chat("c21", "vik", at(4, "11:00:00"), "hello", person)
    clock.at(at(4, "11:02:30"))
    assert k.left_chats.sweep() == 1
    s.hang_up(s.queue_call("v22", "wen", at(4, "11:30:00")), at(4, "11:30:05"))
    s.answered_call("v23", "xena", at(4, "12:00:00"), 4, 240, born=1940, outcome="ineligible")
    s.chat("c24", "yash", at(4, "13:00:00"), pension, bye)
    s.chat("c25", "zoya", at(4, "14:00:00"), pension, bye)
    s.complete("hari", at(4, "14:00:30"))
    s.sms("c26", "anil", at(4, "15:00:00"), pension, bye, born=1950)
    s.answered_call("v27", "bina", at(4, "16:00:00"), 30, 400, born=1950, exempt="no_digital_id")
    s.sms("c28", "chetan", at(4, "17:00:00"), pension, "STOP")
    chat_in_two(s, "c29", "dinesh", at(4, "23:55:00"), at(5, "00:05:00"))
    # -- Thursday 5 November ----------------------------------------------------------------
    hari = s.call("v30", "hari", at(5, "08:00:00"))
    assert str(hari.say("when is my pension paid").decision.action) == "offer_digital"
    hari.say(person)
    k.calls.enqueued(hari.sid, hari.contact_id)
    s.take("v30", at(5, "08:00:10"))
    k.calls.wait_ended(hari.sid, "bridged")
    clock.at(at(5, "08:01:50"))
    k.calls.ended(hari.sid, "completed", 110)
    s.resolve("v30", at(5, "08:01:50"))
    s.link("v31", "ela", at(5, "09:00:00"))
    s.answered_call("v32", "fatima", at(5, "09:10:00"), 15, 60)
    s.chat("c33", "gopal", at(5, "09:20:00"), pension, person, born=1950)
    s.take("c33", at(5, "09:20:45"))
    s.resolve("c33", at(5, "09:22:45"))
    s.complete("ela", at(5, "10:00:00"))
    s.chat("c34", "indu", at(5, "10:30:00"), pension, bye)
    s.complete("gita", at(5, "12:10:00"))
    s.answered_call("v36", "kiran", at(5, "13:00:00"), 21, 90)
    s.sms("c37", "leela", at(5, "14:00:00"), "hello", person, born=1940)
    s.take("c37", at(5, "14:00:50"))
    s.resolve("c37", at(5, "14:03:20"))
    s.sms("c38", "mohan", at(5, "15:00:00"), pension, bye)
    s.hang_up(s.queue_call("v39", "naveen", at(5, "16:00:00")), at(5, "16:00:02"))
    s.sms("c40", "priya", at(5, "16:30:00"), pension)
    assert s.sweep_bots(at(5, "17:01:00")) == 2  # Chetan's and Priya's texts
    s.chat("c41", "raj", at(5, "17:05:00"), pension, bye)
    sunil = s.call("v42", "sunil", at(5, "17:10:00"))
    assert str(sunil.say("when is my pension paid").decision.action) == "offer_digital"
    clock.at(at(5, "17:10:20"))
    k.calls.ended(sunil.sid, "completed", 20)
    s.chat("c35", "jaya", at(5, "18:00:00"), pension)  # still open at query time
    # -- after the window: repeats inside and just outside 7 days ------------------------------
    s.chat("x_gopal", "gopal", at(7, "10:00:00"), "pension payment?", bye)
    s.chat("x_asha", "asha", at(10, "08:59:00"), "pension payment?", bye)
    s.chat("x_zoya", "zoya", at(11, "14:01:00"), "pension payment?", bye)
    clock.at(at(25, "12:00:00"))
