"""Retention: delete old job runs, notifications, expired tokens (and audit, if asked)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from operations.prune import Retention, prune


def _days(value: str) -> int:
    days = int(value)
    if days < 1:
        raise ValueError("at least 1 day")
    return days


class Command(BaseCommand):
    help = (
        "Delete finished job runs, sent/failed notifications and expired refresh tokens older "
        "than the given ages. Audit events are kept unless --audit-older-than is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--runs-older-than", type=_days, metavar="DAYS", default=settings.PRUNE_RUNS_DAYS
        )
        parser.add_argument(
            "--notifications-older-than",
            type=_days,
            metavar="DAYS",
            default=settings.PRUNE_NOTIFICATIONS_DAYS,
        )
        parser.add_argument(
            "--tokens-older-than",
            type=_days,
            metavar="DAYS",
            default=settings.PRUNE_TOKENS_DAYS,
            help="Days since the refresh token expired.",
        )
        parser.add_argument(
            "--audit-older-than",
            type=_days,
            metavar="DAYS",
            default=None,
            help="Also delete audit events older than this (kept otherwise).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        policy = Retention(
            runs_days=options["runs_older_than"],
            notifications_days=options["notifications_older_than"],
            tokens_days=options["tokens_older_than"],
            audit_days=options["audit_older_than"],
        )
        bar = tqdm(unit="row", disable=options["no_progress"], file=self.stderr)

        def progress(name: str, n: int) -> None:
            bar.set_description(name)
            bar.update(n)

        try:
            counts = prune(policy, dry_run=options["dry_run"], progress=progress)
        except Exception as exc:  # a database error: say so and exit non-zero
            raise CommandError(f"prune failed: {exc}") from exc
        finally:
            bar.close()
        verb = "would delete" if options["dry_run"] else "deleted"
        for name, n in counts.items():
            self.stdout.write(f"{verb} {n:>8} {name.replace('_', ' ')}")
        if policy.audit_days is None:
            self.stdout.write("audit events kept (use --audit-older-than DAYS to prune them)")
