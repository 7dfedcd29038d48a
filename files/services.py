"""File use cases: store an upload, verify, delete. Blobs live in Django's default storage."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from taskplatform.exceptions import ApplicationError

from .models import StoredFile, new_storage_key
from .names import sanitize_name
from .selectors import file_bytes_used
from .sniff import sniff_content_type

if TYPE_CHECKING:
    from django.core.files import File
    from django.core.files.uploadedfile import UploadedFile

    from accounts.models import User

log = logging.getLogger(__name__)

HASH_CHUNK = 1024 * 1024


def _check_allowed_type(content_type: str) -> None:
    allowed = settings.FILES_ALLOWED_CONTENT_TYPES
    if allowed and content_type not in allowed:
        raise ApplicationError(
            f"Files of type {content_type} are not accepted.",
            code="unsupported_file_type",
            details={"file": [f"Accepted types: {', '.join(allowed)}."]},
        )


def blob_discard(*, key: str) -> None:
    """Remove the blob of a row that was never committed; a failure is logged, not raised
    (the caller is already handling the error that undid the row)."""
    try:
        default_storage.delete(key)
    except Exception:
        log.exception("could not remove blob %s; it is orphaned", key)


def file_store(
    *,
    owner: User,
    upload: UploadedFile,
    sha256: str,
    head: bytes,
    expected_sha256: str | None = None,
) -> StoredFile:
    """Keep an upload already hashed while streaming in (see files.uploads).

    Nothing is kept (no row, no blob) when the digest differs from `expected_sha256`,
    the type isn't allowed or the owner's quota would be exceeded.
    """
    if expected_sha256 and expected_sha256.lower() != sha256:
        raise ApplicationError(
            "The uploaded bytes do not match the sha256 you sent; nothing was stored.",
            code="checksum_mismatch",
            details={"sha256": [f"Expected {expected_sha256.lower()}, received {sha256}."]},
        )
    content_type = sniff_content_type(head)
    _check_allowed_type(content_type)
    size = upload.size
    if size is None:  # files.uploads always counts it; this is only for a misuse
        raise ValueError("file_store needs an upload whose size is known")

    key = default_storage.save(new_storage_key(owner.pk), upload)
    try:
        with transaction.atomic():
            # lock the owner so two concurrent uploads can't both squeeze under the quota
            get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
            quota = settings.FILES_USER_QUOTA_BYTES
            used = file_bytes_used(owner=owner)
            if quota and used + size > quota:
                raise ApplicationError(
                    "This upload would exceed your storage quota.",
                    code="quota_exceeded",
                    details={"quota_bytes": quota, "used_bytes": used, "size": size},
                )
            stored = StoredFile.objects.create(
                owner=owner,
                name=sanitize_name(upload.name),
                size=size,
                content_type=content_type,
                sha256=sha256,
                storage_key=key,
            )
            audit_record(
                actor=owner,
                action="file.uploaded",
                target=stored,
                details={"name": stored.name, "size": stored.size, "sha256": sha256},
            )
    except BaseException:
        blob_discard(key=key)
        raise
    return stored


def file_open(*, file: StoredFile) -> File:
    """The stored bytes, for streaming out; a vanished blob is a clear 404."""
    try:
        return default_storage.open(file.storage_key, "rb")
    except FileNotFoundError:
        raise ApplicationError(
            "The stored content of this file is missing.", code="content_missing"
        ) from None


@dataclass(frozen=True)
class Verification:
    file: StoredFile
    ok: bool
    actual_sha256: str | None
    checked_at: datetime


def _hash_blob(key: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with default_storage.open(key, "rb") as blob:
            while chunk := blob.read(HASH_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def file_verify(*, file: StoredFile, actor: User | None) -> Verification:
    """Re-hash the stored bytes; a mismatch (or a missing blob) is logged and audited."""
    actual = _hash_blob(file.storage_key)
    checked_at = timezone.now()
    ok = actual == file.sha256
    with transaction.atomic():
        if ok:
            StoredFile.objects.filter(pk=file.pk).update(verified_at=checked_at)
            file.verified_at = checked_at
            audit_record(actor=actor, action="file.verified", target=file)
        else:
            log.error(
                "file %s is corrupted: expected sha256 %s, found %s",
                file.pk,
                file.sha256,
                actual or "no blob",
            )
            audit_record(
                actor=actor,
                action="file.corrupted",
                target=file,
                details={"expected_sha256": file.sha256, "actual_sha256": actual},
            )
    return Verification(file=file, ok=ok, actual_sha256=actual, checked_at=checked_at)


def _storage_unavailable() -> ApplicationError:
    return ApplicationError(
        "Storage is unavailable; the file was not deleted. Try again later.",
        code="storage_unavailable",
    )


def blobs_delete(*, keys: list[str]) -> None:
    """Delete blobs; call inside the transaction that deletes their rows, after it.

    If storage refuses one, the error rolls the rows back: the caller retries, and blobs
    already gone are simply gone again (deleting a missing blob is not an error).
    """
    for key in keys:
        try:
            default_storage.delete(key)
        except Exception as exc:
            log.exception("could not delete blob %s", key)
            raise _storage_unavailable() from exc


@transaction.atomic
def file_delete(*, file: StoredFile, actor: User) -> None:
    """Remove the row and the blob together.

    The blob goes last, inside the transaction: if storage refuses, the row delete is
    rolled back and the file is still whole (the caller gets a 503 and can retry).
    """
    audit_record(
        actor=actor,
        action="file.deleted",
        target=file,
        details={"name": file.name, "size": file.size, "sha256": file.sha256},
    )
    file.delete()
    blobs_delete(keys=[file.storage_key])
