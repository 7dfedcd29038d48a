"""List tasks (every user's), for operators."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db.models import Q

from accounts.cli import user_by_email
from tasks.models import Priority, Task


class Command(BaseCommand):
    help = "List tasks (all users'), newest first: status, priority, due date, owner, title."

    def add_arguments(self, parser):
        parser.add_argument("--owner", metavar="EMAIL", help="Only this user's tasks.")
        parser.add_argument("--status", choices=Task.Status.values, help="Only this status.")
        parser.add_argument("--overdue", action="store_true", help="Only overdue tasks.")
        parser.add_argument("--search", help="In title and description.")
        parser.add_argument("--limit", type=int, default=100, help="At most this many (100).")

    def handle(
        self, *args, owner=None, status=None, overdue=False, search=None, limit=100, **options
    ):
        tasks = Task.objects.select_related("owner").order_by("-created_at", "-id")
        if owner:
            tasks = tasks.filter(owner=user_by_email(owner))
        if status:
            tasks = tasks.filter(status=status)
        if overdue:
            tasks = tasks.overdue()
        if search:
            tasks = tasks.filter(Q(title__icontains=search) | Q(description__icontains=search))
        total = tasks.count()
        row = "{:>8}  {:<12} {:<9} {:<20} {:<30} {}"
        self.stdout.write(row.format("ID", "STATUS", "PRIORITY", "DUE", "OWNER", "TITLE"))
        for task in tasks[: max(limit, 0)]:
            due = f"{task.due_at:%Y-%m-%d %H:%M}" if task.due_at else "-"
            self.stdout.write(
                row.format(
                    task.pk,
                    task.status,
                    Priority.label_of(task.priority),
                    due,
                    task.owner.email,
                    task.title,
                )
            )
        self.stdout.write(f"{min(total, max(limit, 0))} of {total} task(s)")
