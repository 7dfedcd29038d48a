"""The admin with an operator dashboard on its index page."""

from __future__ import annotations

from django.contrib import admin

from .charts import stacked_bars
from .selectors import daily_activity, platform_stats

DASHBOARD_DAYS = 14


class PlatformAdminSite(admin.AdminSite):
    site_header = "taskplatform administration"
    site_title = "taskplatform admin"
    index_title = "How the platform is doing"
    index_template = "admin/dashboard.html"

    def index(self, request, extra_context=None):
        activity = daily_activity(days=DASHBOARD_DAYS)
        context = {
            "stats": platform_stats(),
            "runs_chart": stacked_bars(
                f"Job runs per day, last {DASHBOARD_DAYS} days", activity["dates"], activity["runs"]
            ),
            "notifications_chart": stacked_bars(
                f"Notifications per day, last {DASHBOARD_DAYS} days",
                activity["dates"],
                activity["notifications"],
            ),
            **(extra_context or {}),
        }
        return super().index(request, context)
