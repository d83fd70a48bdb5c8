"""The administrator's `kanal` commands, run as a shell would, against a SQLite file."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.security import check_password_hash

from router import create_app
from router.adapters.migrate import current, head
from router.domain.citizens import pseudonym_for
from router.entrypoints.bootstrap import kanal_of
from router.policy import ProfileError
from tests.conftest import kanal_command
from tests.fakes import ScriptedBot

pytestmark = pytest.mark.integration

SECRET = "cli-test-secret"
PROFILES = Path(__file__).resolve().parents[2] / "router" / "policy" / "profiles"
REGISTER = (
    "national_id,name,phone,language,birth_year,exemption_ground,exemption_from,exemption_until\n"
    "0101401234,Inge Hansen,20 11 22 33,da,1940,impairment,2025-06-01,\n"
    "0202851234,Jonas Berg,+45 20 44 55 66,da,1985,,,\n"
)


@pytest.fixture
def db_url(tmp_path):
    # A folder that does not exist yet, as on a fresh clone.
    return f"sqlite:///{tmp_path / 'instance' / 'kanal.db'}"


@pytest.fixture
def kanal_cli(db_url, tmp_path):
    """Run `kanal ARGS...` with the environment a shell would give it; return the result."""
    return kanal_command(db_url, tmp_path / "instance", KANAL_SECRET_KEY=SECRET)


@pytest.fixture
def migrated(kanal_cli):
    result = kanal_cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def read_app(db_url):
    """An app on the same database, to look at what the commands wrote."""
    apps = []

    def make():
        app = create_app(
            {
                "KANAL_DATABASE_URL": db_url,
                "SECRET_KEY": SECRET,
                "WTF_CSRF_ENABLED": False,
            },
            bot=ScriptedBot(),
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        kanal_of(app).close()


def test_db_upgrade_creates_and_migrates_a_fresh_database(migrated, db_url):
    assert "database is up to date" in migrated.output
    assert current(db_url) == head()


def test_citizens_import_reports_counts_and_a_second_run_changes_nothing(
    kanal_cli, migrated, tmp_path, read_app
):
    path = tmp_path / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")

    first = kanal_cli("citizens", "import", str(path), "--registered-by", "Aarhus Kommune")
    second = kanal_cli("citizens", "import", str(path))

    assert first.exit_code == 0, first.output
    assert "2 created, 0 updated, 0 unchanged; 1 exemption(s) added" in first.output
    assert second.exit_code == 0, second.output
    assert "0 created, 0 updated, 2 unchanged; 0 exemption(s) added" in second.output
    with kanal_of(read_app()).uow() as uow:
        inge = uow.citizens.by_pseudonym(pseudonym_for(SECRET, "0101401234"))
        (exemption,) = uow.citizens.exemptions(inge.id)
        assert (inge.phone, exemption.registered_by) == ("+4520112233", "Aarhus Kommune")


def test_citizens_import_with_errors_exits_1_and_imports_nothing(
    kanal_cli, migrated, tmp_path, read_app
):
    path = tmp_path / "register.csv"
    path.write_text(REGISTER + "0303791234,Bad,123,da,1979,,,\n", encoding="utf-8")

    result = kanal_cli("citizens", "import", str(path))

    assert result.exit_code == 1
    assert "line 4: phone is not a valid phone number" in result.output
    assert "nothing imported: 1 error(s)" in result.output
    with kanal_of(read_app()).uow() as uow:
        assert uow.citizens.count() == 0


@pytest.mark.parametrize(
    ("utc", "agency_day"),
    [
        # 00:30 on New Year's Day in Copenhagen, still the old year in UTC.
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 1, 1)),
        # 00:30 on 1 July in Copenhagen (summer time, UTC+2), still 30 June in UTC.
        (datetime(2027, 6, 30, 22, 30, tzinfo=UTC), date(2027, 7, 1)),
    ],
)
def test_citizens_import_starts_an_exemption_from_today_on_the_agencys_day(
    database_url, tmp_path, monkeypatch, utc, agency_day
):
    # An exemption given no start starts "today", and its default end (1 November two years
    # on) follows from that day: the day is the agency's, whatever the server's clock says.
    monkeypatch.setattr("router.entrypoints.bootstrap.utcnow", lambda: utc)
    path = tmp_path / "register.csv"
    path.write_text(
        "national_id,name,phone,language,birth_year,exemption_ground\n"
        "0101401234,Inge Hansen,20 11 22 33,da,1940,impairment\n",
        encoding="utf-8",
    )
    kanal = kanal_command(
        database_url, tmp_path, KANAL_SECRET_KEY=SECRET, KANAL_TIMEZONE="Europe/Copenhagen"
    )

    result = kanal("citizens", "import", str(path), catch=True)

    assert result.exit_code == 0, result.output
    app = create_app({"KANAL_DATABASE_URL": database_url, "SECRET_KEY": SECRET}, bot=ScriptedBot())
    try:
        with kanal_of(app).uow() as uow:
            inge = uow.citizens.by_pseudonym(pseudonym_for(SECRET, "0101401234"))
            (exemption,) = uow.citizens.exemptions(inge.id)
            assert (exemption.valid_from, exemption.valid_until) == (
                agency_day,
                date(agency_day.year + 2, 11, 1),
            )
    finally:
        kanal_of(app).close()


def test_users_create_reads_the_password_from_stdin(kanal_cli, migrated, read_app):
    result = kanal_cli("users", "create", "mette", "--role", "supervisor", input="long enough pw\n")

    assert result.exit_code == 0, result.output
    assert "created supervisor mette" in result.output
    with kanal_of(read_app()).uow() as uow:
        user = uow.users.by_username("mette")
        assert user.role == "supervisor"
        assert check_password_hash(user.password_hash, "long enough pw")


def test_users_create_refuses_a_short_password_and_a_taken_name(kanal_cli, migrated):
    short = kanal_cli("users", "create", "mette", "--role", "agent", input="short\n")
    kanal_cli("users", "create", "mette", "--role", "agent", input="long enough pw\n")
    taken = kanal_cli("users", "create", "mette", "--role", "agent", input="long enough pw\n")
    bad_role = kanal_cli("users", "create", "x", "--role", "boss", input="long enough pw\n")

    assert short.exit_code == 1 and "at least 12 characters" in short.output
    assert taken.exit_code == 1 and "exists already" in taken.output
    assert bad_role.exit_code == 2 and "boss" in bad_role.output


def test_a_token_from_tokens_create_authenticates_the_metrics_api(kanal_cli, migrated, read_app):
    kanal_cli("users", "create", "lars", "--role", "manager", input="long enough pw\n")

    result = kanal_cli("tokens", "create", "dashboard", "--user", "lars")

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()  # the token alone: its expiry goes to standard error
    client = read_app().test_client()
    url = "/api/v1/metrics/channel-shift?from=2026-01-01&to=2026-01-31&group_by=channel"
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get(url, headers={"Authorization": "Bearer knl_wrong"}).status_code == 401


def test_tokens_create_for_an_unknown_user_fails(kanal_cli, migrated):
    result = kanal_cli("tokens", "create", "dashboard", "--user", "nobody")

    assert result.exit_code == 1
    assert "no user 'nobody'" in result.output


def test_seed_prints_logins_that_work_and_leaves_a_used_database_alone(
    kanal_cli, migrated, read_app
):
    first = kanal_cli("seed")
    again = kanal_cli("seed")

    assert first.exit_code == 0, first.output
    logins = dict(re.findall(r"user (\w+)\s+password (\S+)", first.output))
    assert set(logins) == {"agent", "supervisor", "manager", "admin"}
    phones = re.findall(r"^\s+(\+45\d{8})\s", first.output, flags=re.MULTILINE)
    assert len(phones) == 3
    assert "no demo data added" in again.output
    client = read_app().test_client()
    signed_in = client.post("/login", data={"username": "agent", "password": logins["agent"]})
    assert signed_in.status_code == 302
    with kanal_of(read_app()).uow() as uow:
        assert uow.users.count() == 4
        assert uow.citizens.count() == 3
        assert all(uow.citizens.by_phone(p) is not None for p in phones)


def test_policy_check_accepts_a_shipped_profile(kanal_cli):
    result = kanal_cli("policy", "check", str(PROFILES / "denmark.toml"))

    assert result.exit_code == 0, result.output
    assert "ok" in result.output


def test_policy_check_takes_a_shipped_profile_by_its_name_as_kanal_policy_does(kanal_cli):
    result = kanal_cli("policy", "check", "canada")
    assert result.exit_code == 0, result.output
    assert "profile 'canada'" in result.output and "ok" in result.output
    unknown = kanal_cli("policy", "check", "narnia")
    assert unknown.exit_code != 0
    assert "unknown policy profile 'narnia'" in unknown.output


TRAP = """
name = "exempt-trap"
description = "Exempt citizens are sent to the assistant like everyone else."

