from rest_framework.routers import SimpleRouter

from .views import FileViewSet

router = SimpleRouter(use_regex_path=False)
router.register("", FileViewSet, basename="file")

urlpatterns = router.urls
