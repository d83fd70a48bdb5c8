"""The citizen register file: read a CSV and validate every row, reporting each error's line."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

import phonenumbers

from router.domain.citizens import default_exemption_expiry, pseudonym_for
from router.domain.model import EXEMPTION_GROUNDS

REQUIRED = ("national_id", "name", "phone", "birth_year", "exemption_ground")
OPTIONAL = ("language", "exemption_from", "exemption_until", "registered_by")
DEFAULT_LANGUAGE = "da"
PHONE_REGION = "DK"
UNLIMITED = "unlimited"

# ISO 639-1, the two-letter language codes.
_ISO_639_1_CODES = (
    "aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy "
    "da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht "
    "hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky "
    "la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny "
    "oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss "
    "st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo "
    "za zh zu"
)
ISO_639_1 = frozenset(_ISO_639_1_CODES.split())
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ExemptionRow:
    """A validated exemption as the file gives it."""

    ground: str
    valid_from: date | None  # None: "from today", matched against a valid one on re-import
    valid_until: date | None  # None: time-unlimited
    until_given: bool
    registered_by: str


@dataclass(frozen=True)
class RegisterRow:
    """One validated line of the file; the national id is already a pseudonym."""

    line: int
    pseudonym: str
    name: str | None
    phone: str | None
    language: str
    birth_year: int | None
    exemption: ExemptionRow | None


def parse_register(
    text: str, secret: str, today: date, registered_by: str = ""
) -> tuple[list[RegisterRow], list[str]]:
    """Return the file's valid rows and every error found, each with its line number."""
    reader = csv.reader(io.StringIO(text), dialect=_dialect(text))
    header = next(reader, None)
    if not header:
        return [], ["line 1: the file is empty; it needs a header row"]
    header = [name.strip().lower() for name in header]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    errors = []
    if missing:
        errors.append(f"line 1: missing column(s): {', '.join(missing)}")
    if unknown:
        errors.append(f"line 1: unknown column(s): {', '.join(unknown)}")
    if len(set(header)) != len(header):
        errors.append("line 1: a column name appears twice")
    if errors:
        return [], errors
    rows: list[RegisterRow] = []
    first_line: dict[str, dict[str, int]] = {"national_id": {}, "phone": {}}
    end = reader.line_num
    for cells in reader:
        line, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            errors.append(f"line {line}: expected {len(header)} fields, found {len(cells)}")
            continue
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        keys = {"national_id": national_id(values["national_id"]), "phone": _phone(values["phone"])}
        row, row_errors = _row(line, values, keys, secret, today, registered_by)
        errors += [f"line {line}: {e}" for e in row_errors]
        for what, key in keys.items():
            seen = first_line[what]
            if key and key in seen:
                errors.append(f"line {line}: {what} repeats line {seen[key]}")
            elif key:
                seen[key] = line
        if row is not None:
            rows.append(row)
    if not rows and not errors:
        errors.append("the file has a header but no citizens")
    return rows, errors


def _dialect(text: str) -> type[csv.Dialect]:
    # Spreadsheets set to Danish (and most of Europe) save CSV with semicolons.
    first = text.split("\n", 1)[0]
    if ";" in first and "," not in first:
        return _Semicolon
    return csv.excel


class _Semicolon(csv.excel):
    delimiter = ";"


def _row(
    line: int, v: dict[str, str], keys: dict, secret: str, today: date, registered_by: str
) -> tuple[RegisterRow | None, list[str]]:
    """Validate one line's values; national ids and phones never appear in messages."""
    errors: list[str] = []
    natural_key = keys["national_id"]
    if not natural_key:
        errors.append("national_id is empty")
    name = v["name"] or None
    if name and len(name) > 200:
        errors.append("name is longer than 200 characters")
    phone = keys["phone"]
    if v["phone"] and phone is None:
        errors.append(
            f"phone is not a valid phone number (numbers without +country are {PHONE_REGION})"
        )
    language = (v.get("language") or DEFAULT_LANGUAGE).lower()
    if language not in ISO_639_1:
        errors.append(f"language {language!r} is not an ISO 639-1 code (such as da, en, ar)")
    birth_year = None
    if v["birth_year"]:
        if not v["birth_year"].isdigit() or not 1880 <= int(v["birth_year"]) <= today.year:
            errors.append(f"birth_year {v['birth_year']!r} is not a year between 1880 and now")
        else:
            birth_year = int(v["birth_year"])
    by = v.get("registered_by") or registered_by
    if len(by) > 120:
        errors.append("registered_by is longer than 120 characters")
    exemption = _exemption(v, today, by, errors)
    if errors:
        return None, errors
    row = RegisterRow(
        line=line,
        pseudonym=pseudonym_for(secret, natural_key),
        name=name,
        phone=phone,
        language=language,
        birth_year=birth_year,
        exemption=exemption,
    )
    return row, []


def national_id(raw: str) -> str:
    """Normalise a national id so 010203-1234 and 0102031234 name the same citizen."""
    return re.sub(r"[\s-]", "", raw).upper()


def _phone(raw: str) -> str | None:
    """Return the number in E.164, or None when it is empty or not a valid number."""
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _date(column: str, raw: str, errors: list[str]) -> date | None:
    if _ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    errors.append(f"{column} {raw!r} is not a date written YYYY-MM-DD")
    return None


def _exemption(v: dict[str, str], today: date, by: str, errors: list[str]) -> ExemptionRow | None:
    ground = v["exemption_ground"].lower()
    raw_from, raw_until = v.get("exemption_from", ""), v.get("exemption_until", "")
    if not ground:
        if raw_from or raw_until:
            errors.append("exemption dates are given without an exemption_ground")
        return None
    if ground not in EXEMPTION_GROUNDS:
        errors.append(f"exemption_ground {ground!r} is not one of {', '.join(EXEMPTION_GROUNDS)}")
    n_errors = len(errors)
    valid_from = _date("exemption_from", raw_from, errors) if raw_from else None
    start = valid_from or today
    if raw_until.lower() == UNLIMITED:
        valid_until = None
    elif raw_until:
        valid_until = _date("exemption_until", raw_until, errors)
    else:
        valid_until = default_exemption_expiry(start)
    if len(errors) == n_errors and valid_until is not None and valid_until < start:
        errors.append(f"exemption_until {valid_until} is before exemption_from {start}")
    return ExemptionRow(ground, valid_from, valid_until, bool(raw_until), by)
