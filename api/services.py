"""Writes of the API app: creating, revoking and using API keys, and idempotent job creation.

A key acts as the person who created it: the services it calls (job_submit, asset uploads, ...) take that person as
their actor, and every read goes through `for_user(person)`, so a key sees exactly its studio. A key stops working
when it is revoked or expires, and also when its creator leaves the studio or is deactivated.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from api.errors import ApiKeyError, ApiKeyStudioClosedError, IdempotencyConflictError
from api.models import ApiKey
from beta import tools as catalogue
from beta.jobs.submit import job_submit
from beta.models import Job
from config.failopen import FailOpenCache
from portal import selectors as portal_selectors
from portal.client_ip import client_ip
from portal.errors import PermissionDeniedError
from portal.lifecycle import closed_message
from portal.models import AuditEvent, Membership, Organization, User
from portal.services.audit import audit_record

KEY_PREFIX = "gl_live_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8  # gl_live_ and 8 hex digits; then "_" and the secret
#: at most one "api_key.used" audit event (and one last-used write) per key per this many seconds
USE_RECORD_SECONDS = 60
# The once-a-minute gate on recording a key's use; during a Redis outage every use is recorded (fails open).
use_gate = FailOpenCache(cache, "api_key_use")
Action = AuditEvent.Action


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    raw_key: str  # shown once, never stored


def _require_owner(actor: User, organization: Organization) -> None:
    membership = Membership.objects.filter(user=actor, organization=organization).first()
    if membership is None or membership.role != Membership.Role.OWNER:
        raise PermissionDeniedError("Only your studio's owners can create or revoke API keys.")


def api_key_create(
    *,
    actor: User,
    organization: Organization,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    request=None,
) -> CreatedKey:
    """A new key for the studio. The raw key is returned once; only its SHA-256 is kept."""
    _require_owner(actor, organization)
    name = (name or "").strip()[:100]
    if not name:
        raise ApiKeyError("Give the key a name, e.g. the pipeline that will use it.")
    wanted = set(scopes or [])
    if not wanted or not wanted <= set(ApiKey.Scope.values):
        raise ApiKeyError("Choose read, or read and write.")
    if ApiKey.Scope.WRITE in wanted:
        wanted.add(ApiKey.Scope.READ)  # a key that may write may also read what it wrote
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiKeyError("The expiry date must be in the future.")
    prefix = KEY_PREFIX + secrets.token_hex(4)
    raw_key = f"{prefix}_{secrets.token_urlsafe(32)}"  # 256 random bits after the prefix
    with transaction.atomic():
        key = ApiKey.objects.create(
            organization=organization,
            name=name,
            prefix=prefix,
            key_hash=hash_key(raw_key),
            scopes=sorted(wanted),
            created_by=actor,
            expires_at=expires_at,
        )
        audit_record(
            action=Action.API_KEY_CREATED,
            actor=actor,
            organization=organization,
            target=key,
            request=request,
            detail={"prefix": prefix, "name": name, "scopes": key.scopes},
        )
    return CreatedKey(key=key, raw_key=raw_key)


def api_key_revoke(*, actor: User, key: ApiKey, request=None) -> ApiKey:
    """Refuse the key from now on. Revoking twice is harmless."""
    _require_owner(actor, key.organization)
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.revoked_by = actor
            key.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
            audit_record(
                action=Action.API_KEY_REVOKED,
                actor=actor,
                organization=key.organization,
                target=key,
                request=request,
                detail={"prefix": key.prefix, "name": key.name},
            )
    return key


def api_key_authenticate(*, raw_key: str) -> ApiKey:
    """The usable key behind `raw_key`, with its creator and studio; ApiKeyError with the reason otherwise."""
    prefix = raw_key[:PREFIX_LENGTH]
    if not prefix.startswith(KEY_PREFIX) or raw_key[PREFIX_LENGTH : PREFIX_LENGTH + 1] != "_":
        raise ApiKeyError("This is not a Greenlight API key.")
    key = ApiKey.objects.select_related("created_by", "organization").filter(prefix=prefix).first()
    # Compare the full hash in constant time, also when no key has that prefix, so timing tells nothing.
    expected = key.key_hash if key is not None else "0" * 64
    if not hmac.compare_digest(expected, hash_key(raw_key)) or key is None:
        raise ApiKeyError("The API key is not valid.")
    if not key.organization.is_active_in_beta:  # the API-key door of portal/lifecycle.py
        raise ApiKeyStudioClosedError(closed_message(key.organization))
    if key.revoked_at is not None:
        raise ApiKeyError("This API key was revoked.")
    if key.expires_at is not None and key.expires_at <= timezone.now():
        raise ApiKeyError("This API key has expired.")
    creator = key.created_by
    if not creator.is_active:
        raise ApiKeyError("The person who created this API key can no longer use the beta.")
    if not Membership.objects.filter(user=creator, organization_id=key.organization_id).exists():
        raise ApiKeyError("The person who created this API key has left the studio.")
    # The beta agreement gates the API as it gates the pages: a new version must be accepted in the portal first.
    if not portal_selectors.has_accepted(creator, portal_selectors.current_agreement()):
        raise ApiKeyError(
            f"{creator.email} must accept the current beta agreement in the portal before this key works again."
        )
    return key


def api_key_record_use(*, key: ApiKey, request=None) -> bool:
    """Note when and from where the key was used, and audit it: at most once per key per USE_RECORD_SECONDS.

    The gate is a Redis key (the cache), so the common case costs one Redis round trip and no database write.
    """
    ip = client_ip(request)
    if not use_gate.add(f"api-key-used:{key.pk}", 1, timeout=USE_RECORD_SECONDS):
        return False
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=ip)
    key.last_used_at, key.last_used_ip = now, ip
    audit_record(
        action=Action.API_KEY_USED,
        actor=key.created_by,
        organization=key.organization,
        target=key,
        request=request,
        detail={"prefix": key.prefix, "method": getattr(request, "method", ""), "path": getattr(request, "path", "")},
    )
    return True


# --- Jobs -------------------------------------------------------------------------------------------------------------
def _same_request(job: Job, *, tool_slug: str, asset_ids: list, parameters: dict) -> bool:
    """Whether a repeated Idempotency-Key comes with the request that made `job` (parameters with their defaults)."""
    tool = catalogue.get_tool(str(tool_slug))
    if tool is None or job.tool_slug != tool.slug:
        return False
    inputs = list(job.job_inputs.order_by("position").values_list("asset_id", flat=True))
    given = {**tool.defaults(), **parameters} if isinstance(parameters, dict) else parameters
    return inputs == asset_ids and job.parameters == given


def job_create_idempotent(
    *,
    actor: User,
    tool_slug: str,
    asset_ids: list[int],
    parameters: dict,
    idempotency_key: str | None,
    request=None,
) -> tuple[Job, bool]:
    """`job_submit`, plus the API's rule for repeated Idempotency-Keys: the same request gets the same job back
    (created=False), a different one raises IdempotencyConflictError. The studio row is locked while the key is looked
    up, so concurrent duplicates make one job."""
    if not idempotency_key:
        job = job_submit(
            actor=actor, tool_slug=tool_slug, asset_ids=asset_ids, parameters=parameters, request=request
        )
        return job, True
    membership = Membership.objects.filter(user=actor).first()
    if membership is None:
        raise PermissionDeniedError("You are not part of a studio.")
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=membership.organization_id).first()
        existing = Job.objects.filter(
            organization_id=membership.organization_id, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            if not _same_request(existing, tool_slug=tool_slug, asset_ids=asset_ids, parameters=parameters):
                raise IdempotencyConflictError(
                    f"The Idempotency-Key was already used for job {existing.pk} with a different request. "
                    "Use a new key for a new job."
                )
            return existing, False
        job = job_submit(
            actor=actor,
            tool_slug=tool_slug,
            asset_ids=asset_ids,
            parameters=parameters,
            idempotency_key=idempotency_key,
            request=request,
        )
    return job, True
