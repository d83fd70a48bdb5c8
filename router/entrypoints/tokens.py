"""`kanal tokens`: API tokens from the command line (router/entrypoints/api_tokens.py).

`create` prints the token once on standard output (a script keeps it: `TOKEN=$(kanal tokens
create ...)`) and when it expires on standard error; `list` never shows a token.
"""

from __future__ import annotations

from datetime import datetime

import click

from router.entrypoints.api_tokens import issue_token, issued_tokens, revoke_tokens


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else "-"


@click.group()
def tokens() -> None:
    """API tokens: create (shown once), list, revoke."""


@tokens.command("create")
@click.argument("name")
@click.option("--user", "username", required=True, help="The user the token acts as.")
@click.option("--days", type=int, default=None, help="Days it lasts (KANAL_API_TOKEN_DAYS).")
def tokens_create(name: str, username: str, days: int | None) -> None:
    """Create an API token and print it once (when it expires goes to standard error)."""
    from router.entrypoints.bootstrap import bootstrap

    kanal = bootstrap()
    try:
        days = days if days is not None else kanal.config["KANAL_API_TOKEN_DAYS"]
        token, ends = issue_token(kanal.uow, name, username, days, kanal.clock())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        kanal.close()
    click.echo(token)
    click.echo(f"expires {_when(ends)} UTC", err=True)


@tokens.command("list")
def tokens_list() -> None:
    """List the tokens not revoked: name, user, role, issued, expires (never the token)."""
    from router.entrypoints.bootstrap import bootstrap

    kanal = bootstrap()
    try:
        found, now = issued_tokens(kanal.uow), kanal.clock()
    finally:
        kanal.close()
    click.echo(f"{'name':<20} {'user':<20} {'role':<11} {'issued':<16} {'expires':<16} status")
    for t in found:
        status = "expired" if t.expires_at is None or now >= t.expires_at else "valid"
        click.echo(
            f"{t.name:<20} {t.username:<20} {t.role:<11} {_when(t.created_at):<16} "
            f"{_when(t.expires_at):<16} {status}"
        )


@tokens.command("revoke")
@click.argument("name")
@click.option("--user", "username", required=True, help="The user whose token it is.")
def tokens_revoke(name: str, username: str) -> None:
    """Revoke a user's tokens of that name at once (they answer 401 from then on)."""
    from router.entrypoints.bootstrap import bootstrap

    kanal = bootstrap()
    try:
        done = revoke_tokens(kanal.uow, name, username)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        kanal.close()
    click.echo(f"revoked {done} token(s) named {name!r} of {username}")
