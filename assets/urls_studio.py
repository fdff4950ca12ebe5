from django.urls import path

from assets.views import access as views_access

app_name = "studio"

urlpatterns = [
    path("access-log/", views_access.studio_access_log, name="access-log"),
]
