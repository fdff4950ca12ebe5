"""Shapes of the feedback and webhook endpoints of the API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from beta.models import FeedbackReport
from portal.events import EVENT_TYPES
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


# --- Feedback ---------------------------------------------------------------------------------------------------------
class FeedbackInputSerializer(serializers.Serializer):
    """The answers. The service checks them (ratings 1-5, production fit, hours, categories); shapes only here."""

    overall_rating = serializers.IntegerField(required=False, allow_null=True)
    quality_rating = serializers.IntegerField(required=False, allow_null=True)
    usefulness_rating = serializers.IntegerField(required=False, allow_null=True)
    production_fit = serializers.CharField(required=False, allow_blank=True, help_text="yes, with_changes or no.")
    hours_saved = serializers.DecimalField(required=False, allow_null=True, max_digits=7, decimal_places=2)
    categories = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=20)
    text = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class FeedbackReplySerializer(serializers.Serializer):
    body = serializers.CharField()
    author = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_author(self, reply) -> str:
        return str(reply.author) if reply.author else "The AI Studio team"


class FeedbackSerializer(serializers.ModelSerializer):
    job_id = serializers.IntegerField()
    tool = serializers.CharField(source="tool_slug")
    author = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField()
    replies = serializers.SerializerMethodField()

    class Meta:
        model = FeedbackReport
        fields = [
            "id", "job_id", "tool", "tool_version", "status", "author", "overall_rating", "quality_rating",
            "usefulness_rating", "production_fit", "hours_saved", "categories", "text", "revision", "submitted_at",
            "revised_at", "replies",
        ]  # fmt: skip
        read_only_fields = fields

    def get_author(self, report) -> str | None:
        return report.author.email if report.author else None

    def get_categories(self, report) -> list[str]:
        return sorted(c.category for c in report.categories.all())

    @extend_schema_field(FeedbackReplySerializer(many=True))
    def get_replies(self, report):
        replies = getattr(report, "api_replies", None)
        if replies is None:
            from beta.feedback.selectors import report_replies

            replies = report_replies(report)
        return FeedbackReplySerializer(replies, many=True).data


# --- Webhooks ---------------------------------------------------------------------------------------------------------
class WebhookEndpointSerializer(serializers.ModelSerializer):
    secret_hint = serializers.CharField(read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "enabled", "secret_hint", "disabled_at", "disabled_reason",
                  "failing_since", "created_at"]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(help_text="The signing secret (whsec_...). Shown this once: keep it.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1, max_length=20)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1, max_length=20,
                                   required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    enabled = serializers.BooleanField(required=False)


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret, shown this once. The old one keeps signing "
                                             "alongside it for a grace period.")


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "attempted_at", "status_code", "duration_ms", "response_excerpt", "error"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts = serializers.SerializerMethodField()
    payload = serializers.JSONField()

    class Meta:
        model = WebhookDelivery
        fields = ["id", "message_id", "event_type", "status", "attempts", "next_attempt_at", "created_at",
                  "delivered_at", "payload"]
        read_only_fields = fields

    @extend_schema_field(WebhookAttemptSerializer(many=True))
    def get_attempts(self, delivery):
        return WebhookAttemptSerializer(delivery.attempt_log.all(), many=True).data

