"""SQL statements, transactions and CPU per turn, counted in-process on SQLite.

    .venv/bin/python -m benchmarks.turn_cost [--turns 500]

Kinds of turn: an SMS the bot answers (scripted in-process bot, reply sent through a
recording sender), a chat message the bot answers (the turn alone, with its session's
opening; and as the API serves it: the bearer token checked, the turn, the JSON answer, one
WSGI call per message), a message that needs no bot (an exempt citizen's: to a person), a
message to a contact already waiting for a person, one spoken phone turn (a signed Twilio
Voice webhook: the caller's words answered with the SMS offer) and one SMS reply of CALL to
a deflection follow-up's offer (the callback booked, the confirmation sent). Transactions
are counted on the main database apart from the inbox's acknowledgement and the durable job
store (each a connection of its own on SQLite), the reads' own pool (SQLite: transactions
that begin and roll back) with the main database; the target for the phone turn and the
follow-up reply is at most two on the main database.
Writes benchmarks/results/turn_cost.json.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from benchmarks import results as results_file
from benchmarks.sms_webhook.scripted import ScriptedBot
from benchmarks.turn_cost.profiled import profile
from router import create_app
from router.adapters.db import create_all
from router.domain.commands import ReceiveMessage, StartChat
from router.domain.model import Citizen, Exemption
from router.entrypoints.bootstrap import kanal_of
from router.service.lanes import take_in_order
from router.service.ports import SendResult

PUBLIC = "http://127.0.0.1:9"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "turn_cost.json"


class Accepting:
    """A sender that accepts at once: the provider's time is not kanal's."""

    def send(self, to, body, *, status_callback=None):  # noqa: ANN001, ANN201
        return SendResult("accepted", provider_id="SM" + secrets.token_hex(16), segments=1)


class Counter:
    """Statements and transactions on kanal's engines; `reader`: the engine of the reads
    that never write (on SQLite a pool of its own: its transactions begin and roll back,
    counted when they begin, as the main database's)."""

    def __init__(self, engines, reader=None) -> None:  # noqa: ANN001
        self.statements = self.transactions = self.main = 0
        self.main_engine = engines[0]
        for engine in dict.fromkeys(engines):  # PostgreSQL: the inbox is the same engine
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "commit", self._commit(engine))
        if reader is not None and reader not in engines:
            event.listen(reader, "before_cursor_execute", self._statement)
            event.listen(reader, "begin", self._commit(self.main_engine))

    def _statement(self, *args) -> None:  # noqa: ANN002
        self.statements += 1

    def _commit(self, engine):  # noqa: ANN001, ANN202
        def count(*args) -> None:  # noqa: ANN002
            self.transactions += 1
            if engine is self.main_engine:
                self.main += 1

        return count


def exempt_phone(i: int) -> str:
    return f"+4529{i + 100:06d}"


def measure(name: str, turns: int, run, counter: Counter) -> dict:  # noqa: ANN001
    for i in range(20):  # warm up: compiled statements cached, pools filled
        run(-1 - i)
    counter.statements = counter.transactions = counter.main = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(turns):
        run(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "turn": name,
        "sql_statements_per_turn": round(counter.statements / turns, 1),
        "transactions_per_turn": round(counter.transactions / turns, 2),
        "main_db_transactions_per_turn": round(counter.main / turns, 2),
        "cpu_ms_per_turn": round(cpu / turns * 1000, 2),
        "wall_ms_per_turn": round(wall / turns * 1000, 2),
    }


def chat_messages(app, turns: int):  # noqa: ANN001, ANN201
    """A citizen's chat message through the API, as the widget sends it (a WSGI call: the
    session's bearer token checked, the turn, the JSON answer); the sessions are opened
    beforehand, one per message."""
    import io

    from werkzeug.test import EnvironBuilder

    client = app.test_client()
    prepared = []
    for _ in range(turns + 20):
        opened = client.post("/api/v1/chat/sessions").get_json()
        environ = EnvironBuilder(
            path=f"/api/v1/chat/sessions/{opened['session_id']}/messages", method="POST",
            json={"text": "when is my payment", "client_id": secrets.token_hex(8)},
            headers={"Authorization": f"Bearer {opened['token']}"},
        ).get_environ()  # fmt: skip
        prepared.append((environ, environ["wsgi.input"].read()))

    def run(i: int) -> None:
        environ, body = prepared[i + 20]
        status = []
        answer = b"".join(
            app.wsgi_app({**environ, "wsgi.input": io.BytesIO(body)},
                         lambda s, h, e=None: status.append(s))
        )  # fmt: skip
        assert status[0].startswith("200") and b'"bot"' in answer, (status, answer[:200])

    return run


