"""Domain errors of webhooks: the message is written for the studio owner who asked."""

from portal.errors import PortalError


class WebhookError(PortalError):
    """A webhook rule was broken. `field_errors` maps form/API field names to messages."""

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.field_errors = field_errors or {}


class EndpointValidationError(WebhookError):
    """The endpoint's URL or events are not acceptable (bad scheme, private target, unknown event...)."""


class UnsafeTargetError(WebhookError):
    """The target resolves to an address the portal refuses to call (loopback, private, metadata...)."""
