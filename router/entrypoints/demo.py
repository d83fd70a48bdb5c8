"""Demo staff and citizens for a fresh local install (`make run`); a used database is left alone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime

from router.domain.citizens import default_exemption_expiry, pseudonym_for
from router.domain.model import STAFF_ROLES, Citizen, Exemption
from router.entrypoints.auth import create_user
from router.policy.context import GROUND_WORDS


@dataclass(frozen=True)
class DemoCitizen:
    """A made-up citizen; `key` stands in for the national id."""

    key: str
    name: str
    phone: str
    birth_year: int
    language: str
    ground: str | None  # exemption ground, None when the citizen is digital by default


DEMO_CITIZENS = (
    DemoCitizen("demo-inge", "Inge Demo", "+4520123401", 1941, "da", "impairment"),
    DemoCitizen("demo-jonas", "Jonas Demo", "+4520123402", 1986, "da", None),
    DemoCitizen("demo-amira", "Amira Demo", "+4520123403", 1979, "en", "language"),
)
REGISTERED_BY = "kanal seed (demo)"


def seed_demo(uow_factory, secret: str) -> list[str]:  # noqa: ANN001
    """Create demo staff and citizens when there are no users; return what to print."""
    with uow_factory() as uow:
        if uow.users.count():
            return [
                "the database has users already: no demo data added "
                "(demo passwords are printed only when the database is first seeded)"
            ]
    lines = ["demo staff (sign in at /login; passwords are shown only now):"]
    for role in STAFF_ROLES:
        password = secrets.token_urlsafe(9)
        create_user(uow_factory, role, password, role, f"Demo {role}")
        lines.append(f"  {role:<11} user {role:<11} password {password}")
    today = date.today()
    lines.append("demo citizens (text from these numbers, or pick one on /chat):")
    with uow_factory() as uow:
        for demo in DEMO_CITIZENS:
            _add_citizen(uow, demo, secret, today)
            lines.append(f"  {demo.phone}  {_label(demo, today)}")
        uow.commit()
    return lines


def demo_identities(uow_factory, secret: str) -> list[dict[str, str]]:  # noqa: ANN001
    """Return the signed chat identities of the demo citizens in the database, for /chat."""
    from channels.webchat_session import identity_token

    today = date.today()
    found = []
    with uow_factory() as uow:
        for demo in DEMO_CITIZENS:
            pseudonym = pseudonym_for(secret, demo.key)
            if uow.citizens.by_pseudonym(pseudonym) is not None:
                found.append(
                    {
                        "label": _label(demo, today),
                        "identity": identity_token(secret, pseudonym),
                        "name": demo.name,
                        "age": str(today.year - demo.birth_year),
                        # the ground as a message id of the catalogues (the page translates)
                        "ground": GROUND_WORDS.get(demo.ground, demo.ground) if demo.ground else "",
                    }
                )
    return found


def _label(demo: DemoCitizen, today: date) -> str:
    age = today.year - demo.birth_year
    status = f"exempt: {demo.ground}" if demo.ground else "not exempt, digital first"
    return f"{demo.name}, {age}, {status}"


def _add_citizen(uow, demo: DemoCitizen, secret: str, today: date) -> None:
    citizen = uow.citizens.add(
        Citizen(
            pseudonym=pseudonym_for(secret, demo.key),
            phone=demo.phone,
            name=demo.name,
            language=demo.language,
            birth_year=demo.birth_year,
            created_at=datetime.now(UTC),
        )
    )
    if demo.ground:
        uow.citizens.add_exemption(
            Exemption(
                citizen_id=citizen.id,
                ground=demo.ground,
                valid_from=today,
                valid_until=default_exemption_expiry(today),
                registered_by=REGISTERED_BY,
                created_at=datetime.now(UTC),
            )
        )
