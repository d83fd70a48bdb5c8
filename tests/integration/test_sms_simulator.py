"""`kanal sms`: a citizen's phone in the terminal, against the running service."""

from click.testing import CliRunner

from router.entrypoints.cli import main
from tests.integration import sms_support
from tests.integration.sms_support import ACCOUNT, AGENCY, TOKEN, new_number

live = sms_support.live  # the running kanal these tests text


def run_sms(monkeypatch, live, *args):
    monkeypatch.setenv("KANAL_PUBLIC_URL", live.base_url)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", AGENCY)
    return CliRunner().invoke(main, ["sms", *args])


def test_kanal_sms_prints_the_bots_reply(monkeypatch, live):
    number = new_number()
    result = run_sms(monkeypatch, live, "--from", number, "--wait", "10", "when is my payment")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"you → {AGENCY}: when is my payment"
    assert lines[1].startswith(f"{AGENCY} → you: [payment_date]")
    assert len(live.messages(number, "in")) == 1


def test_kanal_sms_says_when_nothing_comes_back(monkeypatch, live):
    result = run_sms(monkeypatch, live, "--from", new_number(), "--wait", "2", "STOP")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "(no reply)"


def test_kanal_sms_explains_a_signature_mismatch(monkeypatch, live):
    monkeypatch.setenv("KANAL_PUBLIC_URL", live.base_url)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-services-token")
    result = CliRunner().invoke(main, ["sms", "--from", new_number(), "hello"])
    assert result.exit_code != 0
    assert "refused the signature" in result.output


def test_kanal_sms_explains_when_nothing_runs(monkeypatch):
    monkeypatch.setenv("KANAL_PUBLIC_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(main, ["sms", "--from", new_number(), "hello"])
    assert result.exit_code != 0
    assert "make run" in result.output
