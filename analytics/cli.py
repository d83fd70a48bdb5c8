"""`kanal simulate`: replay a period's recorded contacts under another policy profile."""

from __future__ import annotations

import json
from datetime import date

import click

from analytics.simulation import simulate_period

ROWS = (
    ("contacts", "contacts", "{:,.0f}"),
    ("completed", "completed needs", "{:,.1f}"),
    ("digital_take_up", "digital take-up", "{:.1%}"),
    ("assisted", "assisted contacts", "{:,.1f}"),
    ("callbacks", "callbacks", "{:,.1f}"),
    ("agent_hours", "assisted load (agent hours)", "{:,.1f}"),
    ("service_level", "service level (Erlang C, {y:g} s)", "{:.1%}"),
    ("average_speed_of_answer_seconds", "average speed of answer (s)", "{:,.1f}"),
    ("overloaded_hours", "hours over capacity", "{:,.0f}"),
    ("cost", "cost", "{:,.2f}"),
    ("cost_per_contact", "cost per contact", "{:,.3f}"),
)


def _cell(value, fmt: str) -> str:  # noqa: ANN001
    return "-" if value is None else fmt.format(value)


def report_text(result: dict) -> str:
    """Return the simulation as a plain-text table a manager reads in a terminal."""
    w = result["window"]
    y = result["settings"]["service_level_seconds"]
    recorded_as = ", ".join(f"{p} ({n:,})" for p, n in result["recorded_profiles"].items() if p)
    lines = [
        f"{w['from']} to {w['to']} ({w['timezone']}): {result['contacts']:,} contacts, "
        f"recorded under {recorded_as or 'no recorded decisions'}; replayed under "
        f"{result['profile']}",
        f"decisions replayed {result['decisions']['replayed']:,}, changed "
        f"{result['decisions']['changed']:,}; contacts rerouted {result['contacts_rerouted']:,}"
        f"; not replayable (no recorded context) {result['not_replayable']:,}",
        "",
        f"{'':34}{'recorded':>14}{'projected':>14}",
    ]
    for key, label, fmt in ROWS:
        lines.append(
            f"{label.format(y=y):34}{_cell(result['recorded'].get(key), fmt):>14}"
            f"{_cell(result['projected'].get(key), fmt):>14}"
        )
    observed = result["recorded"].get("observed_service_level")
    lines.append(f"{'service level measured':34}{_cell(observed, '{:.1%}'):>14}")
    for change in result["decisions"]["changes"][:10]:
        lines.append(f"  {change['recorded']} -> {change['simulated']}: {change['count']:,}")
    lines += ["", "fairness (assisted share, digital take-up: recorded -> projected):"]
    for by, rows in result["fairness"].items():
        for row in rows:
            r, p = row["recorded"], row["projected"]
            lines.append(
                f"  {by}={row['group']:<14} {r['contacts']:>9,}  "
                f"{_cell(r['assisted_share'], '{:.1%}')} -> {_cell(p['assisted_share'], '{:.1%}')}"
                f"   {_cell(r['digital_take_up'], '{:.1%}')} -> "
                f"{_cell(p['digital_take_up'], '{:.1%}')}"
            )
    lines += [f"flag: {f}" for f in result["flags"]]
    if result["defaults_used"]:
        lines.append(f"defaults used (not observed): {', '.join(result['defaults_used'])}")
    lines += ["", "assumptions:", *(f"- {a}" for a in result["assumptions"])]
    return "\n".join(lines)


@click.command("simulate")
@click.option("--profile", required=True, help="A shipped profile or a profile file (.toml).")
@click.option("--from", "first", required=True, help="First day, YYYY-MM-DD (agency time).")
@click.option("--to", "last", required=True, help="Last day, YYYY-MM-DD (inclusive).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
def simulate(profile: str, first: str, last: str, as_json: bool) -> None:
    """Replay the contacts of a period under another policy profile, side by side."""
    from sqlalchemy import create_engine

    from analytics.api import simulation_settings
    from analytics.reader import reader_engine
    from router.config import from_env
    from router.policy import ProfileError, load_profile

    try:
        chosen = load_profile(profile)
        first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
    except (ProfileError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc
    if first_day > last_day:
        raise click.BadParameter(f"--from ({first_day}) is after --to ({last_day})")
    config = from_env()
    from router.policy import check_profile

    checked = check_profile(chosen, languages=tuple(config["KANAL_LANGUAGES"]))
    if not checked.ok:  # a manager may still look, but not take it for something kanal runs
        warning = f"warning: kanal would refuse to run this profile.\n{checked.render()}"
        click.echo(warning, err=True)
    settings = simulation_settings(config)
    engine = reader_engine(create_engine(config["KANAL_DATABASE_URL"]))
    result = simulate_period(
        engine, chosen, first_day, last_day, config["KANAL_TIMEZONE"], **settings
    )
    click.echo(json.dumps(result, indent=2) if as_json else report_text(result))
