from django.urls import path

from api.views import pages as views_pages

app_name = "apikeys"

urlpatterns = [
    path("", views_pages.key_list, name="list"),
    path("<int:apikey_id>/revoke/", views_pages.key_revoke, name="revoke"),
]
