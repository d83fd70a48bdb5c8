"""The fakes cannot drift from the ports: every Protocol method exists on its fake (and on
its SQL adapter) with the same parameters, so a handler tested on fakes runs on the real thing."""

import inspect
from typing import Protocol

import pytest

from router.adapters import citizens, decisions, desk, event_log, followups, queue, staff
from router.adapters import repositories as sql
from router.adapters.inbox import SqlInbox
from router.adapters.uow import SqlUnitOfWork
from router.service import ports
from router.service import repositories as r
from router.service.unit_of_work import UnitOfWork
from tests import fakes

pytestmark = pytest.mark.unit

REPOSITORIES = {
    r.CitizenRepository: (fakes.FakeCitizenRepository, citizens.SqlCitizenRepository),
    r.ContactRepository: (fakes.FakeContactRepository, sql.SqlContactRepository),
    r.MessageRepository: (fakes.FakeMessageRepository, sql.SqlMessageRepository),
    r.DecisionRepository: (fakes.FakeDecisionRepository, decisions.SqlDecisionRepository),
    r.QueueRepository: (fakes.FakeQueueRepository, queue.SqlQueueRepository),
    r.UserRepository: (fakes.FakeUserRepository, staff.SqlUserRepository),
    r.ConsentRepository: (fakes.FakeConsentRepository, sql.SqlConsentRepository),
    r.EventLog: (fakes.FakeEventLog, event_log.SqlEventLog),
    r.CallbackRepository: (fakes.FakeCallbackRepository, followups.SqlCallbackRepository),
    r.FollowupRepository: (fakes.FakeFollowupRepository, followups.SqlFollowupRepository),
    r.CallRepository: (fakes.FakeCallRepository, sql.SqlCallRepository),
    r.SurveyRepository: (fakes.FakeSurveyRepository, followups.SqlSurveyRepository),
    r.AuditLog: (fakes.FakeAuditLog, staff.SqlAuditLog),
    r.AgentRepository: (fakes.FakeAgentRepository, desk.SqlAgentRepository),
    r.PresenceRepository: (fakes.FakePresenceRepository, desk.SqlPresenceRepository),
    r.OfferRepository: (fakes.FakeOfferRepository, desk.SqlOfferRepository),
    r.TransferRepository: (fakes.FakeTransferRepository, desk.SqlTransferRepository),
    r.NoteRepository: (fakes.FakeNoteRepository, desk.SqlNoteRepository),
}
PORTS = {
    ports.BotPort: fakes.ScriptedBot,
    ports.Sender: fakes.RecordingSender,
    ports.SentLookup: fakes.RecordingSender,
    ports.Inbox: fakes.FakeInbox,
    ports.LanguageIdentifier: fakes.ScriptedLanguages,
    ports.Caller: fakes.RecordingCaller,
    ports.DurableJobs: fakes.FakeJobs,
}
# The context-manager methods a unit of work must have besides its public ones.
DUNDERS = {"__enter__", "__exit__"}


def protocol_methods(protocol: type) -> dict[str, object]:
    """Return the methods a Protocol declares, its own and those of Protocols it extends."""
    methods: dict[str, object] = {}
    for cls in reversed(protocol.__mro__):
        if cls in (object, Protocol) or not getattr(cls, "_is_protocol", False):
            continue
        for name, value in vars(cls).items():
            if inspect.isfunction(value) and (not name.startswith("_") or name in DUNDERS):
                methods[name] = value
    return methods


def shape(function) -> list[tuple[str, object, object]]:
    """Return what a caller relies on: each parameter's name, kind and default."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def mismatches(protocol: type, implementation: type) -> list[str]:
    found = []
    for name, declared in protocol_methods(protocol).items():
        actual = getattr(implementation, name, None)
        if actual is None:
            found.append(f"{implementation.__name__}.{name} is missing")
        elif shape(actual) != shape(declared):
            found.append(
                f"{implementation.__name__}.{name}{inspect.signature(actual)} differs from "
                f"{protocol.__name__}.{name}{inspect.signature(declared)}"
            )
    return found


def test_the_protocols_are_found_with_their_methods():
    assert set(protocol_methods(r.ContactRepository)) >= {"add", "get", "open_on", "lock_address"}
    assert set(protocol_methods(UnitOfWork)) == {
        "__enter__", "__exit__", "collect_new_events", "commit", "rollback"
    }  # fmt: skip


@pytest.mark.parametrize("protocol", list(REPOSITORIES), ids=lambda p: p.__name__)
def test_each_fake_repository_has_every_method_of_its_protocol(protocol):
    fake, _ = REPOSITORIES[protocol]
    assert mismatches(protocol, fake) == []


@pytest.mark.parametrize("protocol", list(REPOSITORIES), ids=lambda p: p.__name__)
def test_each_sql_repository_has_every_method_of_its_protocol(protocol):
    _, adapter = REPOSITORIES[protocol]
    assert mismatches(protocol, adapter) == []


@pytest.mark.parametrize("port", list(PORTS), ids=lambda p: p.__name__)
def test_each_fake_port_has_every_method_of_its_port(port):
    assert mismatches(port, PORTS[port]) == []


def test_the_sql_inbox_has_every_method_of_the_inbox_port():
    assert mismatches(ports.Inbox, SqlInbox) == []


@pytest.mark.parametrize("uow_class", [fakes.FakeUnitOfWork, SqlUnitOfWork])
def test_a_unit_of_work_has_the_methods_the_handlers_call(uow_class):
    assert mismatches(UnitOfWork, uow_class) == []


def test_the_fake_unit_of_work_holds_a_fake_of_each_repository_it_declares():
    with fakes.FakeUnitOfWork(fakes.FakeStore()) as uow:
        for attribute, annotation in UnitOfWork.__annotations__.items():
            if not annotation.startswith("r."):  # not a repository: after_commit
                assert hasattr(uow, attribute), attribute
                continue
            protocol = getattr(r, annotation.split(".")[-1])
            fake, _ = REPOSITORIES[protocol]
            assert isinstance(getattr(uow, attribute), fake), attribute


def test_every_repository_protocol_has_a_fake():
    declared = {
        value
        for value in vars(r).values()
        if isinstance(value, type) and getattr(value, "_is_protocol", False)
    } - {r.Repository, Protocol}
    assert declared == set(REPOSITORIES)


def test_the_check_catches_a_missing_method_and_a_renamed_parameter():
    class Drifted:
        def get(self, channel: str, where: str): ...

    class Empty:
        pass

    missing, renamed = mismatches(r.ConsentRepository, Drifted)
    assert missing == "Drifted.add is missing"
    assert renamed.startswith("Drifted.get(self, channel: str, where: str) differs from")
    assert len(mismatches(r.QueueRepository, Empty)) == len(protocol_methods(r.QueueRepository))


def test_the_twilio_sender_can_say_what_twilio_took():
    from router.adapters.twilio_sms import TwilioSmsSender

    assert mismatches(ports.SentLookup, TwilioSmsSender) == []
    assert mismatches(ports.Sender, TwilioSmsSender) == []
