"""How the platform is doing, in numbers (the same as /api/v1/admin/stats/)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.template.defaultfilters import filesizeformat

from operations.selectors import platform_stats


class Command(BaseCommand):
    help = "Print platform stats: users, tasks, jobs, runs (24 h), notifications, storage."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Machine-readable output.")

    def handle(self, *args, json_output=False, **options):
        stats = platform_stats()
        if options.get("json"):
            self.stdout.write(json.dumps(stats, default=str, indent=2))
            return
        users = stats["users"]
        self.stdout.write(
            f"users          {users['total']} ({users['active']} active, "
            f"{users['recently_active']} logged in within 30 days, {users['staff']} staff, "
            f"{users['unverified']} not verified)"
        )
        for label, key in [
            ("tasks", "tasks_by_status"),
            ("jobs", "jobs_by_status"),
            ("runs (24 h)", "runs_24h_by_status"),
        ]:
            parts = ", ".join(f"{status} {n}" for status, n in stats[key].items())
            self.stdout.write(f"{label:<14} {parts}")
        notes = stats["notifications"]
        self.stdout.write(
            f"notifications  sent {notes['sent']} ({notes['sent_24h']} in 24 h), failed "
            f"{notes['failed']} ({notes['failed_24h']} in 24 h), queued {notes['queued']}, "
            f"held {notes['held']}, not sent {notes['not_sent']}"
        )
        storage = stats["storage"]
        self.stdout.write(
            f"storage        {filesizeformat(storage['bytes'])} in {storage['files']} file(s)"
        )
