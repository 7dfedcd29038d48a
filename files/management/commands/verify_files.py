"""Re-hash every stored file (or one owner's) and exit non-zero if any is corrupted."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.cli import user_by_email
from files.models import StoredFile
from files.services import file_verify


class Command(BaseCommand):
    help = "Re-hash stored files against their recorded SHA-256; exit 1 if any is corrupted."

    def add_arguments(self, parser):
        parser.add_argument("--owner", metavar="EMAIL", help="Only this user's files.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, owner=None, no_progress=False, **options):
        files = StoredFile.objects.select_related("owner").order_by("id")
        if owner:
            files = files.filter(owner=user_by_email(owner))
        total = files.count()
        corrupted = []
        bar = tqdm(total=total, unit="file", disable=no_progress or total == 0, file=self.stderr)
        for stored in files.iterator(chunk_size=500):
            if not file_verify(file=stored, actor=None).ok:
                corrupted.append(stored)
                bar.write(
                    f"CORRUPTED id={stored.pk} {stored.owner.email} {stored.name}", file=self.stdout
                )
            bar.update(1)
        bar.close()
        if corrupted:
            raise CommandError(f"{len(corrupted)} of {total} file(s) are corrupted.")
        self.stdout.write(self.style.SUCCESS(f"{total} file(s) verified: all intact."))
