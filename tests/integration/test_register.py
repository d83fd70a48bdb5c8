"""Importing the citizen register into the database: all or nothing, and once only."""

from dataclasses import asdict
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from router.adapters.register import import_csv
from router.domain.citizens import pseudonym_for
from router.domain.model import Citizen, Exemption
from tests.conftest import SECRET

pytestmark = pytest.mark.integration

HEADER = (
    "national_id,name,phone,language,birth_year,exemption_ground,exemption_from,exemption_until"
)
TODAY = date(2026, 3, 15)
REGISTER = [
    "0101401234,Inge Hansen,20 11 22 33,da,1940,impairment,2025-06-01,",
    "0202851234,Jonas Berg,+45 20 44 55 66,da,1985,,,",
    "0303791234,Amira Said,20778899,ar,1979,language,,unlimited",
]


@pytest.fixture
def register_file(tmp_path):
    def write(*lines, name="register.csv"):
        path = tmp_path / name
        path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def run_import(kanal, register_file):
    def run(*lines, today=TODAY):
        return import_csv(kanal.uow, register_file(*lines), SECRET, "clerk", today=today)

    return run


def citizen(kanal, national_id):
    """Return a copy of the registered citizen and their exemptions, read inside one session."""
    with kanal.uow() as uow:
        found = uow.citizens.by_pseudonym(pseudonym_for(SECRET, national_id))
        exemptions = uow.citizens.exemptions(found.id) if found else []
        return copy(found), [copy(e) for e in exemptions]


def copy(obj):
    return SimpleNamespace(**asdict(obj)) if obj is not None else None


def counts(kanal):
    with kanal.uow() as uow:
        s = uow.session
        return (
            s.scalar(select(func.count()).select_from(Citizen)),
            s.scalar(select(func.count()).select_from(Exemption)),
        )


def test_import_registers_citizens_and_their_exemptions(kanal, run_import):
    report = run_import(*REGISTER)

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged, report.exemptions_added) == (
        3,
        0,
        0,
        2,
    )
    inge, (exemption,) = citizen(kanal, "0101401234")
    assert (inge.name, inge.phone, inge.language, inge.birth_year) == (
        "Inge Hansen",
        "+4520112233",
        "da",
        1940,
    )
    assert (exemption.ground, exemption.valid_from, exemption.valid_until) == (
        "impairment",
        date(2025, 6, 1),
        date(2027, 11, 1),  # 1 November of the second calendar year after registration
    )
    assert exemption.registered_by == "clerk"
    amira, (open_ended,) = citizen(kanal, "0303791234")
    assert (open_ended.valid_from, open_ended.valid_until) == (TODAY, None)
    _, none = citizen(kanal, "0202851234")
    assert none == []


def test_the_national_id_is_not_stored(kanal, run_import):
    run_import(*REGISTER)

    with kanal.uow() as uow:
        rows = uow.session.execute(select(Citizen.__table__)).all()
    assert rows and not any("0101401234" in str(value) for row in rows for value in row)


def test_reimporting_the_same_file_changes_nothing_even_on_a_later_day(kanal, run_import):
    run_import(*REGISTER)
    before = counts(kanal)

    report = run_import(*REGISTER, today=date(2026, 9, 1))

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert (report.exemptions_added, report.exemptions_updated) == (0, 0)
    assert counts(kanal) == before == (3, 2)


def test_a_changed_row_updates_the_citizen_and_the_exemption(kanal, run_import):
    run_import(*REGISTER)

    report = run_import(
        "0101401234,Inge Hansen-Lund,20 11 22 33,da,1940,impairment,2025-06-01,unlimited",
        *REGISTER[1:],
    )

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert (report.exemptions_added, report.exemptions_updated) == (0, 1)
    inge, (exemption,) = citizen(kanal, "0101401234")
    assert inge.name == "Inge Hansen-Lund"
    assert exemption.valid_until is None


def test_a_new_exemption_period_is_added_beside_the_old_one(kanal, run_import):
    run_import(*REGISTER)

    report = run_import("0202851234,Jonas Berg,+45 20 44 55 66,da,1985,homeless,2026-01-01,")

    assert (report.unchanged, report.exemptions_added) == (1, 1)
    _, (exemption,) = citizen(kanal, "0202851234")
    assert exemption.ground == "homeless"


def test_one_bad_row_imports_nothing_and_names_every_error(kanal, run_import):
    report = run_import(
        *REGISTER,
        "0404901234,Bad Phone,123,da,1990,,,",
        "0505901234,Bad Date,,da,1990,impairment,2026-13-01,",
    )

    assert not report.ok
    assert [e.split(":")[0] for e in report.errors] == ["line 5", "line 6"]
    assert report.lines()[-1] == "nothing imported: 2 error(s)"
    assert counts(kanal) == (0, 0)


def test_a_phone_held_by_another_registered_citizen_is_refused(kanal, run_import):
    run_import(*REGISTER)

    report = run_import("0909991234,Someone Else,20 11 22 33,da,1999,,,")

    assert report.errors == ["line 2: phone belongs to another citizen in the register"]
    assert counts(kanal) == (3, 2)


def test_two_citizens_can_swap_phone_numbers_in_one_file(kanal, run_import):
    run_import(*REGISTER)

    report = run_import(
        "0101401234,Inge Hansen,+45 20 44 55 66,da,1940,impairment,2025-06-01,",
        "0202851234,Jonas Berg,20 11 22 33,da,1985,,,",
    )

    assert report.ok, report.errors
    assert report.updated == 2
    assert citizen(kanal, "0101401234")[0].phone == "+4520445566"
    assert citizen(kanal, "0202851234")[0].phone == "+4520112233"


def test_the_report_says_what_happened(run_import):
    assert run_import(*REGISTER).lines() == [
        "imported 3 row(s): 3 created, 0 updated, 0 unchanged; 2 exemption(s) added, 0 updated"
    ]


def test_a_file_full_of_errors_shows_the_first_hundred_and_counts_the_rest(run_import):
    report = run_import(*[f"{n},Name,123,da,1950,,," for n in range(1, 251)])

    lines = report.lines()
    assert len(report.errors) == 250
    assert lines[0].startswith("line 2: phone")
    assert lines[99].startswith("line 101: phone")
    assert lines[100:] == ["... and 150 more error(s)", "nothing imported: 250 error(s)"]
