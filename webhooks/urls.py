from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoint-list"),
    path("<int:webhookendpoint_id>/", views.endpoint_detail, name="endpoint-detail"),
    path("<int:webhookendpoint_id>/rotate-secret/", views.endpoint_rotate_secret, name="endpoint-rotate-secret"),
    path("<int:webhookendpoint_id>/test/", views.endpoint_send_test, name="endpoint-test"),
    path("<int:webhookendpoint_id>/delete/", views.endpoint_delete, name="endpoint-delete"),
]