def spoken_turn(app, turns: int):  # noqa: ANN001, ANN201
    """One spoken input on a call already answered (the greetings are made beforehand)."""
    from ivr.phone import Line, Phone
    from ivr.phone_transport import flask_send

    line = Line(public_url=PUBLIC, auth_token=app.config["TWILIO_AUTH_TOKEN"])
    client = app.test_client()
    phones = {}
    for i in range(-20, turns):
        phones[i] = Phone(line, f"+4540{i + 100:06d}", flask_send(client, PUBLIC))
        phones[i].dial()

    def run(i: int) -> None:
        phones.pop(i).say("when is my pension paid")

    return run


def followup_reply(app, kanal, turns: int):  # noqa: ANN001, ANN201
    """A citizen offered a callback by SMS (a deflection follow-up) replies CALL."""
    from router.domain.followups import Followup, FollowupState
    from router.domain.model import Contact, ContactState

    now = datetime.now(UTC)
    numbers = {}
    with kanal.uow() as uow:
        for i in range(-20, turns):
            phone = f"+4527{i + 100:06d}"
            citizen = uow.citizens.add(
                Citizen(pseudonym=f"c_follow_{i}", phone=phone, birth_year=1950, created_at=now)
            )
            closed = {
                "state": ContactState.CLOSED,
                "closed_at": now,
                "need": "pension",
                "citizen_id": citizen.id,
                "opened_at": now,
                "last_activity_at": now,
            }
            deflected = uow.contacts.add(Contact(channel="voice", address=phone, **closed))
            offer = uow.contacts.add(Contact(channel="sms", address=phone, **closed))
            uow.followups.add(
                Followup(contact_id=deflected.id, citizen_id=citizen.id, need="pension",
                         due_at=now, scheduled_at=now, state=FollowupState.OFFERED,
                         offered_at=now, offer_contact_id=offer.id)
            )  # fmt: skip
            numbers[i] = phone
        uow.commit()
    from channels.twilio_signature import sign

    client = app.test_client()
    token = app.config["TWILIO_AUTH_TOKEN"]

    def run(i: int) -> None:
        form = {"MessageSid": "SM" + secrets.token_hex(16), "From": numbers[i], "Body": "CALL",
                "To": "+4570000000"}  # fmt: skip
        signature = sign(PUBLIC + "/twilio/sms", form, token)
        answer = client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.status_code
        # The turn, when the reply is one (no worker thread here: `KANAL_TURN_WORKER=process`).
        for entry_id, _lane in kanal.turns.inbox.waiting(datetime.now(UTC) + timedelta(1)):
            kanal.turns.take(entry_id)

    return run


def wsgi_requests(app, path: str, forms: list[dict], query: str = ""):  # noqa: ANN001, ANN201
    """Signed form POSTs called straight on the WSGI app (no HTTP server, no test client)."""
    import io

    from werkzeug.test import EnvironBuilder

    from channels.twilio_signature import sign

    token = app.config.get("TWILIO_AUTH_TOKEN") or ""
    url = PUBLIC + path + ("?" + query if query else "")
    prepared = []
    for form in forms:
        headers = {"X-Twilio-Signature": sign(url, form, token)}
        environ = EnvironBuilder(
            path=path, query_string=query, method="POST", data=form, headers=headers
        ).get_environ()
        prepared.append((environ, environ["wsgi.input"].read()))

    def call(i: int) -> None:
        environ, body = prepared[i]
        environ = {**environ, "wsgi.input": io.BytesIO(body)}
        status = []
        b"".join(app.wsgi_app(environ, lambda s, h, e=None: status.append(s)))
        assert status[0][:3] in ("200", "204"), status

    return call


def bare_flask_webhook(turns: int):  # noqa: ANN201
    """Bare Flask answering the same webhook (benchmarks/sms_webhook/baseline.py)."""
    from benchmarks.sms_webhook.baseline import app as bare

    form = {"MessageSid": "SM" + "0" * 32, "From": "+4531000000", "Body": "When is my payment?"}
    call = wsgi_requests(bare, "/twilio/sms", [form] * (turns + 20))
    return lambda i: call(i + 20)


