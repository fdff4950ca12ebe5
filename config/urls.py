from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config import health
from ops.views import metrics

admin.site.site_header = f"{settings.PORTAL_NAME} administration"
admin.site.site_title = settings.PORTAL_NAME

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("django-admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("assets/", include("assets.urls")),
    path("studio/", include("assets.urls_studio")),
    path("webhooks/", include("webhooks.urls")),
    path("api/v1/", include("api.urls")),
    path("api-keys/", include("api.urls_pages")),
    path("", include("beta.urls")),
    path("", include("portal.urls")),
]

# Under /api/ these answer application/problem+json; elsewhere Django's own pages.
handler400 = "config.errors.handler400"
handler403 = "config.errors.handler403"
handler404 = "config.errors.handler404"
handler500 = "config.errors.handler500"
