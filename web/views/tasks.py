"""The tasks pages: the list (search, filters, order, pages; live), a task's page (status,
assignee, attachments), creating, editing and deleting.

Reads go through tasks.selectors (what the person may see; another's private task is a 404)
and tasks.filters (the API's filters); writes through tasks.services, which decide who may do
what. The detail page's actions answer the `#task-detail` region again for htmx (with a
toast), or redirect back to the page for a plain form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from taskplatform.exceptions import ApplicationError
from tasks.filters import task_ordering, tasks_filtered
from tasks.models import Priority, Task
from tasks.selectors import TaskRow, task_attachment_get, task_list, task_list_values, task_rows
from tasks.services import (
    task_attachment_remove,
    task_attachment_upload,
    task_attachments_write_check,
    task_create,
    task_delete,
    task_update,
)

from ..forms.files import UploadForm, upload_errors, upload_from
from ..forms.tasks import AssignForm, StatusForm, TaskFilterForm, TaskForm
from .base import (
    INVALID,
    PAGE_SIZE,
    SignedInRequest,
    done,
    errors_onto,
    htmx_target,
    is_htmx,
    signed_in,
    toast,
)
from .files import download, streamed_upload

# the regions htmx requests target: the list's results, a task's page
RESULTS = "task-results"
DETAIL = "task-detail"


def _shown(row: TaskRow, now: Any) -> dict[str, Any]:
    """A row as the templates show it: with the labels of its status and priority."""
    return {
        **row,
        "status_label": Task.Status(row["status"]).label,
        "priority_label": Priority.label_of(row["priority"]),
        "overdue": bool(
            row["due_at"] and row["due_at"] < now and row["status"] != Task.Status.DONE
        ),
    }


@signed_in
@require_GET
def task_list_page(request: SignedInRequest) -> HttpResponse:
    user = request.user
    filters = TaskFilterForm(request.GET, auto_id="filter_%s")
    rows = task_list_values(user=user)  # rows of the task table, as the API's list
    if filters.is_valid():
        rows = tasks_filtered(rows, **filters.criteria(user)).order_by(
            *task_ordering(filters.ordering_terms())
        )
    else:
        rows = rows.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    tasks = [_shown(row, now) for row in task_rows(tasks=list(page.object_list), viewer=user)]
    context = {"filters": filters, "page_obj": page, "tasks": tasks}
    status = INVALID if filters.errors else 200
    if htmx_target(request) == RESULTS:
        return render(request, "web/tasks/_results.html", context, status=status)
    return render(request, "web/tasks/list.html", context, status=status)


def _visible(request: SignedInRequest, pk: int) -> Task:
    """A task the person may see (task_list: owner, assignee, public, staff); else a 404."""
    task = task_list(user=request.user).filter(pk=pk).first()
    if task is None:
        raise Http404("No such task.")
    return task


def _detail_context(request: SignedInRequest, task: Task, **forms: Any) -> dict[str, Any]:
    user = request.user
    (row,) = task_rows(tasks=[task], viewer=user)
    owner = user.pk == task.owner_id
    staff_edits = user.is_staff and user.has_perm("tasks.change_task")
    return {
        "task": _shown(row, timezone.now()),
        "is_owner": owner,
        # what the page offers; the services decide again on every change
        "may_edit": owner or staff_edits,
        "may_delete": owner or (user.is_staff and user.has_perm("tasks.delete_task")),
        "may_change_status": owner or staff_edits or user.pk == task.assignee_id,
        "status_form": forms.get("status_form") or StatusForm(initial={"status": task.status}),
        "assign_form": forms.get("assign_form") or AssignForm(),
        "upload_form": forms.get("upload_form") or UploadForm(),
    }


def _detail_page(
    request: SignedInRequest, task: Task, *, status: int = 200, **forms: Any
) -> HttpResponse:
    context = _detail_context(request, task, **forms)
    return render(request, "web/tasks/detail.html", context, status=status)


def _after(
    request: SignedInRequest, task: Task, message: str, level: str = "success"
) -> HttpResponse:
    """After an action on a task's page: the page again with a toast (htmx selects its
    region), or a redirect to it with the message."""
    still = task_list(user=request.user).filter(pk=task.pk).first()
    if still is None:  # no longer the person's to see (assigned away from them)
        return done(request, message, reverse("web:task-list"))
    if is_htmx(request):
        return toast(_detail_page(request, still), message, level)
    getattr(messages, level)(request, message)
    return redirect("web:task-detail", pk=task.pk)


def _refused(
    request: SignedInRequest, task: Task, exc: ApplicationError, **forms: Any
) -> HttpResponse:
    """A change the service refused: the page again with the reason on the form (422)."""
    if not is_htmx(request):
        messages.error(request, exc.message)
    return toast(_detail_page(request, task, status=INVALID, **forms), exc.message, "error")


@signed_in
@require_GET
def task_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _visible(request, pk))


@signed_in
@require_http_methods(["GET", "POST"])
def task_create_page(request: SignedInRequest) -> HttpResponse:
    form = TaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            task = task_create(owner=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            errors_onto(form, exc)
        else:
            return done(request, "Task created.", reverse("web:task-detail", args=[task.pk]))
    status = INVALID if form.errors else 200
    return render(request, "web/tasks/form.html", {"form": form, "task": None}, status=status)


@signed_in
@require_http_methods(["GET", "POST"])
def task_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    task = _visible(request, pk)
    (row,) = task_rows(tasks=[task], viewer=request.user)
    initial = TaskForm.initial_for(task, row["tags"])
    form = TaskForm(request.POST or None, initial=initial, with_assignee=False)
    if request.method == "POST" and form.is_valid():
        try:
            task_update(task=task, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            errors_onto(form, exc)
        else:
            return done(request, "Task saved.", reverse("web:task-detail", args=[task.pk]))
    status = INVALID if form.errors else 200
    return render(request, "web/tasks/form.html", {"form": form, "task": task}, status=status)


@signed_in
@require_POST
def task_delete_page(request: SignedInRequest, pk: int) -> HttpResponse:
    task = _visible(request, pk)
    try:
        task_delete(task=task, actor=request.user)
    except ApplicationError as exc:
        return _refused(request, task, exc)
    return done(request, f"Deleted “{task.title}”.", reverse("web:task-list"))


@signed_in
@require_POST
def task_status(request: SignedInRequest, pk: int) -> HttpResponse:
    task = _visible(request, pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            task_update(task=task, actor=request.user, status=form.cleaned_data["status"])
        except ApplicationError as exc:
            errors_onto(form, exc)
        else:
            label = Task.Status(form.cleaned_data["status"]).label
            return _after(request, task, f"Status: {label}.")
    return _detail_page(request, task, status=INVALID, status_form=form)


@signed_in
@require_POST
def task_assign(request: SignedInRequest, pk: int) -> HttpResponse:
    task = _visible(request, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        try:
            task_update(task=task, actor=request.user, assignee=assignee)
        except ApplicationError as exc:
            errors_onto(form, exc)
        else:
            message = "Unassigned." if assignee is None else "Assigned."
            return _after(request, task, message)
    return _detail_page(request, task, status=INVALID, assign_form=form)


@streamed_upload
@signed_in
@require_POST
def task_attachment_upload_page(request: SignedInRequest, pk: int) -> HttpResponse:
    task, actor = _visible(request, pk), request.user
    form = UploadForm()
    try:
        # refused before a byte of the body is read, as the API does
        task_attachments_write_check(task=task, actor=actor)
        with upload_from(request) as upload:
            assert upload.file is not None  # upload_from: a file was sent
            stored = task_attachment_upload(
                task=task,
                actor=actor,
                upload=upload.file,
                sha256=upload.sha256,
                head=upload.head,
                expected_sha256=upload.expected_sha256,
            )
    except ApplicationError as exc:
        upload_errors(form, exc)
        return _refused(request, task, exc, upload_form=form)
    return _after(request, task, f"Attached {stored.name}.")


@signed_in  # type: ignore[arg-type]  # a download streams: an HttpResponseBase
@require_GET
def task_attachment_download(request: SignedInRequest, pk: int, file_id: int) -> HttpResponseBase:
    stored = task_attachment_get(task=_visible(request, pk), file_id=file_id)
    if stored is None:
        raise Http404("No such file is attached to this task.")
    return download(request, stored)


@signed_in
@require_POST
def task_attachment_remove_page(request: SignedInRequest, pk: int, file_id: int) -> HttpResponse:
    task = _visible(request, pk)
    try:
        task_attachment_remove(task=task, actor=request.user, file_id=file_id)
    except ApplicationError as exc:
        if exc.code == "not_found":
            raise Http404(exc.message) from None
        return _refused(request, task, exc)
    return _after(request, task, "Attachment removed (the file stays in your files).")


urlpatterns: list[URLPattern] = [
    path("", task_list_page, name="task-list"),
    path("new/", task_create_page, name="task-create"),
    path("<id:pk>/", task_detail, name="task-detail"),
    path("<id:pk>/edit/", task_edit, name="task-edit"),
    path("<id:pk>/delete/", task_delete_page, name="task-delete"),
    path("<id:pk>/status/", task_status, name="task-status"),
    path("<id:pk>/assign/", task_assign, name="task-assign"),
    path("<id:pk>/attachments/", task_attachment_upload_page, name="task-attachment-upload"),
    path(
        "<id:pk>/attachments/<id:file_id>/download/",
        task_attachment_download,
        name="task-attachment-download",
    ),
    path(
        "<id:pk>/attachments/<id:file_id>/remove/",
        task_attachment_remove_page,
        name="task-attachment-remove",
    ),
]
