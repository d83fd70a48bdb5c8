"""kanal's router: the conversation, the policy, the queue and the desk."""


def create_app(config=None, **parts):  # noqa: ANN001, ANN003, ANN201
    """Create the kanal web application (router.entrypoints.app: bot, senders, clock...)."""
    from router.entrypoints.app import create_app as _create_app

    return _create_app(config, **parts)
