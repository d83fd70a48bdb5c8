"""Reading the citizen register file: every error with its line, defaults as the law sets them."""

from datetime import date

import pytest

from router.adapters.register_file import parse_register
from router.domain.citizens import pseudonym_for

pytestmark = pytest.mark.unit

SECRET = "s3cret"
TODAY = date(2026, 3, 15)
HEADER = (
    "national_id,name,phone,language,birth_year,exemption_ground,exemption_from,exemption_until"
)


def parse(*lines: str, header: str = HEADER):
    return parse_register("\n".join([header, *lines]) + "\n", SECRET, TODAY, "clerk")


def test_a_valid_row_becomes_a_pseudonymous_citizen_with_an_e164_phone():
    rows, errors = parse("0101501234,Karen Jensen,20 12 34 56,da,1950,,,")

    assert errors == []
    (row,) = rows
    assert row.pseudonym == pseudonym_for(SECRET, "0101501234")
    assert row.phone == "+4520123456"
    assert (row.name, row.language, row.birth_year, row.exemption) == (
        "Karen Jensen",
        "da",
        1950,
        None,
    )


def test_the_national_id_is_not_kept_anywhere_in_the_row():
    rows, _ = parse("0101501234,Karen Jensen,20123456,da,1950,,,")

    assert "0101501234" not in repr(rows[0])


def test_a_hyphen_in_the_national_id_names_the_same_citizen():
    rows, _ = parse("010150-1234,Karen Jensen,20123456,da,1950,,,")

    assert rows[0].pseudonym == pseudonym_for(SECRET, "0101501234")


def test_language_defaults_to_danish_when_empty_or_absent():
    rows, errors = parse(
        "1,A,,,1950,,",
        header="national_id,name,phone,language,birth_year,exemption_ground,exemption_from",
    )
    assert errors == []
    assert rows[0].language == "da"

    rows, errors = parse("1,A,,1950,", header="national_id,name,phone,birth_year,exemption_ground")
    assert errors == []
    assert rows[0].language == "da"


def test_an_exemption_without_end_date_expires_on_1_november_of_the_second_year():
    rows, errors = parse("1,A,20123456,da,1940,impairment,2025-06-30,")

    assert errors == []
    ex = rows[0].exemption
    assert (ex.ground, ex.valid_from, ex.valid_until) == (
        "impairment",
        date(2025, 6, 30),
        date(2027, 11, 1),
    )
    assert ex.registered_by == "clerk"


def test_an_exemption_without_start_date_starts_today():
    rows, _ = parse("1,A,20123456,da,1940,homeless,,")

    ex = rows[0].exemption
    assert ex.valid_from is None  # "from today": matched against a valid one on re-import
    assert ex.valid_until == date(2028, 11, 1)


def test_unlimited_means_no_end_date():
    rows, errors = parse("1,A,20123456,da,1940,language,2024-01-01,unlimited")

    assert errors == []
    assert rows[0].exemption.valid_until is None


def test_a_registered_by_column_overrides_the_default_clerk():
    rows, errors = parse(
        "1,A,,1940,impairment,Aarhus Kommune",
        header="national_id,name,phone,birth_year,exemption_ground,registered_by",
    )

    assert errors == []
    assert rows[0].exemption.registered_by == "Aarhus Kommune"


def test_every_error_is_reported_with_its_line_number():
    rows, errors = parse(
        "1,Ok,20123456,da,1950,,,",
        "2,Bad phone,123,da,1950,,,",
        "3,Bad date,,da,1950,impairment,2025-02-30,",
        "4,Until before from,,da,1950,impairment,2025-05-01,2025-04-30",
        "5,Unknown ground,,da,1950,lazy,,",
        "6,Bad language,,danish,1950,,,",
        "7,Bad year,,da,19x0,,,",
        ",No national id,,da,1950,,,",
        "1,Duplicate id,,da,1950,,,",
        "10,Duplicate phone,+45 20 12 34 56,da,1950,,,",
        "11,Too few fields",
        "12,Dates without ground,,da,1950,,2025-01-01,",
    )

    assert [e.split(":")[0] for e in errors] == [f"line {n}" for n in range(3, 14)]
    assert "phone" in errors[0]
    assert "'2025-02-30' is not a date" in errors[1]
    assert "exemption_until 2025-04-30 is before exemption_from 2025-05-01" in errors[2]
    assert "'lazy'" in errors[3] and "impairment" in errors[3]
    assert "'danish'" in errors[4]
    assert "'19x0'" in errors[5]
    assert "national_id is empty" in errors[6]
    assert errors[7] == "line 10: national_id repeats line 2"
    assert errors[8] == "line 11: phone repeats line 2"
    assert "expected 8 fields, found 2" in errors[9]
    assert "without an exemption_ground" in errors[10]


def test_errors_never_echo_a_national_id_or_a_phone_number():
    _, errors = parse("0101501234,A,99999,da,1950,,,", "0101501234,B,,da,1950,,,")

    assert errors
    assert not any("0101501234" in e or "99999" in e for e in errors)


def test_missing_and_unknown_columns_are_named_on_line_1():
    rows, errors = parse("1,A", header="national_id,nmae")

    assert rows == []
    assert errors == [
        "line 1: missing column(s): name, phone, birth_year, exemption_ground",
        "line 1: unknown column(s): nmae",
    ]


def test_an_empty_file_or_a_header_alone_is_an_error():
    assert parse_register("", SECRET, TODAY)[1] == [
        "line 1: the file is empty; it needs a header row"
    ]
    assert parse()[1] == ["the file has a header but no citizens"]


def test_a_quoted_field_spanning_lines_keeps_later_line_numbers_right():
    _, errors = parse('1,"Name on\ntwo lines",,da,1950,,,', "2,B,,xx,1950,,,")

    assert errors == ["line 4: language 'xx' is not an ISO 639-1 code (such as da, en, ar)"]


def test_blank_lines_are_skipped_but_counted():
    rows, errors = parse("1,A,,da,1950,,,", "", "2,B,,xx,1950,,,")

    assert len(rows) == 1
    assert errors[0].startswith("line 4:")


def test_semicolon_separated_files_from_danish_spreadsheets_are_read():
    text = (
        HEADER.replace(",", ";") + "\n1;Søren Ø;20123456;da;1950;impairment;2025-01-01;unlimited\n"
    )

    rows, errors = parse_register(text, SECRET, TODAY)

    assert errors == []
    assert rows[0].name == "Søren Ø"
    assert rows[0].exemption.valid_until is None
