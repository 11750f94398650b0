"""The staff pages that span several apps, mounted under /admin/ by the `admin` module."""

from django.contrib import admin
from django.urls import path

from backoffice.dashboard import dashboard_view, job_start_view

urlpatterns = [
    path("dashboard/", admin.site.admin_view(dashboard_view), name="admin-dashboard"),
    path("jobs/<str:job>/start/", admin.site.admin_view(job_start_view), name="admin-job-start"),
]
