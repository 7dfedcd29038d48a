"""The embedded default's mailbox on the command line: the emails written to var/mail/."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from notifications.mailbox import mailbox_list


class Command(BaseCommand):
    help = (
        "List the emails written to var/mail/ (newest first: time, recipient, subject, first "
        "link); with --link, print only the first link of the newest one (for scripts)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", help="only emails to this address")
        parser.add_argument("--last", type=int, default=20, help="how many (20)")
        parser.add_argument("--link", action="store_true", help="the newest email's first link")

    def handle(self, *args, to: str | None, last: int, link: bool, **options):
        if not settings.EMBEDDED_MAIL:
            raise CommandError(f"Email goes through {settings.EMAIL_BACKEND}, not to var/mail/.")
        mails = [m for m in mailbox_list() if not to or to.lower() in m.to.lower()][:last]
        if link:
            if not mails or not mails[0].links:
                raise CommandError("No email with a link" + (f" to {to}." if to else "."))
            self.stdout.write(mails[0].links[0])
            return
        for mail in mails:
            first = mail.links[0] if mail.links else ""
            self.stdout.write(
                f"{mail.sent_at:%Y-%m-%d %H:%M:%S}  {mail.to}  {mail.subject}  {first}"
            )
