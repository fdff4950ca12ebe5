"""The Django admin for assets: records to look at, and deletion only through the services (which write receipts).

Assets are read-only here; the one way to remove them is the "Delete selected assets" action, which calls
`services.asset_delete` for each (the default bulk delete would drop rows and leave the bytes in storage).
Offboarding a studio, which purges everything it stored, is an action on "Studios to offboard" (a proxy of
Organization) and only programme admins may run it. Both actions ask for confirmation on a page of their own first.
"""

import logging
from functools import cache

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from assets import services
from assets.models import Asset, DeletionReceipt, OffboardingStudio, Rendition
from assets.storage import StorageError
from assets.templatetags.asset_tags import human_size
from portal import lifecycle
from portal.admin import ReadOnlyAdmin
from portal.errors import PortalError

logger = logging.getLogger(__name__)

# The confirmation page both destructive actions show before they run: the pattern of Django's own
# delete_selected_confirmation.html, posting the selection back with post=yes.
_CONFIRMATION = """{% extends "admin/base_site.html" %}{% load admin_urls l10n %}
{% block bodyclass %}{{ block.super }} app-{{ opts.app_label }} model-{{ opts.model_name }} delete-confirmation
{% endblock %}
{% block breadcrumbs %}<div class="breadcrumbs">
<a href="{% url 'admin:index' %}">Home</a>
&rsaquo; <a href="{% url 'admin:app_list' app_label=opts.app_label %}">{{ opts.app_config.verbose_name }}</a>
&rsaquo; <a href="{% url opts|admin_urlname:'changelist' %}">{{ opts.verbose_name_plural|capfirst }}</a>
&rsaquo; {{ title }}
</div>{% endblock %}
{% block content %}
<p>{{ intro }}</p>
<table>
  <thead><tr>{% for header in headers %}<th scope="col">{{ header }}</th>{% endfor %}</tr></thead>
  <tbody>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody>
  {% if totals %}<tfoot><tr>{% for cell in totals %}<td><strong>{{ cell }}</strong></td>{% endfor %}</tr></tfoot>
  {% endif %}
</table>
<p><strong>{{ warning }}</strong></p>
<form method="post">{% csrf_token %}
<div>
  {% for obj in objects %}
  <input type="hidden" name="{{ action_checkbox_name }}" value="{{ obj.pk|unlocalize }}">
  {% endfor %}
  <input type="hidden" name="action" value="{{ action }}">
  <input type="hidden" name="post" value="yes">
  <input type="submit" value="{{ confirm_label }}">
  <a href="{% url opts|admin_urlname:'changelist' %}" class="button cancel-link">No, take me back</a>
</div>
</form>
{% endblock %}
"""


@cache
def _confirmation_template():
    return engines["django"].from_string(_CONFIRMATION)


def _is_programme_admin(request) -> bool:
    return request.user.is_active and request.user.is_programme_admin


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _receipt_link(receipt: DeletionReceipt) -> str:
    return format_html(
        '<a href="{}">deletion receipt {}</a>', reverse("assets:receipt", args=[receipt.pk]), receipt.uuid
    )


class ConfirmActionMixin:
    """Renders the confirmation page for a destructive action."""

    def confirmation(self, request, *, action, objects, title, intro, headers, rows, totals, warning, confirm_label):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.model._meta,
            "objects": objects,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "intro": intro,
            "headers": headers,
            "rows": rows,
            "totals": totals,
            "warning": warning,
            "confirm_label": confirm_label,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, _confirmation_template(), context)


# --- Assets -----------------------------------------------------------------------------------------------------------
class RenditionInline(admin.TabularInline):
    model = Rendition
    extra = 0
    can_delete = False
    fields = ("kind", "content_type", "size", "width", "height", "created_at")
    readonly_fields = fields

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj) -> str:
        return human_size(obj.size_bytes)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Asset)
