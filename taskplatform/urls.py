from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from notifications.webhooks import sendgrid_tracking_webhook

from . import health
from .api.docs import RedocView, SwaggerView
from .metrics import metrics_view

handler400 = "taskplatform.api.errors.bad_request"
handler403 = "taskplatform.api.errors.permission_denied"
handler404 = "taskplatform.api.errors.page_not_found"
handler500 = "taskplatform.api.errors.server_error"

api_v1 = [
    path("auth/", include("accounts.api.urls")),
    path("admin/", include("operations.api.urls")),
    path("audit-events/", include("audit.api.urls")),
    path("files/", include("files.api.urls")),
    path("jobs/", include("jobs.api.urls")),
    path("meetings/", include("meetings.api.urls")),
    path("notifications/", include("notifications.api.urls")),
    path("tasks/", include("tasks.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
    path("calendar/", include("meetings.feed_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
    # the web app for end users (server-rendered pages + htmx)
    path("app/", include("web.urls")),
    path("", RedirectView.as_view(pattern_name="web:home"), name="root"),
    # /verify-email/ and /reset-password/: the pages the account emails link to
    path("", include("accounts.urls")),
    # /unsubscribe/ and /email-preferences/: the pages the emails' footer links open
    path("", include("notifications.urls")),
    # provider delivery events (basic auth: ANYMAIL_WEBHOOK_SECRET; 404 without one)
    path(
        "webhooks/anymail/sendgrid/tracking/",
        sendgrid_tracking_webhook,
        name="sendgrid-tracking-webhook",
    ),
]
