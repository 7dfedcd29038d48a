"""Operator use cases that are not another app's: cancel any user's job as staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from audit.services import audit_record
from jobs.models import Job
from jobs.services import job_cancel

if TYPE_CHECKING:
    from accounts.models import User


@transaction.atomic
def admin_job_cancel(*, job: Job, actor: User) -> Job:
    job = job_cancel(job=job, actor=actor)
    audit_record(
        actor=actor, action="admin.job_cancelled", target=job, details={"owner": job.owner.email}
    )
    return job
