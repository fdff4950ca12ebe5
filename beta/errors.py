"""Domain errors of the beta programme: the message is written for the partner who asked."""

from portal.errors import PortalError


class JobError(PortalError):
    pass


class JobParameterError(JobError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class QuotaError(JobError):
    pass
