"""URLs used only by tests: views that fail in the ways real code might."""

from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from taskplatform.exceptions import ApplicationError
from taskplatform.urls import handler400, handler403, handler404, handler500  # noqa: F401


@api_view(["GET"])
@permission_classes([AllowAny])
def boom(request):
    raise RuntimeError("kaboom")


@api_view(["GET"])
@permission_classes([AllowAny])
def conflict(request):
    raise ApplicationError("Only an active job can be paused.", code="conflict")


def plain_boom(request):
    raise RuntimeError("plain kaboom")


urlpatterns = [
    path("test/boom/", boom),
    path("test/conflict/", conflict),
    path("test/plain-boom/", plain_boom),
    path("", include("taskplatform.urls")),
]
