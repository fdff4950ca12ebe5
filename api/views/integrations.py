"""Feedback and webhooks through the API, over the same services as their pages (beta.feedback, webhooks)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from api.pagination import FeedbackCursor
from api.problems import DomainError, problem, validation_problem
from api.serializers_integrations import (
    FeedbackInputSerializer,
    FeedbackSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWithSecretSerializer,
    WebhookSecretSerializer,
)
from api.views.resources import ApiView, _membership
from beta.errors import FeedbackError
from beta.feedback import selectors as feedback_selectors
from beta.feedback import services as feedback_services
from beta.models import FeedbackComment, Job
from portal.errors import PortalError
from webhooks import selectors as webhook_selectors
from webhooks import services as webhook_services
from webhooks.errors import WebhookError


# --- Feedback ---------------------------------------------------------------------------------------------------------
def _reports(request):
    replies = FeedbackComment.objects.filter(kind=FeedbackComment.Kind.REPLY).select_related("author")
    return feedback_selectors.feedback_for_user(request.user).prefetch_related(
        "categories", Prefetch("comments", queryset=replies.order_by("created_at"), to_attr="api_replies")
    )


def _feedback_problem(exc: FeedbackError) -> DomainError:
    """Field errors are a validation problem; otherwise who may file (403) or when (409)."""
    fields = {name: [message] for name, message in exc.errors.items() if name}
    if fields:
        return DomainError.from_body(validation_problem(fields, str(exc)))
    reason = exc.errors.get("", "")
    if reason in ("not-a-member", "viewer"):
        return DomainError.from_body(problem("forbidden", str(exc)))
    if reason == "not-finished":
        return DomainError.from_body(problem("conflict", str(exc)))
    return DomainError(exc, state_conflict=True)


class JobFeedbackView(ApiView):
    @extend_schema(operation_id="feedback_file", request=FeedbackInputSerializer, responses={201: FeedbackSerializer},
                   tags=["feedback"], summary="File (or revise) your feedback on a finished job")
    def post(self, request, job_id):
        job = get_object_or_404(Job.objects.for_user(request.user), pk=job_id)
        data = self.valid(FeedbackInputSerializer, request.data)
        data = {k: (str(v) if k == "hours_saved" and v is not None else v) for k, v in data.items()}
        try:
            report = feedback_services.feedback_start(user=request.user, job=job)
            report = feedback_services.feedback_submit(user=request.user, report=report, data=data)
        except FeedbackError as exc:
            raise _feedback_problem(exc) from exc
        except PortalError as exc:
            raise DomainError(exc) from exc
        report = get_object_or_404(_reports(request), pk=report.pk)
        return Response(FeedbackSerializer(report).data, status=status.HTTP_201_CREATED)


class FeedbackListView(ApiView):
    pagination_class = FeedbackCursor

    @extend_schema(operation_id="feedback_list", responses=FeedbackSerializer(many=True), tags=["feedback"],
                   summary="Your studio's feedback reports, with their status and the team's replies")
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(_reports(request), request, view=self)
        return paginator.get_paginated_response(FeedbackSerializer(page, many=True).data)


class FeedbackDetailView(ApiView):
    @extend_schema(operation_id="feedback_get", responses=FeedbackSerializer, tags=["feedback"])
    def get(self, request, feedbackreport_id):
        return Response(FeedbackSerializer(get_object_or_404(_reports(request), pk=feedbackreport_id)).data)


# --- Webhooks ---------------------------------------------------------------------------------------------------------
def _webhook_problem(exc: PortalError, *, state_conflict: bool = False) -> DomainError:
    fields = getattr(exc, "field_errors", None)
    if fields:
        return DomainError.from_body(validation_problem(fields, str(exc)))
    return DomainError(exc, state_conflict=state_conflict)


def _endpoint(request, endpoint_id):
    return get_object_or_404(webhook_selectors.endpoints_for_user(request.user), pk=endpoint_id)


class WebhookListView(ApiView):
    @extend_schema(operation_id="webhooks_list", responses=WebhookEndpointSerializer(many=True), tags=["webhooks"],
                   summary="Your studio's webhook endpoints")
    def get(self, request):
        endpoints = webhook_selectors.endpoints_for_user(request.user).order_by("-created_at", "-id")
        return Response(WebhookEndpointSerializer(endpoints, many=True).data)

    @extend_schema(operation_id="webhooks_create", request=WebhookEndpointCreateSerializer,
                   responses={201: WebhookEndpointWithSecretSerializer}, tags=["webhooks"],
                   summary="Add an endpoint (owners); its signing secret is in this answer only")
    def post(self, request):
        data = self.valid(WebhookEndpointCreateSerializer, request.data)
        membership = _membership(request)
        try:
            endpoint, secret = webhook_services.endpoint_create(
                user=request.user, organization=membership.organization, url=data["url"], events=data["events"],
                description=data["description"], request=request,
            )
        except WebhookError as exc:
            raise _webhook_problem(exc) from exc
        except PortalError as exc:
            raise DomainError(exc) from exc
        endpoint.secret = secret
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(ApiView):
    @extend_schema(operation_id="webhooks_get", responses=WebhookEndpointSerializer, tags=["webhooks"])
    def get(self, request, webhookendpoint_id):
        return Response(WebhookEndpointSerializer(_endpoint(request, webhookendpoint_id)).data)

    @extend_schema(operation_id="webhooks_update", request=WebhookEndpointUpdateSerializer,
                   responses=WebhookEndpointSerializer, tags=["webhooks"],
                   summary="Change the URL, events, description, or turn it on or off (owners)")
    def patch(self, request, webhookendpoint_id):
        endpoint = _endpoint(request, webhookendpoint_id)
        data = self.valid(WebhookEndpointUpdateSerializer, request.data)
        try:
            endpoint = webhook_services.endpoint_update(user=request.user, endpoint=endpoint, request=request, **data)
        except WebhookError as exc:
            raise _webhook_problem(exc) from exc
        except PortalError as exc:
            raise DomainError(exc) from exc
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(operation_id="webhooks_delete", responses={204: None}, tags=["webhooks"],
                   summary="Remove an endpoint and its delivery log (owners)")
    def delete(self, request, webhookendpoint_id):
        endpoint = _endpoint(request, webhookendpoint_id)
        try:
            webhook_services.endpoint_delete(user=request.user, endpoint=endpoint, request=request)
        except PortalError as exc:
            raise DomainError(exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(ApiView):
    @extend_schema(operation_id="webhooks_rotate_secret", request=None, responses=WebhookSecretSerializer,
                   tags=["webhooks"], summary="A new signing secret (owners)")
    def post(self, request, webhookendpoint_id):
        endpoint = _endpoint(request, webhookendpoint_id)
        try:
            secret = webhook_services.endpoint_rotate_secret(user=request.user, endpoint=endpoint, request=request)
        except PortalError as exc:
            raise DomainError(exc) from exc
        return Response({"secret": secret})


class WebhookTestView(ApiView):
    @extend_schema(operation_id="webhooks_send_test", request=None, responses={202: WebhookDeliverySerializer},
                   tags=["webhooks"], summary="Send a webhook.test message now (owners)")
    def post(self, request, webhookendpoint_id):
        endpoint = _endpoint(request, webhookendpoint_id)
        try:
            delivery = webhook_services.endpoint_send_test(user=request.user, endpoint=endpoint, request=request)
        except WebhookError as exc:
            raise _webhook_problem(exc, state_conflict=True) from exc
        except PortalError as exc:
            raise DomainError(exc) from exc
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveriesView(ApiView):
    @extend_schema(operation_id="webhooks_deliveries", responses=WebhookDeliverySerializer(many=True),
                   tags=["webhooks"], summary="The endpoint's latest 50 deliveries, each with every attempt")
    def get(self, request, webhookendpoint_id):
        endpoint = _endpoint(request, webhookendpoint_id)
        deliveries = webhook_selectors.deliveries_for_endpoint(endpoint)
        return Response(WebhookDeliverySerializer(deliveries, many=True).data)
