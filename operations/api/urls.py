from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    AdminAnalyticsSummaryView,
    AdminJobViewSet,
    AdminStatsView,
    AdminUserCompletionView,
    AdminUserViewSet,
)

router = SimpleRouter(use_regex_path=False)
router.register("users", AdminUserViewSet, basename="admin-user")
router.register("jobs", AdminJobViewSet, basename="admin-job")

urlpatterns = [
    path("stats/", AdminStatsView.as_view(), name="admin-stats"),
    path("analytics/summary/", AdminAnalyticsSummaryView.as_view(), name="admin-analytics-summary"),
    path("analytics/users/", AdminUserCompletionView.as_view(), name="admin-analytics-users"),
    *router.urls,
]