class AssetAdmin(ConfirmActionMixin, admin.ModelAdmin):
    """Read-only; deletion only through `services.asset_delete`, which removes the bytes and writes a receipt."""

    list_display = ["name", "organization", "kind", "status", "size", "created_at"]
    list_filter = ["status", "kind", "previews", ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["original_filename", "uuid"]
    search_help_text = "Search by filename or asset UUID."
    list_select_related = ["organization"]
    date_hierarchy = "created_at"
    inlines = [RenditionInline]
    actions = ["delete_with_receipt"]
    fieldsets = [
        (None, {"fields": ["uuid", "organization", "uploaded_by", "original_filename", "kind", "status", "size"]}),
        (
            "Content",
            {
                "fields": [
                    "content_label",
                    "content_type",
                    "sha256",
                    "duration_seconds",
                    "width",
                    "height",
                    "fps",
                    "video_codec",
                    "audio_codec",
                    "previews",
                ]
            },
        ),
        ("Storage", {"fields": ["storage_key", "rejection_reason"]}),
        ("Dates", {"fields": ["created_at", "uploaded_at", "ready_at", "deleted_at", "updated_at"]}),
    ]
    readonly_fields = ["uuid", "size", "created_at", "updated_at"]

    @admin.display(description="File", ordering="original_filename")
    def name(self, obj) -> str:
        return obj.original_filename or ("(deleted)" if obj.status == Asset.Status.DELETED else "(no name)")

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, obj) -> str:
        return human_size(obj.size_bytes)

    def has_add_permission(self, request):
        return False  # assets arrive through the portal's upload, which checks quota, kind and cohort

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the default delete leaves the bytes in storage and writes no receipt: use the action

    def has_purge_permission(self, request) -> bool:
        return _is_programme_admin(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Delete selected assets (with a deletion receipt)", permissions=["purge"])
    def delete_with_receipt(self, request, queryset):
        if not self.has_purge_permission(request):
            raise PermissionDenied
        assets = list(queryset.exclude(status=Asset.Status.DELETED).select_related("organization"))
        if not assets:
            self.message_user(request, "The selected assets were already deleted.", level=messages.WARNING)
            return None
        if not request.POST.get("post"):
            return self.confirmation(
                request,
                action="delete_with_receipt",
                objects=assets,
                title="Delete these assets?",
                intro=(
                    f"{_count(len(assets), 'asset')}, with previews and every stored "
                    "copy, will be deleted. Each gets a deletion receipt; the rows stay as tombstones without a name."
                ),
                headers=["File", "Studio", "Kind", "Status", "Size"],
                rows=[
                    (self.name(a), a.organization.name, a.get_kind_display(), a.get_status_display(), self.size(a))
                    for a in assets
                ],
                totals=["Total", "", "", "", human_size(sum(a.size_bytes for a in assets))],
                warning="This cannot be undone.",
                confirm_label="Yes, delete them",
            )
        receipts = []
        for asset in assets:
            try:
                receipts.append(services.asset_delete(actor=request.user, asset=asset, request=request))
            except (PortalError, StorageError) as exc:
                self.message_user(request, f"{self.name(asset)}: {exc}", level=messages.ERROR)
        if receipts:
            self.message_user(
                request,
                format_html(
                    "Deleted {}: {} ({}). Receipts: {}.",
                    _count(len(receipts), "asset"),
                    _count(sum(r.object_count for r in receipts), "stored object"),
                    human_size(sum(r.bytes_deleted for r in receipts)),
                    format_html_join(", ", "{}", ((_receipt_link(r),) for r in receipts)),
                ),
                level=messages.SUCCESS,
            )
        return None


@admin.register(DeletionReceipt)
class DeletionReceiptAdmin(ReadOnlyAdmin):
    list_display = [
        "uuid",
        "studio",
        "scope",
        "requested_by_label",
        "asset_count",
        "object_count",
        "size",
        "completed_at",
        "download",
    ]
    list_filter = ["scope"]
    search_fields = ["organization_name", "uuid", "requested_by_email"]
    date_hierarchy = "created_at"
    fields = (
        "uuid",
        "organization",
        "organization_name",
        "scope",
        "requested_by_label",
        "asset_count",
        "rendition_count",
        "object_count",
        "size",
        "key_hash_count",
        "completed_at",
        "created_at",
        "download",
    )
    readonly_fields = fields

    @admin.display(description="Studio", ordering="organization_name")
    def studio(self, obj) -> str:
        return obj.organization_name

    @admin.display(description="Requested by", ordering="requested_by_email")
    def requested_by_label(self, obj) -> str:
        return obj.requested_by_email or "Scheduled retention purge"

    @admin.display(description="Deleted", ordering="bytes_deleted")
    def size(self, obj) -> str:
        return human_size(obj.bytes_deleted)

    @admin.display(description="Object key hashes")
    def key_hash_count(self, obj) -> str:
        return f"{len(obj.object_key_hashes or [])} (in the JSON receipt)"

    @admin.display(description="Receipt")
    def download(self, obj) -> str:
        return format_html('<a href="{}">Download JSON</a>', reverse("assets:receipt", args=[obj.pk]))


# --- Offboarding ------------------------------------------------------------------------------------------------------
_LIVE = ~Q(assets__status=Asset.Status.DELETED)


@admin.register(OffboardingStudio)
class OffboardingStudioAdmin(ConfirmActionMixin, admin.ModelAdmin):
    """Studios, with one action: offboard (purge everything stored, deactivate its people, write a receipt)."""

    list_display = ["name", "is_active", "cohort", "asset_count", "asset_bytes"]
    list_filter = ["is_active", "cohort"]
    search_fields = ["name", "slug"]
    list_select_related = ["cohort"]
    fields = ("name", "slug", "is_active", "cohort", "asset_count", "asset_bytes")
    readonly_fields = fields
    actions = ["offboard_selected"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(live_assets=Count("assets", filter=_LIVE), live_bytes=Sum("assets__size_bytes", filter=_LIVE))
        )

    @admin.display(description="Assets", ordering="live_assets")
    def asset_count(self, obj) -> int:
        return getattr(obj, "live_assets", 0) or 0

    @admin.display(description="Asset size", ordering="live_bytes")
    def asset_bytes(self, obj) -> str:
        return human_size(getattr(obj, "live_bytes", 0) or 0)

    def has_view_permission(self, request, obj=None):
        return _is_programme_admin(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_offboard_permission(self, request) -> bool:
        return _is_programme_admin(request) and self.has_view_permission(request)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description="Offboard selected studios (purge all their data)", permissions=["offboard"])
    def offboard_selected(self, request, queryset):
        if not self.has_offboard_permission(request):
            raise PermissionDenied
        studios = list(queryset)
        if not request.POST.get("post"):
            return self._confirm_offboarding(request, studios)
        for studio in studios:
            try:
                done = lifecycle.studio_offboard(actor=request.user, organization=studio, request=request)
            except (PortalError, StorageError) as exc:
                self.message_user(request, f"{studio.name} was not offboarded: {exc}", level=messages.ERROR)
                continue
            self.message_user(
                request,
                format_html(
                    "Offboarded {}: {} deleted (a worker deletes the stored bytes and completes the {}); its people "
                    "can no longer sign in, its invites, API keys and webhooks no longer work.",
                    studio.name,
                    _count(done.get("assets", 0), "asset"),
                    format_html('<a href="{}">deletion receipt</a>', reverse("portal:staff-studio", args=[studio.pk])),
                ),
                level=messages.SUCCESS,
            )
        return None

    def _confirm_offboarding(self, request, studios):
        rows, total_objects, total_bytes, unknown = [], 0, 0, False
        for studio in studios:
            stored = services.studio_stored(studio)
            if stored is None:
                unknown = True
                objects, size = "could not be counted", "could not be counted"
            else:
                total_objects, total_bytes = total_objects + stored[0], total_bytes + stored[1]
                objects, size = stored[0], human_size(stored[1])
            rows.append(
                (studio.name, "Active" if studio.is_active else "Inactive", self.asset_count(studio), objects, size)
            )
        totals = [
            "Total",
            "",
            sum(self.asset_count(s) for s in studios),
            f"{total_objects}{' or more' if unknown else ''}",
            f"{human_size(total_bytes)}{' or more' if unknown else ''}",
        ]
        count = len(studios)
        return self.confirmation(
            request,
            action="offboard_selected",
            objects=studios,
            title=f"Offboard {_count(count, 'studio')}?",
            intro=(
                "Every asset, preview and output these studios stored will be deleted from storage, their people will "
                "no longer be able to sign in, and each studio gets a deletion receipt."
            ),
            headers=["Studio", "State", "Assets", "Stored objects", "Stored size"],
            rows=rows,
            totals=totals,
            warning="This cannot be undone.",
            confirm_label="Yes, offboard and purge",
        )
