"""The staff-only admin API: users, every user's jobs, platform stats, task analytics."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as accounts
from jobs.api.views import JobListing
from jobs.models import Job
from operations.analytics import analytics_summary, user_completion_rates
from operations.selectors import platform_stats, users_with_counts
from operations.services import admin_job_cancel
from taskplatform.api.caller import caller

from .filters import AdminJobFilter, AdminUserFilter, NullsLastOrderingFilter
from .permissions import StaffWithModelPermissions
from .serializers import (
    AdminJobSerializer,
    AdminUserSerializer,
    AdminUserUpdateSerializer,
    AnalyticsSummarySerializer,
    StatsSerializer,
    UserCompletionSerializer,
)

User = get_user_model()


class AdminUserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Every user. PATCH `is_active` deactivates / reactivates; DELETE removes everything."""

    permission_classes = [StaffWithModelPermissions]
    required_perms = {"PATCH": ["accounts.change_user"], "DELETE": ["accounts.delete_user"]}
    serializer_class = AdminUserSerializer
    filterset_class = AdminUserFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["email", "date_joined", "last_login"]
    ordering = ["email"]
    lookup_value_converter = "id"

    def get_queryset(self):
        return users_with_counts()

    @extend_schema(request=AdminUserUpdateSerializer, responses={200: AdminUserSerializer})
    def partial_update(self, request, pk=None):
        user = self.get_object()
        form = AdminUserUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        change = (
            accounts.user_activate if form.validated_data["is_active"] else accounts.user_deactivate
        )
        change(user=user, actor=caller(request))
        return Response(AdminUserSerializer(self.get_queryset().get(pk=user.pk)).data)

    def destroy(self, request, pk=None):
        accounts.user_delete(user=self.get_object(), actor=caller(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminJobViewSet(JobListing, viewsets.ReadOnlyModelViewSet):
    """Every user's jobs; POST `{id}/cancel/` cancels one."""

    permission_classes = [StaffWithModelPermissions]
    required_perms = {"POST": ["jobs.change_job"]}
    serializer_class = AdminJobSerializer
    filterset_class = AdminJobFilter
    queryset = Job.objects.select_related("owner", "crontab", "interval", "clocked", "last_run")

    @extend_schema(request=None, responses={200: AdminJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = admin_job_cancel(job=self.get_object(), actor=caller(request))
        return Response(AdminJobSerializer(self.get_queryset().get(pk=job.pk)).data)


class AdminStatsView(APIView):
    """How the platform is doing, in numbers."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: StatsSerializer})
    def get(self, request):
        return Response(StatsSerializer(platform_stats()).data)


class AdminUserCompletionView(generics.ListAPIView):
    """Completion of the tasks each user owns: total, done and the rate (null without
    tasks, last in either order). Best rate first unless `?ordering=` says otherwise."""

    permission_classes = [IsAdminUser]
    serializer_class = UserCompletionSerializer
    filterset_class = AdminUserFilter
    filter_backends = [DjangoFilterBackend, NullsLastOrderingFilter]
    ordering_fields = ["completion_rate", "tasks_total", "tasks_done", "email"]
    ordering = ["-completion_rate", "-tasks_total"]

    def get_queryset(self):
        return user_completion_rates()


class AdminAnalyticsSummaryView(APIView):
    """Averages per user, the overall completion rate, the last 7 days, the fastest and
    slowest completion."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: AnalyticsSummarySerializer})
    def get(self, request):
        return Response(AnalyticsSummarySerializer(analytics_summary()).data)
