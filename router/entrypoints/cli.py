"""The `kanal` command: serve, migrate, seed and administer."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import click

from analytics.cli import simulate as simulate_command
from router.entrypoints import demo_traffic
from router.entrypoints.agents import agents as agents_command
from router.entrypoints.tokens import tokens as tokens_command
from router.entrypoints.users import users as users_command


@contextmanager
def _kanal():
    """Build kanal's container from the environment, without the web; close it after."""
    from router.entrypoints.bootstrap import bootstrap
    from router.entrypoints.logs import configure_logging

    kanal = bootstrap()
    configure_logging(kanal.config["KANAL_LOG_LEVEL"])
    try:
        yield kanal
    finally:
        kanal.close()


@click.group()
def main() -> None:
    """kanal: omnichannel contact centre and digital-first channel router."""


# -- serving ------------------------------------------------------------------------------


@main.command()
@click.option("--workers", type=int, default=None, help="Default: KANAL_WEB_WORKERS (2).")
def web(workers: int | None) -> None:
    """Serve the web app with gunicorn on KANAL_HOST:KANAL_PORT (default 127.0.0.1:8000)."""
    from router.config import from_env

    config = from_env()
    args = [
        "gunicorn",
        "--workers",
        str(workers or config["KANAL_WEB_WORKERS"]),
        "--threads",
        str(config["KANAL_WEB_THREADS"]),
        # gthread, whose requests may be answered after their handler returned (an SMS
        # webhook once its message is committed, without a thread waiting for it).
        "--worker-class",
        "router.entrypoints.web_worker.WebWorker",
        "--bind",
        f"{config['KANAL_HOST']}:{config['KANAL_PORT']}",
        # Its maximum: kanal itself answers URLs over router.web.MAX_URL (414 in JSON).
        "--limit-request-line",
        "8190",
        "--access-logfile",
        "-",
        # One JSON line per request, built from four fields (gunicorn's format fills ~30).
        "--logger-class",
        "router.entrypoints.access_log.AccessLog",
        "router:create_app()",
    ]
    os.execvp(sys.executable, [sys.executable, "-m", *args])


@main.command()
def scheduler() -> None:
    """Run the scheduler process (SLA checks, retries, sweeps) until stopped."""
    from router.entrypoints.scheduler import run

    with _kanal() as kanal:
        run(kanal)


@main.command()
@click.option("--host", default=None, help="Default: KANAL_STREAM_HOST (127.0.0.1).")
@click.option("--port", type=int, default=None, help="Default: KANAL_STREAM_PORT (8001).")
def streams(host: str | None, port: int | None) -> None:
    """Serve the live pages' event streams (chat widget, desk) on asyncio until stopped."""
    from router.entrypoints.bootstrap import bootstrap
    from router.entrypoints.logs import configure_logging
    from router.entrypoints.streams.app import serve

    kanal = bootstrap(identify=None)  # it reads and streams; it never identifies a language
    configure_logging(kanal.config["KANAL_LOG_LEVEL"])
    try:
        serve(
            kanal,
            host or kanal.config["KANAL_STREAM_HOST"],
            port or kanal.config["KANAL_STREAM_PORT"],
        )
    finally:
        kanal.close()


@main.command()
def worker() -> None:
    """Run the turn worker: take acknowledged messages from the inbox and route them.

    Needed when KANAL_TURN_WORKER=process; the web process then only acknowledges.
    """
    from router.entrypoints.peers import load_language_models
    from router.entrypoints.priority import give_way

    give_way()  # acknowledgements first: Twilio waits at most 15 s for them
    with _kanal() as kanal:
        load_language_models(kanal.turns.identify)  # before the first turn, not in it
        kanal.worker.run_forever()


@main.group()
def bot() -> None:
    """Train and serve the Rasa bot (in its own Python 3.10 environment)."""


@bot.command("train")
@click.option("--force", is_flag=True, help="Train even if bots/rasa/ did not change.")
def bot_train(force: bool) -> None:
    """Train the bot when its data changed."""
    from bots.train import main as train_main

    sys.exit(train_main(["--force"] if force else []))


@bot.command("serve")
def bot_serve() -> None:
    """Run the Rasa server."""
    from bots.serve import serve_rasa

    serve_rasa()


