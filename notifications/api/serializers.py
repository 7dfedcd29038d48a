from rest_framework import serializers

from notifications.models import Notification, NotificationPreference


class NotificationSerializer(serializers.ModelSerializer):
    error = serializers.CharField(source="last_error", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "subject", "status", "attempts", "created_at", "sent_at", "error"]
        read_only_fields = fields


class PreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationPreference
        fields = [
            "job_created",
            "job_succeeded",
            "job_failed",
            "task_due_soon",
            "task_assigned",
            "daily_digest",
            "digest_hour",
            "digest_when_empty",
        ]
        # PUT replaces the whole set: every field is required (PATCH stays partial)
        extra_kwargs = {
            **{field: {"required": True} for field in fields},
            "digest_hour": {"required": True, "min_value": 0, "max_value": 23},
            # added later: a PUT written before it exists leaves it as it is
            "task_assigned": {"required": False},
            "digest_when_empty": {"required": False},
        }
