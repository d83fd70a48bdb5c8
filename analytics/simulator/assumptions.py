"""What the simulator assumes, stated beside every answer."""

from __future__ import annotations

from analytics.simulator.behaviour import MIN_SAMPLE


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark a message id for the catalogues (the dashboard shows it in the page's language)."""
    return message


# What the simulator assumes, as message ids ({min_sample}: MIN_SAMPLE); the answer carries
# them in English (`assumptions()`), the dashboard in the page's language.
ASSUMPTIONS = (
    N_(
        "Each recorded decision is replayed with the same pure decide() on the context the "
        "policy saw when it was made; contexts are as recorded, so a policy's effect on queue "
        "waits does not feed back into later decisions."
    ),
    N_("A contact whose decisions all come out the same keeps what happened to it."),
    N_(
        "A contact whose route changes takes, from the first changed turn, the average outcome "
        "of the recorded contacts of its group that went the new way, weighted by the observed "
        "rates: bot containment for self-service, acceptance for an offered digital route."
    ),
    N_(
        "A group is channel x need x exemption, then channel x need, then channel, then the "
        "whole period, whichever first has {min_sample} contacts."
    ),
    N_(
        "A citizen who declines an offered digital route is served like a bot conversation on "
        "a written channel and by a person on the phone."
    ),
    N_(
        "Service level and speed of answer are Erlang C estimates per hour: the hour's assisted "
        "agent time on the agents who answered contacts opened in that hour (at least one), "
        "with the period's average handle time. The same model gives the recorded column."
    ),
    N_(
        "Cost: a call at the phone rate, a person on web chat or SMS at the assisted written "
        "rate, self-service at the digital rate; savings against the same contacts all by phone."
    ),
)


def assumptions() -> list[str]:
    """Return the assumptions in English, filled in."""
    return [a.format(min_sample=MIN_SAMPLE) for a in ASSUMPTIONS]
