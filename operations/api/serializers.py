from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from jobs.api.serializers import JobSerializer


class AdminUserSerializer(serializers.ModelSerializer):
    jobs = serializers.IntegerField(read_only=True, source="job_count")
    tasks = serializers.IntegerField(read_only=True, source="task_count")

    class Meta:
        model = get_user_model()
        fields = [
            "id",
            "email",
            "full_name",
            "timezone",
            "is_active",
            "is_staff",
            "date_joined",
            "last_login",
            "jobs",
            "tasks",
        ]
        read_only_fields = fields


class AdminUserUpdateSerializer(serializers.Serializer):
    is_active = serializers.BooleanField()


class AdminJobSerializer(JobSerializer):
    owner = serializers.EmailField(source="owner.email")


class CountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()
    recently_active = serializers.IntegerField(help_text="Logged in within 30 days.")
    staff = serializers.IntegerField()
    unverified = serializers.IntegerField(help_text="Email address not verified yet.")


class NotificationCountsSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    queued = serializers.IntegerField()
    held = serializers.IntegerField(help_text="Waiting for their address to be verified.")
    not_sent = serializers.IntegerField(
        help_text="Never sent on purpose: over the hourly limit, or held too long."
    )
    sent_24h = serializers.IntegerField()
    failed_24h = serializers.IntegerField()


class StorageSerializer(serializers.Serializer):
    files = serializers.IntegerField()
    bytes = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    users = CountsSerializer()
    tasks_by_status = serializers.DictField(child=serializers.IntegerField())
    jobs_by_status = serializers.DictField(child=serializers.IntegerField())
    runs_24h_by_status = serializers.DictField(child=serializers.IntegerField())
    notifications = NotificationCountsSerializer()
    storage = StorageSerializer()
    generated_at = serializers.DateTimeField()


class UserCompletionSerializer(serializers.ModelSerializer):
    tasks_total = serializers.IntegerField(read_only=True, help_text="Tasks the user owns.")
    tasks_done = serializers.IntegerField(read_only=True, help_text="Of those, done.")
    completion_rate = serializers.FloatField(
        read_only=True, allow_null=True, help_text="tasks_done / tasks_total; null without tasks."
    )

    class Meta:
        model = get_user_model()
        fields = [
            "id",
            "email",
            "full_name",
            "is_active",
            "tasks_total",
            "tasks_done",
            "completion_rate",
        ]
        read_only_fields = fields


class AnalyticsSummarySerializer(serializers.Serializer):
    users = serializers.IntegerField(help_text="User accounts, active or not.")
    avg_tasks_per_user = serializers.FloatField()
    avg_jobs_per_user = serializers.FloatField()
    avg_files_per_user = serializers.FloatField()
    tasks = serializers.IntegerField()
    tasks_done = serializers.IntegerField()
    completion_rate = serializers.FloatField(
        allow_null=True, help_text="tasks_done / tasks over every task; null without tasks."
    )
    tasks_created_7d = serializers.IntegerField(help_text="Created in the last 7 days.")
    tasks_completed_7d = serializers.IntegerField(help_text="Done, completed in the last 7 days.")
    fastest_completion_seconds = serializers.FloatField(
        allow_null=True, help_text="The shortest completed_at - created_at of a done task."
    )
    slowest_completion_seconds = serializers.FloatField(
        allow_null=True, help_text="The longest completed_at - created_at of a done task."
    )
    generated_at = serializers.DateTimeField()
