from functools import partial

from django.contrib import admin

from taskplatform.admin_tools import apply_service

from . import services
from .models import Tag, Task, overdue_condition


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        overdue = overdue_condition()
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "owner",
        "status",
        "priority",
        "due_at",
        "assignee",
        "visibility",
        "created_at",
    )
    list_filter = (
        "status",
        "priority",
        "visibility",
        OverdueFilter,
        ("owner", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    search_fields = ("title", "description", "owner__email", "assignee__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "assignee")
    actions = ["close"]

    # changes go through the services (audit, completed_at, notifications): the admin shows
    # tasks and closes them; staff with tasks.change_task edit any task through the API
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + ["tags", "attachments"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Close selected tasks (status done)", permissions=["change"])
    def close(self, request, queryset):
        done = partial(services.task_update, status=Task.Status.DONE)
        apply_service(self, request, queryset, done, "closed")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
