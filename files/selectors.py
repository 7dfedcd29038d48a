from __future__ import annotations

from django.db.models import QuerySet

from .models import StoredFile


def file_list(*, user) -> QuerySet[StoredFile]:
    """The caller's files; staff see every user's."""
    files = StoredFile.objects.select_related("owner")
    if not user.is_staff:
        files = files.filter(owner=user)
    return files