def acknowledgements(app, turns: int):  # noqa: ANN001, ANN201
    forms = [
        {"MessageSid": "SM" + secrets.token_hex(16), "From": f"+4533{i:06d}",
         "Body": "When is my payment?", "To": "+4570000000"}
        for i in range(turns + 20)
    ]  # fmt: skip
    call = wsgi_requests(app, "/twilio/sms", forms)
    return lambda i: call(i + 20)


def status_callbacks(app, kanal, turns: int):  # noqa: ANN001, ANN201
    """Twilio's "delivered" for replies the bot turns sent (signed, to `?m=<id>`)."""
    from sqlalchemy import text

    with kanal.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, provider_id FROM messages WHERE direction = 'out' "
                 "AND provider_id IS NOT NULL ORDER BY id LIMIT :n"), {"n": turns + 20}
        ).all()  # fmt: skip
    calls = [
        wsgi_requests(app, "/twilio/sms/status",
                      [{"MessageSid": sid, "MessageStatus": "delivered", "To": "+4531000000"}],
                      query=f"m={message_id}")
        for message_id, sid in rows
    ]  # fmt: skip
    return lambda i: calls[i + 20](0)


def build(database_url: str, work: Path):  # noqa: ANN201 - (app, kanal, Counter)
    """kanal on an empty database, with the scripted bot and a sender that accepts at once."""
    app = create_app(
        {
            "KANAL_DATABASE_URL": database_url,
            "KANAL_INSTANCE_PATH": str(work),
            "KANAL_TWILIO_SANDBOX_URL": PUBLIC + "/sandbox/twilio",
            "KANAL_LOG_LEVEL": "WARNING",
            "KANAL_ALWAYS_OPEN": True,
            "KANAL_TURN_WORKER": "process",
            "KANAL_PUBLIC_URL": PUBLIC,
            "KANAL_VOICE_LANGUAGES": ("en",),
            "TWILIO_AUTH_TOKEN": "turn-cost-token",
        },
        bot=ScriptedBot(),
        senders={"sms": Accepting()},
    )
    kanal = kanal_of(app)
    create_all(kanal.engine)
    turns_ = kanal.turns
    counter = Counter([kanal.engine, turns_.inbox.engine], reader=kanal.read_engine)
    if hasattr(turns_.inbox, "_insert"):
        # Its INSERT runs on the DBAPI connection, which the engine's events do not see.
        add = turns_.inbox.add

        def counted_add(cmd):  # noqa: ANN001, ANN202
            counter.statements += 1
            counter.transactions += 1
            return add(cmd)

        turns_.inbox.add = counted_add
    return app, kanal, counter


def sms_turns(turns_, prefix: str = "+4531"):  # noqa: ANN001, ANN201
    """An SMS the bot answers, taken alone (`take`) and in its citizen's lane as the turn
    worker takes it (`take_in_order`: the lane's waiting entries read, on PostgreSQL the
    lane's advisory lock held)."""

    def sms(number: str, text: str) -> ReceiveMessage:
        sid = "SM" + secrets.token_hex(16)
        return ReceiveMessage(channel="sms", address=number, text=text, provider_id=sid)

    def alone(i: int) -> None:
        turns_.take(turns_.accept(sms(f"{prefix}{i % 500:06d}", "When is my payment?")))

    def in_lane(i: int) -> None:
        number = f"{prefix}{i % 500 + 500:06d}"
        take_in_order(turns_, turns_.accept(sms(number, "When is my payment?")), f"sms:{number}")

    return alone, in_lane


