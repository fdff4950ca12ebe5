from django.urls import path

from beta import views

app_name = "beta"

urlpatterns = [
    path("tools/", views.catalogue, name="catalogue"),
    path("tools/<slug:tool_slug>/", views.submit, name="submit"),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/live/", views.job_list_rows, name="job-list-rows"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/live/", views.job_live, name="job-live"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<int:job_id>/retry/", views.job_retry, name="job-retry"),
    path("staff/jobs/", views.staff_job_list, name="staff-jobs"),
]
