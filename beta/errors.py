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


class InputNotFoundError(JobError):
    """A link named a file that is not one of the studio's (another studio's, or none): the page is a 404."""


class BulkSubmitError(JobError):
    """A run on several files stopped part-way (a quota reached): `jobs` holds the jobs made before it stopped."""

    def __init__(self, message: str, jobs: list):
        super().__init__(message)
        self.jobs = jobs


class FeedbackError(PortalError):
    """A feedback write was refused; `errors` maps each field (or "" for the whole report) to its message."""

    def __init__(self, message: str = "", errors: dict[str, str] | None = None):
        self.errors = dict(errors or {})
        super().__init__(message or " ".join(self.errors.values()) or "This feedback cannot be saved.")


class ResultsReportError(PortalError):
    """A results report could not be changed or built (already built, or a period that ends before it starts)."""


class ToolSwitchError(PortalError):
    """A change to a tool's availability was refused (an unknown tool, a note too long)."""