def on_postgresql(turns: int) -> list[dict]:
    """The SMS turns again on an empty PostgreSQL database (none answering: no figures)."""
    from benchmarks.sms_webhook import servers

    admin = servers.postgres_admin_url()
    if admin is None:
        return []
    work = Path(tempfile.mkdtemp(prefix="kanal-turn-cost-pg-"))
    with servers.postgres_database(admin, "turn_cost") as url:
        _app, kanal, counter = build(url, work)
        try:
            alone, in_lane = sms_turns(kanal.turns)
            return [
                measure("PostgreSQL: sms, bot answers (ack INSERT + 3 transactions + taken)",
                        turns, alone, counter),
                measure("PostgreSQL: sms, bot answers, taken in its citizen's lane (advisory "
                        "lock)", turns, in_lane, counter),
            ]  # fmt: skip
        finally:
            kanal.close()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--turns", type=int, default=500)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--output", type=Path, help="write here instead of benchmarks/results")
    p.add_argument(
        "--before", type=Path, help="a turn_cost.json of an earlier commit to keep beside"
    )
    p.add_argument("--sqlite-only", action="store_true", help="no PostgreSQL figures")
    args = p.parse_args(argv)
    turns = 100 if args.quick else args.turns
    work = Path(tempfile.mkdtemp(prefix="kanal-turn-cost-"))
    app, kanal, counter = build(f"sqlite:///{work / 'kanal.db'}", work)
    turns_ = kanal.turns
    with kanal.uow() as uow:  # exempt citizens, each writing for the first time
        for i in range(-20, turns):
            exempt = uow.citizens.add(
                Citizen(pseudonym=f"c_bench_{i}", phone=exempt_phone(i), birth_year=1940,
                        created_at=datetime.now(UTC))
            )  # fmt: skip
            uow.citizens.add_exemption(
                Exemption(citizen_id=exempt.id, ground="impairment", valid_from=date(2020, 1, 1))
            )
        uow.commit()

    def sms(number: str, text: str) -> ReceiveMessage:
        sid = "SM" + secrets.token_hex(16)
        return ReceiveMessage(channel="sms", address=number, text=text, provider_id=sid)

    sms_with_bot, sms_in_lane = sms_turns(turns_)

    def chat_with_bot(i: int) -> None:
        address = f"s_bench_{i}"
        contact_id = turns_.start_chat(StartChat(secret_hash="x" * 64), address=address)
        turns_.receive(
            ReceiveMessage(channel="webchat", address=address, text="pension?",
                           contact_id=contact_id)
        )  # fmt: skip

    def without_bot(i: int) -> None:
        turns_.take(turns_.accept(sms(exempt_phone(i), "I need help with my pension")))

    def to_waiting_contact(i: int) -> None:
        turns_.take(turns_.accept(sms("+4528888888", "talk to a person please")))

    results = [
        measure("sms, bot answers (ack INSERT + 3 transactions + taken)", turns, sms_with_bot,
                counter),
        measure("sms, bot answers, taken in its citizen's lane (as the turn worker does)",
                turns, sms_in_lane, counter),
        measure("sms, no bot: an exempt citizen's first message, to a person", turns,
                without_bot, counter),
        measure("sms, contact already waiting for a person", turns, to_waiting_contact, counter),
    ]  # fmt: skip
    chat_turn = measure("chat, bot answers (opening the session included)", turns,
                        chat_with_bot, counter)  # fmt: skip
    results.append(chat_turn)
    results.append(measure("chat, a message through the API (token check, turn, JSON; WSGI "
                           "call)", turns, chat_messages(app, turns), counter))  # fmt: skip
    results.append(measure("phone, one spoken turn (answered with the SMS offer)", turns,
                           spoken_turn(app, turns), counter))  # fmt: skip
    results.append(measure("sms, a follow-up reply CALL (callback booked, reply sent)", turns,
                           followup_reply(app, kanal, turns), counter))  # fmt: skip
    results.append(measure("sms status callback 'delivered' (signed WSGI call, no HTTP)", turns,
                           status_callbacks(app, kanal, turns), counter))  # fmt: skip
    results.append(measure("sms acknowledgement (signed WSGI call, no HTTP)", turns,
                           acknowledgements(app, turns), counter))  # fmt: skip
    results.append(measure("bare Flask answering the webhook (WSGI call, the baseline)", turns,
                           bare_flask_webhook(turns), counter))  # fmt: skip
    # Where the CPU of an SMS turn goes (taken in its lane, as the worker takes it), by function.
    where = profile(sms_in_lane, turns, first=turns)
    kanal.close()
    if not args.sqlite_only:
        results.extend(on_postgresql(turns))
    document = {
        "about": {"database": "SQLite (WAL); PostgreSQL where named", "turns": turns},
        "turns": results,
        "profile_sms_turn_in_lane_sqlite": where,
    }
    if args.before:  # an earlier commit's figures, measured in the same session
        document["before"] = json.loads(args.before.read_text())
    if args.output:
        args.output.write_text(json.dumps(document, indent=2) + "\n")
        written = args.output
    else:
        written = results_file.write("turn_cost", document, quick=args.quick)
    width = max(len(r["turn"]) for r in results)
    print(f"{'turn (SQLite)':<{width}}  statements  transactions  main db  cpu ms  wall ms")
    for r in results:
        print(
            f"{r['turn']:<{width}}  {r['sql_statements_per_turn']:>10}  "
            f"{r['transactions_per_turn']:>12}  {r['main_db_transactions_per_turn']:>7}  "
            f"{r['cpu_ms_per_turn']:>6}  "
            f"{r['wall_ms_per_turn']:>7}"
        )
    print(f"written: {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
