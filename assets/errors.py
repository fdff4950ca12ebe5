"""Domain errors of assets: the message is written for the partner who asked."""

from portal.errors import PortalError


class AssetError(PortalError):
    pass


class UploadRefusedError(AssetError):
    """Refused before any byte is sent: too large, over quota, a kind the beta does not take."""


class UploadStateError(AssetError):
    pass
