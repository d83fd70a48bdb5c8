"""kanal's router: the conversation, the policy, the queue and the desk."""


def create_app(config=None, *, bot=None, senders=None, clock=None):  # noqa: ANN001, ANN201
    """Create the kanal web application (see router.bootstrap)."""
    from router.bootstrap import create_app as _create_app

    return _create_app(config, bot=bot, senders=senders, clock=clock)
