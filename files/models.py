from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from taskplatform.models import TimestampedModel

MAX_NAME_LENGTH = 255


def new_storage_key(owner_id: int) -> str:
    """Where the blob lives: never derived from the client's file name."""
    return f"{owner_id}/{uuid.uuid4().hex}"


class StoredFile(TimestampedModel):
    """One uploaded file. The blob is in storage under `storage_key`; `sha256` is its digest."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files"
    )
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=127)
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=255, unique=True, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="file_owner_created_idx"),
            models.Index(fields=["owner", "sha256"], name="file_owner_sha256_idx"),
            models.Index(fields=["owner", "name"], name="file_owner_name_idx"),
            models.Index(fields=["owner", "size"], name="file_owner_size_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="file_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.name
