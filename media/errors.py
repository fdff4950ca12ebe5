"""The one error the media helpers raise."""

from __future__ import annotations


class MediaError(Exception):
    """A file could not be read or rendered. `str(error)` is a sentence for the partner; `detail` is for the logs."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
