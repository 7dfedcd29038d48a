"""Task use cases. The owner writes; the assignee may change the status; staff granted the
model permissions (`tasks.change_task`, `tasks.delete_task`) edit and delete any task."""

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
from files.services import blob_discard, file_store
from notifications.kinds import Kind
from notifications.models import Notification
from notifications.services import notification_create
from taskplatform.exceptions import ApplicationError

from .live_events import task_announce
from .models import Priority, Tag, Task
from .selectors import user_display_name

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from accounts.models import User


def _forbidden(message: str) -> ApplicationError:
    return ApplicationError(message, code="permission_denied")


def _staff_may(actor: User, permission: str) -> bool:
    """Staff holding `permission` act on every task (seed 003's admin), through the API too;
    staff without it only read, and a permission alone doesn't make a plain user staff."""
    return actor.is_staff and actor.has_perm(permission)


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
    task_announce(task, "task.created")
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
    as_staff = actor.pk != task.owner_id and not assignee_may
    if as_staff and not _staff_may(actor, "tasks.change_task"):
        raise _forbidden("Only the owner can change this task (the assignee: its status).")
    previous_status, previous_assignee = task.status, task.assignee
    previous_visibility = task.visibility
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
        details: dict[str, Any] = {"changed": changed}
        if as_staff:
            details["as_staff"] = True
        audit_record(actor=actor, action="task.updated", target=task, details=details)
        _announce_assignment(task, actor, previous_assignee)
        task_announce(
            task,
            "task.updated",
            was_public=previous_visibility == Task.Visibility.PUBLIC,
            also=[getattr(previous_assignee, "pk", None)],
            changed=changed,
        )
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
    as_staff = actor.pk != task.owner_id
    if as_staff and not _staff_may(actor, "tasks.delete_task"):
        raise _forbidden("Only the owner can delete this task.")
    details: dict[str, Any] = {"title": task.title}
    if as_staff:
        details["as_staff"] = True
    audit_record(actor=actor, action="task.deleted", target=task, details=details)
    task_announce(task, "task.deleted")
    task.delete()


def task_attachments_write_check(*, task: Task, actor: User) -> None:
    """Only the owner attaches and detaches (the API asks before it reads an upload's body)."""
    if actor.pk != task.owner_id:
        raise _forbidden("Only the owner can attach and detach this task's files.")


def _attachment_added(task: Task, actor: User, stored: StoredFile) -> None:
    task.attachments.add(stored)
    task_announce(task, "task.updated", changed=["attachments"])
    audit_record(
        actor=actor,
        action="task.attachment_added",
        target=task,
        details={"file_id": stored.pk, "name": stored.name},
    )


@transaction.atomic
def task_attachment_add(*, task: Task, actor: User, file_id: int) -> StoredFile:
    task_attachments_write_check(task=task, actor=actor)
    stored = StoredFile.objects.filter(pk=file_id, owner_id=task.owner_id).first()
    if stored is None:
        raise ApplicationError(
            "No such file among yours.",
            code="validation_error",
            details={"file_id": ["No file with this id belongs to you."]},
        )
    _attachment_added(task, actor, stored)
    return stored


def task_attachment_upload(
    *,
    task: Task,
    actor: User,
    upload: UploadedFile,
    sha256: str,
    head: bytes,
    expected_sha256: str | None = None,
) -> StoredFile:
    """Store an upload as the owner's file (files' checksum, type and quota rules) and attach
    it to `task`: both or neither — a refused upload, or a task deleted meanwhile, keeps no
    row and no blob."""
    task_attachments_write_check(task=task, actor=actor)
    stored: StoredFile | None = None
    try:
        with transaction.atomic():
            stored = file_store(
                owner=actor,  # the owner: task_attachments_write_check
                upload=upload,
                sha256=sha256,
                head=head,
                expected_sha256=expected_sha256,
            )
            # locked after the bytes are stored, not while: the task can't be deleted before
            # the attachment commits, and edits to it don't wait for the upload to be saved
            locked = Task.objects.select_for_update().filter(pk=task.pk).values_list("pk")
            if locked.first() is None:
                raise ApplicationError("No such task.", code="not_found")
            _attachment_added(task, actor, stored)
    except BaseException:
        if stored is not None:  # stored, then rolled back with the attachment
            blob_discard(key=stored.storage_key)
        raise
    return stored


@transaction.atomic
def task_attachment_remove(*, task: Task, actor: User, file_id: int) -> None:
    """Unlink a file from the task; the file stays the owner's (the files API deletes it)."""
    task_attachments_write_check(task=task, actor=actor)
    if not task.attachments.filter(pk=file_id).exists():
        raise ApplicationError("This file is not attached to the task.", code="not_found")
    task.attachments.remove(file_id)
    task_announce(task, "task.updated", changed=["attachments"])
    audit_record(
        actor=actor, action="task.attachment_removed", target=task, details={"file_id": file_id}
    )