[[rule]]
id = "person-requested"
when = { asked_for_person = true }
action = "assisted"
reason = "You asked for a person."

[[rule]]
id = "bot-failed-twice"
when = { bot_failures = { at_least = 2 } }
action = "assisted"
reason = "The assistant could not help."

[[rule]]
id = "exempt-to-bot"
when = { exempt = true }
action = "self_service"
reason = "Exempt citizens use the assistant too."

[default]
action = "self_service"
reason = "The assistant answers first."
"""


def test_policy_check_rejects_a_trap_naming_the_rule_and_a_counter_example(kanal_cli, tmp_path):
    trap = tmp_path / "trap.toml"
    trap.write_text(TRAP, encoding="utf-8")

    result = kanal_cli("policy", "check", str(trap))

    assert result.exit_code == 1
    assert "rule 'exempt-to-bot' traps a citizen who has a valid exemption" in result.output
    assert "step 1:" in result.output and "no person after 3 steps" in result.output


SURGE_TRAP = """
[surge]
enter_wait_seconds = 600
exit_wait_seconds = 120

[[surge.rule]]
id = "surge-try-later"
when = { exempt = false }
action = "close"
reason = "We are very busy right now: please try again later."
"""


def test_policy_check_rejects_surge_rules_that_turn_citizens_away(kanal_cli, tmp_path):
    denmark = (PROFILES / "denmark.toml").read_text(encoding="utf-8")
    start, end = denmark.index("[surge]"), denmark.index("[default]")
    trap = tmp_path / "busy.toml"
    trap.write_text(denmark[:start] + SURGE_TRAP + "\n" + denmark[end:], encoding="utf-8")

    result = kanal_cli("policy", "check", str(trap))

    assert result.exit_code == 1
    assert "rule 'surge-try-later' traps a citizen who asks for a person" in result.output
    assert "surge=True" in result.output and "closed before a person" in result.output


def test_policy_check_explains_an_invalid_file(kanal_cli, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\n[[rule]\n', encoding="utf-8")

    result = kanal_cli("policy", "check", str(broken))

    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output


DANISH_ONLY = """
[routing]
[[routing.queue]]
name = "danish"
languages = ["da"]
"""


def test_policy_check_refuses_a_language_kanal_speaks_that_no_queue_takes(kanal_cli, tmp_path):
    denmark = (PROFILES / "denmark.toml").read_text(encoding="utf-8")
    agency = tmp_path / "agency.toml"
    agency.write_text(denmark + DANISH_ONLY, encoding="utf-8")

    # KANAL_LANGUAGES defaults to da,en: English speakers have no queue.
    result = kanal_cli("policy", "check", str(agency))
    assert result.exit_code == 1
    assert "citizens speaking 'en' sent to skill 'general' have no queue" in result.output
    assert "language 'en' is unstaffed" in result.output

    only_danish = kanal_cli("policy", "check", str(agency), "--languages", "da")
    assert only_danish.exit_code == 0, only_danish.output
    assert "has a queue in da." in only_danish.output


def test_kanal_refuses_at_start_a_profile_sending_exempt_citizens_to_no_queue(db_url, tmp_path):
    denmark = (PROFILES / "denmark.toml").read_text(encoding="utf-8")
    agency = tmp_path / "agency.toml"
    rule = '[[rule]]\nid = "exempt-out-of-hours"'
    agency.write_text(denmark.replace(rule, rule + '\nskill = "nowhere"', 1), encoding="utf-8")
    config = {"KANAL_DATABASE_URL": db_url, "SECRET_KEY": SECRET, "KANAL_POLICY": str(agency)}

    with pytest.raises(ProfileError) as refused:
        create_app(config, bot=ScriptedBot())
    message = str(refused.value)
    assert "rule 'exempt-out-of-hours' sends citizens to skill 'nowhere'" in message
    assert "kanal does not run a profile that traps citizens" in message


def test_kanal_starts_with_a_queue_per_language_it_holds_conversations_in(db_url, tmp_path):
    denmark = (PROFILES / "denmark.toml").read_text(encoding="utf-8")
    agency = tmp_path / "agency.toml"
    agency.write_text(denmark + DANISH_ONLY, encoding="utf-8")
    config = {"KANAL_DATABASE_URL": db_url, "SECRET_KEY": SECRET, "KANAL_POLICY": str(agency)}

    # The phone may offer English: a call is still held in one of KANAL_LANGUAGES.
    danish = {**config, "KANAL_LANGUAGES": "da", "KANAL_VOICE_LANGUAGES": ("da", "en")}
    kanal_of(create_app(danish, bot=ScriptedBot())).close()
    with pytest.raises(ProfileError, match="language 'en' is unstaffed"):
        create_app({**config, "KANAL_LANGUAGES": "da,en"}, bot=ScriptedBot())


def test_tokens_expire_are_listed_with_their_end_and_can_be_revoked(kanal_cli, migrated, read_app):
    kanal_cli("users", "create", "lars", "--role", "manager", input="long enough pw\n")
    made = kanal_cli("tokens", "create", "dashboard", "--user", "lars", "--days", "30")
    kept = kanal_cli("tokens", "create", "reports", "--user", "lars")
    token, other = made.stdout.strip(), kept.stdout.strip()
    ends = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    assert ends in made.stderr  # shown when issued, apart from the token itself

    listed = kanal_cli("tokens", "list")
    assert listed.exit_code == 0, listed.output
    assert re.search(rf"dashboard\s+lars\s+manager\s+\S+ \S+\s+{ends}", listed.output)
    assert token not in listed.output and other not in listed.output

    revoked = kanal_cli("tokens", "revoke", "dashboard", "--user", "lars")
    assert revoked.exit_code == 0 and "revoked 1" in revoked.output
    client = read_app().test_client()
    url = "/api/v1/metrics/channel-shift?from=2026-01-01&to=2026-01-31&group_by=channel"
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get(url, headers={"Authorization": f"Bearer {other}"}).status_code == 200
    assert "dashboard" not in kanal_cli("tokens", "list").output
