from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from taskplatform.api.converters import MAX_ID
from taskplatform.api.fields import DateTimeField, iso_utc
from tasks.models import Priority, Task


class UserSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class FileSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    sha256 = serializers.CharField()


class PriorityField(serializers.ChoiceField):
    """Priority by name in the API, by severity number in the database."""

    def __init__(self, **kwargs):
        super().__init__(choices=[p.label for p in Priority], **kwargs)

    def to_representation(self, value):
        return Priority.label_of(value)

    def to_internal_value(self, data):
        return Priority.from_label(super().to_internal_value(data)).value


class UtcDateTimeField(serializers.DateTimeField):
    """Output only: what DRF's DateTimeField writes here (UTC, "Z"), in a tenth of the time
    (DRF looks up the current time zone for every value; a list renders 4 per task)."""

    def to_representation(self, value):
        return iso_utc(value)


# Output only: renders the rows of tasks.selectors.task_rows (TaskRow), field for field. (A
# comment, not a docstring: drf-spectacular would publish a docstring in the schema.)
class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    owner = UserSummarySerializer(read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Task.Status.choices, read_only=True)
    priority = PriorityField(read_only=True)
    due_at = UtcDateTimeField(read_only=True, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    visibility = serializers.ChoiceField(choices=Task.Visibility.choices, read_only=True)
    assignee = UserSummarySerializer(read_only=True, allow_null=True)
    attachments = FileSummarySerializer(many=True, read_only=True)
    completed_at = UtcDateTimeField(read_only=True, allow_null=True)
    created_at = UtcDateTimeField(read_only=True)
    updated_at = UtcDateTimeField(read_only=True)


class TaskWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, min_length=1)
    description = serializers.CharField(allow_blank=True, required=False, max_length=20000)
    status = serializers.ChoiceField(choices=Task.Status.choices, required=False)
    priority = PriorityField(required=False)
    due_at = DateTimeField(allow_null=True, required=False)
    visibility = serializers.ChoiceField(choices=Task.Visibility.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50, min_length=1), max_length=20, required=False
    )
    assignee_id = serializers.IntegerField(
        allow_null=True,
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="A user's id, or null to unassign.",
    )

    def validate_assignee_id(self, value):
        if value is None:
            return None
        user = get_user_model().objects.filter(pk=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError("No active user with this id.")
        return user

    def validate(self, attrs):
        if "assignee_id" in attrs:
            attrs["assignee"] = attrs.pop("assignee_id")
        return attrs


class AttachmentSerializer(serializers.Serializer):
    file_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class TaskStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_priority = serializers.DictField(child=serializers.IntegerField())
    completion_rate = serializers.FloatField()
    avg_completion_hours = serializers.FloatField(allow_null=True)
    median_completion_hours = serializers.FloatField(allow_null=True)
    overdue = serializers.IntegerField()
    completed_per_day = serializers.ListField(child=serializers.DictField())
