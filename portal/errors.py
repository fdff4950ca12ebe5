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


class AgreementError(PortalError):
    pass
