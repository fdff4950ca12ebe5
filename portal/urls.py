from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("home/", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("staff/", views.staff_home, name="staff-home"),
    path("staff/studios/", views.staff_studios, name="staff-studios"),
]
