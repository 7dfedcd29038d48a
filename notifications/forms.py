"""The preferences page's form: the shape of what it posts (the service owns the rules)."""

from __future__ import annotations

from django import forms

from .models import NotificationPreference

CHOICES = ("job_created", "job_succeeded", "job_failed", "task_due_soon", "task_assigned")


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = [*CHOICES, "daily_digest", "digest_hour", "digest_when_empty"]
        labels = {
            "job_created": "A job of mine was created (the default for new jobs)",
            "job_succeeded": "A job's run succeeded (the default for new jobs)",
            "job_failed": "A job's run failed (the default for new jobs)",
            "task_due_soon": "A task of mine is due soon",
            "task_assigned": "Someone assigned me a task",
            "daily_digest": "The daily digest",
            "digest_hour": "Hour of the daily digest (0-23, my time zone)",
            "digest_when_empty": "Send the digest even on days with nothing to report",
        }
