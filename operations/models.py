from __future__ import annotations

from django.db import models


class WatchState(models.Model):
    """What the health watch last reported, so it emails on changes, not every run."""

    name = models.CharField(max_length=64, unique=True)
    healthy = models.BooleanField(default=True)
    problems = models.JSONField(default=list, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}: {'ok' if self.healthy else 'failing'}"
