"""The Django admin: a back office for programme admins. Writes with rules go through the same services as the portal.

Invites are created only in the portal (through `invite_create`, which checks seats and sends the email);
the audit trail and agreement acceptances are records, so they are read-only here.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from portal.errors import PortalError
from portal.models import (
    AgreementAcceptance,
    AgreementVersion,
    AuditEvent,
    Cohort,
    Invite,
    Membership,
    Organization,
    User,
)
from portal.services.agreements import agreement_publish
from portal.services.cohorts import cohort_create, cohort_update
from portal.services.invites import invite_resend, invite_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "staff_role", "is_active", "last_login"]
    list_filter = ["staff_role", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "staff_role")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2", "staff_role")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "seat_limit"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__email", "organization__name"]


# --- Cohorts ----------------------------------------------------------------------------------------------------------
class CohortAdminForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ["name", "description", "opens_at", "closes_at"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Cohort.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"A cohort called “{name}” already exists.")
        return name

    def clean(self):
        data = super().clean()
        if data.get("opens_at") and data.get("closes_at") and data["closes_at"] <= data["opens_at"]:
            self.add_error("closes_at", "The cohort must close after it opens.")
        return data


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    form = CohortAdminForm
    list_display = ["name", "state", "opens_at", "closes_at", "studio_count"]
    search_fields = ["name"]
    fields = ["name", "description", "opens_at", "closes_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(studio_total=Count("organizations"))

    @admin.display(description="Studios", ordering="studio_total")
    def studio_count(self, obj) -> int:
        return getattr(obj, "studio_total", 0)

    @admin.display(description="State")
    def state(self, obj) -> str:
        now = timezone.now()
        if now < obj.opens_at:
            return "Opens soon"
        return "Closed" if now >= obj.closes_at else "Open"

    def has_add_permission(self, request):
        return request.user.is_programme_admin and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_programme_admin and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        """Through the services, so the change is audited like one made on the portal's cohort pages."""
        fields = {name: form.cleaned_data[name] for name in self.fields}
        if change:
            saved = cohort_update(actor=request.user, cohort=obj, request=request, **fields)
        else:
            saved = cohort_create(actor=request.user, request=request, **fields)
        obj.pk = saved.pk
        obj.refresh_from_db()


# --- Invites ----------------------------------------------------------------------------------------------------------
class InviteStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Invite.Status.choices

    def queryset(self, request, queryset):
        if self.value() in Invite.Status.values:
            return queryset.with_status(self.value())
        return queryset


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    """Read-only, with resend and revoke actions. New invites are made on the portal's invite page."""

    list_display = ["email", "organization", "role", "status_label", "expires_at", "sent_count", "invited_by"]
    list_filter = [InviteStatusFilter, "role", "organization"]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization", "invited_by"]
    exclude = ["token_hash"]  # never shown: only its hash is stored, and even that is nobody's business
    readonly_fields = (
        "email",
        "organization",
        "role",
        "status_label",
        "invited_by",
        "expires_at",
        "sent_count",
        "last_sent_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    actions = ["resend_selected", "revoke_selected"]
    change_list_template = "portal/staff/admin_invite_change_list.html"

    @admin.display(description="Status")
    def status_label(self, obj) -> str:
        return obj.get_status_display()

    def has_add_permission(self, request):
        return False  # invite_create checks seats and sends the email: invite on the portal's invite page

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row is the record of who was invited

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "portal_invites_url": reverse("portal:staff-invites")}
        return super().changelist_view(request, extra_context=extra_context)

    def _each(self, request, queryset, call, verb: str) -> None:
        done = 0
        for invite in queryset.select_related("organization"):
            try:
                call(actor=request.user, invite=invite, request=request)
            except PortalError as exc:
                self.message_user(request, f"{invite.email}: {exc}", level=messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"{verb} {done} invite{'s' if done != 1 else ''}.", level=messages.SUCCESS)

    @admin.action(description="Resend selected invites")
    def resend_selected(self, request, queryset):
        self._each(request, queryset, invite_resend, "Resent")

    @admin.action(description="Revoke selected invites")
    def revoke_selected(self, request, queryset):
        self._each(request, queryset, invite_revoke, "Revoked")


# --- Agreement --------------------------------------------------------------------------------------------------------
@admin.register(AgreementVersion)
class AgreementVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "published_at", "created_at"]
    search_fields = ["version", "title"]
    readonly_fields = ["published_at", "created_at", "updated_at"]
    actions = ["publish_selected"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.published_at:
            # People accepted this text: a change needs a new version.
            return ["version", "title", "text", *self.readonly_fields]
        return self.readonly_fields

    @admin.action(description="Publish selected version")
    def publish_selected(self, request, queryset):
        versions = list(queryset[:2])
        if len(versions) != 1:
            self.message_user(request, "Select exactly one version to publish.", level=messages.WARNING)
            return
        try:
            version = agreement_publish(actor=request.user, version=versions[0], request=request)
        except PortalError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return
        self.message_user(
            request,
            f"Published version {version.version}. Everyone is asked to accept it at their next visit.",
            level=messages.SUCCESS,
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record: look, never add, change or delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AgreementAcceptance)
class AgreementAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["user", "version", "accepted_at", "ip_address"]
    list_filter = ["version"]
    search_fields = ["user__email"]
    list_select_related = ["user", "version"]
    date_hierarchy = "accepted_at"


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_email", "action", "organization_name", "target", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_email", "organization_name", "target_id"]
    date_hierarchy = "at"

    @admin.display(description="Target")
    def target(self, obj) -> str:
        return format_html("{}#{}", obj.target_type, obj.target_id) if obj.target_type else "—"
