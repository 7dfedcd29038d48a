"""`file_cleanup`: delete the owner's files older than N days (optionally matching a glob).

Only ever the job owner's files. With `dry_run` nothing is deleted and the result lists
what would be. Deleting is idempotent: a retried run finds what it already removed gone.
"""

from __future__ import annotations

from datetime import timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from rest_framework import serializers

from files.models import StoredFile
from files.services import file_delete

if TYPE_CHECKING:
    from jobs.models import Job, JobRun

NAME = "file_cleanup"
SENDS_EMAIL = False  # its only mails are the notify_on outcomes
TIME_LIMIT = 600
LISTED = 1000  # files named in the result; the totals are exact


class Params(serializers.Serializer):
    older_than_days = serializers.IntegerField(min_value=1, max_value=36500)
    name_pattern = serializers.CharField(
        required=False, max_length=255, help_text="glob on the file name, e.g. *.log"
    )
    dry_run = serializers.BooleanField(required=False, default=False)


def execute(job: Job, job_run: JobRun) -> dict:
    params = job.params
    cutoff = timezone.now() - timedelta(days=int(params["older_than_days"]))
    pattern = params.get("name_pattern")
    dry_run = bool(params.get("dry_run", False))
    candidates = (
        StoredFile.objects.filter(owner_id=job.owner_id, created_at__lt=cutoff)
        .select_related("owner")
        .order_by("created_at", "id")
    )
    listed: list[dict[str, Any]] = []
    count, freed = 0, 0
    for stored in candidates.iterator(chunk_size=500):
        if pattern and not fnmatchcase(stored.name, pattern):
            continue
        entry = {"id": stored.pk, "name": stored.name, "size": stored.size}
        if not dry_run:
            file_delete(file=stored, actor=job.owner)
        count += 1
        freed += stored.size
        if len(listed) < LISTED:
            listed.append(entry)
    return {
        "dry_run": dry_run,
        "count": count,
        "bytes_freed": 0 if dry_run else freed,
        "bytes_matched": freed,
        "files": listed,
        "truncated": count > len(listed),
    }