@bot.command("evaluate")
@click.option("--url", default=None, help="A running Rasa server (default: KANAL_RASA_URL).")
@click.option("--start", is_flag=True, help="Train if needed and start a bot for the run.")
@click.option("--verbose", "-v", is_flag=True, help="List every error.")
@click.option("--language", "languages", multiple=True, type=click.Choice(["en", "da"]))
@click.option(
    "--set", "evaluation_set", default="heldout", type=click.Choice(["heldout", "dev", "blind"]),
    help="heldout (held to the thresholds), dev (to choose training data on) or blind.",
)  # fmt: skip
def bot_evaluate(
    url: str | None, start: bool, verbose: bool, languages: tuple[str, ...], evaluation_set: str
) -> None:
    """Score the bot on the held-out sets, per language, against the committed thresholds."""
    from bots.evaluate import main as evaluate_main

    args = [*(["--url", url] if url else []), *(["--start"] if start else [])]
    args += [*(["--verbose"] if verbose else []), *(f"--language={lang}" for lang in languages)]
    args += [f"--set={evaluation_set}"]
    sys.exit(evaluate_main(args))


@bot.command("actions")
def bot_actions() -> None:
    """Run the Rasa action server."""
    from bots.serve import serve_actions

    serve_actions()


# -- database ----------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations up to the newest."""
    from router.adapters.migrate import upgrade
    from router.entrypoints.bootstrap import configuration

    upgrade(configuration()["KANAL_DATABASE_URL"])
    click.echo("database is up to date")


@main.command()
def seed() -> None:
    """Seed a demo agent, supervisor, manager and demo citizens when the database is empty."""
    from router.entrypoints.demo import seed_demo

    with _kanal() as kanal:
        lines = seed_demo(kanal.uow, kanal.config["SECRET_KEY"])
    for line in lines:
        click.echo(line)


# -- administration ----------------------------------------------------------------------


@main.group()
def audit() -> None:
    """The audit log: who viewed which citizen's data, refused attempts, account changes."""


@audit.command("export")
@click.option("--admin", "admin", required=True, help="The admin account asking (audited).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv")
@click.option("--since", type=click.DateTime(), default=None, help="From this time (UTC).")
@click.option("--until", type=click.DateTime(), default=None, help="Before this time (UTC).")
@click.option("--output", type=click.File("w"), default="-", help="A file; default stdout.")
def audit_export(admin: str, fmt: str, since, until, output) -> None:  # noqa: ANN001
    """Write the audit log as CSV or JSON lines, oldest first."""
    from datetime import UTC

    from router.entrypoints import audit as audit_log
    from router.service.access import DeskAccess

    since, until = (t.replace(tzinfo=UTC) if t else None for t in (since, until))
    with _kanal() as kanal:
        try:
            count = audit_log.export(
                kanal.uow, DeskAccess(kanal.uow, kanal.clock), admin, output, fmt, since, until
            )
        except PermissionError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"exported {count} entries", err=True)


@main.group()
def policy() -> None:
    """Digital-first policy profiles."""


@policy.command("check")
@click.argument("path")
@click.option(
    "--languages",
    default=None,
    help="Languages that need a queue, e.g. da,en (default: KANAL_LANGUAGES, as kanal "
    "checks at start).",
)
def policy_check(path: str, languages: str | None) -> None:
    """Check that a profile (a .toml file or a shipped profile's name) keeps the
    no-citizen-trapped invariant, and that every person it promises has a queue."""
    import os

    from router.entrypoints.bootstrap import channel_modules, spoken
    from router.policy import ProfileError, check_profile_file

    installed = tuple(module.NAME for module in channel_modules())  # a rule may name any
    if languages is None:
        spoken_here = spoken({"KANAL_LANGUAGES": os.environ.get("KANAL_LANGUAGES") or "da,en"})
    else:
        spoken_here = spoken({"KANAL_LANGUAGES": languages})
    try:
        report = check_profile_file(path, installed, spoken_here)
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(report.render())
    if not report.ok:
        sys.exit(1)


@main.group()
def citizens() -> None:
    """The citizen register."""


@citizens.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--registered-by", default="import", show_default=True)
def citizens_import(path: str, registered_by: str) -> None:
    """Import citizens and exemptions from a CSV file (all or nothing)."""
    from router.adapters.register import import_csv
    from router.domain.citizens import register_day

    with _kanal() as kanal:
        today = register_day(kanal.clock(), kanal.config["KANAL_TIMEZONE"])
        report = import_csv(kanal.uow, path, kanal.config["SECRET_KEY"], registered_by, today=today)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


# -- SMS simulator (issue 3) ----------------------------------------------------------------


