"""Create a job for a user from the command line, through the same service as the API."""

from __future__ import annotations

import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from accounts.cli import user_by_email
from jobs import kinds
from jobs.schedules import CRON, INTERVAL, ONCE, PERIODS, Schedule
from jobs.services import job_create
from jobs.validation import DEFAULT_MAX_RETRIES, error_lines
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
            "--notify-on",
            help="Comma list of created,succeeded,failed; empty for none "
            "(default: the owner's preferences, as in the API).",
        )
        parser.add_argument("--max-retries", type=int, default=DEFAULT_MAX_RETRIES)

    def handle(self, *args, **o):
        owner = user_by_email(o["owner"], active_only=True)
        try:
            params = json.loads(o["params"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--params is not JSON: {exc}") from None
        try:
            job = job_create(
                owner=owner,
                name=o["name"],
                kind=o["kind"],
                params=params,
                schedule=self.schedule(o),
                timezone=o["timezone"] or None,  # "" too means the owner's
                notify_on=None
                if o["notify_on"] is None
                else [e.strip() for e in o["notify_on"].split(",") if e.strip()],
                max_retries=o["max_retries"],
            )
        except ApplicationError as exc:
            raise CommandError(self.said(exc)) from None
        next_run = job.next_run_at.isoformat(timespec="seconds") if job.next_run_at else "-"
        self.stdout.write(self.style.SUCCESS(f"Job {job.pk} created; first run {next_run}."))

    @staticmethod
    def said(exc: ApplicationError) -> str:
        """A quota's message; bad input's details, one "field: message" each."""
        if exc.code == "quota_exceeded":
            return exc.message
        return "; ".join(error_lines(exc.details)) or exc.message

    @staticmethod
    def schedule(o: dict) -> Schedule:
        if o["at"]:
            try:
                run_at = datetime.fromisoformat(o["at"])
            except ValueError:
                raise CommandError(f"--at is not an ISO 8601 time: {o['at']}") from None
            return Schedule(ONCE, run_at=run_at)
        if o["every"] is not None:
            return Schedule(INTERVAL, every=o["every"], period=o["period"])
        return Schedule(CRON, expression=o["cron"])
