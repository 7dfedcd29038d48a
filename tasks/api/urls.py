from rest_framework.routers import SimpleRouter

from .views import TaskViewSet

router = SimpleRouter(use_regex_path=False)
router.register("", TaskViewSet, basename="task")

urlpatterns = router.urls
