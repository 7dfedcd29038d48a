"""Task use cases. Only the owner writes; the assignee may change the status."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from audit.services import record
from files.models import StoredFile
from notifications.kinds import Kind
from notifications.services import notify
from taskplatform.exceptions import ApplicationError

from .models import Priority, Tag, Task


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, code="permission_denied")


def _tags_for(owner, names: list[str]) -> list[Tag]:
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


def _announce_assignment(task: Task, actor, previous) -> None:
    if task.assignee_id == getattr(previous, "pk", None):
        return
    details = {
        "from": getattr(previous, "email", None),
        "to": getattr(task.assignee, "email", None),
    }
    action = "task.unassigned" if task.assignee is None else "task.assigned"
    record(actor=actor, action=action, target=task, details=details)
    if task.assignee is not None and task.assignee_id != task.owner_id:
        notify(
            user=task.assignee,
            kind=Kind.TASK_ASSIGNED,
            context={"task": task, "assigned_by": actor},
            idempotency_key=f"task_assigned:{task.pk}:{task.assignee_id}:{task.updated_at.isoformat()}",
        )


@transaction.atomic
def task_create(*, owner, tags: list[str] | None = None, **fields: Any) -> Task:
    task = Task(owner=owner, **fields)
    _set_completed_at(task, None)
    task.save()
    if tags:
        task.tags.set(_tags_for(owner, tags))
    record(actor=owner, action="task.created", target=task, details={"title": task.title})
    _announce_assignment(task, owner, None)
    return task


@transaction.atomic
def task_update(*, task: Task, actor, tags: list[str] | None = None, **changes: Any) -> Task:
    """Apply `changes`. The owner may change anything; the assignee only the status."""
    task = Task.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=task.pk)
    changing = {k for k, v in changes.items() if getattr(task, k) != v}
    if tags is not None and sorted(t.lower() for t in tags) != sorted(
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
            before, after = Priority(before).label, Priority(after).label
        changed[field] = {"from": _plain(before), "to": _plain(after)}
        setattr(task, field, changes[field])
    if "tags" in changing:
        changed["tags"] = {"from": sorted(t.name for t in task.tags.all()), "to": sorted(tags)}
        task.tags.set(_tags_for(task.owner, tags))
    if changed:
        _set_completed_at(task, previous_status)
        task.save()
        record(actor=actor, action="task.updated", target=task, details={"changed": changed})
        _announce_assignment(task, actor, previous_assignee)
    return task


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "email"):
        return value.email
    return value


@transaction.atomic
def task_delete(*, task: Task, actor) -> None:
    if actor.pk != task.owner_id:
        raise _forbidden("Only the owner can delete this task.")
    record(actor=actor, action="task.deleted", target=task, details={"title": task.title})
    task.delete()


@transaction.atomic
def task_attachment_add(*, task: Task, actor, file_id: int) -> StoredFile:
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
    record(
        actor=actor,
        action="task.attachment_added",
        target=task,
        details={"file_id": stored.pk, "name": stored.name},
    )
    return stored


@transaction.atomic
def task_attachment_remove(*, task: Task, actor, file_id: int) -> None:
    if actor.pk != task.owner_id:
        raise _forbidden("Only the owner can detach files from this task.")
    if not task.attachments.filter(pk=file_id).exists():
        raise ApplicationError("This file is not attached to the task.", code="not_found")
    task.attachments.remove(file_id)
    record(actor=actor, action="task.attachment_removed", target=task, details={"file_id": file_id})
