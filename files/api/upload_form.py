"""A multipart upload read and checked for shape, for every URL that takes one (the files API
and a task's attachments): the same limits, fields and errors wherever a file comes in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from rest_framework.request import Request

from files.uploads import upload_receive

from .serializers import FileUploadSerializer


@dataclass(frozen=True)
class CheckedUpload:
    """What files.services.file_store takes: the file, its digest, its first bytes."""

    file: UploadedFile
    sha256: str
    head: bytes
    expected_sha256: str | None


@contextmanager
def upload_checked(request: Request) -> Iterator[CheckedUpload]:
    """The body's `file` part (400 without one) and optional `sha256` (400 unless hex);
    its temporary file is gone when the block ends, whatever happened."""
    # the body is read by files.uploads (streaming), never through request.data
    received = upload_receive(request._request, max_bytes=settings.FILES_MAX_UPLOAD_BYTES)
    try:
        fields: dict[str, Any] = {"file": received.file}
        if received.expected_sha256 is not None:
            fields["sha256"] = received.expected_sha256
        form = FileUploadSerializer(data=fields)
        form.is_valid(raise_exception=True)
        yield CheckedUpload(
            file=form.validated_data["file"],  # received.file, now known to be there
            sha256=received.sha256,
            head=received.head,
            expected_sha256=form.validated_data.get("sha256"),
        )
    finally:
        received.close()
