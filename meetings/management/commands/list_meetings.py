"""List meetings, for operators."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db.models import Count

from accounts.cli import user_by_email
from meetings.models import Meeting
from meetings.selectors import meeting_list


class Command(BaseCommand):
    help = "List meetings (all users'), soonest first, with status and participants."

    def add_arguments(self, parser):
        parser.add_argument("--user", metavar="EMAIL", help="Only meetings this user is in.")
        parser.add_argument("--status", choices=Meeting.Status.values, help="Only this status.")
        parser.add_argument("--limit", type=int, default=100, help="At most this many (100).")

    def handle(self, *args, user=None, status=None, limit=100, **options):
        meetings = meeting_list(user=user_by_email(user)) if user else Meeting.objects.all()
        if status:
            meetings = meetings.filter(status=status)
        meetings = (
            meetings.select_related("organizer")
            .annotate(people=Count("participants"))
            .order_by("starts_at", "id")
        )
        total = meetings.count()
        row = "{:>8}  {:<10} {:<25} {:>6}  {:<26} {}"
        self.stdout.write(row.format("ID", "STATUS", "STARTS", "PEOPLE", "ORGANIZER", "TITLE"))
        for meeting in meetings[: max(limit, 0)]:
            self.stdout.write(
                row.format(
                    meeting.pk,
                    meeting.status,
                    meeting.starts_at.isoformat(timespec="seconds"),
                    meeting.people,
                    meeting.organizer.email,
                    meeting.title,
                )
            )
        self.stdout.write(f"{min(total, max(limit, 0))} of {total} meeting(s)")
