from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from taskplatform.api.converters import MAX_ID
from taskplatform.api.fields import DateTimeField, iso_utc
from tasks.models import Priority, Task
from tasks.selectors import task_hydrate


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
        return Priority(value).label

    def to_internal_value(self, data):
        label = super().to_internal_value(data)
        return next(p.value for p in Priority if p.label == label)


class TaskSerializer(serializers.ModelSerializer):
    owner = UserSummarySerializer(read_only=True)
    assignee = UserSummarySerializer(read_only=True, allow_null=True)
    priority = PriorityField()
    tags = serializers.SerializerMethodField()
    attachments = FileSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "owner",
            "title",
            "description",
            "status",
            "priority",
            "due_at",
            "tags",
            "visibility",
            "assignee",
            "attachments",
            "completed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, task: Task) -> list[str]:
        return sorted(tag.name for tag in task.tags.all())

    def to_representation(self, task: Task) -> dict:
        """Hand-built: the fields above document the shape, this builds it several times
        faster than DRF's field-by-field walk (a list renders up to 100 tasks a request).
        Tags and attachments come from selectors.task_hydrate when a list was hydrated."""
        if not hasattr(task, "tag_names"):
            task_hydrate([task])
        return {
            "id": task.id,
            "owner": {"id": task.owner_id, "email": task.owner.email},
            "title": task.title,
            "description": task.description,
            "status": task.status,
            "priority": PRIORITY_LABELS[task.priority],
            "due_at": iso_utc(task.due_at),
            "tags": task.tag_names,
            "visibility": task.visibility,
            "assignee": (
                {"id": task.assignee_id, "email": task.assignee.email} if task.assignee_id else None
            ),
            "attachments": task.attachment_summaries,
            "completed_at": iso_utc(task.completed_at),
            "created_at": iso_utc(task.created_at),
            "updated_at": iso_utc(task.updated_at),
        }


PRIORITY_LABELS = {p.value: p.label for p in Priority}


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
