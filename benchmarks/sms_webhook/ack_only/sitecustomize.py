"""Benchmark harness only: leave routing to the scheduler so wrk measures the webhook alone.

Put on PYTHONPATH of the server under test; it is never part of a deployment.
"""

from router.service.contact_centre import ContactCentre

ContactCentre.process_later = lambda self, message_id: None
