"""What live clients are told about a task (live.services), and who is told.

A public task's events go to everyone signed in (they can all read it); a private one's to
its owner and assignee, and to an assignee it was just taken from. A task that turns
private tells everyone else only that it is gone from their view (`task.hidden`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from live.services import PUBLIC, live_publish

from .models import Priority, Task


def task_data(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "status": task.status,
        "priority": Priority.label_of(task.priority),
        "visibility": task.visibility,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "owner_id": task.owner_id,
        "assignee_id": task.assignee_id,
    }


def task_announce(
    task: Task,
    type: str,
    *,
    was_public: bool = False,
    also: Iterable[int | None] = (),
    changed: Iterable[str] = (),
) -> None:
    """Publish `type` (task.created / task.updated / task.deleted) inside the change's
    transaction; `also`: other users who must hear of it (an assignee taken off)."""
    data = {**task_data(task), "changed": sorted(changed)} if changed else task_data(task)
    if task.visibility == Task.Visibility.PUBLIC:
        live_publish(type=type, object_type="task", object_id=task.pk, audience=[PUBLIC], data=data)
        return
    if was_public:
        live_publish(
            type="task.hidden",
            object_type="task",
            object_id=task.pk,
            audience=[PUBLIC],
            data={"id": task.pk},
        )
    live_publish(
        type=type,
        object_type="task",
        object_id=task.pk,
        audience=[task.owner_id, task.assignee_id, *also],
        data=data,
    )
