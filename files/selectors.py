"""Reads of stored files: what a caller may list, what an owner uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet, Sum

from .models import StoredFile

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class FileUsage:
    """An owner's files: their blobs' storage keys and their bytes in all."""

    keys: list[str]
    bytes: int


def file_list(*, user: User) -> QuerySet[StoredFile]:
    """The caller's files; staff see every user's."""
    files = StoredFile.objects.select_related("owner")
    if not user.is_staff:
        files = files.filter(owner=user)
    return files


def file_bytes_used(*, owner: User) -> int:
    """The bytes `owner`'s files take (what the quota counts)."""
    return StoredFile.objects.filter(owner=owner).aggregate(total=Sum("size"))["total"] or 0


def file_usage(*, owner: User) -> FileUsage:
    """Every storage key of `owner`'s files and their total size, in one query."""
    rows = list(StoredFile.objects.filter(owner=owner).values_list("storage_key", "size"))
    return FileUsage(keys=[key for key, _ in rows], bytes=sum(size for _, size in rows))
