"""Errors the service layer raises; entrypoints turn them into clear answers."""


class ServiceError(Exception):
    """A request the router cannot carry out, with a message fit for the caller."""

    status = 400


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Unauthorized(ServiceError):
    """The request's credentials are not those of what it asks for (a chat session's token)."""

    status = 401


class Ended(Conflict):
    """The conversation a message was sent to has ended (`contact_id`: its contact)."""

    def __init__(self, message: str, contact_id: int) -> None:
        super().__init__(message)
        self.contact_id = contact_id


class Forbidden(ServiceError):
    status = 403


class DuplicateDelivery(Conflict):
    """The same provider message was committed already (a retried webhook)."""


class Busy(Conflict):
    """Others' work on the same rows kept a step from finishing: asking again soon will do."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds: what an HTTP answer's Retry-After says
