"""Domain errors of the portal: services raise them, views turn them into clear messages."""


class PortalError(Exception):
    """A rule was broken; the message is written for the person who asked."""


class PermissionDeniedError(PortalError):
    pass


class InviteError(PortalError):
    pass


class InviteNotFoundError(InviteError):
    pass


class InviteNotPendingError(InviteError):
    def __init__(self, message: str, status: str):
        super().__init__(message)
        self.status = status


class SeatLimitError(InviteError):
    pass


class MembershipError(PortalError):
    pass


class InviteFileError(PortalError):
    """The whole bulk-invite file is unusable (not CSV, missing columns, too large)."""


class StudioError(PortalError):
    pass


class CohortError(PortalError):
    pass


class StudioClosedInviteError(InviteError):
    """The invite's studio is suspended or has left the beta (portal/lifecycle.py)."""


class NotificationError(PortalError):
    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class AgreementError(PortalError):
    pass
