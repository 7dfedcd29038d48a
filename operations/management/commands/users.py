"""Operators' user management: list, deactivate, activate, delete."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from accounts import services
from accounts.models import User, normalize_email
from operations.selectors import users_with_counts
from taskplatform.exceptions import ApplicationError


def _user(identifier: str) -> User:
    user = (
        User.objects.filter(pk=int(identifier)).first()
        if identifier.isdigit()
        else User.objects.filter(email=normalize_email(identifier)).first()
    )
    if user is None:
        raise CommandError(f"No user {identifier!r} (give an id or an email).")
    return user


class Command(BaseCommand):
    help = "Manage users: list, deactivate, activate, delete (by id or email)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = sub.add_parser("list", help="List users with their job and task counts.")
        listing.add_argument("--search", help="In email and name.")
        listing.add_argument("--inactive", action="store_true", help="Only deactivated users.")
        listing.add_argument("--staff", action="store_true", help="Only staff.")
        for name, text in [
            ("deactivate", "Block login, revoke refresh tokens, pause the user's jobs."),
            ("activate", "Allow login again (jobs stay paused)."),
            ("delete", "Delete the user with their tasks, jobs, runs, files and blobs."),
        ]:
            command = sub.add_parser(name, help=text)
            command.add_argument("user", help="The user's id or email.")
            if name == "delete":
                command.add_argument(
                    "--yes", action="store_true", help="Really delete (no question asked)."
                )

    def handle(self, *args, action, **options):
        if action == "list":
            return self._list(**options)
        user = _user(options["user"])
        if action == "delete" and not options["yes"]:
            raise CommandError(f"This deletes {user.email} and all their data: add --yes.")
        service = {
            "deactivate": services.user_deactivate,
            "activate": services.user_activate,
            "delete": services.user_delete,
        }[action]
        try:
            result = service(user=user, actor=None)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        done = {"deactivate": "deactivated", "activate": "activated", "delete": "deleted"}[action]
        extra = f" ({result})" if action == "delete" else ""
        self.stdout.write(self.style.SUCCESS(f"{user.email} {done}{extra}."))
        return None

    def _list(self, *, search=None, inactive=False, staff=False, **options):
        users = users_with_counts().order_by("email")
        if search:
            users = users.filter(Q(email__icontains=search) | Q(full_name__icontains=search))
        if inactive:
            users = users.filter(is_active=False)
        if staff:
            users = users.filter(is_staff=True)
        row = "{:>8}  {:<40} {:<8} {:<6} {:>6} {:>6}  {}"
        self.stdout.write(row.format("ID", "EMAIL", "ACTIVE", "STAFF", "JOBS", "TASKS", "JOINED"))
        count = 0
        for user in users.iterator():
            count += 1
            self.stdout.write(
                row.format(
                    user.pk,
                    user.email,
                    "yes" if user.is_active else "no",
                    "yes" if user.is_staff else "",
                    user.job_count,
                    user.task_count,
                    f"{user.date_joined:%Y-%m-%d}",
                )
            )
        self.stdout.write(f"{count} user(s)")
