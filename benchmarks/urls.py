"""The project's URLs plus bare baseline views."""

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

CHUNK = 1024 * 1024


@csrf_exempt
def drain(request):
    """Baseline for uploads: read the request body and throw it away."""
    received = 0
    while chunk := request.read(CHUNK):
        received += len(chunk)
    return JsonResponse({"received": received})


urlpatterns = [
    path("bench/drain/", drain),
    path("", include("taskplatform.urls")),
]
