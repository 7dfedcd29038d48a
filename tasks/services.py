"""Task use cases. Only the owner writes; the assignee may change the status."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from audit.services import audit_record
from files.models import StoredFile
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.services import notification_create
from taskplatform.exceptions import ApplicationError

from .models import Priority, Tag, Task
from .selectors import user_display_name

if TYPE_CHECKING:
    from accounts.models import User


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, code="permission_denied")


def _tags_for(owner: User, names: list[str]) -> list[Tag]:
    """The owner's tags by name, case-insensitively, creating the missing ones."""
    wanted = {name.strip().lower(): name.strip() for name in names if name.strip()}
    existing = {
        tag.lower_name: tag
        for tag in Tag.objects.filter(owner=owner)
        .annotate(lower_name=Lower("name"))
        .filter(lower_name__in=wanted)
    }
    missing = [Tag(owner=owner, name=wanted[key]) for key in wanted if key not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        return list(
            Tag.objects.filter(owner=owner)
            .annotate(lower_name=Lower("name"))
            .filter(lower_name__in=wanted)
        )
    return list(existing.values())


def _set_completed_at(task: Task, previous_status: str | None) -> None:
    if task.status == Task.Status.DONE and previous_status != Task.Status.DONE:
        task.completed_at = timezone.now()
    elif task.status != Task.Status.DONE:
        task.completed_at = None


def _announce_assignment(task: Task, actor: User, previous: User | None) -> None:
    if task.assignee_id == getattr(previous, "pk", None):
        return
    # user ids, not addresses: the actor reads their audit events, the assignee's email is
    # not theirs to see
    details = {"from": getattr(previous, "pk", None), "to": task.assignee_id}
    action = "task.unassigned" if task.assignee is None else "task.assigned"
    audit_record(actor=actor, action=action, target=task, details=details)
    if task.assignee is not None and task.assignee_id != task.owner_id:
        _assignment_mail_queue(task, task.assignee, actor)


def _assignment_mail_queue(task: Task, assignee: User, actor: User) -> None:
    """Tell `assignee` about `task` unless `actor` already mailed them in the last window.

    Toggling an assignee, or assigning fifty tasks, would otherwise mail once per change.
    The check sees mails already committed; the key (one per window bucket) makes two
    concurrent assignments write one row: at most two mails in any window, one in practice.
    """
    window = max(1, settings.TASKS_ASSIGNMENT_MAIL_WINDOW_SECONDS)  # 0 would divide by zero
    now = timezone.now()
    pair = f"task_assigned:{actor.pk}->{assignee.pk}:"  # unlike the old per-task keys
    recent = Notification.objects.filter(
        user=assignee,
        kind=Kind.TASK_ASSIGNED,
        created_at__gt=now - timedelta(seconds=window),
        idempotency_key__startswith=pair,
    )
    if recent.exists():
        return
    notification_create(
        user=assignee,
        kind=Kind.TASK_ASSIGNED,
        context={"task": task, "assigned_by_name": user_display_name(user=actor)},
        idempotency_key=f"{pair}{int(now.timestamp()) // window}",
    )


@transaction.atomic
def task_create(
    *,
    owner: User,
    title: str,
    description: str = "",
    status: str = Task.Status.TODO,
    priority: int = Priority.MEDIUM,
    due_at: datetime | None = None,
    visibility: str = Task.Visibility.PRIVATE,
    assignee: User | None = None,
    tags: list[str] | None = None,
) -> Task:
    task = Task(
        owner=owner,
        title=title,
        description=description,
        status=status,
        priority=priority,
        due_at=due_at,
        visibility=visibility,
        assignee=assignee,
    )
    _set_completed_at(task, None)
    task.save()
    if tags:
        task.tags.set(_tags_for(owner, tags))
    audit_record(actor=owner, action="task.created", target=task, details={"title": task.title})
    _announce_assignment(task, owner, None)
    return task


class Unset(enum.Enum):
    """The type of UNSET: "this argument was not given" (None may be a value: no assignee)."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


@transaction.atomic
def task_update(
    *,
    task: Task,
    actor: User,
    title: str | Unset = UNSET,
    description: str | Unset = UNSET,
    status: str | Unset = UNSET,
    priority: int | Unset = UNSET,
    due_at: datetime | Unset | None = UNSET,
    visibility: str | Unset = UNSET,
    assignee: User | Unset | None = UNSET,
    tags: list[str] | Unset = UNSET,
) -> Task:
    """Apply the arguments given. The owner may change anything; the assignee only the status."""
    given = {
        "title": title,
        "description": description,
        "status": status,
        "priority": priority,
        "due_at": due_at,
        "visibility": visibility,
        "assignee": assignee,
    }
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not UNSET}
    task = Task.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=task.pk)
    changing = {k for k, v in changes.items() if getattr(task, k) != v}
    if not isinstance(tags, Unset) and sorted(t.lower() for t in tags) != sorted(
        t.name.lower() for t in task.tags.all()
    ):
        changing.add("tags")
    assignee_may = actor.pk == task.assignee_id and changing <= {"status"}
    if actor.pk != task.owner_id and not assignee_may:
        raise _forbidden("Only the owner can change this task (the assignee: its status).")
    previous_status, previous_assignee = task.status, task.assignee
    changed = {}
    for field in changing - {"tags"}:
        before, after = getattr(task, field), changes[field]
        if field == "priority":
            before, after = Priority.label_of(before), Priority.label_of(after)
        changed[field] = {"from": _plain(before), "to": _plain(after)}
        setattr(task, field, changes[field])
    if "tags" in changing and not isinstance(tags, Unset):
        changed["tags"] = {"from": sorted(t.name for t in task.tags.all()), "to": sorted(tags)}
        task.tags.set(_tags_for(task.owner, tags))
    if changed:
        _set_completed_at(task, previous_status)
        task.save()
        audit_record(actor=actor, action="task.updated", target=task, details={"changed": changed})
        _announce_assignment(task, actor, previous_assignee)
    return task


def _plain(value: Any) -> Any:
    """A value as the audit log's JSON keeps it: times in ISO 8601, users by id (the actor
    reads the event; another user's address is not theirs to see)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, get_user_model()):
        return value.pk
    return value


@transaction.atomic
def task_delete(*, task: Task, actor: User) -> None:
    if actor.pk != task.owner_id:
        raise _forbidden("Only the owner can delete this task.")
    audit_record(actor=actor, action="task.deleted", target=task, details={"title": task.title})
    task.delete()


@transaction.atomic
def task_attachment_add(*, task: Task, actor: User, file_id: int) -> StoredFile:
    if actor.pk != task.owner_id:
        raise _forbidden("Only the owner can attach files to this task.")
    stored = StoredFile.objects.filter(pk=file_id, owner_id=task.owner_id).first()
    if stored is None:
        raise ApplicationError(
            "No such file among yours.",
            code="validation_error",
            details={"file_id": ["No file with this id belongs to you."]},
        )
    task.attachments.add(stored)
    audit_record(
        actor=actor,
        action="task.attachment_added",
        target=task,
        details={"file_id": stored.pk, "name": stored.name},
    )
    return stored


@transaction.atomic
def task_attachment_remove(*, task: Task, actor: User, file_id: int) -> None:
    if actor.pk != task.owner_id:
        raise _forbidden("Only the owner can detach files from this task.")
    if not task.attachments.filter(pk=file_id).exists():
        raise ApplicationError("This file is not attached to the task.", code="not_found")
    task.attachments.remove(file_id)
    audit_record(
        actor=actor, action="task.attachment_removed", target=task, details={"file_id": file_id}
    )
