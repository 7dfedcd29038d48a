"""Run a job now, besides its schedule: through a worker, or here with --inline."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from jobs.models import JobRun
from jobs.runner import run_execute
from jobs.services import job_run_now
from taskplatform.exceptions import ApplicationError

from ._jobs import job_by_id


class Command(BaseCommand):
    help = "Run a job now (a manual run). Exit 1 if it ran inline and failed."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int, help="The job's id (see list_jobs).")
        parser.add_argument(
            "--inline",
            action="store_true",
            help="Run it in this process (no worker needed) and print the result.",
        )

    def handle(self, *args, job_id, inline=False, **options):
        job = job_by_id(job_id)
        try:
            with transaction.atomic():
                run = job_run_now(job=job, actor=None)
                if inline:  # claim it before the commit hands it to a worker
                    JobRun.objects.filter(pk=run.pk).update(enqueued_at=run.created_at)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if not inline:
            self.stdout.write(self.style.SUCCESS(f"Run {run.pk} of job {job.pk} queued."))
            return
        status = run_execute(run_id=run.pk)
        run.refresh_from_db()
        self.stdout.write(f"Run {run.pk}: {status}")
        if run.result:
            self.stdout.write(f"result: {run.result}")
        if status != JobRun.Status.SUCCEEDED:
            raise CommandError(f"Run {run.pk} {status}: {run.error}")
