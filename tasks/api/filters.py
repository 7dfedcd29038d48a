from __future__ import annotations

import django_filters
from rest_framework.exceptions import ValidationError

from taskplatform.api.converters import MAX_ID
from taskplatform.api.filters import ChoiceInFilter, DateTimeFilter, FilterSet
from tasks.filters import tasks_matching, tasks_overdue, tasks_tagged
from tasks.models import Priority, Task


def _user_id(value: str, request) -> int:
    if value == "me":
        return request.user.pk
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise ValidationError({"detail": [f"Expected a user id or 'me', not {value!r}."]})
    return int(value)


class TaskFilter(FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", help_text="In title and description."
    )
    status = ChoiceInFilter(choices=Task.Status.choices, help_text="e.g. `todo,in_progress`")
    priority = django_filters.BaseInFilter(
        method="filter_priority", help_text="e.g. `high,critical`"
    )
    tags = django_filters.BaseInFilter(method="filter_tags", help_text="Tag names, any of them.")
    due_from = DateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_to = DateTimeFilter(field_name="due_at", lookup_expr="lte")
    owner = django_filters.CharFilter(method="filter_owner", help_text="A user id or `me`.")
    assignee = django_filters.CharFilter(method="filter_assignee", help_text="A user id or `me`.")
    overdue = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_overdue",
        help_text="`true`: due in the past and not done; `false`: the others.",
    )

    class Meta:
        model = Task
        fields = [
            "search",
            "status",
            "priority",
            "tags",
            "due_from",
            "due_to",
            "owner",
            "assignee",
            "overdue",
        ]

    def filter_search(self, queryset, name, value):
        return tasks_matching(queryset, value)

    def filter_priority(self, queryset, name, value):
        wanted, unknown = [], []
        for label in value:
            try:
                wanted.append(Priority.from_label(label))
            except ValueError:
                unknown.append(label)
        if unknown:
            raise ValidationError({"priority": [f"Unknown priority: {', '.join(unknown)}."]})
        return queryset.filter(priority__in=wanted)

    def filter_tags(self, queryset, name, value):
        names = [v.strip().lower() for v in value if v.strip()]
        if any("\x00" in tag for tag in names):  # the database driver refuses NUL: a 500
            raise ValidationError({"tags": ["Null characters are not allowed."]})
        return tasks_tagged(queryset, names)

    def filter_owner(self, queryset, name, value):
        return queryset.filter(owner_id=_user_id(value, self.request))

    def filter_assignee(self, queryset, name, value):
        return queryset.filter(assignee_id=_user_id(value, self.request))

    def filter_overdue(self, queryset, name, value):
        return tasks_overdue(queryset, value == "true")
