from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework import serializers

from accounts.models import normalize_email
from files.models import StoredFile
from taskplatform.api.cached_fields import CachedFieldsMixin
from taskplatform.api.converters import MAX_ID
from taskplatform.api.fields import DateTimeField, iso_utc
from taskplatform.validators import validate_one_line
from tasks.models import Priority, Task


# Output only, for rows a selector built: dicts keyed by the declared fields' names. Each
# declared field renders row[its name], in declared order: what DRF's walk gives for such a
# row, without resolving every field's source on every object again nor deep-copying the
# declared fields for every response (together most of the time a 100-task page takes here).
# So a RowSerializer's fields must render from the value alone (no context, no source=).
# Not a dict (a model instance): DRF's way. (Comments, not docstrings, on serializers:
# drf-spectacular publishes a docstring, inherited ones too, in the schema.)
class RowSerializer(serializers.Serializer):
    _renderers: ClassVar[dict[type, list[tuple[str, Callable[[Any], Any]]]]] = {}

    def to_representation(self, instance):
        if not isinstance(instance, dict):
            return super().to_representation(instance)
        renderers = self._renderers.get(type(self))
        if renderers is None:  # once per class: the fields are the same for every response
            renderers = [(str(f.field_name), f.to_representation) for f in self._readable_fields]
            self._renderers[type(self)] = renderers
        row = {}
        for name, render in renderers:
            value = instance[name]
            row[name] = None if value is None else render(value)
        return row


# A person on a task: their address only to themselves and to staff (null to others).
class UserSummarySerializer(RowSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text='The full name, or "User <id>" when blank.')
    email = serializers.EmailField(
        allow_null=True, help_text="Null unless this is you (staff: always shown)."
    )


class FileSummarySerializer(RowSerializer):
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


# Renders the rows of tasks.selectors.task_rows (TaskRow), field for field.
class TaskSerializer(RowSerializer):
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
    title = serializers.CharField(max_length=200, min_length=1, validators=[validate_one_line])
    description = serializers.CharField(allow_blank=True, required=False, max_length=20000)
    status = serializers.ChoiceField(choices=Task.Status.choices, required=False)
    priority = PriorityField(required=False)
    due_at = DateTimeField(allow_null=True, required=False)
    visibility = serializers.ChoiceField(choices=Task.Visibility.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50, min_length=1, validators=[validate_one_line]),
        max_length=20,
        required=False,
    )
    assignee_id = serializers.IntegerField(
        allow_null=True,
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="A user's id, or null to unassign.",
    )
    assignee_email = serializers.EmailField(
        allow_null=True,
        required=False,
        max_length=254,
        help_text="Instead of assignee_id: the user's email address, or null to unassign.",
    )

    def validate_assignee_id(self, value):
        return None if value is None else _active_user(pk=value)

    def validate_assignee_email(self, value):
        return None if value is None else _active_user(email__iexact=normalize_email(value))

    def validate(self, attrs):
        given = [name for name in ("assignee_id", "assignee_email") if name in attrs]
        if len(given) > 1:
            raise serializers.ValidationError(
                {"assignee_email": ["Give assignee_id or assignee_email, not both."]}
            )
        if given:
            attrs["assignee"] = attrs.pop(given[0])
        return attrs


def _active_user(**lookup: Any):
    user = get_user_model().objects.filter(is_active=True, **lookup).first()
    if user is None:
        # one message for an unknown id, an unknown address and an inactive account
        raise serializers.ValidationError("No active user with this id or email address.")
    return user


class AttachmentSerializer(serializers.Serializer):
    file_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


# A file attached to a task, with the task-scoped URL everyone who sees the task may download
# it from (context: request, task).
class TaskAttachmentSerializer(CachedFieldsMixin, serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = StoredFile
        fields = ["id", "name", "size", "content_type", "sha256", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, obj: StoredFile) -> str:
        path = reverse("task-attachment-download", args=[self.context["task"].pk, obj.pk])
        return self.context["request"].build_absolute_uri(path)


class TaskStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_priority = serializers.DictField(child=serializers.IntegerField())
    completion_rate = serializers.FloatField()
    avg_completion_hours = serializers.FloatField(allow_null=True)
    median_completion_hours = serializers.FloatField(allow_null=True)
    overdue = serializers.IntegerField()
    completed_per_day = serializers.ListField(child=serializers.DictField())
