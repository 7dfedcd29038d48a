"""Create a job for a user from the command line, with the API's checks."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from rest_framework import serializers

from accounts.cli import user_by_email
from jobs import kinds
from jobs.api.serializers import JobWriteSerializer
from jobs.forms import flatten_errors
from jobs.schedules import PERIODS
from jobs.services import job_create
from taskplatform.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create a job for a user: a kind, params (JSON) and one schedule (--at/--every/--cron)."

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, metavar="EMAIL", help="Whose job it is.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=kinds.names())
        parser.add_argument("--params", default="{}", help='JSON, e.g. \'{"message": "Hi"}\'')
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument("--at", metavar="ISO", help="Once, at this time (with its offset).")
        when.add_argument("--every", type=int, metavar="N", help="Every N --period.")
        when.add_argument("--cron", metavar="EXPR", help='5 fields, e.g. "0 9 * * 1-5".')
        parser.add_argument("--period", choices=list(PERIODS), default="minutes")
        parser.add_argument("--timezone", help="IANA name (default: the owner's).")
        parser.add_argument(
            "--notify-on", default="failed", help="Comma list of created,succeeded,failed."
        )
        parser.add_argument("--max-retries", type=int, default=3)

    def handle(self, *args, **o):
        owner = user_by_email(o["owner"], active_only=True)
        try:
            params = json.loads(o["params"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--params is not JSON: {exc}") from None
        if o["at"]:
            schedule = {"type": "once", "run_at": o["at"]}
        elif o["every"] is not None:
            schedule = {"type": "interval", "every": o["every"], "period": o["period"]}
        else:
            schedule = {"type": "cron", "expression": o["cron"]}
        form = JobWriteSerializer(
            data={
                "name": o["name"],
                "kind": o["kind"],
                "params": params,
                "schedule": schedule,
                "timezone": o["timezone"] or owner.timezone or "UTC",
                "notify_on": [e.strip() for e in o["notify_on"].split(",") if e.strip()],
                "max_retries": o["max_retries"],
            }
        )
        try:
            form.is_valid(raise_exception=True)
            job = job_create(owner=owner, **form.validated_data)
        except serializers.ValidationError as exc:
            raise CommandError("; ".join(flatten_errors(exc.detail))) from None
        except ApplicationError as exc:
            raise CommandError("; ".join(flatten_errors(exc.details)) or exc.message) from None
        next_run = job.next_run_at.isoformat(timespec="seconds")
        self.stdout.write(self.style.SUCCESS(f"Job {job.pk} created; first run {next_run}."))
