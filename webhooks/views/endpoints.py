"""Partner pages: the studio's webhook endpoints and their delivery log. Everyone in the studio can read them;
only owners change them (the services check, the pages only hide the controls)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from portal.decorators import AuthenticatedHttpRequest, partner_required
from portal.events import EVENT_TYPES
from portal.models import Membership
from webhooks import selectors, services
from webhooks.errors import WebhookError
from webhooks.forms import EndpointEditForm, EndpointForm
from webhooks.models import WebhookEndpoint


def _membership(request: AuthenticatedHttpRequest) -> Membership | None:
    return Membership.objects.filter(user=request.user).select_related("organization").first()


def _is_owner(membership: Membership | None) -> bool:
    return membership is not None and membership.role == Membership.Role.OWNER


def _endpoint(request: AuthenticatedHttpRequest, webhookendpoint_id: int) -> WebhookEndpoint:
    return get_object_or_404(selectors.endpoints_for_user(request.user), pk=webhookendpoint_id)


def _apply_errors(form: forms.Form, exc: WebhookError) -> None:
    if not exc.field_errors:
        form.add_error(None, str(exc))
    for field, errors in exc.field_errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _check_url_too(form: forms.Form) -> None:
    """When other fields are wrong, say at once whether the URL is acceptable too, not on the next try."""
    if form.is_bound and not form.is_valid() and "url" not in form.errors:
        try:
            services.validate_url(form.cleaned_data["url"])
        except WebhookError as exc:
            _apply_errors(form, exc)


def _secret_page(
    request: AuthenticatedHttpRequest, endpoint: WebhookEndpoint, secret: str, *, created: bool
) -> HttpResponse:
    response = render(request, "webhooks/secret.html", {"endpoint": endpoint, "secret": secret, "created": created})
    response["Cache-Control"] = "no-store"  # the secret is shown once: keep it out of every cache
    return response


@partner_required
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = _membership(request)
    is_owner = _is_owner(membership)
    if request.method == "POST" and not is_owner:
        raise PermissionDenied("Only the studio's owners can manage webhooks.")
    form = EndpointForm(request.POST if request.method == "POST" else None) if is_owner else None
    # (a POST reaches here only from an owner, so with a form and a membership)
    if request.method == "POST" and form is not None and membership is not None and form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(
                user=request.user, organization=membership.organization, request=request, **form.cleaned_data
            )
        except WebhookError as exc:
            _apply_errors(form, exc)
        else:
            return _secret_page(request, endpoint, secret, created=True)
    if form is not None:
        _check_url_too(form)
    return render(
        request,
        "webhooks/endpoint_list.html",
        {
            "membership": membership,
            "is_owner": is_owner,
            "endpoints": selectors.endpoints_for_user(request.user),
            "form": form,
            "event_types": EVENT_TYPES,
        },
    )


@partner_required
@require_http_methods(["GET", "HEAD", "POST"])
def endpoint_detail(request: AuthenticatedHttpRequest, webhookendpoint_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhookendpoint_id)
    is_owner = _is_owner(_membership(request))
    if request.method == "POST" and not is_owner:
        raise PermissionDenied("Only the studio's owners can manage webhooks.")
    form: EndpointEditForm | None = None
    if is_owner:
        initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events,
                   "enabled": endpoint.enabled}
        form = EndpointEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form is not None and form.is_valid():  # (a POST comes from an owner: a form)
        try:
            services.endpoint_update(user=request.user, endpoint=endpoint, request=request, **form.cleaned_data)
        except WebhookError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("webhooks:endpoint-detail", webhookendpoint_id=endpoint.pk)
    if form is not None:
        _check_url_too(form)
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "is_owner": is_owner,
            "form": form,
            "deliveries": selectors.deliveries_for_endpoint(endpoint),
            "retry_schedule": services.RETRY_DELAYS,
        },
    )


def _owner_action(request: AuthenticatedHttpRequest, webhookendpoint_id: int) -> WebhookEndpoint:
    endpoint = _endpoint(request, webhookendpoint_id)
    if not _is_owner(_membership(request)):
        raise PermissionDenied("Only the studio's owners can manage webhooks.")
    return endpoint


@partner_required
@require_POST
def endpoint_rotate_secret(request: AuthenticatedHttpRequest, webhookendpoint_id: int) -> HttpResponse:
    endpoint = _owner_action(request, webhookendpoint_id)
    secret = services.endpoint_rotate_secret(user=request.user, endpoint=endpoint, request=request)
    return _secret_page(request, endpoint, secret, created=False)


@partner_required
@require_POST
def endpoint_send_test(request: AuthenticatedHttpRequest, webhookendpoint_id: int) -> HttpResponse:
    endpoint = _owner_action(request, webhookendpoint_id)
    try:
        delivery = services.endpoint_send_test(user=request.user, endpoint=endpoint, request=request)
    except WebhookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Test message {delivery.message_id} sent; its attempts appear in the log below.")
    return redirect("webhooks:endpoint-detail", webhookendpoint_id=endpoint.pk)


@partner_required
@require_POST
def endpoint_delete(request: AuthenticatedHttpRequest, webhookendpoint_id: int) -> HttpResponse:
    endpoint = _owner_action(request, webhookendpoint_id)
    services.endpoint_delete(user=request.user, endpoint=endpoint, request=request)
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("webhooks:endpoint-list")
