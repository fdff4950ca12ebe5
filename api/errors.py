"""Domain errors of the API app: the message is written for the person who asked."""

from portal.errors import PortalError


class ApiKeyError(PortalError):
    pass


class ApiKeyStudioClosedError(ApiKeyError):
    """The key is genuine but its studio is suspended or offboarded (portal/lifecycle.py): 403, not 401."""


class IdempotencyConflictError(PortalError):
    """The Idempotency-Key was used before with a different request."""
