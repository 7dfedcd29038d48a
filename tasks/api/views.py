"""Tasks HTTP endpoints: validate, call a service, serialize."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from files.api.downloads import AnyAcceptNegotiation, file_download_response
from files.api.serializers import FileUploadSerializer
from files.api.upload_form import upload_checked
from files.models import StoredFile
from taskplatform.api.caller import caller
from tasks import selectors, services
from tasks.filters import ORDERING_FIELDS, task_ordering
from tasks.models import Priority, Task

from .filters import TaskFilter
from .serializers import (
    AttachmentSerializer,
    TaskAttachmentSerializer,
    TaskSerializer,
    TaskStatsSerializer,
    TaskWriteSerializer,
)

# what PUT resets a field to when the body leaves it out
PUT_DEFAULTS = {
    "description": "",
    "status": Task.Status.TODO,
    "priority": Priority.MEDIUM.value,
    "due_at": None,
    "visibility": Task.Visibility.PRIVATE,
    "tags": [],
    "assignee": None,
}


class TaskOrdering(OrderingFilter):
    """`?ordering=due_at,-priority`; tasks without a due date come last either way."""

    def get_ordering(self, request, queryset, view):
        return task_ordering(super().get_ordering(request, queryset, view) or [])


class TaskViewSet(viewsets.ModelViewSet):
    """Tasks the caller may see: their own, assigned to them, public ones (staff: all)."""

    queryset = Task.objects.none()  # for the schema; requests use get_queryset
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    filter_backends = [DjangoFilterBackend, TaskOrdering]
    ordering_fields = list(ORDERING_FIELDS)
    ordering = ["-created_at", "-id"]
    lookup_value_converter = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        return selectors.task_list(user=caller(self.request))

    def list(self, request):
        tasks = selectors.task_list_values(user=caller(request))  # rows, not Task objects
        page = self.paginate_queryset(self.filter_queryset(tasks))
        assert page is not None  # every list is paged (DEFAULT_PAGINATION_CLASS)
        rows = selectors.task_rows(tasks=page, viewer=caller(request))
        return self.get_paginated_response(TaskSerializer(rows, many=True).data)

    def retrieve(self, request, pk=None):
        return self._render(self.get_object())

    def _render(self, task: Task, code: int = status.HTTP_200_OK) -> Response:
        (row,) = selectors.task_rows(tasks=[task], viewer=caller(self.request))
        return Response(TaskSerializer(row).data, status=code)

    def _out(self, task: Task, code: int = status.HTTP_200_OK) -> Response:
        """A task a service wrote, read again as the caller sees it (owner, assignee joined)."""
        return self._render(self.get_queryset().get(pk=task.pk), code)

    @extend_schema(request=TaskWriteSerializer, responses={201: TaskSerializer})
    def create(self, request):
        form = TaskWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        task = services.task_create(owner=caller(request), **form.validated_data)
        return self._out(task, status.HTTP_201_CREATED)

    @extend_schema(request=TaskWriteSerializer, responses={200: TaskSerializer})
    def update(self, request, pk=None, partial=False):
        task = self.get_object()
        form = TaskWriteSerializer(data=request.data, partial=partial)
        form.is_valid(raise_exception=True)
        changes = form.validated_data if partial else {**PUT_DEFAULTS, **form.validated_data}
        task = services.task_update(task=task, actor=caller(request), **changes)
        return self._out(task)

    @extend_schema(request=TaskWriteSerializer, responses={200: TaskSerializer})
    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        services.task_delete(task=self.get_object(), actor=caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _attachment(self, task: Task, stored: StoredFile) -> dict:
        context = {"request": self.request, "task": task}
        return TaskAttachmentSerializer(stored, context=context).data

    @extend_schema(
        request={
            "application/json": AttachmentSerializer,
            "multipart/form-data": FileUploadSerializer,
        },
        responses={201: TaskAttachmentSerializer},
        description="Attach one of the owner's files (JSON `file_id`), or upload one (multipart "
        "`file`, optional `sha256`: stored as the owner's file, as POST /api/v1/files/ does, "
        "then attached). Only the owner.",
    )
    @action(detail=True, methods=["post"], url_path="attachments", filter_backends=[])
    def attach(self, request, pk=None):
        task, actor = self.get_object(), caller(request)
        if request.content_type.lower().startswith("multipart/form-data"):
            # refused before a byte of the body is read
            services.task_attachments_write_check(task=task, actor=actor)
            with upload_checked(request) as upload:
                stored = services.task_attachment_upload(
                    task=task,
                    actor=actor,
                    upload=upload.file,
                    sha256=upload.sha256,
                    head=upload.head,
                    expected_sha256=upload.expected_sha256,
                )
        else:
            form = AttachmentSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            stored = services.task_attachment_add(
                task=task, actor=actor, file_id=form.validated_data["file_id"]
            )
        return Response(self._attachment(task, stored), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: TaskAttachmentSerializer(many=True)},
        description="The files attached to the task, oldest first, each with the URL anyone "
        "who may see the task downloads it from.",
    )
    @attach.mapping.get
    def attachments(self, request, pk=None):
        task = self.get_object()
        page = self.paginate_queryset(selectors.task_attachments(task=task))
        assert page is not None  # every list is paged (DEFAULT_PAGINATION_CLASS)
        context = {"request": request, "task": task}
        data = TaskAttachmentSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=None,
        responses={
            (200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The bytes."),
            (304, "*/*"): OpenApiResponse(description="Not modified (If-None-Match)."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="attachments/<id:file_id>/download",
        filter_backends=[],
        content_negotiation_class=AnyAcceptNegotiation,
    )
    def attachment_download(self, request, pk=None, file_id=None):
        stored = selectors.task_attachment_get(task=self.get_object(), file_id=int(file_id))
        if stored is None:
            raise NotFound("No such file is attached to this task.")
        return file_download_response(request, stored)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path="attachments/<id:file_id>")
    def detach(self, request, pk=None, file_id=None):
        services.task_attachment_remove(
            task=self.get_object(), actor=caller(request), file_id=int(file_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: TaskStatsSerializer})
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def stats(self, request):
        return Response(TaskStatsSerializer(selectors.task_stats(user=caller(request))).data)
