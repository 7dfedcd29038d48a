"""Cancel a meeting as an operator."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from meetings.models import Meeting
from meetings.services import meeting_cancel
from taskplatform.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Cancel a meeting (audited as done by an operator)."

    def add_arguments(self, parser):
        parser.add_argument("meeting_id", type=int, help="The meeting's id (see list_meetings).")

    def handle(self, *args, meeting_id, **options):
        meeting = Meeting.objects.filter(pk=meeting_id).first()
        if meeting is None:
            raise CommandError(f"No meeting with id {meeting_id}.")
        try:
            meeting = meeting_cancel(meeting=meeting, actor=None)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Meeting {meeting.pk} ({meeting.title}) cancelled."))
