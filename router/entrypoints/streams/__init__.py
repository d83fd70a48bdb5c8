"""The stream process (`kanal streams`): server-sent events for live pages, on asyncio.

One process holds every open chat widget's and desk page's stream without a thread per page
(aiohttp). It learns what changed from PostgreSQL's LISTEN/NOTIFY (published after each
commit by the message bus, router/adapters/live.py), or on SQLite from one shared poller of
the contact log, and reads what a page shows only when that page's contact changed.
docs/live.md describes the streams, their events and the deployment.
"""
