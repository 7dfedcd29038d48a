"""The admin with an operator dashboard on its index page."""

from __future__ import annotations

from django.contrib import admin

from .analytics import analytics_summary, user_completion_rates
from .charts import stacked_bars
from .selectors import daily_activity, platform_stats

DASHBOARD_DAYS = 14
DASHBOARD_USERS = 10


def duration_words(seconds: float | None) -> str:
    """3725 -> "1 h 2 min": the largest two units, for the dashboard."""
    if seconds is None:
        return "—"
    left = int(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if left >= size or (size == 1 and not parts):
            parts.append(f"{left // size} {unit}")
            left %= size
    return " ".join(parts[:2])


class PlatformAdminSite(admin.AdminSite):
    site_header = "taskplatform administration"
    site_title = "taskplatform admin"
    index_title = "How the platform is doing"
    index_template = "admin/dashboard.html"

    def index(self, request, extra_context=None):
        activity = daily_activity(days=DASHBOARD_DAYS)
        summary = analytics_summary()
        context = {
            "stats": platform_stats(),
            "analytics": summary,
            "fastest": duration_words(summary["fastest_completion_seconds"]),
            "slowest": duration_words(summary["slowest_completion_seconds"]),
            "busiest_users": user_completion_rates()
            .filter(tasks_total__gt=0)
            .order_by("-tasks_total", "pk")[:DASHBOARD_USERS],
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
