"""The project's URLs plus bare baseline views."""

import hashlib

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


@csrf_exempt
def drain_sha256(request):
    """Baseline for uploads that check a digest: read the body and SHA-256 it, nothing else
    (the least work any endpoint that verifies an upload's SHA-256 can do)."""
    digest = hashlib.sha256()
    received = 0
    while chunk := request.read(CHUNK):
        received += len(chunk)
        digest.update(chunk)
    return JsonResponse({"received": received, "sha256": digest.hexdigest()})


def me(request):
    """Baseline for /auth/me/: a JsonResponse of the same fields, no auth, no database."""
    return JsonResponse(
        {
            "id": 1,
            "email": "list-bench@example.com",
            "email_verified": True,
            "full_name": "",
            "timezone": "UTC",
            "is_staff": False,
            "date_joined": "2026-01-01T00:00:00Z",
        }
    )


def tasks_values(request):
    """Baseline for the task list: the same 50 rows from .values(), no auth, no serializer."""
    from tasks.models import Task

    rows = list(
        Task.objects.filter(status__in=["todo", "in_progress"])
        .order_by("due_at", "id")
        .values(
            "id",
            "title",
            "description",
            "status",
            "priority",
            "due_at",
            "visibility",
            "owner_id",
            "assignee_id",
            "completed_at",
            "created_at",
            "updated_at",
        )[:50]
    )
    return JsonResponse({"results": rows})


urlpatterns = [
    path("bench/drain/", drain),
    path("bench/drain-sha256/", drain_sha256),
    path("bench/me/", me),
    path("bench/tasks/", tasks_values),
    path("", include("taskplatform.urls")),
]
