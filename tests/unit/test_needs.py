"""A citizen's need, qualified by the benefit they named where it decides route and queue."""

from router.domain.needs import need_of, not_understood


def test_a_need_about_a_benefit_names_the_benefit():
    pension = (("benefit", "pension"),)

    assert need_of("apply_benefit", pension) == "apply_benefit:pension"
    assert need_of("payment_date", pension) == "payment_date:pension"
    assert need_of("missing_payment", (("benefit", "sickness"),)) == "missing_payment:sickness"


def test_a_need_that_no_benefit_decides_stays_plain():
    assert need_of("change_address", (("benefit", "housing"),)) == "change_address"
    assert need_of("payment_date") == "payment_date"


def test_conversation_moves_and_misses_are_not_needs():
    assert need_of("greet", (("benefit", "pension"),)) is None
    assert need_of("out_of_scope") is None and not_understood("out_of_scope")
    assert not_understood("nlu_fallback") and not not_understood("payment_date")
