"""kanal's router: the conversation, the policy, the queue and the desk."""


def create_app(test_config: dict | None = None):
    """Create the kanal web application (see router.bootstrap)."""
    from router.bootstrap import create_app as _create_app

    return _create_app(test_config)
