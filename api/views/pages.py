"""The API keys page: owners create and revoke their studio's keys; the whole key is shown once, after creation."""

from datetime import UTC, datetime, time

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api import selectors, services
from api.errors import ApiKeyError
from api.forms import ApiKeyForm
from api.models import ApiKey
from portal import selectors as portal_selectors
from portal.decorators import partner_required
from portal.models import Membership


@partner_required
@never_cache
@require_http_methods(["GET", "POST"])
def key_list(request):
    membership = portal_selectors.membership_for_user(request.user)
    if membership is None:
        raise Http404
    is_owner = membership.role == Membership.Role.OWNER
    created = None
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST":
        if not is_owner:
            raise PermissionDenied("Only your studio's owners can create API keys.")
        if form.is_valid():
            day = form.cleaned_data.get("expires_on")
            expires_at = datetime.combine(day, time.min, tzinfo=UTC) if day else None
            try:
                created = services.api_key_create(
                    actor=request.user, organization=membership.organization, name=form.cleaned_data["name"],
                    scopes=form.scopes(), expires_at=expires_at, request=request,
                )
            except ApiKeyError as exc:
                form.add_error(None, str(exc))
            else:
                form = ApiKeyForm()
    return render(
        request,
        "api/keys.html",
        {
            "membership": membership,
            "is_owner": is_owner,
            "keys": selectors.api_keys_for_user(request.user),
            "form": form,
            "created": created,
        },
    )


@partner_required
@require_POST
def key_revoke(request, apikey_id):
    key = get_object_or_404(ApiKey.objects.for_user(request.user).select_related("organization"), pk=apikey_id)
    key = services.api_key_revoke(actor=request.user, key=key, request=request)
    messages.success(request, f"The key “{key.name}” ({key.prefix}…) is revoked: it no longer works.")
    return redirect("apikeys:list")
