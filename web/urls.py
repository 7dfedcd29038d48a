"""The web app, under /app/: each area's pages list their own URLs."""

from django.urls import include, path

from .views import account, files, home, jobs, meetings, notifications, tasks

app_name = "web"

urlpatterns = [
    *home.urlpatterns,
    *account.urlpatterns,
    path("tasks/", include(tasks.urlpatterns)),
    path("files/", include(files.urlpatterns)),
    path("jobs/", include(jobs.urlpatterns)),
    path("meetings/", include(meetings.urlpatterns)),
    path("notifications/", include(notifications.urlpatterns)),
]