@main.command()
@click.option("--from", "from_number", required=True, help="Citizen number, e.g. +4512345678.")
@click.option("--url", default=None, help="Where kanal listens (default: KANAL_PUBLIC_URL).")
@click.option("--wait", default=20.0, show_default=True, help="Seconds to wait for a reply.")
@click.argument("text")
def sms(from_number: str, url: str | None, wait: float, text: str) -> None:
    """Text kanal as a citizen would (a signed Twilio webhook) and print the replies."""
    from channels.twilio_sandbox.sms_simulator import SimulatorError, TextingPhone, send_and_watch
    from router.config import from_env

    config = from_env()
    phone = TextingPhone(
        base_url=url or config["KANAL_PUBLIC_URL"],
        public_url=config["KANAL_PUBLIC_URL"],
        account_sid=config["TWILIO_ACCOUNT_SID"],
        auth_token=config["TWILIO_AUTH_TOKEN"],
        agency_number=config["TWILIO_FROM_NUMBER"],
    )
    click.echo(f"you → {phone.agency_number}: {text}")

    def show(row: dict) -> None:
        click.echo(f"{row['from']} → you: {row['body']}")

    try:
        replies = send_and_watch(phone, from_number, text, wait=wait, show=show)
    except SimulatorError as exc:
        raise click.ClickException(str(exc)) from exc
    if not replies:
        click.echo("(no reply)")


# -- phone simulator (issue 8) --------------------------------------------------------------


@main.command()
@click.option("--from", "from_number", required=True, help="Caller's number, e.g. +4512345678.")
@click.option("--url", default=None, help="Where kanal listens (default: KANAL_PUBLIC_URL).")
def phone(from_number: str, url: str | None) -> None:
    """Call kanal as a citizen would (signed Twilio Voice requests); talk by typing.

    Words are speech, digits are keys, an empty line is silence, `wait` waits 30 seconds in
    the queue, `hangup` ends the call.
    """
    from ivr.phone import CallFailed, Line, Phone
    from ivr.phone_transport import http_send
    from router.config import from_env

    config = from_env()
    public = config["KANAL_PUBLIC_URL"]
    line = Line(
        public_url=public,
        auth_token=config["TWILIO_AUTH_TOKEN"],
        account_sid=config["TWILIO_ACCOUNT_SID"],
        agency_number=config["TWILIO_FROM_NUMBER"],
    )
    call = Phone(line, from_number, http_send(url or public, public),
                 show=lambda text: click.echo(f"kanal: {text}"), note=click.echo)  # fmt: skip
    try:
        call.dial()
        while not call.ended:
            if call.bridged_to is not None:
                typed = click.prompt(
                    "(talking to the adviser — `hangup` ends the call)", default="",
                    show_default=False, prompt_suffix="\n",
                ).strip()  # fmt: skip
                if typed == "hangup":
                    call.hang_up()
                continue
            if call.gather is None and call.queue is not None:
                typed = _wait_in_queue(call)
            else:
                typed = click.prompt("you", default="", show_default=False).strip()
            if typed is None:
                continue  # an agent took the call while the caller waited
            if typed == "hangup":
                call.hang_up()
            elif call.queue is not None and (call.gather is None or typed == "wait"):
                call.wait(30)
            elif not typed:
                call.silence()
            elif typed.replace("#", "").replace("*", "").isdigit():
                call.press(typed)
            else:
                call.say(typed)
    except CallFailed as exc:
        raise click.ClickException(str(exc)) from exc
    except requests_error() as exc:
        raise click.ClickException(f"Nothing answers at {url or public}: `make run`.") from exc
    click.echo("(call ended)")


def _wait_in_queue(call, poll_seconds: float = 2.0) -> str | None:  # noqa: ANN001 - a Phone
    """Hold in the queue until the caller types something or an agent takes the call.

    Returns what was typed, or None when an agent's leg bridged the caller meanwhile (the
    sandbox says so), so the terminal shows the adviser's greeting without a key press.
    """
    import select
    import sys

    click.echo("(waiting in the queue — Enter waits 30 s, `hangup` ends the call)")
    while True:
        if not sys.stdin.isatty():
            line = sys.stdin.readline()
            return line.strip() if line else "hangup"
        ready, _, _ = select.select([sys.stdin], [], [], poll_seconds)
        if ready:
            line = sys.stdin.readline()
            return line.strip() if line else "hangup"
        if call.check_bridged():
            return None


def requests_error() -> type[Exception]:
    import requests

    return requests.ConnectionError


main.add_command(simulate_command)  # analytics/cli.py: `kanal simulate`
main.add_command(demo_traffic.demo)  # demo_traffic.py: `kanal demo traffic`
main.add_command(agents_command)  # agents.py: `kanal agents set`
main.add_command(users_command)  # users.py: `kanal users list|create|password|…`
main.add_command(tokens_command)  # tokens.py: `kanal tokens create|list|revoke`


if __name__ == "__main__":  # `python -m router.entrypoints.cli` as well as the `kanal` script
    main()
