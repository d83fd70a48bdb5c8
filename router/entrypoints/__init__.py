"""kanal's entry points: the processes and the web around the core.

The wiring point (`bootstrap`), the web app and its blueprints (sign-in, the agent desk,
health, the integration API), the `kanal` command (`cli`), the turn worker, the scheduler
and its jobs. They import the core (router.domain, .policy, .service, .adapters), the
channels, the IVR, analytics and the bot client; nothing of the core imports them.
"""
