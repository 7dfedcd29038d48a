from rest_framework.routers import SimpleRouter

from .views import AuditEventViewSet

router = SimpleRouter(use_regex_path=False)
router.register("", AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
