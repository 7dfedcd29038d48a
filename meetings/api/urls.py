from rest_framework.routers import SimpleRouter

from .views import MeetingViewSet

router = SimpleRouter(use_regex_path=False)
router.register("", MeetingViewSet, basename="meeting")

urlpatterns = router.urls
