from django.urls import path

from webhooks.views import endpoints as endpoint_views

app_name = "webhooks"

urlpatterns = [
    path("", endpoint_views.endpoint_list, name="endpoint-list"),
    path("<int:webhookendpoint_id>/", endpoint_views.endpoint_detail, name="endpoint-detail"),
    path("<int:webhookendpoint_id>/rotate-secret/", endpoint_views.endpoint_rotate_secret,
         name="endpoint-rotate-secret"),
    path("<int:webhookendpoint_id>/test/", endpoint_views.endpoint_send_test, name="endpoint-test"),
    path("<int:webhookendpoint_id>/delete/", endpoint_views.endpoint_delete, name="endpoint-delete"),
]
