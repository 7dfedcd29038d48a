from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import NotificationViewSet, PreferencesView

router = SimpleRouter(use_regex_path=False)
router.register("", NotificationViewSet, basename="notification")

urlpatterns = [
    path("preferences/", PreferencesView.as_view(), name="notification-preferences"),
    *router.urls,
]
