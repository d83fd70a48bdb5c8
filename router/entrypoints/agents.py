"""`kanal agents`: what each agent can take (skills, languages, teams, capacity)."""

from __future__ import annotations

import click

from router.domain.channels import CHANNELS


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [n.strip() for n in value.split(",") if n.strip()]


def _capacity(value: str | None) -> dict[str, int] | None:
    """Parse "webchat=3,sms=5,voice=1"."""
    if value is None:
        return None
    capacity: dict[str, int] = {}
    for part in _names(value) or []:
        channel, _, most = part.partition("=")
        if channel not in CHANNELS or not most.isdigit():
            raise click.BadParameter(
                f"write channel=number, channels {', '.join(CHANNELS)} (got {part!r})"
            )
        capacity[channel] = int(most)
    return capacity


@click.group()
def agents() -> None:
    """Agents' skills, languages, teams and capacity (who may take what at the desk)."""


@agents.command("set")
@click.argument("username")
@click.option("--skills", help="Skills (queues' benefit areas), e.g. pension,family; '' for all.")
@click.option("--languages", help="Languages spoken, e.g. da,en; '' for all.")
@click.option("--teams", help="Teams, e.g. north; a supervisor sees their teams' work.")
@click.option("--capacity", help="Contacts held at once per channel: webchat=3,sms=5,voice=1.")
def agents_set(username: str, skills, languages, teams, capacity) -> None:  # noqa: ANN001
    """Set what an agent can take (options left out stay as they were)."""
    from router.entrypoints.bootstrap import bootstrap

    kanal = bootstrap()
    try:
        with kanal.uow() as uow:
            user = uow.users.by_username(username)
        if user is None:
            raise click.ClickException(f"no such user: {username}")
        profile = kanal.assignments.set_profile(
            user.id,
            skills=_names(skills),
            languages=_names(languages),
            teams=_names(teams),
            capacity=_capacity(capacity),
        )
        queues = kanal.assignments.queues_of(user.id)
        gaps = _unserved(kanal)
    finally:
        kanal.close()
    click.echo(
        f"{username}: skills {','.join(profile.skills) or 'all'}; languages "
        f"{','.join(profile.languages) or 'all'}; teams {','.join(profile.teams) or '-'}; "
        f"capacity {profile.capacity or 'default'}; queues {','.join(queues or ()) or 'all'}"
    )
    _warn_of(gaps, err=True)


@agents.command("check")
@click.option("--strict", is_flag=True, help="Exit 1 when some work has nobody to serve it.")
def agents_check(strict: bool) -> None:
    """List the queues, languages and channels no agent's profile covers."""
    from router.entrypoints.bootstrap import bootstrap

    kanal = bootstrap()
    try:
        gaps = _unserved(kanal)
    finally:
        kanal.close()
    if not gaps:
        click.echo("Every queue, language and channel kanal routes to has an agent who serves it.")
        return
    _warn_of(gaps)
    if strict:
        raise SystemExit(1)


def _unserved(kanal) -> list:  # noqa: ANN001 - the bootstrapped kanal
    from router.entrypoints.bootstrap import spoken
    from router.service.staffing import unserved_work

    return unserved_work(kanal.uow, kanal.settings.routing, spoken(kanal.config))


def _warn_of(gaps: list, err: bool = False) -> None:
    """Say which work nobody serves: contacts routed there would wait for nobody."""
    for work in gaps:
        click.echo(
            f"warning: no agent serves queue {work.queue} in {work.language} on {work.channel}: "
            "contacts routed there wait until an agent's profile covers it",
            err=err,
        )
