"""Cancel a job for good (its queued runs too)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jobs.services import job_cancel
from taskplatform.exceptions import ApplicationError

from ._jobs import job_by_id


class Command(BaseCommand):
    help = "Cancel a job: no more runs; runs not yet started are cancelled."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int, help="The job's id (see list_jobs).")

    def handle(self, *args, job_id, **options):
        try:
            job = job_cancel(job=job_by_id(job_id), actor=None)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Job {job.pk} ({job.name}) cancelled."))
