"""`kanal users`: staff accounts from the command line (router/service/staff_accounts.py).

Passwords are never arguments (they would stay in the shell's history and show in `ps`): they
are asked for twice on a terminal, or read as one line from standard input
(`--password-stdin`, or whenever standard input is not a terminal). Every change names the
admin making it (`--admin NAME`) and is written to the audit log (`kanal audit export`);
only before any active admin exists may the first accounts be created without one.
"""

from __future__ import annotations

import sys

import click

from router.domain.model import ROLES

ADMIN_OPTION = click.option(
    "--admin", "admin", default=None, help="The admin account making the change (audited)."
)
PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password as one line from standard input."
)


def _password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _run(act):  # noqa: ANN001, ANN202
    """Run `act(accounts)` with kanal's accounts service; its refusals become clear errors."""
    from werkzeug.security import generate_password_hash

    from router.entrypoints.bootstrap import bootstrap
    from router.service.errors import ServiceError
    from router.service.staff_accounts import StaffAccounts

    kanal = bootstrap()
    try:
        accounts = StaffAccounts(kanal.uow, kanal.clock, generate_password_hash)
        return act(accounts)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        kanal.close()


def _when(at) -> str:  # noqa: ANN001
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else "-"


@click.group()
def users() -> None:
    """Staff accounts: list, create, set passwords, deactivate, reactivate."""


@users.command("list")
def users_list() -> None:
    """List the accounts: name, role, active or not, created, last signed out (no secrets)."""
    accounts = _run(lambda accounts: accounts.accounts())
    click.echo(
        f"{'username':<20} {'role':<11} {'status':<8} {'created':<16} {'signed out':<16} name"
    )
    for a in accounts:
        status = "active" if a.active else "inactive"
        click.echo(
            f"{a.username:<20} {a.role:<11} {status:<8} {_when(a.created_at):<16} "
            f"{_when(a.signed_out_at):<16} {a.display_name}"
        )


@users.command("create")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(ROLES), required=True,
    help="integration: an agency system's account, for API tokens (digital completions)",
)  # fmt: skip
@click.option("--display-name", default="")
@ADMIN_OPTION
@PASSWORD_STDIN
def users_create(
    name: str, role: str, display_name: str, admin: str | None, password_stdin: bool
) -> None:
    """Create an account; the password is asked for (or read from standard input)."""
    password = _password(password_stdin)
    _run(lambda accounts: accounts.create(admin, name, password, role, display_name))
    click.echo(f"created {role} {name}")


@users.command("password")
@click.argument("name")
@ADMIN_OPTION
@PASSWORD_STDIN
def users_password(name: str, admin: str | None, password_stdin: bool) -> None:
    """Set an account's password; its sessions end at once (it signs in again)."""
    password = _password(password_stdin)
    _run(lambda accounts: accounts.set_password(admin, name, password))
    click.echo(f"password of {name} changed; their sessions have ended")


@users.command("deactivate")
@click.argument("name")
@ADMIN_OPTION
def users_deactivate(name: str, admin: str | None) -> None:
    """Deactivate an account: sessions and API tokens end; held conversations go back to
    their queues."""
    done = _run(lambda accounts: accounts.deactivate(admin, name))
    click.echo(
        f"deactivated {name}: sessions ended, {done.tokens_revoked} API token(s) revoked, "
        f"{len(done.returned)} conversation(s) back in the queue"
    )


@users.command("reactivate")
@click.argument("name")
@ADMIN_OPTION
def users_reactivate(name: str, admin: str | None) -> None:
    """Let a deactivated account sign in again (with new API tokens if it needs them)."""
    _run(lambda accounts: accounts.reactivate(admin, name))
    click.echo(f"reactivated {name}")
