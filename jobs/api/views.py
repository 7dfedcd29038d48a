"""Jobs HTTP endpoints: validate, call a service, serialize."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from jobs import selectors, services
from jobs.models import Job, JobRun
from taskplatform.api.caller import caller

from .filters import JobFilter, JobRunFilter
from .serializers import (
    JobDetailSerializer,
    JobRunSerializer,
    JobSerializer,
    JobWriteSerializer,
)


class JobListing(GenericAPIView):
    """How job lists are filtered, ordered and looked up: the owner's and the operators'."""

    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["created_at", "next_run_at", "name"]
    ordering = ["-created_at", "-id"]
    lookup_value_converter = "id"


class JobViewSet(JobListing, viewsets.ModelViewSet):
    """The caller's jobs (another user's job answers 404)."""

    queryset = Job.objects.none()  # for the schema; requests use get_queryset
    serializer_class = JobSerializer
    filterset_class = JobFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Job.objects.none()
        return selectors.job_list(user=caller(self.request))

    def _out(self, job: Job, code=status.HTTP_200_OK) -> Response:
        job = self.get_queryset().get(pk=job.pk)
        return Response(JobDetailSerializer(job).data, status=code)

    @extend_schema(responses={200: JobDetailSerializer})
    def retrieve(self, request, pk=None):
        return Response(JobDetailSerializer(self.get_object()).data)

    @extend_schema(request=JobWriteSerializer, responses={201: JobDetailSerializer})
    def create(self, request):
        form = JobWriteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = services.job_create(owner=caller(request), **form.validated_data)
        return self._out(job, status.HTTP_201_CREATED)

    @extend_schema(request=JobWriteSerializer, responses={200: JobDetailSerializer})
    def partial_update(self, request, pk=None):
        job = self.get_object()
        form = JobWriteSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        job = services.job_update(job=job, actor=caller(request), **form.validated_data)
        return self._out(job)

    def destroy(self, request, pk=None):
        services.job_delete(job=self.get_object(), actor=caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: JobDetailSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._out(services.job_pause(job=self.get_object(), actor=caller(request)))

    @extend_schema(request=None, responses={200: JobDetailSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._out(services.job_resume(job=self.get_object(), actor=caller(request)))

    @extend_schema(request=None, responses={200: JobDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._out(services.job_cancel(job=self.get_object(), actor=caller(request)))

    @extend_schema(request=None, responses={202: JobRunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        run = services.job_run_now(job=self.get_object(), actor=caller(request))
        run.refresh_from_db()  # eager workers (tests) may have run it already
        return Response(JobRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: JobRunSerializer(many=True)}, filters=True)
    @action(
        detail=True,
        methods=["get"],
        filterset_class=JobRunFilter,
        filter_backends=[DjangoFilterBackend],
        serializer_class=JobRunSerializer,
        queryset=JobRun.objects.none(),  # for the schema
    )
    def runs(self, request, pk=None):
        job = get_object_or_404(self.get_queryset(), pk=pk)  # not through the runs filters
        runs = self.filter_queryset(selectors.run_list(job=job))
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(JobRunSerializer(page, many=True).data)
