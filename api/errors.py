"""Domain errors of the API app: the message is written for the person who asked."""

from portal.errors import PortalError


class ApiKeyError(PortalError):
    pass


class IdempotencyConflictError(PortalError):
    """The Idempotency-Key was used before with a different request."""
