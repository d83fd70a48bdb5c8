"""Errors the service layer raises; entrypoints turn them into clear answers."""


class ServiceError(Exception):
    """A request the router cannot carry out, with a message fit for the caller."""

    status = 400


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Forbidden(ServiceError):
    status = 403


class DuplicateDelivery(Conflict):
    """The same provider message was committed already (a retried webhook)."""
