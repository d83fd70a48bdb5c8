"""The turn's lanes: one citizen's messages taken oldest first, whichever process has which."""

from datetime import timedelta

import pytest

from router.domain.commands import ReceiveMessage
from router.service.housekeeping import finish_left_turns
from router.service.lanes import take_in_order
from tests.fakes import ScriptedBot, fake_kanal

pytestmark = pytest.mark.unit

NUMBER = "+4520000077"
LANE = f"sms:{NUMBER}"


def accept(kanal, text, number=NUMBER):
    return kanal.turns.accept(ReceiveMessage("sms", number, text, provider_id=f"SM-{text}"))


def test_a_later_entry_first_takes_the_earlier_ones_of_its_lane_in_order():
    bot = ScriptedBot()
    kanal = fake_kanal(bot)
    first, second = accept(kanal, "first"), accept(kanal, "second")
    other = accept(kanal, "someone else", number="+4520000078")

    take_in_order(kanal.turns, second, LANE)

    assert [text for _, text in bot.turns] == ["first", "second"]
    assert kanal.turns.inbox.lanes_held == [LANE], "the lane was held for the turns"
    assert kanal.turns.inbox.waiting_in(LANE, up_to=second) == []
    assert kanal.turns.inbox.get(other) is not None, "another citizen's message waits its turn"
    take_in_order(kanal.turns, first, LANE)  # its own worker comes later: nothing left to do
    assert len(bot.turns) == 2


def test_the_sweep_takes_left_entries_holding_their_lanes():
    kanal = fake_kanal()
    accept(kanal, "left behind")
    later = kanal.clock() + timedelta(minutes=1)  # its worker died after acknowledging it

    finish_left_turns(kanal.turns, kanal.uow, later, older_than=timedelta(seconds=15))

    assert kanal.turns.inbox.lanes_held == [LANE]
