"""List jobs with their schedule state, for operators."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.cli import user_by_email
from jobs import kinds
from jobs.models import Job


class Command(BaseCommand):
    help = "List jobs (all users'), newest first, with status, next and last run."

    def add_arguments(self, parser):
        parser.add_argument("--owner", metavar="EMAIL", help="Only this user's jobs.")
        parser.add_argument("--status", choices=Job.Status.values, help="Only jobs in this status.")
        parser.add_argument("--kind", choices=kinds.names(), help="Only jobs of this kind.")
        parser.add_argument("--limit", type=int, default=100, help="At most this many (100).")

    def handle(self, *args, owner=None, status=None, kind=None, limit=100, **options):
        jobs = Job.objects.select_related("owner", "last_run").order_by("-created_at", "-id")
        if owner:
            jobs = jobs.filter(owner=user_by_email(owner))
        if status:
            jobs = jobs.filter(status=status)
        if kind:
            jobs = jobs.filter(kind=kind)
        total = jobs.count()
        row = "{:>8}  {:<10} {:<13} {:<25} {:<26} {:<10} {}"
        self.stdout.write(
            row.format("ID", "STATUS", "KIND", "NEXT RUN", "OWNER", "LAST RUN", "NAME")
        )
        for job in jobs[: max(limit, 0)]:
            next_run = job.next_run_at.isoformat(timespec="seconds") if job.next_run_at else "-"
            last = job.last_run.status if job.last_run else "-"
            self.stdout.write(
                row.format(job.pk, job.status, job.kind, next_run, job.owner.email, last, job.name)
            )
        self.stdout.write(f"{min(total, max(limit, 0))} of {total} job(s)")
