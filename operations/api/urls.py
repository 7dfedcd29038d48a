from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AdminJobViewSet, AdminStatsView, AdminUserViewSet

router = SimpleRouter(use_regex_path=False)
router.register("users", AdminUserViewSet, basename="admin-user")
router.register("jobs", AdminJobViewSet, basename="admin-job")

urlpatterns = [path("stats/", AdminStatsView.as_view(), name="admin-stats"), *router.urls]
