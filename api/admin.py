from django.contrib import admin

from api.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only for staff: keys are created and revoked by studio owners on their API keys page."""

    list_display = ["prefix", "name", "organization", "created_by", "scopes", "created_at", "expires_at", "revoked_at",
                    "last_used_at"]
    list_filter = ["organization"]
    search_fields = ["prefix", "name", "organization__name", "created_by__email"]
    readonly_fields = [f.name for f in ApiKey._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
