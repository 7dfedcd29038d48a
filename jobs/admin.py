"""Jobs and runs in the Django admin: actions call the same services as the API."""

from __future__ import annotations

from django.contrib import admin

from taskplatform.admin_tools import HistoryAdmin, ViewOnlyAdmin, apply_service

from . import services
from .forms import JobCreateForm
from .models import Job, JobRun


@admin.register(Job)
class JobAdmin(HistoryAdmin):
    list_display = (
        "name",
        "owner",
        "kind",
        "status",
        "next_run_at",
        "last_run_status",
        "last_run_finished",
        "consecutive_failures",
    )
    list_filter = ("status", "kind", ("owner", admin.RelatedOnlyFieldListFilter), "created_at")
    search_fields = ("name", "owner__email")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "last_run")
    # changes go through the services (validation, next_run_at, audit): the admin creates
    # jobs through job_create and acts on them; it does not edit their fields
    actions = ["pause", "resume", "cancel", "run_now"]
    add_form = JobCreateForm

    def has_add_permission(self, request):
        return request.user.has_perm("jobs.add_job")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return self.add_form
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["owner", "name", "kind", "params"]}),
                (
                    "Schedule",
                    {
                        "fields": [
                            "schedule_type",
                            "run_at",
                            "every",
                            "period",
                            "expression",
                            "timezone",
                        ]
                    },
                ),
                ("Behaviour", {"fields": ["notify_on", "max_retries"]}),
            ]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return super().get_readonly_fields(request, obj) if obj else []

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        return form.create(actor=request.user)  # the service saves it (and audits, notifies)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    @admin.display(description="last run")
    def last_run_status(self, job: Job) -> str:
        return job.last_run.status if job.last_run else "—"

    @admin.display(description="last run finished")
    def last_run_finished(self, job: Job):
        return job.last_run.finished_at if job.last_run else None

    @admin.action(description="Pause selected jobs", permissions=["change"])
    def pause(self, request, queryset):
        apply_service(self, request, queryset, services.job_pause, "paused")

    @admin.action(description="Resume selected jobs", permissions=["change"])
    def resume(self, request, queryset):
        apply_service(self, request, queryset, services.job_resume, "resumed")

    @admin.action(description="Cancel selected jobs", permissions=["change"])
    def cancel(self, request, queryset):
        apply_service(self, request, queryset, services.job_cancel, "cancelled")

    @admin.action(description="Run selected jobs now", permissions=["change"])
    def run_now(self, request, queryset):
        apply_service(self, request, queryset, services.job_run_now, "queued to run now")


@admin.register(JobRun)
class JobRunAdmin(ViewOnlyAdmin):
    list_display = (
        "id",
        "job",
        "status",
        "trigger",
        "attempt",
        "scheduled_for",
        "started_at",
        "finished_at",
    )
    list_filter = ("status", "trigger", "job__kind", "scheduled_for")
    search_fields = ("job__name", "job__owner__email", "error")
    date_hierarchy = "scheduled_for"
    list_select_related = ("job",)
