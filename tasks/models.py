from __future__ import annotations

import functools
from datetime import datetime

from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from taskplatform.models import TimestampedModel
from taskplatform.validators import validate_one_line


class Priority(models.IntegerChoices):
    """Stored as a number so ordering by priority is ordering by severity (and indexed)."""

    LOW = 1, "low"
    MEDIUM = 2, "medium"
    HIGH = 3, "high"
    CRITICAL = 4, "critical"

    @classmethod
    @functools.cache  # four values; a list renders one per task
    def label_of(cls, value: int) -> str:
        """The name clients see ("high") for a stored severity (3)."""
        return cls(value).label

    @classmethod
    def from_label(cls, label: str) -> Priority:
        """The stored severity for a name clients send; ValueError for an unknown one."""
        for priority in cls:
            if priority.label == label:
                return priority
        raise ValueError(f"unknown priority {label!r}")


class Tag(TimestampedModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=50, validators=[validate_one_line])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("owner", Lower("name"), name="tag_owner_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class TaskQuerySet(models.QuerySet["Task"]):
    """The words the product uses about tasks, defined once."""

    def open(self) -> TaskQuerySet:
        """Not done yet (to do, in progress or blocked)."""
        return self.exclude(status=Task.Status.DONE)

    def overdue(self, *, now: datetime | None = None) -> TaskQuerySet:
        """Open and past their due time."""
        return self.filter(overdue_condition(now=now))


def overdue_condition(*, now: datetime | None = None) -> models.Q:
    """`overdue` as a Q, for conditional aggregates (Count(filter=…)) and excludes."""
    return models.Q(due_at__lt=now or timezone.now()) & ~models.Q(status=Task.Status.DONE)


class Task(TimestampedModel):
    """A work item a person tracks."""

    class Status(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        BLOCKED = "blocked", "Blocked"

    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        PUBLIC = "public", "Public"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(max_length=200, validators=[MinLengthValidator(1), validate_one_line])
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TODO)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    due_at = models.DateTimeField(null=True, blank=True)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tasks",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tasks")
    attachments = models.ManyToManyField("files.StoredFile", blank=True, related_name="tasks")

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="task_owner_status_due_idx"),
            models.Index(fields=["owner", "-created_at"], name="task_owner_created_idx"),
            models.Index(fields=["owner", "priority"], name="task_owner_priority_idx"),
            models.Index(fields=["assignee", "status"], name="task_assignee_status_idx"),
            models.Index(fields=["visibility", "status", "due_at"], name="task_visibility_idx"),
            models.Index(fields=["status", "due_at"], name="task_status_due_idx"),
            # ordering=due_at with a multi-status filter: walk due_at in order, stop at 50
            models.Index(fields=["due_at", "id"], name="task_due_id_idx"),
            # counting a status filter within what the caller may see: index-only on PostgreSQL
            models.Index(
                fields=["status"],
                include=["owner", "assignee", "visibility"],
                name="task_status_cover_idx",
            ),
            models.Index(fields=["title"], name="task_title_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(priority__gte=1, priority__lte=4), name="task_priority_range"
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="task_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title
