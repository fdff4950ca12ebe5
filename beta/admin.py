from django.contrib import admin

from beta.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["queue", "hostname", "beat_at", "beats"]
    readonly_fields = ["queue", "hostname", "beat_at", "beats"]
