"""Staff accounts on fakes (router/service/staff_accounts.py): the password rule, a
deactivated agent's work back in the queue ahead of later arrivals, and a claim that cannot
settle saying so."""

import pytest

from router.domain.commands import ClaimNext
from router.domain.model import User
from router.domain.presence import PresenceState
from router.domain.staff import password_problem
from router.service.errors import Busy
from router.service.staff_accounts import StaffAccounts
from tests.fakes import FakeUnitOfWork, fake_kanal
from tests.unit.test_desk_handlers import wait_for_person

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("eleven char", "at least 12 characters"),
        (" " * 12, "only spaces"),
        ("Mette.Hansen", "not be the username"),
        ("x" * 257, "at most 256 characters"),
        ("three short words", None),
    ],
)
def test_the_password_rule(password, problem):
    found = password_problem(password, "mette.hansen")
    assert (found is None) if problem is None else (problem in found)


def accounts_of(kanal):
    with kanal.uow() as uow:
        uow.users.add(User("root", "-", "admin", created_at=kanal.clock()))
        uow.commit()
    return StaffAccounts(kanal.uow, kanal.clock, lambda password: "hashed")


def test_a_deactivated_agents_conversation_waits_ahead_of_later_arrivals_and_offers_end():
    kanal = fake_kanal()
    accounts = accounts_of(kanal)
    held = wait_for_person(kanal, "+4520000401")
    ann, bo = kanal.add_agent("ann"), kanal.add_agent("bo")
    assert kanal.desk.claim_next(ClaimNext(agent_id=ann)).contact_id == held
    kanal.clock.advance(seconds=600)
    later = wait_for_person(kanal, "+4520000402")
    kanal.assignments.set_presence(bo, PresenceState.AWAY)
    assert kanal.assignments.offer_waiting()["offered"] == 1  # to Ann, available
    kanal.clock.advance(seconds=5)

    done = accounts.deactivate("root", "ann")

    assert done.returned == (held,)
    assert kanal.assignments.offers_for(ann) == []
    assert kanal.assignments.presence(ann).state == PresenceState.OFFLINE
    assert [entry.contact_id for entry in kanal.views.queue()] == [held, later]
    assert kanal.desk.claim_next(ClaimNext(agent_id=bo)).contact_id == held


def test_a_claim_whose_two_reads_never_agree_says_busy():
    kanal = fake_kanal()
    wait_for_person(kanal, "+4520000403")
    ann = kanal.add_agent("ann")

    class Moving(FakeUnitOfWork):
        """Ann's holdings change between the two reads every time (her other tabs)."""

        def __enter__(self):
            super().__enter__()
            claim_next = self.queue.claim_next

            def moved(match):
                found = claim_next(match)
                return found and found._replace(held={"sms": found.held.get("sms", 0) + 1})

            self.queue.claim_next = moved
            return self

    kanal.assignments.uow = lambda: Moving(kanal.store)
    with pytest.raises(Busy) as busy:
        kanal.desk.claim_next(ClaimNext(agent_id=ann))
    assert busy.value.status == 409 and busy.value.retry_after == 1
    assert len(kanal.views.queue()) == 1
