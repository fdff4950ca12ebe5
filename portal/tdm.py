"""Machine-readable "not for training": the W3C TDMRep signals (https://www.w3.org/community/reports/tdmrep/).

`tdm-reservation: 1` reserves text and data mining rights (EU DSM Directive, Art. 4(3)); `tdm-policy` points at the
page saying what that means here: nothing may be mined or used to train AI. Every media and export response carries
both, with `Cache-Control: no-store` (no shared or browser cache keeps a partner's bytes). Presigned S3 URLs cannot
carry arbitrary headers: there the object's own metadata says it (see README, "IP protection").
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.urls import reverse

RESERVATION_HEADER = "tdm-reservation"
POLICY_HEADER = "tdm-policy"
NO_STORE = "private, no-store"


def policy_url() -> str:
    return settings.SITE_URL + reverse("portal:tdm-policy")


def object_metadata() -> dict[str, str]:
    """What every object the portal writes to S3 carries (S3 answers it as `x-amz-meta-tdm-*`)."""
    return {RESERVATION_HEADER: "1", POLICY_HEADER: policy_url()}


def mark_not_for_training(response):
    """Add the TDMRep headers and `Cache-Control: no-store` to a media or export response (or its redirect)."""
    response[RESERVATION_HEADER] = "1"
    response[POLICY_HEADER] = policy_url()
    response["Cache-Control"] = NO_STORE
    return response


def not_for_training(view):
    """A view (or a DRF handler method) whose every answer is marked by `mark_not_for_training`."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        return mark_not_for_training(view(*args, **kwargs))

    return wrapper
