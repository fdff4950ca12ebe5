from csp.decorators import csp_update
from django.urls import path, re_path

from api import docs, problems
from api.views import integrations as views_integrations
from api.views import resources as resource_views

# The docs pages are third-party bundles that add <style> elements (and Redoc a blob: worker): styles and workers
# are relaxed there only; scripts stay 'self' (the split Swagger view serves its start-up script as a file).
_docs_policy = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

app_name = "api"

urlpatterns = [
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", _docs_policy(docs.SwaggerView.as_view(url_name="api:schema")), name="docs"),
    path("redoc/", _docs_policy(docs.RedocView.as_view(url_name="api:schema")), name="redoc"),
    path("problems/", resource_views.ProblemTypeListView.as_view(), name="problem-types"),
    path("problems/<slug:problem>", resource_views.ProblemTypeView.as_view(), name="problem-type"),
    path("me/", resource_views.MeView.as_view(), name="me"),
    path("tools/", resource_views.ToolListView.as_view(), name="tool-list"),
    path("tools/<slug:tool_slug>/", resource_views.ToolDetailView.as_view(), name="tool-detail"),
    path("assets/", resource_views.AssetListView.as_view(), name="asset-list"),
    path("assets/<int:asset_id>/", resource_views.AssetDetailView.as_view(), name="asset-detail"),
    path("assets/<int:asset_id>/parts/", resource_views.AssetPartsView.as_view(), name="asset-parts"),
    path("assets/<int:asset_id>/parts/<int:part_number>/", resource_views.AssetPartView.as_view(), name="asset-part"),
    path("assets/<int:asset_id>/complete/", resource_views.AssetCompleteView.as_view(), name="asset-complete"),
    path("assets/<int:asset_id>/abort/", resource_views.AssetAbortView.as_view(), name="asset-abort"),
    path("assets/<int:asset_id>/download/", resource_views.AssetDownloadView.as_view(), name="asset-download"),
    path("assets/<int:asset_id>/content/", resource_views.AssetContentView.as_view(), name="asset-content"),
    path("assets/<int:asset_id>/provenance.c2pa", resource_views.AssetManifestView.as_view(), name="asset-provenance"),
    path("jobs/", resource_views.JobListView.as_view(), name="job-list"),
    path("jobs/<int:job_id>/", resource_views.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/cancel/", resource_views.JobCancelView.as_view(), name="job-cancel"),
    path("jobs/<int:job_id>/retry/", resource_views.JobRetryView.as_view(), name="job-retry"),
    path("jobs/<int:job_id>/feedback/", views_integrations.JobFeedbackView.as_view(), name="job-feedback"),
    path("feedback/", views_integrations.FeedbackListView.as_view(), name="feedback-list"),
    path("feedback/<int:feedbackreport_id>/", views_integrations.FeedbackDetailView.as_view(),
         name="feedback-detail"),
    path("webhooks/", views_integrations.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<int:webhookendpoint_id>/", views_integrations.WebhookDetailView.as_view(),
         name="webhook-detail"),
    path("webhooks/<int:webhookendpoint_id>/rotate-secret/", views_integrations.WebhookRotateSecretView.as_view(),
         name="webhook-rotate-secret"),
    path("webhooks/<int:webhookendpoint_id>/test/", views_integrations.WebhookTestView.as_view(),
         name="webhook-test"),
    path("webhooks/<int:webhookendpoint_id>/deliveries/", views_integrations.WebhookDeliveriesView.as_view(),
         name="webhook-deliveries"),
    re_path(r"^.*$", problems.not_found, name="not-found"),
]
