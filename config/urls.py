from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config import health

admin.site.site_header = f"{settings.PORTAL_NAME} administration"
admin.site.site_title = settings.PORTAL_NAME

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("django-admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("assets/", include("assets.urls")),
    path("", include("beta.urls")),
    path("", include("portal.urls")),
]
